"""Stripe's webhook events, read into the core's notifications.

Which event types mean what:
- `checkout.session.completed` / `.async_payment_succeeded`: the session as it stands (paid,
  or completed with a delayed payment method still processing);
- `checkout.session.async_payment_failed`: failed; `checkout.session.expired`: expired;
- `payment_intent.succeeded` / `.payment_failed`, for our own PaymentIntents only (Checkout's
  PaymentIntents are left to the checkout.session.* events, so one payment never counts twice);
  a failed attempt is a decline: the PaymentIntent stays open for another card.
- `charge.dispute.created` / `.updated` / `.closed`: a dispute (an inquiry, a chargeback, its
  appeal) of one of our payments as it stood when the event was made (`disputes.dispute_state`,
  with the event's `created`); `.funds_withdrawn` and `.funds_reinstated` carry the dispute too
  and are read the same way (the core refuses a word older than the one it has, so a snapshot
  arriving late, or replayed by reconcile, changes nothing).
- `refund.created` / `.updated` / `.failed`: a refund of one of our payments as it now stands
  (`refunds.refund_state`), ours (found by the key in its metadata) or one made in Stripe's
  dashboard. Since API version 2024-10-28.acacia Stripe sends these for every refund, and
  since 2022-11-15 the Charge in `charge.refunded` no longer embeds its refunds: so
  `charge.refunded` is acknowledged only (each refund it counts has its own `refund.*` event;
  the account's webhook endpoint must use a version from 2024-10-28 on).
Every other type is recorded and acknowledged, and changes nothing.

The envelope (`id`, `type`, `livemode`, `created`) and the refund and dispute objects are read
strictly (`event_fields.EventFields`): a signed event whose fields are not as Stripe sends
them (a wrong type, a huge number, a missing key) raises NotificationRejected, a bounded rejection
answered 400, never a 500.
"""

import re
from collections.abc import Mapping
from typing import Any

from payments.errors import NotificationRejected
from payments.stripe import NAME
from payments.stripe.accounts import StripeAccount
from payments.stripe.checkout import session_state
from payments.stripe.client import CheckoutSession, PaymentIntent
from payments.stripe.disputes import dispute_state
from payments.stripe.event_fields import MAX_ID_LENGTH, MAX_TIMESTAMP, EventFields
from payments.stripe.intents import intent_state, is_ours
from payments.stripe.refunds import refund_from_event, refund_state
from payments.values import Notification, ProviderState

SESSION_PAID = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
SESSION_FAILED = "checkout.session.async_payment_failed"
SESSION_EXPIRED = "checkout.session.expired"
INTENT_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed")
REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed")
DISPUTE_EVENTS = (
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
)


def _session_read(fields: EventFields) -> dict[str, Any]:
    """The fields of a Checkout Session the shop reads, each checked for its type and bounds
    (the same strict reader as refunds and disputes): a signed session that is not shaped as
    Stripe sends one is refused with a 400, never a 500."""
    customer = fields.child("customer_details")
    return {
        "id": fields.identifier("id", required=True),
        "url": fields.string("url", max_length=2000),
        "status": fields.string("status", max_length=30),
        "payment_status": fields.string("payment_status", max_length=30),
        "amount_total": fields.integer("amount_total"),
        "currency": fields.currency("currency", required=False),
        "client_reference_id": fields.string("client_reference_id", max_length=200),
        "payment_intent": fields.identifier("payment_intent"),
        "metadata": fields.metadata(),
        "expires_at": fields.integer("expires_at", maximum=MAX_TIMESTAMP),
        "customer_details": {"email": customer.string("email", max_length=512)}
        if customer
        else None,
    }


