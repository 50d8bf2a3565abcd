"""Checkout Sessions in the sandbox: create, retrieve, list line items, expire; and expiry on look.

Like Stripe's, in `mode=payment` (the only mode the sandbox models):
- `POST /v1/checkout/sessions` checks its parameters as Stripe does (unknown, missing, empty,
  non-integer; line items, see `line_items`, at least one, all in one currency; at most one
  `discounts` entry: a coupon, see `coupons.coupon_for_session`; tax rates per line, see
  `tax_rates.tax_rates_for_lines`), prices the lines (`pricing.checkout_amounts`) and refuses a
  total over Stripe's maximum charge or under the currency's minimum charge, both after the
  discount. The session (`cs_test_...`) is `open`, `unpaid`, with no PaymentIntent yet (since
  API version 2022-08-01 one is made when the buyer pays), expires after 24 hours unless
  `expires_at` says otherwise (30 minutes to 24 hours from now, else refused with Stripe's
  words), and its `url` is the sandbox's hosted page on the origin of the
  session's return URLs (`/sandbox/checkout/<id>/`, see `hosted_checkout`).
- `GET /v1/checkout/sessions/{id}` with `expand[]`: `line_items` (and
  `line_items.data.discounts`/`.taxes` within it), `discounts.coupon`;
  `GET .../line_items` lists them (one page holds all).
- `POST .../expire` expires an open session (anything else is refused), under the row's lock.
- An open session past `expires_at` turns `expired` on time, as at Stripe: the sandbox has no
  clock of its own, so whenever an account makes an API request (and when a hosted page is
  opened) its overdue sessions expire first (`sessions_expire_due`); a session looked at
  expires too (`expire_if_due`). Expiring records a `checkout.session.expired` event
  (`events`), sent once the transaction commits.

What Stripe does not return but the sandbox needs is kept in the row's `private` data: the
line items, their descriptions for the hosted page, `payment_intent_data` for the PaymentIntent
made on payment, the coupon and tax rates as used (exact percentages), and where the session's
events go: the account's webhook secret (`whsec_sandbox_...`, never in `data`) and currency.
"""

import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from currencies.minor_units import from_minor_units, minimum_charge
from payments.stripe.sandbox import events
from payments.stripe.sandbox.coupons import coupon_for_session, coupon_object, discount_object
from payments.stripe.sandbox.line_items import (
    LINE_ITEM,
    LINE_ITEMS_LIST,
    line_item,
    line_item_list,
)
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import (
    MAXIMUM_AMOUNT,
    RETRIEVE,
    ApiError,
    Response,
    get_object,
    new_id,
    parse_params,
    webhook_currency,
    webhook_secret_for_key,
)
from payments.stripe.sandbox.params import (
    Email,
    Int,
    ListOf,
    Metadata,
    Obj,
    ParamError,
    Str,
    Url,
)
from payments.stripe.sandbox.pricing import RateTerms, checkout_amounts
from payments.stripe.sandbox.tax_rates import tax_rates_for_lines

CHECKOUT_LIFETIME_SECONDS = 24 * 60 * 60
# The shortest life `expires_at` may give a session.
CHECKOUT_MINIMUM_LIFETIME_SECONDS = 30 * 60


