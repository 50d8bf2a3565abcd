"""Transactions the database may pick as a deadlock's victim, run again rather than answered 500.

InnoDB detects a cycle of lock waits and rolls one transaction of it back whole (error 1213);
PostgreSQL does the same (SQLSTATE 40P01). Both say the application should run the victim
again: nothing of it was kept. A lock order kept everywhere makes cycles rare, but InnoDB
also locks index records and the gaps between them, which no application code names, so a
shop under load still meets the odd one. `atomic_retried` is `transaction.atomic` for the
shop's writes that a buyer's request makes, and runs the victim again from its start.
"""

import functools
import logging
import random
from collections.abc import Callable
from time import sleep
from typing import ParamSpec, TypeVar

from django.db import OperationalError, transaction

logger = logging.getLogger(__name__)

#: How often a transaction chosen as a deadlock's victim is run in all.
DEADLOCK_ATTEMPTS = 3

#: The victim's pause before it runs again, in seconds: this times the attempt that failed,
#: give or take half, at random.
DEADLOCK_PAUSE = 0.05

_P = ParamSpec("_P")
_T = TypeVar("_T")


def deadlock_victim(exc: OperationalError) -> bool:
    """`exc` is a deadlock the database resolved by rolling its statement or transaction back
    whole (InnoDB's 1213, PostgreSQL's 40P01), so that nothing of the attempt was kept; not a
    lock wait timeout or any other error."""
    cause = exc.__cause__
    args = getattr(cause, "args", ())
    return (bool(args) and args[0] == 1213) or getattr(cause, "sqlstate", None) == "40P01"


def deadlock_pause(attempt: int) -> None:
    """Wait a moment before the victim's next run (`attempt`: the run that was rolled back).

    The other transaction of the cycle was waiting for the victim's locks. Run again at once,
    the victim can take its first row back before the other, just woken, has locked it: on
    PostgreSQL a row whose locker rolled back is free to whoever comes first. The two then
    deadlock again, and the other becomes the victim (a full test pass saw it), and so on up to
    the last attempt. A short pause, longer after each attempt and random so that two victims
    do not keep meeting, lets the other finish first."""
    sleep(DEADLOCK_PAUSE * attempt * random.uniform(0.5, 1.5))  # noqa: S311 (not a secret)


def atomic_retried(func: Callable[_P, _T]) -> Callable[_P, _T]:
    """`func` in a transaction (`transaction.atomic`), run again from its start, up to
    DEADLOCK_ATTEMPTS times in all, while the database picks it as a deadlock's victim, after
    a short pause each time (`deadlock_pause`).

    Only the outermost transaction can start again: called inside a caller's transaction
    (whose work the deadlock rolled back too) `func` runs once and the deadlock reaches the
    caller. `func` must do nothing outside the database that a second run would repeat; what
    it defers with `transaction.on_commit` is dropped with the rolled-back attempt.
    """
    in_transaction = transaction.atomic(func)

    @functools.wraps(func)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        attempts = 1 if transaction.get_connection().in_atomic_block else DEADLOCK_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                return in_transaction(*args, **kwargs)
            except OperationalError as exc:
                if attempt == attempts or not deadlock_victim(exc):
                    raise
                logger.info(
                    "%s: a deadlock's victim (attempt %d), run again: %s",
                    func.__qualname__,
                    attempt,
                    exc,
                )
                deadlock_pause(attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    return run
