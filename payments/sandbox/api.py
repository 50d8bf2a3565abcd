"""The sandbox's API: answers Stripe API requests as Stripe would, from the database.

`handle_request` is called by the sandbox HTTP client with what the `stripe` library would
have sent over the wire (method, URL, headers, form-encoded body) and returns what Stripe would
have answered (status, JSON body, headers). Objects are shaped like Stripe's own published
examples (`shared/stripe/fixtures3.json`): same fields, same id prefixes, same nesting.

What it models, like Stripe:
- accounts: every secret key is its own account (`acct_...` derived from the key); an object
  created with one key is invisible to another (`resource_missing`), test keys only;
- idempotency: a POST replayed with the same `Idempotency-Key` and the same parameters gets the
  first answer again (`Idempotent-Replayed: true`), with other parameters an `idempotency_error`;
  a request refused by validation is not saved against its key;
- validation: unknown and missing parameters, empty strings, non-integers, unsupported
  currencies, amounts that break the currency's minor-unit rules, totals under Stripe's minimum
  charge or over its maximum, line items in several currencies;
- Checkout Sessions: create, retrieve (with `expand[]=line_items`), list line items, expire.
"""

import hashlib
import json
import re
import secrets
import string
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from currencies.minor_units import (
    STRIPE_CURRENCIES,
    CurrencyError,
    check_minor_amount,
    from_minor_units,
    minimum_charge,
)
from payments.sandbox.models import SandboxObject, SandboxRequest
from payments.sandbox.params import (
    Int,
    ListOf,
    Metadata,
    Obj,
    ParamError,
    Str,
    Url,
    decode_form,
)

API_VERSION = "2026-10-28.endive"
CHECKOUT_LIFETIME_SECONDS = 24 * 60 * 60
# Stripe refuses charges above eight digits of minor units (999,999.99 USD).
MAXIMUM_AMOUNT = 99_999_999
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """Return a Stripe-looking id: `cs_test_a1YS...`, `pi_3Pga...`."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def account_id_for_key(api_key: str) -> str:
    """The sandbox account a secret key belongs to: stable, and reveals nothing of the key."""
    return "acct_" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


class ApiError(Exception):
    """An answer other than 2xx, carrying Stripe's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type, "message": message}
        if code:
            self.body["code"] = code
            self.body["doc_url"] = f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"
        if param:
            self.body["param"] = param

    @classmethod
    def from_param_error(cls, exc: ParamError) -> "ApiError":
        return cls(400, exc.message, code=exc.code, param=exc.param)


@dataclass
class Response:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


# --- Checkout Sessions --------------------------------------------------------------------


def _check_price_data(price: dict[str, Any], path: str) -> None:
    if "product" not in price and "product_data" not in price:
        raise ParamError(
            f"Missing required param: {path}[product_data].",
            param=f"{path}[product_data]",
            code="parameter_missing",
        )
    if "unit_amount" not in price:
        raise ParamError(
            f"Missing required param: {path}[unit_amount].",
            param=f"{path}[unit_amount]",
            code="parameter_missing",
        )
    currency = price["currency"]
    if currency.upper() not in STRIPE_CURRENCIES or currency != currency.lower():
        raise ParamError(
            f"Invalid currency: {currency}. Stripe currently supports these currencies: "
            + ", ".join(sorted(code.lower() for code in STRIPE_CURRENCIES)),
            param=f"{path}[currency]",
        )
    try:
        check_minor_amount(price["unit_amount"], currency)
    except CurrencyError as exc:
        raise ParamError(str(exc), param=f"{path}[unit_amount]", code="amount_invalid") from exc


def _check_line_item(line: dict[str, Any], path: str) -> None:
    if "price" in line:
        # The sandbox keeps no Price objects, so any id is unknown to it, as to a fresh account.
        raise ParamError(
            f"No such price: '{line['price']}'", param=f"{path}[price]", code="resource_missing"
        )
    if "price_data" not in line:
        raise ParamError(
            f"Missing required param: {path}[price_data].",
            param=f"{path}[price_data]",
            code="parameter_missing",
        )
    if "quantity" not in line:
        raise ParamError(
            f"Missing required param: {path}[quantity].",
            param=f"{path}[quantity]",
            code="parameter_missing",
        )


