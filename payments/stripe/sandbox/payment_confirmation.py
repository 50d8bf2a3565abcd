"""What Stripe.js does with a PaymentIntent in the buyer's browser: confirm it, authenticate it.

Like Stripe.js's `confirmPayment`: the stub Stripe.js posts the card typed into the sandbox's
Payment Element to `/sandbox/payment_intents/<id>/confirm/` (`views.payment_intent_confirm`)
with the client secret and the publishable key, which must both match the PaymentIntent (the
publishable key names the same account as its secret key, `objects.account_id_for_key`).
`confirm_in_browser` answers as `confirmPayment` resolves: where to send the browser, or an
error to show on the page (`ConfirmError` for a request Stripe.js would refuse).

- A paying card (`cards.CARD_SUCCEEDS`) moves the PaymentIntent to `succeeded` (with a charge
  and a payment method), and the browser goes to the `return_url` with `payment_intent`,
  `payment_intent_client_secret` and `redirect_status` appended.
- A declining one (`cards.DECLINES`, or any other number: a "live" card) records
  `last_payment_error` and leaves it in `requires_payment_method`, open for another card.
- 4000 0025 0000 3155 and 4000 0027 6000 3184 (`cards.CARDS_ASKING_AUTHENTICATION`) ask for a
  confirmation step first
  (`requires_action`, `next_action.redirect_to_url`), as 3-D Secure does: a page
  (`/sandbox/payment_intents/<id>/authenticate/`, `views.payment_intent_authenticate`) to
  complete it or fail it (`authentication_finish`).

Confirming and authenticating run under the PaymentIntent's row lock. A success or a failure
records the signed `payment_intent.succeeded` or `payment_intent.payment_failed` event
(`events`) for the account's webhook endpoint, found from the `return_url`'s origin, with the
account's webhook secret (`whsec_sandbox_usd` for `pk_test_sandbox_usd`); asking for
authentication records none.
"""

from typing import Any
from urllib.parse import urlencode, urlsplit

from django.db import transaction

from payments.stripe.sandbox import events
from payments.stripe.sandbox.cards import (
    AUTHENTICATION_FAILED_MESSAGE,
    CARD_DISPUTED,
    CARDS_ASKING_AUTHENTICATION,
    DECLINES,
    LIVE_CARD_MESSAGE,
    PAYING_CARDS,
    Card,
    CardError,
)
from payments.stripe.sandbox.charges import charge_create
from payments.stripe.sandbox.dispute_bank import dispute_open
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import ApiError, account_id_for_key, new_id


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


def _endpoint(obj: SandboxObject) -> events.Endpoint | None:
    parts = urlsplit(obj.private.get("return_url", ""))
    return events.endpoint_for(f"{parts.scheme}://{parts.netloc}", obj.data["currency"])


def _emit(obj: SandboxObject, event_type: str) -> None:
    events.event_create(
        account=obj.account,
        type=event_type,
        obj=obj.data,
        secret=obj.private["webhook_secret"],
        endpoint=_endpoint(obj),
    )


def _succeed(obj: SandboxObject) -> None:
    data = obj.data
    data.update(
        status="succeeded",
        amount_received=data["amount"],
        payment_method=data.get("payment_method") or new_id("pm_"),
        next_action=None,
        last_payment_error=None,
    )
    card = obj.private.get("card") or {}
    charge_create(
        account=obj.account,
        intent=data,
        card=Card(
            number=card.get("number", ""),
            exp_month=card.get("exp_month", 12),
            exp_year=card.get("exp_year", 2034),
            cvc="",
        ),
        email=data.get("receipt_email"),
        secret=obj.private["webhook_secret"],
        endpoint=_endpoint(obj),
    )
    obj.save(update_fields=["data", "private"])
    _emit(obj, "payment_intent.succeeded")
    if card.get("number") == CARD_DISPUTED:
        # The buyer's bank disputes it at once: its events follow the payment's.
        dispute_open(obj.id)


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
            # Stripe.js checks the fields itself and resolves to this error without asking
            # Stripe: an answer for the page to show, not a failed request.
            return {
                "error": {"type": "validation_error", "code": "incomplete", "message": exc.message}
            }
        obj.data["payment_method"] = new_id("pm_")
        # What the Charge will show of the card (never the CVC), and how its refunds behave.
        obj.private["card"] = {
            "number": parsed.number,
            "exp_month": parsed.exp_month,
            "exp_year": parsed.exp_year,
        }
        if parsed.number in CARDS_ASKING_AUTHENTICATION:
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
        if parsed.number not in PAYING_CARDS:
            _fail(obj, "card_declined", "test_mode_live_card", LIVE_CARD_MESSAGE)
            return {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "message": LIVE_CARD_MESSAGE,
                }
            }
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
        _fail(obj, "payment_intent_authentication_failure", None, AUTHENTICATION_FAILED_MESSAGE)
        return _return_url(obj.private["return_url"], obj.data, "failed")


def intent_for_page(intent_id: str) -> SandboxObject:
    try:
        return SandboxObject.objects.get(id=intent_id, object="payment_intent")
    except SandboxObject.DoesNotExist:
        raise ApiError(404, "No such payment_intent") from None
