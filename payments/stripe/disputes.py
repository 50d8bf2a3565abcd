"""Stripe's Disputes (chargebacks) read into the core's `DisputeState`.

Stripe's statuses, in the core's words (an inquiry's `warning_*` ones are the same steps before
any money moves):
- `warning_needs_response`, `needs_response` -> NEEDS_RESPONSE (evidence due by
  `evidence_details.due_by`);
- `warning_under_review`, `under_review` -> UNDER_REVIEW (evidence submitted, the bank decides);
- `won` -> WON, `lost` -> LOST (accepting a dispute loses it);
- `warning_closed` (an inquiry closed without a chargeback), `prevented` -> CLOSED.

The disputed payment is the dispute's `payment_intent`. A Checkout payment knows its
PaymentIntent only once the session's own event has been processed, and Stripe sends events
in no set order, so a PaymentIntent we do not know yet is traced to its Checkout Session (asked
of the same account). A dispute that names only its Charge (one made without a PaymentIntent)
is traced through the Charge.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q

from payments.errors import PaymentError
from payments.models import Payment
from payments.stripe import NAME, client
from payments.stripe.accounts import StripeAccount
from payments.values import DisputeState, DisputeStatus

STATUSES = {
    "warning_needs_response": DisputeStatus.NEEDS_RESPONSE,
    "needs_response": DisputeStatus.NEEDS_RESPONSE,
    "warning_under_review": DisputeStatus.UNDER_REVIEW,
    "under_review": DisputeStatus.UNDER_REVIEW,
    "won": DisputeStatus.WON,
    "lost": DisputeStatus.LOST,
    "warning_closed": DisputeStatus.CLOSED,
    "prevented": DisputeStatus.CLOSED,
}


def _id(value: Any) -> str | None:
    if isinstance(value, Mapping):  # expanded
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _known(intent: str) -> bool:
    return (
        Payment.objects.filter(rail=NAME)
        .filter(Q(provider_ref=intent) | Q(provider_payment_ref=intent))
        .exists()
    )


def _disputed_payment(account: StripeAccount, data: Mapping[str, Any]) -> str:
    """The provider id of the disputed payment, as our Payment rows know it (if they do)."""
    intent = _id(data.get("payment_intent"))
    charge = _id(data.get("charge")) or ""
    try:
        if not intent and charge:
            intent = client.charge_payment_intent(account, charge)
        if intent and not _known(intent):
            # A Checkout payment learns its PaymentIntent from the session's own event, which
            # Stripe may deliver after the dispute's (events come in no set order): ask which
            # session made it.
            return client.checkout_session_of_intent(account, intent) or intent
    except PaymentError:
        pass  # not found on this account: the id we have finds no payment of ours either
    return intent or charge


def dispute_state(
    account: StripeAccount, data: Mapping[str, Any], *, livemode: bool
) -> DisputeState | None:
    """What a Dispute object (an event's `data.object`) says, or None for a status Stripe
    may add later that we do not know (the event is then recorded and changes nothing)."""
    status = STATUSES.get(str(data.get("status", "")))
    if status is None:
        return None
    due_by = (data.get("evidence_details") or {}).get("due_by")
    return DisputeState(
        rail=NAME,
        account=account.identity,
        livemode=livemode,
        provider_ref=str(data["id"]),
        payment_provider_id=_disputed_payment(account, data),
        status=status,
        amount=int(data.get("amount") or 0),
        currency=str(data.get("currency") or "").upper(),
        reason=str(data.get("reason") or ""),
        evidence_due_by=(
            datetime.fromtimestamp(due_by, tz=UTC) if isinstance(due_by, int) else None
        ),
    )