PRICE_DATA = Obj(
    {
        "currency": Str(max_length=3),
        "unit_amount": Int(minimum=0),
        "product": Str(),
        "product_data": Obj(
            {
                "name": Str(max_length=250),
                "description": Str(max_length=40000),
                "images": ListOf(Url(max_length=2048), max_items=8),
                "metadata": Metadata(),
            },
            required=("name",),
        ),
        "tax_behavior": Str(choices=("exclusive", "inclusive", "unspecified")),
    },
    required=("currency",),
    check=_check_price_data,
)

LINE_ITEM = Obj(
    {
        "price": Str(),
        "price_data": PRICE_DATA,
        "quantity": Int(minimum=0, maximum=999_999),
        "tax_rates": ListOf(Str(), max_items=5),
    },
    check=_check_line_item,
)


def _check_session(params: dict[str, Any], path: str) -> None:
    if params["mode"] != "payment":
        raise ParamError(
            "The sandbox models Checkout in mode=payment only.", param="mode", code=None
        )
    if "line_items" not in params:
        raise ParamError(
            "Missing required param: line_items.", param="line_items", code="parameter_missing"
        )
    if not params["line_items"]:
        raise ParamError("line_items must contain at least one item.", param="line_items")
    first = params["line_items"][0]["price_data"]["currency"]
    for index, line in enumerate(params["line_items"]):
        if line["price_data"]["currency"] != first:
            raise ParamError(
                "All line items in a Checkout Session must use the same currency "
                f"(line_items[0] is {first}, line_items[{index}] is "
                f"{line['price_data']['currency']}).",
                param=f"line_items[{index}][price_data][currency]",
            )


CHECKOUT_SESSION_CREATE = Obj(
    {
        "mode": Str(choices=("payment", "setup", "subscription")),
        "line_items": ListOf(LINE_ITEM, max_items=100),
        "success_url": Url(max_length=5000),
        "cancel_url": Url(max_length=5000),
        "client_reference_id": Str(max_length=200),
        "customer_email": Str(max_length=512),
        "metadata": Metadata(),
        "expires_at": Int(),
        "locale": Str(max_length=10),
        "payment_intent_data": Obj(
            {"description": Str(max_length=1000), "metadata": Metadata()},
        ),
        "expand": ListOf(Str()),
    },
    required=("mode",),
    check=_check_session,
)

RETRIEVE = Obj({"expand": ListOf(Str())})


def _money_words(amount: int, currency: str) -> str:
    return f"{from_minor_units(amount, currency)} {currency}"


def _line_item(line: dict[str, Any], created: int) -> dict[str, Any]:
    price = line["price_data"]
    amount = price["unit_amount"] * line["quantity"]
    return {
        "id": new_id("li_"),
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price["currency"],
        "description": price.get("product_data", {}).get("name"),
        "metadata": {},
        "price": {
            "id": new_id("price_"),
            "object": "price",
            "active": False,  # prices made inline from price_data are not reusable
            "billing_scheme": "per_unit",
            "created": created,
            "currency": price["currency"],
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": price.get("product") or new_id("prod_", 14),
            "recurring": None,
            "tax_behavior": price.get("tax_behavior", "unspecified"),
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "one_time",
            "unit_amount": price["unit_amount"],
            "unit_amount_decimal": str(price["unit_amount"]),
        },
        "quantity": line["quantity"],
    }


def _checkout_page_url(params: dict[str, Any], session_id: str) -> str:
    """The hosted page lives on the shop's own site: take the origin of the return URLs."""
    for name in ("success_url", "cancel_url"):
        if name in params:
            parts = urlsplit(params[name])
            return f"{parts.scheme}://{parts.netloc}/sandbox/checkout/{session_id}/"
    return f"/sandbox/checkout/{session_id}/"