def _intent_read(fields: EventFields) -> dict[str, Any]:
    """The fields of a PaymentIntent the shop reads, checked likewise."""
    error = fields.child("last_payment_error")
    charge = fields.data.get("latest_charge")
    latest = None
    if isinstance(charge, Mapping):
        billing = fields.child("latest_charge").child("billing_details")
        latest = (
            {"billing_details": {"email": billing.string("email", max_length=512)}}
            if (billing)
            else {}
        )
    else:
        fields.identifier("latest_charge")
    return {
        "id": fields.identifier("id", required=True),
        "status": fields.string("status", max_length=40),
        "amount": fields.integer("amount"),
        "currency": fields.currency("currency", required=False),
        "client_secret": fields.string("client_secret", max_length=500),
        "metadata": fields.metadata(),
        "last_payment_error": {"message": error.string("message")} if error else None,
        "receipt_email": fields.string("receipt_email", max_length=512),
        "latest_charge": latest,
    }


def _state(
    account: StripeAccount, event_type: str, data: Mapping[str, Any]
) -> ProviderState | None:
    livemode = bool(data.get("livemode", False))
    fields = EventFields(data, account=account.identity)
    if event_type in (*SESSION_PAID, SESSION_FAILED, SESSION_EXPIRED):
        session = CheckoutSession.from_stripe(_session_read(fields))
        return session_state(
            account, session, livemode=livemode, failed=event_type == SESSION_FAILED
        )
    if event_type in INTENT_EVENTS:
        intent = PaymentIntent.from_stripe(_intent_read(fields))
        return intent_state(account, intent, livemode=livemode) if is_ours(intent) else None
    return None


# How Stripe writes every event: the envelope's first key is its id. A body whose signature
# held and which begins so names its event before any parser reads it; the id is letters,
# digits and underscores only, so it has no escape to read otherwise.
_LEADING_ID = re.compile(
    rb'\A\s*\{\s*"id"\s*:\s*"(evt_[A-Za-z0-9_]{1,%d})"\s*[,}]' % (MAX_ID_LENGTH - 4)
)


def event_id_leading(payload: bytes) -> str | None:
    """The event id a verified body begins with, read without parsing the rest; None when it
    does not begin as Stripe writes an event (then `event_id` reads the parsed event)."""
    found = _LEADING_ID.match(payload)
    return found[1].decode("ascii") if found else None


def event_id(account: StripeAccount, event: Mapping[str, Any]) -> str:
    """The id of a verified event (a dict) received on `account`'s endpoint, read as strictly
    as `event_read` reads it, and nothing else of it. Raises NotificationRejected."""
    envelope = EventFields(event, account=account.identity, path="event")
    return envelope.string("id", required=True, max_length=MAX_ID_LENGTH)


def event_read(account: StripeAccount, event: Mapping[str, Any]) -> Notification:
    """Read a verified event (a dict) received on `account`'s endpoint.

    The state carries the event's own `livemode`, so a test-mode event never moves a live
    payment (nor the reverse). Raises NotificationRejected for a signed body that is not an event
    of the shape Stripe sends.
    """
    envelope = EventFields(event, account=account.identity, path="event")
    event_id = envelope.string("id", required=True, max_length=MAX_ID_LENGTH)
    event_type = envelope.string("type", required=True, max_length=100)
    livemode = bool(envelope.boolean("livemode"))
    data = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
    state = None
    if event_type in (*SESSION_PAID, SESSION_FAILED, SESSION_EXPIRED, *INTENT_EVENTS):
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise NotificationRejected(
                "The event has no data.object with an id.", account=account.identity
            )
        state = _state(account, event_type, {**data, "livemode": livemode})
    dispute = None
    refund = None
    if event_type in (*DISPUTE_EVENTS, *REFUND_EVENTS):
        fields = EventFields(
            envelope.child("data", required=True).data.get("object"), account=account.identity
        )
        observed_at = envelope.timestamp("created", required=True)
        if event_type in DISPUTE_EVENTS:
            dispute = dispute_state(account, fields, livemode=livemode, observed_at=observed_at)
        else:
            refund = refund_state(account, refund_from_event(fields), livemode=livemode)
    return Notification(
        rail=NAME,
        account=account.identity,
        event_id=event_id,
        type=event_type,
        state=state,
        dispute=dispute,
        refund=refund,
    )
