"""The payment core's background work, queued by celery beat (`settings.CELERY_BEAT_SCHEDULE`):
the reconcile, hourly (`manage.py payments_reconcile` is the same by hand), and the fold of the
redeliveries counted in the cache into their events' rows, every few minutes
(`payments.redeliveries`).

Two runs must not overlap: each would ask the provider about every pending payment. A run
takes a lock in Redis first (with an expiry past the task's time limit, so a run killed
mid-way frees it) and a run that finds it held logs that it skipped. Without Redis (no broker:
tasks run eagerly in one process) the lock is that process's own.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import redis
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from payments.redeliveries import redeliveries_fold
from payments.services import payments_reconcile

logger = logging.getLogger(__name__)

# Seconds a reconcile run may take (the soft limit raises a minute earlier): a pass over every
# account asks the provider about each pending payment, a few seconds at worst each.
RECONCILE_TIME_LIMIT = 30 * 60
RECONCILE_LOCK = "payments-reconcile"
# A fold reads a few days of events and a cache entry each: well within a minute.
FOLD_TIME_LIMIT = 5 * 60
FOLD_LOCK = "payments-redeliveries-fold"

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


@contextmanager
def held_alone(name: str, *, expires: float) -> Iterator[bool]:
    """Hold the lock `name` (at most `expires` seconds) while the block runs; yield whether it
    was got (False: another holder has it, and the block should skip its work)."""
    if not settings.REDIS_URL:
        with _process_locks_guard:
            lock = _process_locks.setdefault(name, threading.Lock())
        got = lock.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                lock.release()
        return
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    lock = client.lock(f"storefront:lock:{name}", timeout=expires, blocking=False)
    got = lock.acquire()
    try:
        yield got
    finally:
        if got:
            try:
                lock.release()
            except redis.exceptions.LockError:
                logger.warning("lock %s expired before its holder finished", name)
        client.close()


@shared_task(soft_time_limit=RECONCILE_TIME_LIMIT - 60, time_limit=RECONCILE_TIME_LIMIT)
def payments_reconcile_task(*, since_hours: float = 24) -> dict[str, int]:
    """Reconcile every account of every rail over the last `since_hours`, unless a run is
    still going; return what was done (`skipped`: 1 when it did nothing)."""
    with held_alone(RECONCILE_LOCK, expires=RECONCILE_TIME_LIMIT + 60) as alone:
        if not alone:
            logger.info("payments reconcile skipped: another run is still going")
            return {"skipped": 1}
        reports = payments_reconcile(since=timezone.now() - timedelta(hours=since_hours))
    for report in reports:
        log = logger.info if report.ok else logger.warning
        log("payments reconcile: %s %s: %s", report.rail, report.label, report.summary)
    return {
        "skipped": 0,
        "accounts": len(reports),
        "unreachable": sum(not report.ok for report in reports),
        "processed": sum(report.processed for report in reports),
        "payments_moved": sum(report.payments_moved for report in reports),
    }


@shared_task(soft_time_limit=FOLD_TIME_LIMIT - 30, time_limit=FOLD_TIME_LIMIT)
def notification_redeliveries_fold_task() -> dict[str, int]:
    """Move the redeliveries counted in the cache into their events' rows, unless a fold is
    still going (two at once would each move the same counts); return how many were moved."""
    with held_alone(FOLD_LOCK, expires=FOLD_TIME_LIMIT + 60) as alone:
        if not alone:
            logger.info("redeliveries fold skipped: another is still going")
            return {"skipped": 1, "moved": 0}
        moved = redeliveries_fold()
    if moved:
        logger.info("redeliveries fold: %s redeliveries counted into their events", moved)
    return {"skipped": 0, "moved": moved}
