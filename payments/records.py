"""The core's once-only bookkeeping, the same for every rail.

- `payment_record`: a rail has started a payment; remember it (rail, account, provider id,
  what it should cost).
- `payment_apply`: a rail has read how a payment stands (from a notification, or by asking the
  provider when the buyer comes back); move the payment accordingly, exactly once, and fulfil
  what it paid for. Only a payment that the same rail and account started, in the same mode,
  is ever moved.
- `notification_receive` / `notification_reject`: every notification is recorded before it is
  acted on; an event id is processed once per rail and account.

Exactly-once is the database's job here, not an `exists()` check: a unique constraint on the
event row, and a conditional UPDATE for each state change, so any number of concurrent callers
(webhook retries, success pages) see each change happen once.
"""

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from payments import fulfilment, redeliveries
from payments.disputes import dispute_apply
from payments.errors import NotificationConflict
from payments.lookups import UnknownPayment, started_payment
from payments.models import Payment, ReceivedNotification
from payments.rails import rail_named
from payments.refunds import refund_apply
from payments.signals import notification_rejected, payment_failed, payment_succeeded
from payments.values import Notification, ProviderState, ProviderStatus
from sitewide.transactions import DEADLOCK_ATTEMPTS, deadlock_pause, deadlock_victim

logger = logging.getLogger(__name__)

# What a conflicting redelivery keeps of its body (it was authentic: enough to investigate).
REJECTED_PAYLOAD_LIMIT = 10_000
# Rejected deliveries (anyone can post them) share one row per rail, account and hour, holding
# the latest reason, a sample of the latest body and its hash.
REJECTION_WINDOW = timedelta(hours=1)
REJECTED_SAMPLE_BYTES = 500
REJECTED_REASON_CHARS = 500


def payment_record(
    *,
    rail: str,
    account: str,
    livemode: bool,
    reference: str,
    provider_ref: str,
    currency: str,
    amount: int,
    pay_url: str = "",
    expires_at: datetime | None = None,
) -> Payment:
    """Remember a payment a rail has just started at its provider.

    A rail that sends the buyer to a page of the provider's gives its URL and when it expires,
    so that starting the same payable again reuses it (`payment_reusable`).
    """
    return Payment.objects.create(
        rail=rail,
        account=account,
        livemode=livemode,
        reference=reference,
        provider_ref=provider_ref,
        currency=currency,
        amount_expected=amount,
        pay_url=pay_url,
        expires_at=expires_at,
    )


# An open page this close to expiring is not handed out again: the buyer needs time to pay.
# Short beside a Checkout Session's life (CHECKOUT_EXPIRES_MINUTES, at least 30 minutes), so
# that asking again reuses it for most of that life.
REUSE_MARGIN = timedelta(minutes=5)


def payment_reusable(*, rail: str, reference: str, currency: str, amount: int) -> Payment | None:
    """The pending payment of `rail` for this payable and amount whose provider page still
    takes payment for a while: where the buyer asking again is sent, instead of making
    another (one order, one session; no provider call)."""
    return (
        Payment.objects.filter(
            rail=rail,
            reference=reference,
            currency=currency,
            amount_expected=amount,
            status=Payment.Status.PENDING,
            expires_at__gt=timezone.now() + REUSE_MARGIN,
        )
        .exclude(pay_url="")
        .order_by("-created", "-pk")
        .first()
    )


