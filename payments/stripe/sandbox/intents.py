"""PaymentIntents in the sandbox: the API calls (secret key) and what Stripe.js does (browser).

API, like Stripe's: `POST /v1/payment_intents` (amount, currency, automatic payment methods,
metadata, description; `payment_method_types` is refused, as the pinned API version does) and
`GET /v1/payment_intents/{id}`.

Browser, like Stripe.js's `confirmPayment`: the stub Stripe.js posts the card typed into the
sandbox's Payment Element to `/sandbox/payment_intents/<id>/confirm/` with the client secret and
the publishable key. A paying card moves the PaymentIntent to `succeeded`; a declining one
records `last_payment_error` and leaves it open for another card; 4000 0027 6000 3184 asks for
a confirmation step first (`requires_action`, a page to complete or fail it), as 3-D Secure
does. Each outcome sends the signed `payment_intent.*` event to the account's webhook endpoint,
found from the `return_url`'s origin.
"""

import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.db import transaction

from currencies.minor_units import (
    STRIPE_CURRENCIES,
    CurrencyError,
    check_minor_amount,
    minimum_charge,
)
from payments.stripe.sandbox import api, events
from payments.stripe.sandbox.api import (
    MAXIMUM_AMOUNT,
    ApiError,
    Response,
    _parse,
    account_id_for_key,
    get_object,
    new_id,
    payment_intent_object,
)
from payments.stripe.sandbox.checkout import CARD_SUCCEEDS, DECLINES, Card, CardError
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.params import Bool, Int, Metadata, Obj, ParamError, Str

CARD_NEEDS_AUTHENTICATION = "4000002760003184"


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
        "receipt_email": Str(max_length=800),
    },
    required=("amount", "currency"),
    check=_check_intent,
)


def create_payment_intent(account: str, params: dict[str, Any]) -> Response:
    params = _parse(PAYMENT_INTENT_CREATE, params)
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


# --- What Stripe.js does in the buyer's browser ------------------------------------------


class ConfirmError(Exception):
    """Stripe.js would answer `{error: {type, code, message}}` and stay on the page."""

    def __init__(self, message: str, *, type: str = "invalid_request_error", code: str = ""):
        super().__init__(message)
        self.error = {"type": type, "code": code, "message": message}


def _intent_for_browser(intent_id: str, client_secret: str, publishable_key: str) -> SandboxObject:
    """The PaymentIntent, if the client secret and the publishable key's account match it."""
    if not publishable_key.startswith("pk_test_"):
        raise ConfirmError("A test publishable key is required.")
    account = account_id_for_key("sk_test_" + publishable_key.removeprefix("pk_test_"))
    obj = (
        SandboxObject.objects.select_for_update()
        .filter(id=intent_id, object="payment_intent", account=account)
        .first()
    )
    if obj is None or obj.data["client_secret"] != client_secret:
        raise ConfirmError(
            "No such payment_intent; the client secret or publishable key does not match."
        )
    obj.private.setdefault("webhook_secret", "whsec_" + publishable_key.removeprefix("pk_test_"))
    return obj


def _return_url(return_url: str, intent: dict, status: str) -> str:
    joiner = "&" if urlsplit(return_url).query else "?"
    query = urlencode(
        {
            "payment_intent": intent["id"],
            "payment_intent_client_secret": intent["client_secret"],
            "redirect_status": status,
        }
    )
    return f"{return_url}{joiner}{query}"


def _emit(obj: SandboxObject, event_type: str) -> None:
    return_url = obj.private.get("return_url", "")
    parts = urlsplit(return_url)
    events.event_create(
        account=obj.account,
        type=event_type,
        obj=obj.data,
        secret=obj.private["webhook_secret"],
        endpoint=events.endpoint_for(f"{parts.scheme}://{parts.netloc}", obj.data["currency"]),
    )


def _succeed(obj: SandboxObject) -> None:
    data = obj.data
    data.update(
        status="succeeded",
        amount_received=data["amount"],
        latest_charge=new_id("ch_"),
        payment_method=data.get("payment_method") or new_id("pm_"),
        next_action=None,
        last_payment_error=None,
    )
    obj.save(update_fields=["data", "private"])
    _emit(obj, "payment_intent.succeeded")


