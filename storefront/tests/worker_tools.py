"""For the tests of the background work as production runs it: a real `celery worker` (the
Procfile's line) in a process of its own, on the machine's Redis and the test's PostgreSQL
(or MySQL/MariaDB) database, and a mail server on 127.0.0.1 that the test controls.

Such tests are transactional (the worker only sees committed rows) and run in the PostgreSQL
and MySQL/MariaDB passes. Redis is at TEST_REDIS_URL (default: database 5 of 127.0.0.1:6379,
emptied by each test; under pytest-xdist each worker takes the next database); where none
answers they skip, saying so, except under CI, where that is a failure. Every wait is bounded,
and every process a test starts is killed when it ends.
"""

import asyncio
import copy
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import kombu.pools
import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from storefront.celery import app

BASE_DIR = Path(settings.BASE_DIR)
VENV_BIN = Path(sys.executable).parent


def _redis_url_of_this_worker(url: str) -> str:
    """`url` with its database number moved on by the pytest-xdist worker's index (gw0: as
    given, gw1: the next one, ...): each worker empties and fills a Redis database of its own,
    so one worker's `flushdb` or Celery queue never reaches another's tests."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + int(worker[2:])) % 16}"))


TEST_REDIS_URL = _redis_url_of_this_worker(
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
)
START_TIMEOUT = 30


def redis_or_skip() -> redis.Redis:
    """A client of the test's Redis database, emptied; skip (fail under CI) if none answers."""
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=3, socket_timeout=5)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        message = f"Redis does not answer at {TEST_REDIS_URL} ({exc}); set TEST_REDIS_URL"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(f"SKIPPED: {message}")
    client.flushdb()
    return client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The test database (test_<name>) as a DATABASE_URL, for the processes a test starts."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":  # a file the processes open too
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    # The server pass this runs in: PostgreSQL's or MySQL/MariaDB's (payments.tests.concurrency).
    scheme, port = {"postgresql": ("postgres", 5432), "mysql": ("mysql", 3306)}[connection.vendor]
    return f"{scheme}://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or port}/{db['NAME']}"


