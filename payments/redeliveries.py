"""Redeliveries of a notification already recorded: known and counted in the shared cache, so
that one costs no query, no transaction, and no row that every redelivery updates.

Providers deliver a notification more than once: Stripe retries one it thinks failed, or sends
one twice at once; reconcile replays each event of the last day every hour; anyone holding a
signed delivery can replay it while its signature is fresh. The first delivery's row holds the
once-only key (`payments.records`); a redelivery is acknowledged and counted, nothing more.

- **Known.** Once an authentic notification's row has committed, the cache (Redis in
  production, which every process shares; each process's own memory without REDIS_URL) holds
  an entry for it, named after this database, the rail, the account, the event id and the
  fingerprint. It is written after the first delivery's transaction commits (a delivery rolled
  back leaves none, and its retry is processed afresh), or when the database finds a
  redelivery's row committed, and only while that row is younger than REMEMBERED_FOR.
  A redelivery that finds its entry is counted by one atomic increment of it (`counted`).
  No entry (other content, an older event, an emptied cache, a cache that does not answer) is
  not an answer: the database's way decides, as it always did. Where every process shares the
  cache (Redis), no entry does say one thing: the event is all but surely new, so the database
  is not first asked for a committed row to count it on (one UPDATE less on every first
  delivery); should the cache have been emptied, the row's unique key still finds it.
  Reconcile never asks the cache: it is how events missed are found again, even those a
  database restored from a backup lost and the cache still remembers.
- **Folded.** celery beat runs `redeliveries_fold` every few minutes
  (`payments.tasks.notification_redeliveries_fold_task`): it moves each entry's count into its
  row's `duplicates` and retires the entries of events older than REMEMBERED_FOR. Until then
  the admin's page of the event adds what its entry holds (`duplicates_counted`), so it
  shows every delivery as soon as it is counted.
"""

import enum
import hashlib
import logging
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.db.models import F
from django.utils import timezone

from payments.models import ReceivedNotification
from payments.values import Notification, NotificationKey

logger = logging.getLogger(__name__)

# An event's entry is written while its row is younger than this (Stripe retries mostly within
# hours; reconcile replays the last day), and retired by the fold once it is older.
REMEMBERED_FOR = timedelta(days=1)
# The entry's expiry, should no fold retire it (beat stopped): past REMEMBERED_FOR, so that a
# running fold always retires an entry, with its count, before the cache drops it.
ENTRY_TIMEOUT = REMEMBERED_FOR + timedelta(days=1)
# Entries read per cache call by the fold.
FOLD_BATCH = 500
# A cache that does not answer is said at most this often (seconds), per process.
CACHE_DOWN_LOG_INTERVAL = 60

_logged_at = -float(CACHE_DOWN_LOG_INTERVAL)
_logged_lock = threading.Lock()


def _cache_failed(exc: Exception) -> None:
    """Say, at most once a minute, that the cache did not answer (the database decides)."""
    global _logged_at
    now = time.monotonic()
    with _logged_lock:
        if now - _logged_at < CACHE_DOWN_LOG_INTERVAL:
            return
        _logged_at = now
    # The class only: a cache client's message may name its server and credentials.
    logger.warning(
        "redeliveries: the cache cannot be reached (%s); the database counts them",
        type(exc).__name__,
    )


def _key(*, rail: str, account: str, event_id: str, fingerprint: str) -> str:
    """The entry of one recorded notification, in this database (a cache may serve several:
    staging beside production on one Redis, each with its own rows)."""
    db = connection.settings_dict
    database = [connection.vendor, db["HOST"] or "", str(db["PORT"] or ""), db["NAME"] or ""]
    named = "\0".join([*database, rail, account, event_id, fingerprint])
    return "payments:redelivered:" + hashlib.sha256(named.encode()).hexdigest()


def _notification_key(notification: Notification | NotificationKey) -> str:
    return _key(
        rail=notification.rail,
        account=notification.account,
        event_id=notification.event_id,
        fingerprint=notification.fingerprint,
    )


