"""Disputes (chargebacks): what the provider says a buyer's bank is contesting, kept per
payment for the merchant, once per provider id, whichever event arrives first."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.lookups import payment_named_by
from payments.models import Dispute
from payments.signals import dispute_changed
from payments.values import DisputeState, DisputeStatus

CLOSED = (DisputeStatus.WON, DisputeStatus.LOST, DisputeStatus.CLOSED)
# How far along a dispute is. Notifications may arrive in any order (a provider sends each
# change separately, and retries), so a status only ever moves to a later step: an older
# "needs response" arriving after "under review" or after the verdict changes nothing.
_STEP = {
    DisputeStatus.NEEDS_RESPONSE: 0,
    DisputeStatus.UNDER_REVIEW: 1,
    DisputeStatus.WON: 2,
    DisputeStatus.LOST: 2,
    DisputeStatus.CLOSED: 2,
}


def dispute_apply(state: DisputeState) -> Dispute:
    """Record a dispute as the provider now reports it; announce a change after commit.

    The status only moves forward (needs response, under review, closed): an older event
    arriving late never reopens a closed dispute nor takes one back. Raises UnknownPayment
    when the disputed payment was not started by the same rail and account (same mode).
    """
    with transaction.atomic():
        payment = payment_named_by(state)
        fields = {
            "amount": state.amount,
            "currency": state.currency,
            "reason": state.reason[:50],
            "evidence_due_by": state.evidence_due_by,
        }
        try:
            with transaction.atomic():
                dispute = Dispute.objects.create(
                    payment=payment,
                    provider_ref=state.provider_ref,
                    status=str(state.status),
                    closed_at=timezone.now() if state.status in CLOSED else None,
                    **fields,
                )
        except IntegrityError:
            dispute = Dispute.objects.select_for_update().get(
                payment=payment, provider_ref=state.provider_ref
            )
            if _STEP[DisputeStatus(state.status)] <= _STEP[DisputeStatus(dispute.status)]:
                return dispute
            dispute.status = str(state.status)
            dispute.closed_at = timezone.now() if state.status in CLOSED else None
            for name, value in fields.items():
                setattr(dispute, name, value)
            dispute.save()
        transaction.on_commit(
            lambda: dispute_changed.send(sender=Dispute, dispute=dispute), robust=True
        )
        return dispute