def _succeed(payment: Payment, state: ProviderState) -> Payment:
    """Move `payment` to succeeded and fulfil what it paid for, exactly once.

    The move is one conditional UPDATE: under any number of concurrent callers exactly one sees
    it happen, and only that one fulfils, inside the caller's transaction, and announces it
    after commit. The move writes the payment as fulfilled too (fulfilment, in the same
    transaction, nearly always succeeds); where it does not, a second UPDATE says why.
    """
    now = timezone.now()
    changes = {
        "status": Payment.Status.SUCCEEDED,
        "succeeded_at": now,
        "amount_received": state.amount,
        "currency": state.currency,
        "updated": now,
    }
    if state.provider_payment_ref:
        changes["provider_payment_ref"] = state.provider_payment_ref
    if state.payer_email:
        changes["payer_email"] = state.payer_email[:254]
    moved = (
        Payment.objects.filter(pk=payment.pk)
        .exclude(status=Payment.Status.SUCCEEDED)
        .update(**changes, fulfilled_at=now)
    )
    if not moved:
        payment.refresh_from_db()
        return payment
    # What the UPDATE wrote, without reading the row back.
    for name, value in changes.items():
        setattr(payment, name, value)
    outcome = fulfilment.fulfil(
        reference=payment.reference, amount=state.amount, currency=state.currency, payment=payment
    )
    if outcome.fulfilled:
        payment.fulfilled_at = now
    else:
        payment.fulfilled_at, payment.attention_note = None, outcome.note
        logger.error("payment %s not fulfilled: %s", payment.pk, outcome.note)
        Payment.objects.filter(pk=payment.pk).update(fulfilled_at=None, attention_note=outcome.note)
    transaction.on_commit(
        lambda: payment_succeeded.send(sender=Payment, payment=payment), robust=True
    )
    return payment


def _close(payment: Payment, status: str, *, note: str = "") -> Payment:
    """A payment failed or expired: note it, unless it already succeeded (never un-pay)."""
    moved = Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
        status=status, updated=timezone.now()
    )
    payment.refresh_from_db()
    if moved:
        transaction.on_commit(
            lambda: payment_failed.send(sender=Payment, payment=payment, reason=note),
            robust=True,
        )
    return payment


def payments_close(
    *, references: Sequence[str], reason: str, rail: str | None = None
) -> list[Payment]:
    """Close the payments still pending for `references` (on `rail`, or on every rail): what
    they were started for is no longer what is to be paid (the order changed, or was
    cancelled). Each is marked expired, its attention note says why, and `payment_failed` is
    sent after commit. Returns the payments closed.

    Run it inside the caller's transaction, before locking what they pay for: a paying
    notification locks its payment first and then the order (fulfilment), so closing takes
    the payments' locks in the same order (by pk, as the bank rail takes them). A payment
    that succeeds meanwhile is not closed; money a provider takes later for a closed one is
    still recorded, and fulfilment flags what it cannot pay for.
    """
    pending = Payment.objects.filter(reference__in=list(references), status=Payment.Status.PENDING)
    if rail is not None:
        pending = pending.filter(rail=rail)
    found = list(pending.values_list("pk", flat=True))
    if not found:
        return []
    # Locked by primary key alone, and kept where still pending as locked. A locking read
    # through a secondary index (InnoDB may pick `status`'s, or merge it with `reference`'s)
    # locks that index's records too, which a paying notification's UPDATE of its own payment's
    # status must change: each then waits for the other, and one request fails as a deadlock.
    closing = [
        payment
        for payment in Payment.objects.select_for_update().filter(pk__in=found).order_by("pk")
        if payment.status == Payment.Status.PENDING
    ]
    if not closing:
        return []
    note = f"Closed unpaid: {reason}"
    Payment.objects.filter(
        pk__in=[payment.pk for payment in closing], status=Payment.Status.PENDING
    ).update(status=Payment.Status.EXPIRED, attention_note=note, updated=timezone.now())
    for payment in closing:
        payment.status, payment.attention_note = Payment.Status.EXPIRED, note
        transaction.on_commit(
            lambda payment=payment: payment_failed.send(
                sender=Payment, payment=payment, reason=note
            ),
            robust=True,
        )
    return closing


def _declined(payment: Payment, *, note: str) -> Payment:
    """One attempt was refused; the payment stays open for another, and the decline is said."""
    transaction.on_commit(
        lambda: payment_failed.send(sender=Payment, payment=payment, reason=note), robust=True
    )
    return payment


