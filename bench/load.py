"""A small load generator: threads and http.client against 127.0.0.1, bounded in count and time.

It shares the machine's cores with the server, so every phase also reports its own CPU (the
whole process's, all threads) and the server's (gunicorn's master and workers, from /proc):
server CPU per request is the figure least moved by the generator's share.

Requests go as Heroku's and Render's routers pass them on: `X-Forwarded-Proto: https` (the app
redirects plain HTTP otherwise). `keepalive=True` reuses one connection per thread; False opens a
new connection for every request. Cookies are never kept: every request is a new visitor.
"""

import hashlib
import hmac
import http.client
import itertools
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.record import percentiles
from bench.server import Server

FORWARDED = {"X-Forwarded-Proto": "https"}


@dataclass
class Request:
    path: str
    method: str = "GET"
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Phase:
    name: str
    sent: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    errors: int
    client_cpu: float
    server_cpu: float
    headers: list[dict[str, str]]

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return percentiles(self.latencies, 50)[0] * 1000

    @property
    def p99_ms(self) -> float:
        return percentiles(self.latencies, 99)[0] * 1000

    @property
    def server_ms_per_request(self) -> float:
        return self.server_cpu * 1000 / self.sent if self.sent else 0.0

    @property
    def client_share(self) -> float:
        """The generator's CPU as a share of one core over the phase."""
        return self.client_cpu / self.seconds if self.seconds else 0.0


def stripe_signature(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """`t=...,v1=...`: HMAC-SHA256 of "<t>.<body>" (Stripe's scheme; the bank uses it too)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def phase(
    server: Server,
    name: str,
    request_for: Callable[[int], Request],
    *,
    count: int,
    concurrency: int,
    keepalive: bool = True,
    time_limit: float = 60.0,
    keep_headers: Sequence[str] = (),
) -> Phase:
    """Send `count` requests (`request_for(i)`, i = 0..count-1) from `concurrency` threads;
    stop early at `time_limit` seconds. Status codes are counted, never retried."""
    indexes = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers: list[dict[str, str]] = []
    errors = 0
    deadline = time.monotonic() + time_limit

    def worker() -> None:
        nonlocal errors
        conn = None
        while time.monotonic() < deadline:
            with lock:
                index = next(indexes)
            if index >= count:
                break
            request = request_for(index)
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                conn.request(
                    request.method,
                    request.path,
                    body=request.body,
                    headers={**FORWARDED, **request.headers},
                )
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                kept = {name: response.getheader(name, "") for name in keep_headers}
                with lock:
                    latencies.append(elapsed)
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    if keep_headers:
                        headers.append(kept)
                if not keepalive or response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                with lock:
                    errors += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    server_before = server.cpu_seconds()
    client_before = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + 35)
    seconds = time.perf_counter() - started
    return Phase(
        name=name,
        sent=len(latencies),
        seconds=seconds,
        latencies=latencies,
        statuses=statuses,
        errors=errors,
        client_cpu=time.process_time() - client_before,
        server_cpu=server.cpu_seconds() - server_before,
        headers=headers,
    )


def spread(values: Sequence[float], digits: int = 1) -> str:
    """`min/median/max` of a figure over the rounds."""
    if not values:
        return "n/a"
    return "/".join(
        f"{value:.{digits}f}" for value in (min(values), statistics.median(values), max(values))
    )


def statuses_line(phases: Sequence[Phase]) -> str:
    total: dict[int, int] = {}
    errors = 0
    for one in phases:
        errors += one.errors
        for status, n in one.statuses.items():
            total[status] = total.get(status, 0) + n
    text = ", ".join(f"{status}×{n}" for status, n in sorted(total.items()))
    return text + (f", connection errors×{errors}" if errors else "")
