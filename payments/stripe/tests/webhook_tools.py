"""Building and posting signed Stripe events in tests."""

import json
import secrets
import time

import stripe

from payments.stripe.accounts import account_for
from payments.stripe.sandbox.cards import Card
from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
from payments.stripe.sandbox.tests.sandbox_tools import session_object

CARD = Card(number="4242424242424242", exp_month=12, exp_year=2040, cvc="123")


def event_for(session: dict, type: str = "checkout.session.completed", event_id: str | None = None):
    return {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "data": {"object": session},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
    }


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)


def post_event(
    client,
    event: dict,
    currency: str = "usd",
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    header: str | None = None,
    body: str | None = None,
):
    payload = body if body is not None else json.dumps(event)
    if header is None:
        header = sign(payload, secret or account_for(currency).webhook_secret, timestamp)
    return client.post(
        f"/payments/webhooks/stripe/{currency}/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


def paid_session(client, item) -> dict:
    """Buy `item` through /buy and pay it in the sandbox; return the paid session's data."""
    session_id = client.get(f"/buy/{item.pk}").json()["id"]
    checkout_session_pay(session_id=session_id, card=CARD, email="buyer@example.com")
    return session_object(session_id).data