def payment_apply(state: ProviderState) -> Payment:
    """Move the payment `state` is about as the provider says, once; fulfil it if it succeeded.

    Called from notifications and return pages, any number of times, concurrently. Raises
    UnknownPayment when the same rail and account did not start it.
    """
    # Found before the transaction: an unknown payment raises with nothing begun, so a caller's
    # own transaction (a notification's) goes on, and no savepoint is needed inside it. A
    # payment that may be fulfilled now is read with what its fulfilment needs to know of what
    # it pays for (an order's status and priced total): one query for both.
    payment = started_payment(state, with_facts=state.status == ProviderStatus.SUCCEEDED)
    with transaction.atomic(savepoint=False):
        if state.status == ProviderStatus.SUCCEEDED:
            return _succeed(payment, state)
        if state.status == ProviderStatus.FAILED:
            return _close(payment, Payment.Status.FAILED, note=state.message)
        if state.status == ProviderStatus.EXPIRED:
            return _close(payment, Payment.Status.EXPIRED, note=state.message)
        if state.status == ProviderStatus.DECLINED:
            return _declined(payment, note=state.message)
        return payment


def _act_on(notification: Notification) -> tuple[ReceivedNotification.Status, str]:
    """Do what a notification means; return how its record should read."""
    acted = rail_named(notification.rail).notification_act(notification)
    done = ReceivedNotification.Status.PROCESSED if acted else ReceivedNotification.Status.IGNORED
    about = [
        (apply, value)
        for apply, value in (
            (payment_apply, notification.state),
            (refund_apply, notification.refund),
            (dispute_apply, notification.dispute),
        )
        if value is not None
    ]
    notes = []
    for apply, value in about:
        try:
            apply(value)
        except UnknownPayment:
            # Never a payment of ours on this rail and account: nothing to move or create.
            ref = getattr(value, "payment_provider_id", None) or value.provider_ref
            notes.append(f"No payment {ref} was started on this account.")
        else:
            done = ReceivedNotification.Status.PROCESSED
    if notes:
        logger.warning("notification %s: %s", notification.event_id, " ".join(notes))
    return done, " ".join(notes)


def _conflict(notification: Notification, record: ReceivedNotification, payload: str) -> None:
    """Keep a redelivery that contradicts the first one for the merchant, then refuse it."""
    note = f"Event {notification.event_id} was received before with other content."
    ReceivedNotification.objects.create(
        rail=notification.rail,
        account=notification.account,
        event_id=notification.event_id,
        type=notification.type[:100],
        fingerprint=notification.fingerprint,
        signature_valid=True,
        status=ReceivedNotification.Status.CONFLICT,
        payload=payload[:REJECTED_PAYLOAD_LIMIT],
        error=f"{note} First recorded as #{record.pk}.",
    )
    logger.warning("%s notification conflict: %s", notification.rail, note)
    raise NotificationConflict(note + " Nothing was changed.")


class _Duplicate(Exception):
    """The event row exists already: this delivery was received before."""


