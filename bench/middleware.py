"""Bench-only middleware (installed by `bench.settings`, never by the shop's settings).

`StatementCountMiddleware` counts every statement a request sends to the database, transaction
control included, and says so in `X-Bench-Statements: app=..;app_tx=..;provider=..;provider_tx=..`:
`app` are queries, `*_tx` are BEGIN/COMMIT/ROLLBACK and SAVEPOINT/RELEASE statements, and
`provider*` are those sent while a Stripe call was under way (the sandbox keeps its state in the
same database). Queries and savepoints go through Django's `execute_wrapper`; BEGIN and COMMIT
are sent by psycopg itself, so each outermost commit or rollback counts as two (BEGIN + COMMIT).

`ProviderCpuMiddleware` says in `X-Bench-Provider-CPU: <ms>` how much CPU the request's thread
spent inside Stripe calls (the sandbox answers them in the same thread): subtracted from the
server's CPU per request, it leaves the app's own (bench.buy).

`ServerTimingBackportMiddleware` gives a checkout without the shop's own hook
(`sitewide.timing`) the same `Server-Timing: app;dur=..., provider;dur=...` header, timed the same
way: around `payments.stripe.client._stripe_call`.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from payments.stripe import client as stripe_client

_counts: ContextVar[dict | None] = ContextVar("bench_counts", default=None)
_in_provider: ContextVar[bool] = ContextVar("bench_in_provider", default=False)
_provider_seconds: ContextVar[list | None] = ContextVar("bench_provider_seconds", default=None)
_provider_cpu: ContextVar[list | None] = ContextVar("bench_provider_cpu", default=None)
_TRANSACTION_WORDS = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


def _bump(kind: str, by: int = 1) -> None:
    counts = _counts.get()
    if counts is not None:
        counts[("provider" if _in_provider.get() else "app") + kind] += by


def _count(execute, sql, params, many, context):
    words = sql.lstrip().split(None, 1)
    _bump("_tx" if words and words[0].upper() in _TRANSACTION_WORDS else "")
    return execute(sql, params, many, context)


def _patch_once() -> None:
    """Count commits and rollbacks, and mark (and time) Stripe calls, once per process."""
    if getattr(stripe_client, "_bench_patched", False):
        return
    original_call = stripe_client._stripe_call

    @contextmanager
    def marked_call(*args, **kwargs) -> Iterator[None]:
        token = _in_provider.set(True)
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            with original_call(*args, **kwargs):
                yield
        finally:
            _in_provider.reset(token)
            spent = _provider_seconds.get()
            if spent is not None:
                spent[0] += time.perf_counter() - started
            cpu = _provider_cpu.get()
            if cpu is not None:
                cpu[0] += time.thread_time() - cpu_started

    stripe_client._stripe_call = marked_call
    stripe_client._bench_patched = True
    for name in ("commit", "rollback"):
        original = getattr(BaseDatabaseWrapper, name)

        def counted(self, _original=original):
            if self.connection is not None and not self.get_autocommit():
                _bump("_tx", 2)  # the BEGIN psycopg sent, and this COMMIT/ROLLBACK
            return _original(self)

        setattr(BaseDatabaseWrapper, name, counted)


class StatementCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        _patch_once()

    def __call__(self, request):
        counts = {"app": 0, "app_tx": 0, "provider": 0, "provider_tx": 0}
        token = _counts.set(counts)
        try:
            with connection.execute_wrapper(_count):
                response = self.get_response(request)
        finally:
            _counts.reset(token)
        response["X-Bench-Statements"] = ";".join(f"{k}={v}" for k, v in counts.items())
        return response


class ProviderCpuMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        _patch_once()

    def __call__(self, request):
        cpu = [0.0]
        token = _provider_cpu.set(cpu)
        try:
            response = self.get_response(request)
        finally:
            _provider_cpu.reset(token)
        response["X-Bench-Provider-CPU"] = f"{cpu[0] * 1000:.3f}"
        return response


class ServerTimingBackportMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        _patch_once()

    def __call__(self, request):
        spent = [0.0]
        token = _provider_seconds.set(spent)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            _provider_seconds.reset(token)
        total = time.perf_counter() - started
        response["Server-Timing"] = (
            f"app;dur={total * 1000:.2f}, provider;dur={spent[0] * 1000:.2f}"
        )
        return response
