"""gunicorn as the Procfile runs it, on 127.0.0.1 only, always stopped when the `with` ends
(Ctrl-C and errors included: it runs in its own process group, which is terminated, then
killed)."""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.target import Target

START_SECONDS = 60


@dataclass
class Server:
    target: Target
    port: int
    process: subprocess.Popen
    log: Path

    def pids(self) -> list[int]:
        """The master and its workers."""
        pids = [self.process.pid]
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{self.process.pid}/task").iterdir():
                pids += [int(p) for p in (task / "children").read_text().split()]
        return pids

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and workers so far (Linux; 0 elsewhere)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / ticks


def port_take(port: int) -> int:
    """`port` itself, after checking nothing listens on it: the bench serves on the fixed ports
    it is given (`--port`, then the next ones, one per checkout), never on a random one, so a
    shared machine's helpers and firewalls know where its servers are."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:
            raise RuntimeError(
                f"port {port} is taken ({error.strerror}); choose another range with --port"
            ) from None
    return port


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/bench/ok", headers={"X-Forwarded-Proto": "https"})
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def servers_start(
    stack: contextlib.ExitStack, found: list[Target], args, **env: str
) -> dict[str, Server]:
    """A gunicorn for each of `found` (`args.workers` × `args.threads`) on `args.port`,
    `args.port + 1`, ... in order, stopped when `stack` closes; by label."""
    return {
        target.label: stack.enter_context(
            gunicorn(
                target, port=args.port + index, workers=args.workers, threads=args.threads, **env
            )
        )
        for index, target in enumerate(found)
    }


@contextlib.contextmanager
def gunicorn(
    target: Target, *, port: int, workers: int, threads: int, **env: str
) -> Iterator[Server]:
    """Serve `target` on 127.0.0.1:`port` with the Procfile's command (its workers × threads,
    timeout 60)."""
    port = port_take(port)
    log = Path(tempfile.mkstemp(prefix=f"bench-gunicorn-{target.label}-", suffix=".log")[1])
    gunicorn_bin = str(Path(target.python).parent / "gunicorn")
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                gunicorn_bin,
                "storefront.wsgi",
                "--chdir",
                str(target.app_dir),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "60",
            ],
            cwd=target.app_dir,
            env=target.env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(target, port, process, log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn for {target.label} did not start:\n{_tail(log)}")
            time.sleep(0.2)
        # Every worker up (each answers only once it has loaded the app and run the checks).
        while len(server.pids()) < workers + 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def terminate_on_sigterm() -> None:
    """Let SIGTERM unwind like Ctrl-C, so every `with gunicorn(...)` stops its server."""

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