def notification_receive(
    notification: Notification, *, payload: str, cached: redeliveries.Counted | None = None
) -> tuple[ReceivedNotification | None, bool]:
    """Record an authentic notification and act on it, once per rail, account and event id.

    The event row and everything the notification changes commit together. A second delivery
    of the same event (even one arriving while the first is still being processed: the database
    makes it wait) finds the row and is counted as a duplicate. If processing raises, nothing
    of it is kept, the failure is recorded, and the exception propagates (the view answers 500
    so the provider retries, and the retry is processed afresh). A redelivery whose
    fingerprint differs from the first one's is recorded as a conflict and raises
    NotificationConflict. Returns (record, duplicate); a duplicate's record is not read
    (None).

    A redelivery of an event already committed with the same content (the common duplicate:
    Stripe retrying, reconcile replaying) takes a fast path first: counted in the cache when
    it knows the row has committed (`payments.redeliveries`: no query at all), else, for an
    event of the last day, one UPDATE of its count, found by the once-only key's index, in
    autocommit: no transaction, and no INSERT of the payload for the database to refuse. That
    UPDATE is not tried where a cache every process shares knows no such event (Redis in
    production: a first delivery, all but surely), so a first delivery does not pay for it.
    Anything else (a first delivery, one racing the first delivery's transaction, a
    conflicting one, an older event, one an emptied cache forgot) goes the transactional way
    below, where the unique key decides. `cached` is what `redeliveries.counted` said already
    (the caller asked it; None: ask it here); `Counted.NO_ANSWER` from a caller that must not
    trust the cache (reconcile) has the database decide everything.

    Deliveries of one event racing each other can deadlock on InnoDB (the first delivery's
    INSERT against the others' UPDATE of its count); the database rolls the victim back whole,
    and it is received again from the start, after a short pause (`deadlock_pause`), up to
    DEADLOCK_ATTEMPTS times, rather than answered 500.
    """
    cached = redeliveries.counted(notification) if cached is None else cached
    if cached is redeliveries.Counted.YES:
        return None, True
    look_for_row = cached is not redeliveries.Counted.UNKNOWN
    # Inside a caller's transaction a deadlock has rolled the caller's work back too: only
    # the caller can start again, so there this receives once.
    attempts = 1 if transaction.get_connection().in_atomic_block else DEADLOCK_ATTEMPTS
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        try:
            return _receive(notification, payload=payload, last=last, look_for_row=look_for_row)
        except OperationalError as exc:
            if last or not deadlock_victim(exc):
                raise
            logger.info(
                "%s notification %s: a deadlock's victim (attempt %d), received again: %s",
                notification.rail,
                notification.event_id,
                attempt,
                exc,
            )
            deadlock_pause(attempt)
    raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover


def _receive(
    notification: Notification, *, payload: str, last: bool, look_for_row: bool
) -> tuple[ReceivedNotification | None, bool]:
    """One attempt of notification_receive. A deadlock's victim propagates unrecorded unless
    it is the `last` attempt, whose failure is recorded as any other. `look_for_row`: count it
    on a committed row if there is one, before the transaction (_counted_as_duplicate)."""
    if look_for_row and _counted_as_duplicate(notification):
        return None, True
    fields = {
        "rail": notification.rail,
        "account": notification.account,
        "event_id": notification.event_id,
        "type": notification.type[:100],
        "fingerprint": notification.fingerprint,
        "signature_valid": True,
    }
    try:
        # The event row is the transaction's first statement, so a refused INSERT (a
        # duplicate) leaves nothing to keep: the whole block rolls back, with no savepoint.
        with transaction.atomic():
            try:
                # Written as processed, when processing begins: what it commits with, unless
                # acting on it says otherwise (ignored, or a note).
                record = ReceivedNotification.objects.create(
                    **fields,
                    status=ReceivedNotification.Status.PROCESSED,
                    payload=payload,
                    processed_at=timezone.now(),
                )
            except IntegrityError as exc:
                raise _Duplicate from exc
            status, error = _act_on(notification)
            if (status, error) != (record.status, record.error):
                record.status, record.error = status, error
                record.save(update_fields=["status", "error"])
            # Known to the cache once committed, never before: a delivery rolled back leaves
            # no entry, so its retry is processed afresh.
            transaction.on_commit(lambda: redeliveries.remember(notification), robust=True)
    except _Duplicate:
        # Counted on its row, and the cache taught it again, as the fast path would have had
        # it been tried (it was not: the shared cache did not know the event); else (an older
        # event, other content) the database's longer way.
        if look_for_row or not _counted_as_duplicate(notification):
            _count_duplicate(notification, payload)
        return None, True
    except Exception as exc:
        if not last and isinstance(exc, OperationalError) and deadlock_victim(exc):
            raise  # rolled back whole: received again (notification_receive)
        ReceivedNotification.objects.create(
            **fields,
            status=ReceivedNotification.Status.FAILED,
            payload=payload,
            error=repr(exc)[:2000],
        )
        raise
    return record, False


