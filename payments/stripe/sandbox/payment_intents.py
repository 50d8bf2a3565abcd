"""PaymentIntents in the sandbox, the API part (secret key): create, retrieve, the object's shape.

Like Stripe's: `POST /v1/payment_intents` takes `amount` (in the currency's minor units, at
least its minimum charge, at most Stripe's maximum), `currency` (lower case, one Stripe
supports), `automatic_payment_methods` (on unless told otherwise), `metadata`, `description`,
`receipt_email`; `payment_method_types` is refused, as the pinned API version does. The
PaymentIntent (`pi_...`, with its `client_secret`) starts in `requires_payment_method`.
`GET /v1/payment_intents/{id}` reads it (the account's own only).

What the buyer's browser does with it (Stripe.js's `confirmPayment`, 3-D Secure) is
`payment_confirmation`'s; the PaymentIntent a paid Checkout Session gets is made by
`hosted_checkout`, both with `payment_intent_object`, which has every field of Stripe's example.
"""

import time
from typing import Any

from currencies.minor_units import (
    STRIPE_CURRENCIES,
    CurrencyError,
    check_minor_amount,
    minimum_charge,
)
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import (
    MAXIMUM_AMOUNT,
    Response,
    get_object,
    new_id,
    parse_params,
)
from payments.stripe.sandbox.params import Bool, Email, Int, Metadata, Obj, ParamError, Str


def _check_intent(params: dict[str, Any], path: str) -> None:
    currency = params["currency"]
    if currency != currency.lower() or currency.upper() not in STRIPE_CURRENCIES:
        raise ParamError(f"Invalid currency: {currency}.", param="currency")
    try:
        check_minor_amount(params["amount"], currency)
    except CurrencyError as exc:
        raise ParamError(str(exc), param="amount", code="amount_invalid") from exc
    minimum = minimum_charge(currency)
    if minimum is not None and params["amount"] < minimum:
        raise ParamError(
            f"Amount must be at least {minimum} {currency} (in minor units).",
            param="amount",
            code="amount_too_small",
        )
    if params["amount"] > MAXIMUM_AMOUNT:
        raise ParamError(
            f"Amount must be no more than {MAXIMUM_AMOUNT} (in minor units).",
            param="amount",
            code="amount_too_large",
        )


PAYMENT_INTENT_CREATE = Obj(
    {
        "amount": Int(minimum=1),
        "currency": Str(max_length=3),
        "automatic_payment_methods": Obj(
            {"enabled": Bool(), "allow_redirects": Str(choices=("always", "never"))},
            required=("enabled",),
        ),
        "metadata": Metadata(),
        "description": Str(max_length=1000),
        "receipt_email": Email(max_length=800),
    },
    required=("amount", "currency"),
    check=_check_intent,
)


def create_payment_intent(account: str, params: dict[str, Any]) -> Response:
    params = parse_params(PAYMENT_INTENT_CREATE, params)
    intent_id = new_id("pi_")
    now = int(time.time())
    automatic = params.get("automatic_payment_methods", {"enabled": True})
    intent = payment_intent_object(
        intent_id=intent_id,
        amount=params["amount"],
        currency=params["currency"],
        created=now,
        automatic_payment_methods=automatic,
        description=params.get("description"),
        metadata=params.get("metadata", {}),
        receipt_email=params.get("receipt_email"),
    )
    SandboxObject.objects.create(
        id=intent_id, account=account, object="payment_intent", data=intent, private={}
    )
    return Response(200, intent)


def retrieve_payment_intent(account: str, params: dict[str, Any], intent_id: str) -> Response:
    return Response(200, get_object(account, "payment_intent", intent_id).data)


def payment_intent_object(
    *, intent_id: str, amount: int, currency: str, created: int, **fields: Any
) -> dict[str, Any]:
    """A PaymentIntent shaped like Stripe's example object; `fields` override the defaults."""
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{intent_id}_secret_{new_id('', 25)}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": None,
        "customer_account": None,
        "description": None,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": {"enabled": False},
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }
    unknown = set(fields) - set(intent)
    if unknown:
        raise ValueError(f"not PaymentIntent fields: {sorted(unknown)}")
    intent.update(fields)
    return intent