def app_env(tmp_path: Path, **changes: str) -> dict[str, str]:
    """A production environment from scratch (DEBUG off, no .env) on the test's database and
    Redis, with the sandboxes allowed, as conftest has them."""
    env = {
        "PATH": os.pathsep.join([str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        # As the Dockerfile (and Heroku's Python) set it: each log line is written when logged,
        # so a process the test kills has left every line it logged before.
        "PYTHONUNBUFFERED": "1",
        "READ_ENV_FILE": "0",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url(),
        "REDIS_URL": TEST_REDIS_URL,
        "SHOP_CURRENCIES": "EUR,USD",
        "STRIPE_SANDBOX": "1",
        "BANK_SANDBOX": "1",
        "PAYPARTS_SANDBOX": "1",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "SECURE_SSL_REDIRECT": "0",
        **changes,
    }
    return env


def procfile() -> dict[str, str]:
    lines = (BASE_DIR / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


@dataclass
class Process:
    """A Procfile process (a shell and what it runs, a process group of their own)."""

    name: str
    process: subprocess.Popen
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def records(self) -> list[dict]:
        """The JSON log lines it wrote."""
        lines = [line for line in self.output().splitlines() if line.startswith("{")]
        return [json.loads(line) for line in lines]

    def wait_for_line(self, text: str, *, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited ({self.process.returncode}):\n{self.output()}")
            time.sleep(0.05)
        pytest.fail(f"{self.name} did not log {text!r} in {timeout}s:\n{self.output()}")

    def signal(self, sig: int, *, group: bool = True) -> None:
        """Send `sig` to every process of the group, as Heroku stopping a dyno does, or to the
        main process alone (`group=False`), as `docker stop` does."""
        if group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)

    def wait(self, timeout: float = START_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.name} still runs after {timeout}s:\n{self.output()}")

    def stop(self) -> None:
        """Kill it and everything it started, whatever state it is in."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


@contextmanager
def procfile_process(
    kind: str, env: dict[str, str], tmp_path: Path, *, command: str | None = None
) -> Iterator[Process]:
    """Run the Procfile's `kind` line (or `command`) in the background; always killed after."""
    log_path = tmp_path / f"{kind}-{time.monotonic_ns()}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603
            # exec: the shell becomes the command, as in the Dockerfile's CMD, so signals
            # and the exit status are the command's own.
            ["sh", "-c", "exec " + (command or procfile()[kind])],  # noqa: S607
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Process(kind, process, log_path)
    try:
        yield running
    finally:
        running.stop()


@contextmanager
def celery_worker(env: dict[str, str], tmp_path: Path) -> Iterator[Process]:
    """The Procfile's worker, ready to take tasks."""
    with procfile_process("worker", env, tmp_path) as worker:
        worker.wait_for_line("ready.")
        yield worker


@contextmanager
def tasks_to_redis(url: str = TEST_REDIS_URL) -> Iterator[None]:
    """Within the block, tasks queued by this (test) process go to the test's Redis (or
    `url`), for the worker, instead of running here."""
    conf = app.conf
    saved = conf.broker_url, conf.task_always_eager
    _drop_broker_connections()  # those made for the previous broker
    conf.broker_url, conf.task_always_eager = url, False
    try:
        yield
    finally:
        _drop_broker_connections()
        conf.broker_url, conf.task_always_eager = saved


def _drop_broker_connections() -> None:
    """Close the pooled broker connections and producers (made for one broker URL), as Celery
    does after a fork."""
    kombu.pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@dataclass
class SmtpSink:
    """A mail server on 127.0.0.1 that keeps each message it accepts.

    `stall_next(seconds)` makes it sit on the next message's data that long before accepting
    it: the sender is left waiting for the answer, as with a stalled mail server. A sender that
    disconnects meanwhile (killed) has sent nothing.
    """

    port: int = field(default_factory=free_port)
    accepted: list[Message] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)
    _stall: float | None = None

    def stall_next(self, seconds: float) -> None:
        self._stall = seconds
        self.stalled.clear()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self._stall is not None:
            seconds, self._stall = self._stall, None
            self.stalled.set()
            await asyncio.sleep(seconds)
        self.accepted.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [message for message in self.accepted if message["To"] == address]

    @property
    def email_url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's every command
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def wait_until(check, *, timeout: float, what: str, interval: float = 0.1):
    """Poll `check()` until it returns something true (returned), failing after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(interval)
    pytest.fail(f"not within {timeout}s: {what}")


class RedisReplyHold:
    """A TCP proxy in front of the test's Redis that stops passing Redis's replies back to a
    client once that client sends a command holding `trigger`: the client is then blocked
    reading from its connection, in the middle of that command, for as long as the test likes.
    `url` is the test's Redis URL through the proxy; `held` is set once a reply is held."""

    def __init__(self, trigger: bytes) -> None:
        self.trigger = trigger
        self.held = threading.Event()
        self._closing = threading.Event()
        self._sockets: list[socket.socket] = []
        target = urlsplit(TEST_REDIS_URL)
        self._target = (target.hostname or "127.0.0.1", target.port or 6379)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._sockets.append(self._listener)
        port = self._listener.getsockname()[1]
        self.url = urlunsplit(target._replace(netloc=f"127.0.0.1:{port}"))

    def __enter__(self) -> "RedisReplyHold":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._closing.set()
        for sock in self._sockets:
            with suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
                server = socket.create_connection(self._target, timeout=5)
            except OSError:
                return
            server.settimeout(None)
            self._sockets += [client, server]
            holding = threading.Event()
            threading.Thread(
                target=self._requests, args=(client, server, holding), daemon=True
            ).start()
            threading.Thread(
                target=self._replies, args=(server, client, holding), daemon=True
            ).start()

    def _requests(self, client: socket.socket, server: socket.socket, holding: threading.Event):
        with suppress(OSError):
            while data := client.recv(65536):
                if self.trigger in data:
                    holding.set()
                server.sendall(data)

    def _replies(self, server: socket.socket, client: socket.socket, holding: threading.Event):
        with suppress(OSError):
            while data := server.recv(65536):
                if holding.is_set():
                    self.held.set()
                    self._closing.wait()  # the reply never comes while the test runs
                    return
                client.sendall(data)


def beat_next_run(schedule, started: datetime) -> datetime:
    """When a beat started at `started`, with an empty schedule file (a fresh instance's /tmp),
    first sends a job of `schedule` (a celery schedule: crontab or interval)."""
    at_start = copy.copy(schedule)
    at_start.nowfun = lambda: started
    return started + timedelta(seconds=at_start.is_due(started).next)


def beat_period(schedule, around: datetime) -> timedelta:
    """The time between two runs of `schedule` after `around`."""
    first = beat_next_run(schedule, around)
    return beat_next_run(schedule, first) - first