def _counted_as_duplicate(notification: Notification) -> bool:
    """Count `notification` on its first delivery's row if that row is committed, says the
    same and is younger than the cache remembers (`redeliveries.REMEMBERED_FOR`, a day);
    False (nothing written) otherwise. The row is the one the unique key
    (rail, account, once_event_id) holds, so this is one index lookup however many events are
    stored. Once counted, the cache knows the row: the next redeliveries are counted there.
    """
    counted = ReceivedNotification.objects.filter(
        rail=notification.rail,
        account=notification.account,
        once_event_id=notification.event_id,
        fingerprint=notification.fingerprint,
        received_at__gte=timezone.now() - redeliveries.REMEMBERED_FOR,
    ).update(duplicates=F("duplicates") + 1)
    if counted:
        transaction.on_commit(lambda: redeliveries.remember(notification), robust=True)
    return bool(counted)


def _count_duplicate(notification: Notification, payload: str) -> None:
    """Count a redelivery on the first delivery's row when it says the same (one UPDATE);
    one that says something else is a conflict (NotificationConflict)."""
    first = ReceivedNotification.objects.exclude(
        status__in=[ReceivedNotification.Status.FAILED, ReceivedNotification.Status.CONFLICT]
    ).filter(
        rail=notification.rail,
        account=notification.account,
        event_id=notification.event_id,
        signature_valid=True,
    )
    if first.filter(fingerprint=notification.fingerprint).update(duplicates=F("duplicates") + 1):
        return
    _conflict(notification, first.get(), payload)


def _storable(payload: bytes) -> str:
    """`payload` as text any database keeps: PostgreSQL refuses NUL in a text column, and a
    rejected delivery is whatever anyone posted, so each NUL is written as the visible `\\x00`.
    """
    return payload.decode("utf-8", errors="replace").replace("\x00", "\\x00")


def notification_reject(*, rail: str, account: str, payload: bytes, reason: str) -> None:
    """Record a delivery that failed authentication, in bounded space, and announce it.

    Anyone can post to a notification endpoint, so rejections do not each get a row: the
    rejections of one rail and account within an hour share one, which counts them
    (`rejections`) and keeps the latest reason, the first REJECTED_SAMPLE_BYTES of the latest
    body and that body's SHA-256 (`body_sha256`). However many are posted, that is one row per
    account and hour, of bounded size.
    """
    logger.warning("%s notification rejected on account %s: %s", rail, account, reason)
    now = timezone.now()
    latest = {
        "payload": _storable(payload[:REJECTED_SAMPLE_BYTES]),
        "body_sha256": hashlib.sha256(payload).hexdigest(),
        "error": reason[:REJECTED_REASON_CHARS],
        "processed_at": now,
    }
    with transaction.atomic():
        record = (
            ReceivedNotification.objects.select_for_update()
            .filter(
                rail=rail,
                account=account,
                status=ReceivedNotification.Status.REJECTED,
                received_at__gte=now - REJECTION_WINDOW,
            )
            .order_by("-received_at", "-pk")
            .first()
        )
        if record is None:
            record = ReceivedNotification.objects.create(
                rail=rail,
                account=account,
                signature_valid=False,
                status=ReceivedNotification.Status.REJECTED,
                rejections=1,
                **latest,
            )
        else:
            ReceivedNotification.objects.filter(pk=record.pk).update(
                rejections=F("rejections") + 1, **latest
            )
            record.refresh_from_db()
        transaction.on_commit(
            lambda: notification_rejected.send(
                sender=ReceivedNotification, account=account, reason=reason, record=record
            ),
            robust=True,
        )
