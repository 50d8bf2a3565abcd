"""The sandbox bank as the client's transport: the same call as `requests.post`, answered here.

`sandbox_outage()` makes the next requests fail as an outage does (no answer, or the bank's
500), `sandbox_tamper()` makes answers carry a wrong signature, and `sandbox_refusal(message)`
makes the bank refuse every creation: tests (and a curious developer) see what the shop does.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from payments.payparts.client import TransportError
from payments.payparts.sandbox import server

# Global on purpose: a live-server test runs the shop in another thread.
_faults: dict[str, str | None] = {"outage": None, "tamper": None, "refusal": None}


@contextmanager
def _fault(name: str, value: str) -> Iterator[None]:
    previous = _faults[name]
    _faults[name] = value
    try:
        yield
    finally:
        _faults[name] = previous


def sandbox_outage(kind: str = "unreachable") -> "contextmanager":
    if kind not in ("unreachable", "server_error"):
        raise ValueError("kind must be unreachable or server_error")
    return _fault("outage", kind)


def sandbox_tamper():
    return _fault("tamper", "yes")


def sandbox_refusal(message: str):
    return _fault("refusal", message)


class SandboxTransport:
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if not settings.PAYPARTS_SANDBOX:
            raise TransportError("The PrivatBank sandbox is disabled (PAYPARTS_SANDBOX is off).")
        if _faults["outage"] == "unreachable":
            raise TransportError("Sandbox outage: the connection timed out.")
        if _faults["outage"] == "server_error":
            return 500, b"<html><body>Internal Server Error</body></html>"
        status, answer = server.handle(url, body, refusal=_faults["refusal"])
        if _faults["tamper"] and "signature" in answer:
            answer["signature"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
        return status, json.dumps(answer, ensure_ascii=False).encode("utf-8")
