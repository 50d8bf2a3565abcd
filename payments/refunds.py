"""Refunds: asked for from our admin, or made at the provider and learnt from a notification.

- `refund_request`: the merchant gives back part or all of a succeeded payment. The Refund row
  is written first (under the payment's row lock, so two clerks can never together refund more
  than was received), then the rail asks the provider through the account that took the
  payment, with the row's `request_key` as the idempotency key.
- `refund_apply`: what the provider says of a refund (its answer, a notification, reconcile),
  applied once: the row is found by our key or the provider's id, or made, and its status moves
  by conditional UPDATE, so each move (and its signal, and the shop's notice) happens once
  whichever way the news arrives first.
"""

import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from payments import fulfilment
from payments.errors import PaymentError
from payments.lookups import payment_named_by
from payments.models import Payment, Refund
from payments.rails import rail_named
from payments.signals import refund_failed, refund_succeeded
from payments.values import RefundState, RefundStatus

logger = logging.getLogger(__name__)

# Refunds that count against what can still be refunded: made, or possibly being made.
HOLDING = (Refund.Status.PENDING, Refund.Status.SUCCEEDED)


def refundable(payment: Payment) -> int:
    """Minor units of `payment` that can still be refunded (none unless it succeeded)."""
    if payment.status != Payment.Status.SUCCEEDED or not payment.amount_received:
        return 0
    held = payment.refunds.filter(status__in=HOLDING).aggregate(total=Sum("amount"))["total"]
    return max(0, payment.amount_received - (held or 0))


def refunded(payment: Payment) -> int:
    """Minor units of `payment` given back so far."""
    total = payment.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(total=Sum("amount"))
    return total["total"] or 0


def refund_request(
    *, payment: Payment, amount: int, reason: str = "", note: str = "", requested_by=None
) -> Refund:
    """Give back `amount` minor units of `payment` through the rail and account that took it.

    Raises PaymentError: 409 when the rail cannot refund or the payment is not paid, 422 when
    `amount` is not between 1 and what remains; the provider's refusal (the Refund is then
    `failed`, with the reason); 503 when the provider could not be reached (the Refund stays
    `pending`: the provider may have made it, and its notification or `payments_reconcile`
    will say).
    """
    rail = rail_named(payment.rail)
    if not rail.refunds:
        raise PaymentError(f"{rail.verbose_name} payments cannot be refunded here.", status=409)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Payment.Status.SUCCEEDED:
            raise PaymentError("Only a paid payment can be refunded.", status=409)
        remaining = refundable(locked)
        if not 0 < amount <= remaining:
            raise PaymentError(
                f"A refund must be more than 0 and at most {remaining} (minor units of "
                f"{locked.currency}) on this payment.",
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
    """Our row for the refund `state` is about, made if this is the first we hear of it."""
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
        # Made by a concurrent notification about the same refund, which has now committed.
        return Refund.objects.select_for_update().get(match, payment=payment)


def _move(refund: Refund, status: str, *, message: str = "") -> bool:
    """Move `refund` to `status` once; announce it (and tell the shop) if this call moved it."""
    now = timezone.now()
    rows = Refund.objects.filter(pk=refund.pk)
    if status == Refund.Status.SUCCEEDED:
        rows = rows.exclude(status=status)
        changes = {"status": status, "succeeded_at": now, "updated": now}
    else:  # failed or canceled: final, and a succeeded refund can still fail afterwards
        rows = rows.exclude(status__in=[Refund.Status.FAILED, Refund.Status.CANCELED])
        changes = {"status": status, "message": message[:2000], "updated": now}
    if not rows.update(**changes):
        return False
    refund.refresh_from_db()
    if status == Refund.Status.SUCCEEDED:
        fulfilment.refunded(refund=refund)
        signal = refund_succeeded
    else:
        signal = refund_failed
    transaction.on_commit(lambda: signal.send(sender=Refund, refund=refund), robust=True)
    return True


def refund_apply(state: RefundState) -> Refund:
    """Record what the provider says of a refund, once. Raises UnknownPayment when the refunded
    payment was not started by the same rail and account (in the same mode)."""
    with transaction.atomic():
        payment = payment_named_by(state)
        refund = _find_or_make(payment, state)
        if refund.provider_ref is None:
            Refund.objects.filter(pk=refund.pk, provider_ref__isnull=True).update(
                provider_ref=state.provider_ref
            )
        if state.status == RefundStatus.SUCCEEDED:
            _move(refund, Refund.Status.SUCCEEDED)
        elif state.status in (RefundStatus.FAILED, RefundStatus.CANCELED):
            _move(refund, str(state.status), message=state.message)
        refund.refresh_from_db()
        return refund