def _record_key(record: ReceivedNotification) -> str:
    return _key(
        rail=record.rail,
        account=record.account,
        event_id=record.event_id,
        fingerprint=record.fingerprint,
    )


def remember(notification: Notification) -> None:
    """Note that `notification`'s row has committed. Call it only once it has (from
    `transaction.on_commit`); never resets what the entry has counted."""
    try:
        cache.add(_notification_key(notification), 0, timeout=ENTRY_TIMEOUT.total_seconds())
    except Exception as exc:  # the cache is down: redeliveries go the database's way
        _cache_failed(exc)


class Counted(enum.Enum):
    """What the cache said of a delivery (`counted`)."""

    # A redelivery of a row known to have committed, counted: nothing else is to be done.
    YES = "yes"
    # No entry, in a cache every process shares: all but surely a first delivery (the
    # database's unique key still decides, should the cache have been emptied).
    UNKNOWN = "unknown"
    # No answer worth having (a cache that does not answer, or each process's own memory,
    # where another process may have received the first delivery): the database decides.
    NO_ANSWER = "no answer"


def _shared() -> bool:
    """Whether every process of the shop asks the same cache (Redis in production), so that an
    entry missing there is missing for all of them."""
    return not isinstance(caches["default"], (LocMemCache, DummyCache))


def counted(notification: Notification | NotificationKey) -> Counted:
    """Count a redelivery of `notification` if its row is known to have committed (YES);
    otherwise say whether the cache's silence means anything (Counted)."""
    try:
        cache.incr(_notification_key(notification))
    except ValueError:  # no entry
        return Counted.UNKNOWN if _shared() else Counted.NO_ANSWER
    except Exception as exc:  # the cache is down
        _cache_failed(exc)
        return Counted.NO_ANSWER
    return Counted.YES


def duplicates_counted(record: ReceivedNotification) -> int:
    """How many times `record`'s notification was delivered again: its `duplicates` and what
    the cache has counted since the last fold."""
    if record.once_event_id is None:  # counted on the row alone
        return record.duplicates
    try:
        pending = cache.get(_record_key(record)) or 0
    except Exception as exc:
        _cache_failed(exc)
        pending = 0
    return record.duplicates + pending


def _fold(record: ReceivedNotification, key: str, count: int, *, retire: bool) -> int:
    """Move `count` from the entry `key` into `record`'s row; the count moved."""
    if count:
        # Taken out of the entry first: a fold that stops half-way loses a count, it never
        # counts one twice. Redeliveries counted meanwhile stay in the entry.
        try:
            cache.decr(key, count)
        except ValueError:  # expired since it was read: its count went with it
            return 0
        ReceivedNotification.objects.filter(pk=record.pk).update(duplicates=F("duplicates") + count)
    if retire:
        cache.delete(key)
    return count


def redeliveries_fold(*, now: datetime | None = None) -> int:
    """Move the redeliveries counted in the cache into their rows' `duplicates`, and retire
    the entries of events older than REMEMBERED_FOR; return how many were moved.

    Every entry is of an event received within REMEMBERED_FOR + ENTRY_TIMEOUT (written while
    its row was younger than the first, it expires after the second), so those are the rows
    looked at, by the index on received_at.
    """
    now = now or timezone.now()
    retire_before = now - REMEMBERED_FOR
    rows = (
        ReceivedNotification.objects.filter(
            received_at__gte=now - REMEMBERED_FOR - ENTRY_TIMEOUT, once_event_id__isnull=False
        )
        .only("pk", "rail", "account", "event_id", "fingerprint", "received_at")
        .order_by("received_at", "pk")
    )
    moved = 0
    for batch in _batches(rows.iterator(chunk_size=FOLD_BATCH), FOLD_BATCH):
        keys = {_record_key(record): record for record in batch}
        for key, count in cache.get_many(list(keys)).items():
            record = keys[key]
            moved += _fold(record, key, count, retire=record.received_at < retire_before)
    return moved


def _batches(
    rows: Iterable[ReceivedNotification], size: int
) -> Iterable[list[ReceivedNotification]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