def _check_expires_at(expires_at: int, now: int) -> None:
    """Stripe's bounds on `expires_at`, measured from the session's creation."""
    if expires_at < now + CHECKOUT_MINIMUM_LIFETIME_SECONDS:
        raise ApiError(
            400,
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
            "creation.",
            param="expires_at",
        )
    if expires_at > now + CHECKOUT_LIFETIME_SECONDS:
        raise ApiError(
            400,
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            param="expires_at",
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


def _check_discount(discount: dict[str, Any], path: str) -> None:
    if "coupon" in discount and "promotion_code" in discount:
        raise ParamError(
            "You may only specify one of these parameters: coupon, promotion_code.",
            param=path,
            code="parameters_exclusive",
        )
    if "coupon" not in discount and "promotion_code" not in discount:
        raise ParamError(
            f"Missing required param: {path}[coupon].",
            param=f"{path}[coupon]",
            code="parameter_missing",
        )


DISCOUNT = Obj({"coupon": Str(), "promotion_code": Str()}, check=_check_discount)

CHECKOUT_SESSION_CREATE = Obj(
    {
        "mode": Str(choices=("payment", "setup", "subscription")),
        "line_items": ListOf(LINE_ITEM, max_items=100),
        # "Currently, only up to one may be specified."
        "discounts": ListOf(DISCOUNT, max_items=1),
        "success_url": Url(max_length=5000),
        "cancel_url": Url(max_length=5000),
        "client_reference_id": Str(max_length=200),
        "customer_email": Email(max_length=512),
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


def _money_words(amount: int, currency: str) -> str:
    return f"{from_minor_units(amount, currency)} {currency}"


def _checkout_page_url(params: dict[str, Any], session_id: str) -> str:
    """The hosted page lives on the shop's own site: take the origin of the return URLs."""
    for name in ("success_url", "cancel_url"):
        if name in params:
            parts = urlsplit(params[name])
            return f"{parts.scheme}://{parts.netloc}/sandbox/checkout/{session_id}/"
    return f"/sandbox/checkout/{session_id}/"


def create_checkout_session(
    account: str, params: dict[str, Any], *, api_key: str | None = None
) -> Response:
    """Create a session; `api_key` (the request's key) tells where its events are to be sent."""
    params = parse_params(CHECKOUT_SESSION_CREATE, params)
    now = int(time.time())
    if "expires_at" in params:
        _check_expires_at(params["expires_at"], now)
    currency = params["line_items"][0]["price_data"]["currency"]
    coupon = coupon_for_session(account, params, currency)
    rates = tax_rates_for_lines(account, params)
    amounts = checkout_amounts(
        [
            (
                line["price_data"]["unit_amount"] * line["quantity"],
                [
                    RateTerms(Decimal(rate.private["percentage"]), rate.data["inclusive"])
                    for rate in line_rates
                ],
            )
            for line, line_rates in zip(params["line_items"], rates, strict=True)
        ],
        percent_off=(
            Decimal(coupon.private["percent_off"])
            if coupon is not None and coupon.private["percent_off"] is not None
            else None
        ),
        amount_off=coupon.data["amount_off"] if coupon is not None else None,
    )
    subtotal = sum(line.subtotal for line in amounts)
    total = sum(line.total for line in amounts)
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
    discount = discount_object(session_id, coupon.data["id"], now) if coupon else None
    line_items = [
        line_item(line, now, line_amounts, discount, [rate.data for rate in line_rates])
        for line, line_amounts, line_rates in zip(params["line_items"], amounts, rates, strict=True)
    ]
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
        "discounts": (
            [{"coupon": coupon.data["id"], "promotion_code": None}] if coupon is not None else []
        ),
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
        "total_details": {
            "amount_discount": sum(line.discount for line in amounts),
            "amount_shipping": 0,
            "amount_tax": sum(line.tax for line in amounts),
        },
        # The pinned API version's name for Stripe's own page ("hosted" is refused there).
        "ui_mode": "hosted_page",
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
            # For the hosted page and for redemption: the coupon and rates as they were used,
            # with their exact (Decimal string) percentages.
            "coupon": (
                {
                    "id": coupon.data["id"],
                    "name": coupon.data["name"],
                    "percent_off": coupon.private["percent_off"],
                    "amount_off": coupon.data["amount_off"],
                }
                if coupon is not None
                else None
            ),
            "tax_rates": {
                rate.id: {
                    "display_name": rate.data["display_name"],
                    "percentage": rate.private["percentage"],
                    "inclusive": rate.data["inclusive"],
                }
                for line_rates in rates
                for rate in line_rates
            },
            # Where its events go (`events.session_endpoint`): the account's webhook secret
            # (the sandbox's fake `whsec_sandbox_...`, never part of `data`) and its currency.
            "webhook_secret": webhook_secret_for_key(api_key) if api_key else None,
            "webhook_currency": webhook_currency(api_key, currency),
        },
    )
    return Response(200, _expand(session, line_items, params.get("expand", []), account))


def _expand(
    session: dict, line_items: list[dict], expand: list[str], account: str | None = None
) -> dict:
    """Apply `expand[]`: `line_items` (and `line_items.data.taxes`/`.discounts` within it),
    `discounts.coupon`."""
    if any(path.split(".")[0] == "line_items" for path in expand):
        include = {
            path.removeprefix("line_items.data.").split(".")[0]
            for path in expand
            if path.startswith("line_items.data.")
        }
        session = {**session, "line_items": line_item_list(session["id"], line_items, include)}
    if "discounts.coupon" in expand and account is not None and session["discounts"]:
        session = {
            **session,
            "discounts": [
                {**entry, "coupon": _expanded_coupon(account, entry["coupon"])}
                for entry in session["discounts"]
            ],
        }
    return session


def _expanded_coupon(account: str, coupon_id: str) -> dict | str:
    obj = coupon_object(account, coupon_id)
    return obj.data if obj is not None else coupon_id


def retrieve_checkout_session(account: str, params: dict[str, Any], session_id: str) -> Response:
    params = parse_params(RETRIEVE, params)
    obj = get_object(account, "checkout.session", session_id)
    expire_if_due(obj)
    return Response(
        200, _expand(obj.data, obj.private["line_items"], params.get("expand", []), account)
    )


CHECKOUT_SESSION_LIST = Obj(
    {
        "payment_intent": Str(max_length=5000),
        "status": Str(choices=("open", "complete", "expired")),
        "limit": Int(minimum=1, maximum=100),
        "expand": ListOf(Str()),
    }
)


def list_checkout_sessions(account: str, params: dict[str, Any]) -> Response:
    """`GET /v1/checkout/sessions`, newest first, filtered by `payment_intent` (how a dispute
    or a refund that names only a PaymentIntent finds its session) and `status`; `limit`.
    Stripe's other filters and paging are not modelled (refused as unknown parameters)."""
    params = parse_params(CHECKOUT_SESSION_LIST, params)
    rows = SandboxObject.objects.filter(account=account, object="checkout.session")
    if "payment_intent" in params:
        rows = rows.filter(data__payment_intent=params["payment_intent"])
    if "status" in params:
        rows = rows.filter(data__status=params["status"])
    limit = params.get("limit", 10)
    found = list(rows.order_by("-created", "-id")[: limit + 1])
    return Response(
        200,
        {
            "object": "list",
            "data": [row.data for row in found[:limit]],
            "has_more": len(found) > limit,
            "url": "/v1/checkout/sessions",
        },
    )


def list_checkout_line_items(account: str, params: dict[str, Any], session_id: str) -> Response:
    params = parse_params(LINE_ITEMS_LIST, params)
    obj = get_object(account, "checkout.session", session_id)
    include = {
        path.removeprefix("data.").split(".")[0]
        for path in params.get("expand", [])
        if path.startswith("data.")
    }
    return Response(200, line_item_list(session_id, obj.private["line_items"], include))


def expire_checkout_session(account: str, params: dict[str, Any], session_id: str) -> Response:
    get_object(account, "checkout.session", session_id)
    # Under the row's lock: of two simultaneous calls one expires it, the other is refused.
    obj = SandboxObject.objects.select_for_update().get(
        id=session_id, account=account, object="checkout.session"
    )
    if obj.data["status"] != "open":
        raise ApiError(
            400,
            f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{obj.data["status"]}".',
        )
    _expire(obj)
    return Response(200, obj.data)


def sessions_expire_due(account: str) -> int:
    """Expire every open session of `account` whose `expires_at` has passed; return how many.

    Stripe expires a session on time, and sends `checkout.session.expired` then, whether or
    not anyone looks. The sandbox runs this whenever the account makes an API request and when
    a hosted page opens, so a shop asking Stripe anything (listing its events, say) sees what
    Stripe's clock would have done by then. Each session expires once (`expire_if_due`).
    """
    due = SandboxObject.objects.filter(
        account=account,
        object="checkout.session",
        data__status="open",
        data__expires_at__lte=int(time.time()),
    )
    expired = 0
    for obj in due:
        expire_if_due(obj)
        expired += obj.data["status"] == "expired"
    return expired


def expire_if_due(obj: SandboxObject) -> None:
    """An open session past `expires_at` turns expired when next looked at, as at Stripe.

    Under the row's lock, so a session expires (and says so in one `checkout.session.expired`
    event) once, however many requests look at it together; `obj` gets the row's data.
    """
    if obj.data["status"] != "open" or obj.data["expires_at"] > time.time():
        return
    with transaction.atomic():
        current = SandboxObject.objects.select_for_update().get(pk=obj.pk)
        if current.data["status"] == "open":
            _expire(current)
    obj.data = current.data


def _expire(obj: SandboxObject) -> None:
    """Expire a locked, open session and record the event (sent once the transaction commits)."""
    obj.data.update(status="expired", url=None)
    obj.save(update_fields=["data"])
    events.checkout_session_event(obj, "checkout.session.expired")
