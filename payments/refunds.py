"""Refunds: asked for from our admin, or made at the provider and learnt from a notification.

- `refund_request`: the merchant gives back part or all of a succeeded payment. The Refund row
  is written first (under the payment's row lock, so two clerks can never together refund more
  than was received), then the rail asks the provider through the account that took the
  payment, with the row's `request_key` as the idempotency key. What remains to refund is what
  was received less refunds made or being made and less what disputes took (lost, or held by a
  chargeback being decided: the provider refuses to refund it), `refund_room`; whether a
  payment can be refunded at all, or only in full, is its rail's answer for that payment
  (`Rail.refund_supported`, `Rail.partial_refund_supported`).
- `refund_apply`: what the provider says of a refund (its answer, a notification, reconcile),
  applied once, under the refunded payment's row lock (so all news about one payment's refunds
  is applied one at a time): the row is found by our key or the provider's id, or made, and its
  status moves by conditional UPDATE, so each move (and its signal, and the shop's notice)
  happens once whichever way the news arrives first.

A refund's final statuses (succeeded, failed, canceled) are final against older news: news
arrives in any order (a provider retries, reconcile replays its events oldest first), so a
word saying another final status than the one recorded is not taken; the provider is asked for
the refund as it stands now, through the rail and the account that took the payment
(`Rail.refund_state`), and what it answers is recorded. A pending word after a final one is
older news and changes nothing. Where the provider cannot be asked, the row keeps its status
and is flagged for the merchant.

What is counted as refunded never exceeds what the payment received: a refund the provider
reports beyond it is recorded as it says, flagged for the merchant (`Refund.attention_note`), sends
the buyer no notice, and counts only up to what was received (`refunded`).
"""

import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, from_minor_units
from payments import fulfilment
from payments.disputes import disputed_away
from payments.errors import PaymentError
from payments.lookups import payment_named_by
from payments.models import Payment, Refund
from payments.rails import rail_named
from payments.signals import refund_failed, refund_succeeded
from payments.values import RefundRoom, RefundState, RefundStatus

logger = logging.getLogger(__name__)

# Refunds that count against what can still be refunded: made, or possibly being made.
HOLDING = (Refund.Status.PENDING, Refund.Status.SUCCEEDED)
# A provider error at or above this status means it could not be asked now (unreachable, 5xx):
# the notification fails and is retried. Below it, it answered that it cannot say.
UNREACHABLE_STATUS = 500


def _received(payment: Payment) -> int:
    if payment.status != Payment.Status.SUCCEEDED:
        return 0
    return payment.amount_received or 0


def refund_room(payment: Payment) -> RefundRoom:
    """How much of `payment` can still be refunded, and what took the rest: refunds made or
    being made, and money its disputes took (lost, or held by a chargeback being decided),
    which the provider will not refund (`payments.disputes.disputed_away`)."""
    received = _received(payment)
    if not received:
        return RefundRoom(received=0)
    held = payment.refunds.filter(status__in=HOLDING).aggregate(total=Sum("amount"))["total"]
    return RefundRoom(received=received, refunding=held or 0, disputed=disputed_away(payment))


def refundable(payment: Payment) -> int:
    """Minor units of `payment` that can still be refunded (none unless it succeeded)."""
    return refund_room(payment).remaining


def nothing_left_words(room: RefundRoom, currency: str) -> str:
    """Why `room` leaves nothing to refund, in a merchant's words."""
    if not room.received:
        return "it took no money"
    taken = [
        (room.refunding, "refunded or being refunded"),
        (room.disputed.lost, "lost in a dispute"),
        (room.disputed.held, "held by a chargeback still being decided"),
    ]
    parts = [f"{_money(amount, currency)} {words}" for amount, words in taken if amount]
    return f"of the {_money(room.received, currency)} it received, " + ", ".join(parts)


def disputed_words(room: RefundRoom, currency: str) -> str:
    """What `room`'s disputes keep from being refunded, in words ("" when nothing)."""
    parts = []
    if room.disputed.lost:
        parts.append(f"{_money(room.disputed.lost, currency)} was lost in a dispute")
    if room.disputed.held:
        parts.append(
            f"{_money(room.disputed.held, currency)} is held by a chargeback still being decided"
        )
    return " and ".join(parts) + " and cannot be refunded" if parts else ""


