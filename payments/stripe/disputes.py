"""Stripe's Disputes (chargebacks) read into the core's `DisputeState`.

The lifecycle of the pinned API version (2026-10-28.endive: `stripe` 16.1.0's Dispute.status),
in the core's words:
- an inquiry (the buyer's bank asks first; no money moves, the payment can still be refunded):
  `warning_needs_response` -> INQUIRY_NEEDS_RESPONSE (respond by `evidence_details.due_by`, or
  it may become a chargeback), `warning_under_review` -> INQUIRY_UNDER_REVIEW,
  `warning_closed` -> INQUIRY_CLOSED (closed without a chargeback; an inquiry that escalates
  becomes `needs_response`, on the same dispute or on a new one of the same charge);
- a chargeback (the money and a fee are withdrawn): `needs_response` -> NEEDS_RESPONSE (respond
  by `due_by`), `under_review` -> UNDER_REVIEW (evidence submitted, the bank decides), then
  `won` -> WON (the money is reinstated) or `lost` -> LOST (accepting a dispute loses it);
- an appeal of the bank's ruling, for businesses that enabled appeals (pre-arbitration and
  arbitration, the final stages): `appeal_needs_response` -> APPEAL_NEEDS_RESPONSE (appeal
  evidence, `evidence.appeal`, due by `due_by`), `appeal_under_review` -> APPEAL_UNDER_REVIEW
  (the network decides), ending `won` or `lost` again (`appealed`: the verdict is the
  appeal's);
- `prevented` -> PREVENTED: stopped before it became a chargeback (a prevention service).

A status this version does not list is recorded and changes nothing. Each word carries the
event's `created` (`observed_at`): the core refuses one older than what it has recorded.

The disputed payment is the dispute's `payment_intent`. A Checkout payment knows its
PaymentIntent only once the session's own event has been processed, and Stripe sends events
in no set order, so a PaymentIntent we do not know yet is traced to its Checkout Session (asked
of the same account). A dispute that names only its Charge (one made without a PaymentIntent)
is traced through the Charge.

Every field is read strictly (`event_fields.EventFields`): one of the wrong type or out of
bounds refuses the delivery (400), before any request to Stripe.
"""

from datetime import datetime

from django.db.models import Q

from payments.errors import PaymentError
from payments.models import Payment
from payments.stripe import NAME, client
from payments.stripe.accounts import StripeAccount
from payments.stripe.event_fields import MAX_ID_LENGTH, EventFields
from payments.values import DisputeState, DisputeStatus

STATUSES = {
    "warning_needs_response": DisputeStatus.INQUIRY_NEEDS_RESPONSE,
    "warning_under_review": DisputeStatus.INQUIRY_UNDER_REVIEW,
    "warning_closed": DisputeStatus.INQUIRY_CLOSED,
    "needs_response": DisputeStatus.NEEDS_RESPONSE,
    "under_review": DisputeStatus.UNDER_REVIEW,
    "won": DisputeStatus.WON,
    "lost": DisputeStatus.LOST,
    "appeal_needs_response": DisputeStatus.APPEAL_NEEDS_RESPONSE,
    "appeal_under_review": DisputeStatus.APPEAL_UNDER_REVIEW,
    "prevented": DisputeStatus.PREVENTED,
}
APPEAL_STATUSES = ("appeal_needs_response", "appeal_under_review")


def _known(intent: str) -> bool:
    return (
        Payment.objects.filter(rail=NAME)
        .filter(Q(provider_ref=intent) | Q(provider_payment_ref=intent))
        .exists()
    )


def _intent_unlearnt(account: StripeAccount) -> bool:
    """Whether a Checkout payment of `account` still waits to learn its PaymentIntent: only
    then can an intent we do not know be one of ours, and only then is Stripe asked (an id
    the shop never issued costs no request)."""
    return Payment.objects.filter(
        rail=NAME,
        account=account.identity,
        provider_ref__startswith="cs_",
        provider_payment_ref__isnull=True,
    ).exists()


def _disputed_payment(account: StripeAccount, intent: str | None, charge: str | None) -> str:
    """The provider id of the disputed payment, as our Payment rows know it (if they do)."""
    try:
        if not intent and charge:
            intent = client.charge_payment_intent(account, charge)
        if intent and not _known(intent) and _intent_unlearnt(account):
            # A Checkout payment learns its PaymentIntent from the session's own event, which
            # Stripe may deliver after the dispute's (events come in no set order): ask which
            # session made it.
            return client.checkout_session_of_intent(account, intent) or intent
    except PaymentError:
        pass  # not found on this account: the id we have finds no payment of ours either
    return intent or charge or ""


def _appealed(status: str, evidence: EventFields | None) -> bool:
    """Whether the dispute went to appeal: an appeal status, or appeal evidence given (the
    verdict that follows is then the appeal's)."""
    if status in APPEAL_STATUSES:
        return True
    appeal = evidence.child("appeal") if evidence is not None else None
    card = appeal.child("card") if appeal is not None else None
    return bool(card is not None and card.string("reason_for_filing"))


def dispute_state(
    account: StripeAccount, fields: EventFields, *, livemode: bool, observed_at: datetime
) -> DisputeState | None:
    """What a Dispute object (an event's `data.object`, read strictly) says as of
    `observed_at` (the event's `created`), or None for a status this API version does not
    list (the event is then recorded and changes nothing). Raises NotificationRejected."""
    dispute_id = fields.identifier("id", required=True)
    raw_status = fields.string("status", required=True, max_length=MAX_ID_LENGTH)
    amount = fields.integer("amount", required=True)
    currency = fields.currency("currency")
    reason = fields.string("reason", max_length=MAX_ID_LENGTH) or ""
    details = fields.child("evidence_details")
    due_by = details.timestamp("due_by") if details is not None else None
    appealed = _appealed(raw_status, fields.child("evidence"))
    fields.metadata()  # unused here, but an event with malformed metadata is refused all the same
    intent, charge = fields.identifier("payment_intent"), fields.identifier("charge")
    status = STATUSES.get(raw_status)
    if status is None:
        return None
    return DisputeState(
        rail=NAME,
        account=account.identity,
        livemode=livemode,
        provider_ref=dispute_id,
        payment_provider_id=_disputed_payment(account, intent, charge),
        status=status,
        amount=amount,
        currency=currency,
        reason=reason,
        evidence_due_by=due_by,
        observed_at=observed_at,
        appealed=appealed,
    )
