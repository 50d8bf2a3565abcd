"""Charges in the sandbox: the money movement behind a succeeded PaymentIntent.

Like Stripe's: a PaymentIntent that succeeds (a paid Checkout Session's, or one confirmed by the
Payment Element) gets a Charge (`ch_...`), its `latest_charge`, shaped like Stripe's example
object (`charge` in `shared/stripe/fixtures3.json`): `amount`, `amount_captured` (all of it:
automatic capture), `amount_refunded`, `refunded`, `disputed`, `captured`, `paid`, `status`
`succeeded`, `payment_intent`, `payment_method`, the card's `payment_method_details`, the
PaymentIntent's `metadata`. Since API version 2022-11-15 a Charge no longer embeds its
`refunds` list (it is expandable only), so the pinned version's Charge has none, and the
`charge.refunded` event carries none either: each refund has its own `refund.*` events.

`GET /v1/charges/{id}` reads one (the account's own only). Refunds (`refunds`) and disputes
move `amount_refunded`/`refunded` and `disputed` under the Charge's row lock.

What the API does not return is kept in the row's `private` data: the test card number (which
decides how refunds behave, see `cards.REFUND_BEHAVIOURS`), the account's webhook secret and
endpoint, so that whatever happens to the Charge later (a refund made in the dashboard, a
dispute) is sent to the endpoint its payment's events went to (`charge_event`).
"""

import time
from typing import Any

from payments.stripe.sandbox import events
from payments.stripe.sandbox.cards import Card
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import RETRIEVE, Response, get_object, new_id, parse_params


def charge_object(
    *,
    charge_id: str,
    intent: dict[str, Any],
    card: Card,
    email: str | None,
    created: int,
) -> dict[str, Any]:
    """A succeeded, captured Charge for all of `intent`, shaped like Stripe's example."""
    amount = intent["amount"]
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": new_id("txn_"),
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": email,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "SANDBOX SHOP",
        "captured": True,
        "created": created,
        "currency": intent["currency"],
        "customer": intent.get("customer"),
        "description": intent.get("description"),
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent.get("metadata") or {}),
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": intent["id"],
        "payment_method": intent.get("payment_method"),
        "payment_method_details": {
            "card": {
                "amount_authorized": amount,
                "authorization_code": None,
                "brand": "visa",
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": "US",
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "extended_authorization": {"status": "disabled"},
                "fingerprint": new_id("", 16),
                "funding": "credit",
                "incremental_authorization": {"status": "unavailable"},
                "installments": None,
                "last4": card.number[-4:],
                "mandate": None,
                "multicapture": {"status": "unavailable"},
                "network": "visa",
                "network_token": {"used": False},
                "network_transaction_id": new_id("", 15),
                "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
                "regulated_status": "unregulated",
                "three_d_secure": None,
                "transaction_link_id": None,
                "wallet": None,
            },
            "type": "card",
        },
        "receipt_email": intent.get("receipt_email"),
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{new_id('', 40)}",
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def charge_create(
    *,
    account: str,
    intent: dict[str, Any],
    card: Card,
    email: str | None = None,
    secret: str | None,
    endpoint: events.Endpoint | None,
) -> SandboxObject:
    """Make the Charge of `intent` (a PaymentIntent's data, succeeding now) and point the
    intent's `latest_charge` at it. The caller saves the intent."""
    charge_id = new_id("ch_")
    charge = SandboxObject.objects.create(
        id=charge_id,
        account=account,
        object="charge",
        data=charge_object(
            charge_id=charge_id,
            intent=intent,
            card=card,
            email=email,
            created=int(time.time()),
        ),
        private={
            "card": card.number,
            "webhook_secret": secret,
            "endpoint": (
                {"origin": endpoint.origin, "currency": endpoint.currency} if endpoint else None
            ),
        },
    )
    intent["latest_charge"] = charge_id
    return charge


def charge_endpoint(charge: SandboxObject) -> events.Endpoint | None:
    stored = charge.private.get("endpoint")
    return events.Endpoint(**stored) if stored else None


def charge_event(
    charge: SandboxObject,
    type: str,
    obj: dict[str, Any],
    *,
    previous_attributes: dict[str, Any] | None = None,
) -> SandboxObject:
    """Record (and deliver) an event about `obj` (the Charge itself, or a refund or dispute of
    it) to the endpoint of the account that took the Charge's payment."""
    return events.event_create(
        account=charge.account,
        type=type,
        obj=obj,
        secret=charge.private.get("webhook_secret"),
        endpoint=charge_endpoint(charge),
        previous_attributes=previous_attributes,
    )


def retrieve_charge(account: str, params: dict[str, Any], charge_id: str) -> Response:
    """`GET /v1/charges/{id}`: the account's own Charges only."""
    parse_params(RETRIEVE, params)
    return Response(200, get_object(account, "charge", charge_id).data)