def refunded(payment: Payment) -> int:
    """Minor units of `payment` given back so far: never more than it received."""
    total = payment.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(total=Sum("amount"))
    return min(total["total"] or 0, _received(payment))


def refund_request(
    *, payment: Payment, amount: int, reason: str = "", note: str = "", requested_by=None
) -> Refund:
    """Give back `amount` minor units of `payment` through the rail and account that took it.

    Raises PaymentError: 409 when the rail cannot refund it (`Rail.refund_supported`), the
    payment is not paid or nothing is left (refunds and disputes took it all), 422 when
    `amount` is not between 1 and what remains (or not all of it, where the rail refunds the
    payment only in full); the provider's refusal (the Refund is then
    `failed`, with the reason); 503 when the provider could not be reached (the Refund stays
    `pending`: the provider may have made it, and its notification or `payments_reconcile`
    will say).
    """
    rail = rail_named(payment.rail)
    if not rail.refund_supported(payment):
        raise PaymentError(f"{rail.verbose_name} payments cannot be refunded here.", status=409)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Payment.Status.SUCCEEDED:
            raise PaymentError("Only a paid payment can be refunded.", status=409)
        room = refund_room(locked)
        remaining = room.remaining
        if not remaining:
            raise PaymentError(
                f"Nothing is left to refund on this payment: "
                f"{nothing_left_words(room, locked.currency)}.",
                status=409,
            )
        if not 0 < amount <= remaining:
            raise PaymentError(
                f"A refund must be more than 0 and at most {remaining} (minor units of "
                f"{locked.currency}) on this payment.",
                status=422,
            )
        if amount != remaining and not rail.partial_refund_supported(locked):
            raise PaymentError(
                f"{rail.verbose_name} refunds this payment only in full: "
                f"{_money(remaining, locked.currency)}.",
                status=422,
            )
        refund = Refund.objects.create(
            payment=locked,
            amount=amount,
            currency=locked.currency,
            reason=reason,
            note=note[:500],
            request_key=f"refund-{uuid.uuid4().hex}",
            requested_by=requested_by,
        )
    try:
        state = rail.refund(
            payment=locked, amount=amount, reason=reason, request_key=refund.request_key
        )
    except PaymentError as exc:
        if exc.status == 503:
            Refund.objects.filter(pk=refund.pk).update(message=exc.message)
        else:
            _move(refund, Refund.Status.FAILED, message=exc.message)
        raise
    return refund_apply(state)


def _find_or_make(payment: Payment, state: RefundState) -> Refund:
    """Our row for the refund `state` is about (locked), made if this is the first we hear of
    it."""
    match = Q(provider_ref=state.provider_ref)
    if state.request_key:
        match |= Q(request_key=state.request_key)
    refund = Refund.objects.select_for_update().filter(match, payment=payment).first()
    if refund is not None:
        return refund
    try:
        with transaction.atomic():
            return Refund.objects.create(
                payment=payment,
                provider_ref=state.provider_ref,
                request_key=state.request_key or None,
                amount=state.amount,
                currency=state.currency,
                reason=state.reason if state.reason in Refund.Reason.values else "",
            )
    except IntegrityError:
        # Made by a concurrent request about the same refund (our own admin's), now committed.
        return Refund.objects.select_for_update().get(match, payment=payment)


def _money(amount: int, currency: str) -> str:
    try:
        return format_money(from_minor_units(amount, currency), currency)
    except CurrencyError:
        return f"{amount} {currency} (minor units)"


def _flag(refund: Refund, note: str) -> None:
    """Say `note` to the merchant on `refund` (kept with what was said before)."""
    said = (
        f"{refund.attention_note}\n{note}".strip()
        if note not in refund.attention_note
        else refund.attention_note
    )
    Refund.objects.filter(pk=refund.pk).update(attention_note=said[:4000], updated=timezone.now())
    refund.attention_note = said[:4000]
    logger.warning("refund %s flagged: %s", refund.pk, note)