def create_checkout_session(account: str, params: dict[str, Any]) -> Response:
    params = _parse(CHECKOUT_SESSION_CREATE, params)
    now = int(time.time())
    currency = params["line_items"][0]["price_data"]["currency"]
    line_items = [_line_item(line, now) for line in params["line_items"]]
    subtotal = sum(line["amount_subtotal"] for line in line_items)
    total = subtotal
    if total > MAXIMUM_AMOUNT:
        raise ApiError(
            400,
            "The Checkout Session's total amount due must be no more than "
            f"{_money_words(MAXIMUM_AMOUNT, currency.upper())}.",
            code="amount_too_large",
        )
    minimum = minimum_charge(currency)
    if minimum is not None and total < minimum:
        raise ApiError(
            400,
            "The Checkout Session's total amount due must add up to at least "
            f"{_money_words(minimum, currency.upper())}.",
            code="amount_too_small",
        )
    session_id = new_id("cs_test_", 58)
    session = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": subtotal,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": now,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_account": None,
        "customer_creation": "if_required",
        "customer_details": None,
        "customer_email": params.get("customer_email"),
        "discounts": [],
        "expires_at": params.get("expires_at", now + CHECKOUT_LIFETIME_SECONDS),
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": params.get("locale"),
        "managed_payments": {"enabled": False},
        "metadata": params.get("metadata", {}),
        "mode": "payment",
        "origin_context": None,
        # Since API version 2022-08-01 the PaymentIntent is made when the buyer pays.
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": params.get("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": _checkout_page_url(params, session_id),
        "wallet_options": None,
    }
    SandboxObject.objects.create(
        id=session_id,
        account=account,
        object="checkout.session",
        data=session,
        private={
            "line_items": line_items,
            "descriptions": [
                line["price_data"].get("product_data", {}).get("description", "")
                for line in params["line_items"]
            ],
            "payment_intent_data": params.get("payment_intent_data", {}),
        },
    )
    return Response(200, _expand(session, line_items, params.get("expand", [])))


def _expand(session: dict, line_items: list[dict], expand: list[str]) -> dict:
    if "line_items" not in expand:
        return session
    return {**session, "line_items": _line_item_list(session["id"], line_items)}


def _line_item_list(session_id: str, line_items: list[dict]) -> dict:
    return {
        "object": "list",
        "data": line_items,
        "has_more": False,
        "url": f"/v1/checkout/sessions/{session_id}/line_items",
    }


def get_object(account: str, object_type: str, object_id: str) -> SandboxObject:
    """Fetch an object of this account, or answer as Stripe does for anything else."""
    try:
        return SandboxObject.objects.get(id=object_id, account=account, object=object_type)
    except SandboxObject.DoesNotExist:
        raise ApiError(
            404, f"No such {object_type}: '{object_id}'", code="resource_missing", param="id"
        ) from None


def retrieve_checkout_session(account: str, params: dict[str, Any], session_id: str) -> Response:
    params = _parse(RETRIEVE, params)
    obj = get_object(account, "checkout.session", session_id)
    expire_if_due(obj)
    return Response(200, _expand(obj.data, obj.private["line_items"], params.get("expand", [])))


def list_checkout_line_items(account: str, params: dict[str, Any], session_id: str) -> Response:
    obj = get_object(account, "checkout.session", session_id)
    return Response(200, _line_item_list(session_id, obj.private["line_items"]))


def expire_checkout_session(account: str, params: dict[str, Any], session_id: str) -> Response:
    obj = get_object(account, "checkout.session", session_id)
    if obj.data["status"] != "open":
        raise ApiError(
            400,
            f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{obj.data["status"]}".',
        )
    obj.data.update(status="expired", url=None)
    obj.save(update_fields=["data"])
    return Response(200, obj.data)


def expire_if_due(obj: SandboxObject) -> None:
    """An open session past `expires_at` turns expired when next looked at, as at Stripe."""
    if obj.data["status"] == "open" and obj.data["expires_at"] <= time.time():
        obj.data.update(status="expired", url=None)
        obj.save(update_fields=["data"])


# --- Dispatch -----------------------------------------------------------------------------

Handler = Callable[..., Response]
ROUTES: list[tuple[str, str, Handler]] = [
    ("post", r"/v1/checkout/sessions", create_checkout_session),
    ("get", r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)", retrieve_checkout_session),
    ("get", r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)/line_items", list_checkout_line_items),
    ("post", r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)/expire", expire_checkout_session),
]


