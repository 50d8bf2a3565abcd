"""Disputes (inquiries, chargebacks and their appeals): what the provider says a buyer's bank is
contesting, kept per payment for the merchant, once per provider id, as the provider last said
it.

A dispute's lifecycle is not a line: an inquiry may close or escalate into a chargeback, a
chargeback is won or lost, and a lost (or won) one may go to appeal and be ruled on again. So
its status follows the provider's latest word, whatever step that is, and news is ordered by
when the provider said it (`DisputeState.observed_at`, e.g. the event's time): a word older
than the one recorded changes nothing, however late it arrives or however often reconcile
replays it. Words of the same instant (a provider's clock counts seconds) are ordered by their
step in the lifecycle: inquiry, chargeback, verdict, appeal, the appeal's verdict.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from payments.lookups import payment_named_by
from payments.models import Dispute
from payments.signals import dispute_changed
from payments.values import DisputedAway, DisputeState, DisputeStatus

CLOSED = (
    DisputeStatus.INQUIRY_CLOSED,
    DisputeStatus.WON,
    DisputeStatus.LOST,
    DisputeStatus.PREVENTED,
    DisputeStatus.CLOSED,
)
VERDICTS = (DisputeStatus.WON, DisputeStatus.LOST)
# A chargeback still being decided (an appeal too): the provider has taken the disputed money
# back from the merchant until the verdict. An inquiry takes nothing.
CHARGEBACK_OPEN = (
    DisputeStatus.NEEDS_RESPONSE,
    DisputeStatus.UNDER_REVIEW,
    DisputeStatus.APPEAL_NEEDS_RESPONSE,
    DisputeStatus.APPEAL_UNDER_REVIEW,
)
# Each status's step in the lifecycle, to order two words said in the same instant.
_STEP = {
    DisputeStatus.INQUIRY_NEEDS_RESPONSE: 0,
    DisputeStatus.INQUIRY_UNDER_REVIEW: 1,
    DisputeStatus.INQUIRY_CLOSED: 2,
    DisputeStatus.NEEDS_RESPONSE: 3,
    DisputeStatus.UNDER_REVIEW: 4,
    DisputeStatus.WON: 5,
    DisputeStatus.LOST: 5,
    DisputeStatus.PREVENTED: 5,
    DisputeStatus.CLOSED: 5,
    DisputeStatus.APPEAL_NEEDS_RESPONSE: 6,
    DisputeStatus.APPEAL_UNDER_REVIEW: 7,
}
APPEAL_VERDICT_STEP = 8


def _step(status: str, appealed: bool) -> int:
    if status in VERDICTS and appealed:
        return APPEAL_VERDICT_STEP
    return _STEP[DisputeStatus(status)]


def _is_news(dispute: Dispute, state: DisputeState) -> bool:
    """Whether `state` was said after what `dispute` records (or, said in the same instant, is
    a later step); a word without a time cannot be ordered and is taken as the latest."""
    said, recorded = state.observed_at, dispute.observed_at
    if said is None or recorded is None or said > recorded:
        return True
    if said < recorded:
        return False
    return _step(state.status, state.appealed) > _step(dispute.status, dispute.appealed)


def _closed_at(status: str, before: datetime | None) -> datetime | None:
    if status not in CLOSED:
        return None
    return before or timezone.now()


def dispute_apply(state: DisputeState) -> Dispute:
    """Record a dispute as the provider reports it, unless what is recorded is newer; announce
    a change of its status after commit. Raises UnknownPayment when the disputed payment was
    not started by the same rail and account (same mode)."""
    with transaction.atomic():
        payment = payment_named_by(state)
        fields = {
            "amount": state.amount,
            "currency": state.currency,
            "reason": state.reason[:50],
            "evidence_due_by": state.evidence_due_by,
            "observed_at": state.observed_at,
        }
        try:
            with transaction.atomic():
                dispute = Dispute.objects.create(
                    payment=payment,
                    provider_ref=state.provider_ref,
                    status=str(state.status),
                    appealed=state.appealed,
                    closed_at=_closed_at(state.status, None),
                    **fields,
                )
        except IntegrityError:
            dispute = Dispute.objects.select_for_update().get(
                payment=payment, provider_ref=state.provider_ref
            )
            if not _is_news(dispute, state):
                return dispute
            recorded_at = dispute.observed_at
            moved = dispute.status != state.status or (state.appealed and not dispute.appealed)
            before = dispute.closed_at if dispute.status in CLOSED else None
            dispute.status = str(state.status)
            dispute.appealed = dispute.appealed or state.appealed
            dispute.closed_at = _closed_at(state.status, before if not moved else None)
            for name, value in fields.items():
                setattr(dispute, name, value)
            dispute.observed_at = state.observed_at or recorded_at
            dispute.save()
            if not moved:
                return dispute
        transaction.on_commit(
            lambda: dispute_changed.send(sender=Dispute, dispute=dispute), robust=True
        )
        return dispute


def disputed_away(payment) -> DisputedAway:
    """What `payment`'s disputes took from the merchant, in minor units: lost in a chargeback,
    or held by one still being decided. Neither can be refunded: the buyer's bank has given
    that money back already, and the provider refuses a refund of it (Stripe: a charged-back
    charge is not refundable)."""
    totals = Dispute.objects.filter(payment=payment).aggregate(
        lost=Sum("amount", filter=Q(status=DisputeStatus.LOST)),
        held=Sum("amount", filter=Q(status__in=CHARGEBACK_OPEN)),
    )
    return DisputedAway(lost=totals["lost"] or 0, held=totals["held"] or 0)
