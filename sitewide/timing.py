"""Time spent waiting for payment providers during the current request.

`storefront.plumbing.server_timing` opens a tally per request (only with SERVER_TIMING=1) and
reports it in the `Server-Timing` header; a rail's client wraps each provider call in
`provider_timed()`. Outside such a request, or with the setting off, `provider_timed()` costs one
ContextVar read.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

_spent: ContextVar[list[float] | None] = ContextVar("provider_seconds", default=None)


def tally_start() -> tuple[list[float], Token]:
    """Start counting provider time in this context; `tally_stop(token)` ends it."""
    spent = [0.0]
    return spent, _spent.set(spent)


def tally_stop(token: Token) -> None:
    _spent.reset(token)


@contextmanager
def provider_timed() -> Iterator[None]:
    """Add the time the block takes to the current tally, if one is open."""
    spent = _spent.get()
    if spent is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        spent[0] += time.perf_counter() - started