def _beyond_received(payment: Payment, refund: Refund) -> str:
    """Why `refund` cannot all count, if it would take the payment's refunds beyond what it
    received ("" when it fits)."""
    received = _received(payment)
    others = (
        payment.refunds.filter(status=Refund.Status.SUCCEEDED)
        .exclude(pk=refund.pk)
        .aggregate(total=Sum("amount"))["total"]
        or 0
    )
    excess = others + refund.amount - received
    if excess <= 0:
        return ""
    currency = payment.currency
    return (
        f"The provider reports this refund of {_money(refund.amount, currency)} as succeeded, "
        f"but the payment received {_money(received, currency)} and "
        f"{_money(others, currency)} was refunded already: {_money(excess, currency)} beyond "
        "what was received is not counted, and the buyer was sent no notice. Check the "
        "payment at the provider."
    )


def _move(
    refund: Refund, status: str, *, message: str = "", payment: Payment | None = None
) -> bool:
    """Move `refund` from the status it has (its row is locked) to `status`, once; announce it,
    and tell the shop, if this call moved it."""
    now = timezone.now()
    changes = {"status": status, "updated": now}
    if status == Refund.Status.SUCCEEDED:
        changes["succeeded_at"] = now
    else:
        changes["message"] = message[:2000]
    rows = Refund.objects.filter(pk=refund.pk, status=refund.status).exclude(status=status)
    if not rows.update(**changes):
        return False
    refund.refresh_from_db()
    if status == Refund.Status.SUCCEEDED:
        beyond = _beyond_received(payment or refund.payment, refund)
        if beyond:
            _flag(refund, beyond)
        else:
            fulfilment.refunded(refund=refund)
        signal = refund_succeeded
    else:
        signal = refund_failed
    transaction.on_commit(lambda: signal.send(sender=Refund, refund=refund), robust=True)
    return True


def _current(payment: Payment, refund: Refund, said: RefundState) -> RefundState | None:
    """The refund as the provider says it stands now, asked through the rail and the account
    that took `payment`; None (the row flagged) when the provider cannot say. Raises
    PaymentError when it cannot be reached now (the notification is retried)."""
    try:
        current = rail_named(payment.rail).refund_state(
            payment=payment, provider_ref=refund.provider_ref or said.provider_ref
        )
    except PaymentError as exc:
        if exc.status >= UNREACHABLE_STATUS:
            raise
        _flag(
            refund,
            f"The provider said this refund is {said.status}, but it is recorded as "
            f"{refund.status}; the provider could not be asked how it stands now "
            f"({exc.message}). Check it at the provider.",
        )
        return None
    if current.provider_ref != (refund.provider_ref or said.provider_ref):
        raise PaymentError("The provider answered about another refund.", status=502)
    return current


def _apply_status(payment: Payment, refund: Refund, state: RefundState) -> None:
    status = str(state.status)
    if status == RefundStatus.PENDING or status == refund.status:
        return  # nothing new; a pending word after a final one is older news
    if refund.status in Refund.FINAL:
        # Final against older news: two final words disagree, so the provider is asked.
        current = _current(payment, refund, state)
        if current is None:
            return
        status, message = str(current.status), current.message
        if status == RefundStatus.PENDING or status == refund.status:
            return
        logger.info(
            "refund %s: recorded %s, told %s, the provider says %s now",
            refund.pk,
            refund.status,
            state.status,
            status,
        )
        _move(refund, status, message=message, payment=payment)
        return
    _move(refund, status, message=state.message, payment=payment)


def refund_apply(state: RefundState) -> Refund:
    """Record what the provider says of a refund, once (see the module's docstring). Raises
    UnknownPayment when the refunded payment was not started by the same rail and account (in
    the same mode), and PaymentError when the provider had to be asked and could not be
    reached."""
    with transaction.atomic():
        found = payment_named_by(state)
        # One at a time per payment: what is refunded is counted against what it received.
        payment = Payment.objects.select_for_update().get(pk=found.pk)
        refund = _find_or_make(payment, state)
        if refund.provider_ref is None:
            Refund.objects.filter(pk=refund.pk, provider_ref__isnull=True).update(
                provider_ref=state.provider_ref
            )
            refund.provider_ref = state.provider_ref
        _apply_status(payment, refund, state)
        refund.refresh_from_db()
        return refund
