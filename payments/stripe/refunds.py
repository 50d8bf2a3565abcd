"""Stripe refunds: asked for through the account that took the payment, and read into the core's
`RefundState`, whether from the API's answer or from a `refund.*` event.

A refund names the payment's PaymentIntent (a Checkout Session's, or one of our own), carries
our Refund row's `request_key` in its metadata and as the request's idempotency key: a retried
request refunds once, and an event about the refund that overtakes the answer still finds the
row. A refund made in Stripe's dashboard has no key; the core makes its row from the event.

An event's refund is read strictly (`refund_from_event`, through `event_fields.EventFields`):
a field of the wrong type or out of bounds refuses the delivery (400), never a 500.
`refund_current` asks the account for a refund as it stands now (`GET /v1/refunds/{id}`): what
the core records when an event contradicts a final status it has.
"""

from payments.errors import PaymentError
from payments.models import Payment
from payments.stripe import NAME, client
from payments.stripe.accounts import StripeAccount, is_stripe_id
from payments.stripe.client import Refund
from payments.stripe.event_fields import MAX_ID_LENGTH, EventFields
from payments.values import RefundState, RefundStatus

# Where our Refund row's key goes in the refund's metadata.
REQUEST_KEY_METADATA = "refund_request"
# The longest key we make (`refund-<32 hex digits>`) fits in the Refund row's column.
REQUEST_KEY_MAX_LENGTH = 64
# The reasons Stripe takes (others, or none, are left out of the request).
STRIPE_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
STATUSES = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,  # the buyer's bank details are needed
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}
# Stripe's `failure_reason`s, in words for the merchant.
FAILURE_REASONS = {
    "expired_or_canceled_card": "The buyer's card has expired or was cancelled.",
    "lost_or_stolen_card": "The buyer's card was reported lost or stolen.",
    "declined": "The buyer's bank declined the refund.",
    "insufficient_funds": "The Stripe balance could not cover the refund.",
    "merchant_request": "The refund was cancelled at the merchant's request.",
    "charge_for_pending_refund_disputed": "The payment was disputed while the refund was pending.",
}


def _payment_intent_id(account: StripeAccount, payment: Payment) -> str:
    """The PaymentIntent that took `payment`'s money: our own, or its Checkout Session's."""
    for ref in (payment.provider_payment_ref, payment.provider_ref):
        if ref and is_stripe_id(ref, "pi_"):
            return ref
    if is_stripe_id(payment.provider_ref, "cs_"):
        # Recorded before the session's PaymentIntent was known: ask Stripe.
        session = client.checkout_session_retrieve(account, payment.provider_ref)
        if session.payment_intent:
            return session.payment_intent
    raise PaymentError("This payment has no Stripe PaymentIntent to refund.", status=409)


def refund_start(
    account: StripeAccount, *, payment: Payment, amount: int, reason: str, request_key: str
) -> RefundState:
    """Ask Stripe to give back `amount` minor units of `payment` on `account` (the one that took
    it). Raises PaymentError: 503 when Stripe could not be reached (it may have made the
    refund), 502 with Stripe's reason when it refused."""
    params = {
        "payment_intent": _payment_intent_id(account, payment),
        "amount": amount,
        "metadata": {REQUEST_KEY_METADATA: request_key},
    }
    if reason in STRIPE_REASONS:
        params["reason"] = reason
    refund = client.refund_create(account, params=params, idempotency_key=request_key)
    return refund_state(account, refund, livemode=account.livemode)


def refund_state(account: StripeAccount, refund: Refund, *, livemode: bool) -> RefundState:
    """What a Stripe refund says, in the core's words (`livemode`: the mode it was reported in).

    The refunded payment is named by its PaymentIntent, which is how our Payment knows it.
    """
    message = ""
    if refund.failure_reason:
        message = FAILURE_REASONS.get(
            refund.failure_reason, f"Stripe could not refund it ({refund.failure_reason})."
        )
    return RefundState(
        rail=NAME,
        account=account.identity,
        livemode=livemode,
        provider_ref=refund.id,
        payment_provider_id=refund.payment_intent or refund.charge or "",
        status=STATUSES.get(refund.status, RefundStatus.PENDING),
        amount=refund.amount,
        currency=refund.currency or account.currency,
        reason=refund.reason or "",
        request_key=refund.metadata.get(REQUEST_KEY_METADATA, ""),
        message=message,
    )


def refund_from_event(fields: EventFields) -> Refund:
    """The Refund an event's `data.object` describes, every field read strictly. Raises
    NotificationRejected naming the first field that is not as Stripe sends it."""
    metadata = fields.metadata()
    request_key = metadata.get(REQUEST_KEY_METADATA, "")
    if len(request_key) > REQUEST_KEY_MAX_LENGTH:
        fields.refuse(
            f"{fields.path}.metadata.{REQUEST_KEY_METADATA} is longer than "
            f"{REQUEST_KEY_MAX_LENGTH} characters"
        )
    return Refund(
        id=fields.identifier("id", required=True),
        status=fields.string("status", required=True, max_length=MAX_ID_LENGTH),
        amount=fields.integer("amount", required=True, minimum=1),
        currency=fields.currency("currency"),
        payment_intent=fields.identifier("payment_intent"),
        charge=fields.identifier("charge"),
        reason=fields.string("reason", max_length=MAX_ID_LENGTH),
        metadata=metadata,
        failure_reason=fields.string("failure_reason", max_length=MAX_ID_LENGTH),
    )


def refund_current(account: StripeAccount, refund_id: str) -> RefundState:
    """How refund `refund_id` of `account` stands now, asked of Stripe (`GET /v1/refunds/{id}`,
    the account's own only). Raises PaymentError: 404 when the account has no such refund,
    503 when Stripe could not be reached."""
    refund = client.refund_retrieve(account, refund_id)
    return refund_state(account, refund, livemode=account.livemode)