def _parse(spec: Obj, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return spec.parse(params, "")
    except ParamError as exc:
        raise ApiError.from_param_error(exc) from exc


def _route(method: str, path: str) -> tuple[Handler, tuple[str, ...]]:
    for route_method, pattern, handler in ROUTES:
        match = re.fullmatch(pattern, path)
        if route_method == method and match:
            return handler, match.groups()
    raise ApiError(
        404,
        f"Unrecognized request URL ({method.upper()}: {path}). The sandbox answers only the "
        "Stripe API calls this shop makes.",
    )


def _authenticate(headers: Mapping[str, str]) -> tuple[str, str]:
    auth = next((value for name, value in headers.items() if name.lower() == "authorization"), "")
    key = auth.removeprefix("Bearer ").strip()
    if not key:
        raise ApiError(401, "You did not provide an API key.")
    if key.startswith(("pk_test_", "pk_live_")):
        raise ApiError(401, "This API call cannot be made with a publishable API key.")
    if not key.startswith(("sk_test_", "rk_test_")):
        # Live keys never reach the sandbox; a live key here means a configuration mistake.
        raise ApiError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")
    return account_id_for_key(key), key[-4:]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def _error_response(exc: ApiError, request_id: str) -> Response:
    body = dict(exc.body)
    body["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
    return Response(exc.status, {"error": body})


def handle_request(method: str, url: str, headers: Mapping[str, str], body: str | None) -> Response:
    """Answer one API request; record it; honour `Idempotency-Key` like Stripe."""
    request_id = new_id("req_", 14)
    parts = urlsplit(url)
    method = method.lower()
    account, last4, params = "", "", {}
    idempotency_key = _header(headers, "Idempotency-Key") if method == "post" else None
    try:
        account, last4 = _authenticate(headers)
        try:
            params = decode_form(body if method == "post" else parts.query)
        except ParamError as exc:
            raise ApiError.from_param_error(exc) from exc
        handler, args = _route(method, parts.path)
        if idempotency_key:
            replay = _replay(account, idempotency_key, method, parts.path, params, request_id)
            if replay is not None:
                return replay
        with transaction.atomic():
            response = handler(account, params, *args)
            _record(
                account, last4, method, parts.path, params, idempotency_key, response, request_id
            )
    except ApiError as exc:
        response = _error_response(exc, request_id)
        _record(account, last4, method, parts.path, params, idempotency_key, response, request_id)
    except IntegrityError:
        # Another request with the same idempotency key won the race and is being answered.
        response = _error_response(
            ApiError(
                409,
                "There is currently another in-progress request using this Idempotent Key "
                "(that probably means you submitted twice, and the other request is still "
                "going through). Please try again later.",
                type="idempotency_error",
            ),
            request_id,
        )
    response.headers.update(_standard_headers(request_id, idempotency_key))
    return response


def outage_response(
    kind: str, method: str, url: str, headers: Mapping[str, str]
) -> Response | None:
    """Record an attempt made during a simulated outage and answer it as the outage would.

    "unreachable": no answer at all (None; the client raises a connection error);
    "server_error": Stripe's 500 `api_error`. Either way nothing is created.
    """
    request_id = new_id("req_", 14)
    try:
        account, last4 = _authenticate(headers)
    except ApiError:
        account, last4 = "", ""
    path = urlsplit(url).path
    if kind == "unreachable":
        response = None
        recorded = Response(0, {})
    else:
        response = recorded = _error_response(
            ApiError(500, "An unknown error occurred", type="api_error"), request_id
        )
        response.headers.update(_standard_headers(request_id, None))
    _record(account, last4, method, path, {}, None, recorded, request_id)
    return response


def _standard_headers(request_id: str, idempotency_key: str | None) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Request-Id": request_id,
        "Stripe-Version": API_VERSION,
    }
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return headers


def _record(account, last4, method, path, params, idempotency_key, response, request_id) -> None:
    SandboxRequest.objects.create(
        account=account,
        key_last4=last4,
        method=method.upper(),
        path=path,
        params=params,
        idempotency_key=idempotency_key,
        status_code=response.status,
        response=response.body,
        request_id=request_id,
    )


def _replay(account, key, method, path, params, request_id) -> Response | None:
    original = SandboxRequest.objects.filter(
        account=account, idempotency_key=key, replayed=False, status_code__lt=400
    ).first()
    if original is None:
        return None
    if original.path != path or original.params != params:
        response = _error_response(
            ApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            ),
            request_id,
        )
        replayed = False
    else:
        response = Response(original.status_code, original.response)
        response.headers["Idempotent-Replayed"] = "true"
        replayed = True
    SandboxRequest.objects.create(
        account=account,
        key_last4=original.key_last4,
        method=method.upper(),
        path=path,
        params=params,
        idempotency_key=key,
        replayed=replayed,
        status_code=response.status,
        response=response.body,
        request_id=request_id,
    )
    return response


def render_body(response: Response) -> str:
    return json.dumps(response.body)