def _fail(obj: SandboxObject, code: str, decline_code: str | None, message: str) -> None:
    obj.data.update(
        status="requires_payment_method",
        next_action=None,
        last_payment_error={
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": message,
        },
    )
    obj.save(update_fields=["data", "private"])
    _emit(obj, "payment_intent.payment_failed")


def confirm_in_browser(
    *,
    intent_id: str,
    client_secret: str,
    publishable_key: str,
    card: dict[str, str],
    return_url: str,
) -> dict[str, Any]:
    """What `stripe.confirmPayment` resolves to, or where it sends the browser next.

    Returns `{"redirect": url}` (paid, or a confirmation step to take) or `{"error": {...}}`.
    """
    parts = urlsplit(return_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfirmError("confirmParams.return_url must be an absolute URL.")
    with transaction.atomic():
        obj = _intent_for_browser(intent_id, client_secret, publishable_key)
        status = obj.data["status"]
        if status == "succeeded":
            return {"redirect": _return_url(return_url, obj.data, "succeeded")}
        if status not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise ConfirmError(f"This PaymentIntent is {status} and cannot be confirmed.")
        obj.private["return_url"] = return_url
        try:
            parsed = Card.from_form(
                card.get("number", ""), card.get("expiry", ""), card.get("cvc", "")
            )
        except CardError as exc:
            raise ConfirmError(exc.message, type="validation_error", code="incomplete") from exc
        obj.data["payment_method"] = new_id("pm_")
        if parsed.number == CARD_NEEDS_AUTHENTICATION:
            url = f"/sandbox/payment_intents/{obj.id}/authenticate/"
            obj.data.update(
                status="requires_action",
                next_action={
                    "type": "redirect_to_url",
                    "redirect_to_url": {"url": url, "return_url": return_url},
                },
            )
            obj.save(update_fields=["data", "private"])
            return {"redirect": f"{parts.scheme}://{parts.netloc}{url}"}
        if parsed.number in DECLINES:
            code, decline_code, message = DECLINES[parsed.number]
            _fail(obj, code, decline_code, message)
            return {"error": {"type": "card_error", "code": code, "message": message}}
        if parsed.number != CARD_SUCCEEDS:
            message = (
                "Your card was declined. Your request was in test mode, but used a non test "
                "card. Use a test card such as 4242 4242 4242 4242."
            )
            _fail(obj, "card_declined", "test_mode_live_card", message)
            return {"error": {"type": "card_error", "code": "card_declined", "message": message}}
        _succeed(obj)
        return {"redirect": _return_url(return_url, obj.data, "succeeded")}


def authentication_finish(*, intent_id: str, complete: bool) -> str:
    """The buyer completed (or failed) the confirmation step; return where to send them."""
    with transaction.atomic():
        obj = SandboxObject.objects.select_for_update().get(id=intent_id, object="payment_intent")
        if obj.data["status"] != "requires_action":
            return _return_url(obj.private.get("return_url", "/"), obj.data, obj.data["status"])
        if complete:
            _succeed(obj)
            return _return_url(obj.private["return_url"], obj.data, "succeeded")
        _fail(
            obj,
            "payment_intent_authentication_failure",
            None,
            "We are unable to authenticate your payment method. Please choose a different "
            "payment method and try again.",
        )
        return _return_url(obj.private["return_url"], obj.data, "failed")


def intent_for_page(intent_id: str) -> SandboxObject:
    try:
        return SandboxObject.objects.get(id=intent_id, object="payment_intent")
    except SandboxObject.DoesNotExist:
        raise ApiError(404, "No such payment_intent") from None


api.ROUTES.extend(
    [
        ("post", r"/v1/payment_intents", create_payment_intent),
        ("get", r"/v1/payment_intents/(pi_[A-Za-z0-9]+)", retrieve_payment_intent),
    ]
)
