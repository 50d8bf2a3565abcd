"""The bench serves on the ports it is told, never on a random one."""

import socket

import pytest

from bench.server import port_take


def test_a_taken_port_stops_the_run_naming_it():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"port {taken} is taken"):
            port_take(taken)


def test_a_free_port_is_used_as_given():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert port_take(free) == free
