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
- Checkout Sessions: create, retrieve (with `expand[]=line_items`), list line items, expire;
  a coupon (`discounts`) and tax rates per line (`line_items[][tax_rates]`), with the amounts
  computed as Stripe computes them (`checkout_amounts`);
- coupons and tax rates: create, retrieve;
- events: a paid or expired Checkout Session records a `checkout.session.*` Event, which is
  sent signed to the account's webhook endpoint (`events`); `GET /v1/events/{id}` reads it.
"""

import hashlib
import json
import re
import secrets
import string
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from django.db import IntegrityError, transaction

from currencies.minor_units import (
    STRIPE_CURRENCIES,
    CurrencyError,
    check_minor_amount,
    from_minor_units,
    minimum_charge,
)
from payments.stripe.accounts import SANDBOX_KEY_PREFIXES
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest
from payments.stripe.sandbox.params import (
    Bool,
    Dec,
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
SANDBOX_SECRET_KEY_PREFIX = SANDBOX_KEY_PREFIXES["secret_key"]  # "sk_test_sandbox_"
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


# --- Shared checks ------------------------------------------------------------------------


def _check_currency(currency: str, param: str) -> None:
    if currency.upper() not in STRIPE_CURRENCIES or currency != currency.lower():
        raise ParamError(
            f"Invalid currency: {currency}. Stripe currently supports these currencies: "
            + ", ".join(sorted(code.lower() for code in STRIPE_CURRENCIES)),
            param=param,
        )


def _check_amount(amount: int, currency: str, param: str) -> None:
    try:
        check_minor_amount(amount, currency)
    except CurrencyError as exc:
        raise ParamError(str(exc), param=param, code="amount_invalid") from exc


def _plain(number: Decimal) -> str:
    """`Decimal("10.50")` → `"10.5"`, `Decimal("100")` → `"100"`: no exponent, no trailing 0."""
    return format(number.normalize(), "f")


def _json_number(number: Decimal) -> int | float:
    """How Stripe writes a decimal field (`percent_off`, `percentage`): a JSON number.

    The sandbox never computes with this value: the exact Decimal is kept in the object's
    `private` data (`_plain` string) and every amount is computed from that.
    """
    return int(number) if number == number.to_integral_value() else float(_plain(number))


# --- Coupons ------------------------------------------------------------------------------

COUPON_ID_ALPHABET = string.ascii_uppercase + string.digits
# Stripe: `redeem_by` "cannot be set to more than 5 years in the future".
REDEEM_BY_LIMIT_SECONDS = 5 * 365 * 24 * 60 * 60


def _coupon_key(account: str, coupon_id: str) -> str:
    """The primary key of the row a coupon is kept in.

    A coupon's id can be chosen by the caller (`id=SPRING10`), so two accounts can each have a
    coupon of the same id, as at Stripe; the row's key is therefore scoped to the account. The
    API shows only the coupon's own id (`data["id"]`).
    """
    return f"coupon:{account}:{coupon_id}"


def _check_coupon(params: dict[str, Any], path: str) -> None:
    if "percent_off" in params and "amount_off" in params:
        raise ParamError(
            "You may only specify one of these parameters: amount_off, percent_off.",
            param="amount_off",
            code="parameters_exclusive",
        )
    if "percent_off" not in params and "amount_off" not in params:
        raise ParamError(
            "You must pass either percent_off or amount_off.",
            param="percent_off",
            code="parameter_missing",
        )
    if "currency" in params:
        _check_currency(params["currency"], "currency")
    if "amount_off" in params:
        if "currency" not in params:
            raise ParamError(
                "Missing required param: currency (it is required with amount_off).",
                param="currency",
                code="parameter_missing",
            )
        _check_amount(params["amount_off"], params["currency"], "amount_off")
    repeating = params.get("duration", "once") == "repeating"
    if repeating and "duration_in_months" not in params:
        raise ParamError(
            "Missing required param: duration_in_months (it is required when duration is "
            "repeating).",
            param="duration_in_months",
            code="parameter_missing",
        )
    if not repeating and "duration_in_months" in params:
        raise ParamError(
            "duration_in_months can only be set when duration is repeating.",
            param="duration_in_months",
        )
    if "redeem_by" in params:
        now = int(time.time())
        if params["redeem_by"] <= now:
            raise ParamError(
                "Invalid timestamp: must be an integer Unix timestamp in the future.",
                param="redeem_by",
            )
        if params["redeem_by"] > now + REDEEM_BY_LIMIT_SECONDS:
            raise ParamError(
                "redeem_by cannot be set to more than 5 years in the future.", param="redeem_by"
            )


COUPON_CREATE = Obj(
    {
        # Stripe allows 5000 characters; the sandbox's row key (`_coupon_key`) needs room.
        "id": Str(max_length=200),
        "name": Str(max_length=40),
        "percent_off": Dec(minimum=0, maximum=100, places=2, minimum_exclusive=True),
        "amount_off": Int(minimum=1),
        "currency": Str(max_length=3),
        "duration": Str(choices=("once", "repeating", "forever")),
        "duration_in_months": Int(minimum=1),
        "max_redemptions": Int(minimum=1),
        "redeem_by": Int(),
        "metadata": Metadata(),
        "expand": ListOf(Str()),
    },
    check=_check_coupon,
)


def _coupon_is_valid(coupon: dict[str, Any], now: float) -> bool:
    """Stripe's `valid`: not past `redeem_by` and not redeemed `max_redemptions` times."""
    if coupon["redeem_by"] is not None and coupon["redeem_by"] <= now:
        return False
    limit = coupon["max_redemptions"]
    return limit is None or coupon["times_redeemed"] < limit


def _coupon_refresh(obj: SandboxObject) -> None:
    """A coupon past `redeem_by` turns invalid when next looked at, as at Stripe."""
    valid = _coupon_is_valid(obj.data, time.time())
    if obj.data["valid"] != valid:
        obj.data["valid"] = valid
        obj.save(update_fields=["data"])


def _coupon_object(account: str, coupon_id: str) -> SandboxObject | None:
    obj = SandboxObject.objects.filter(
        id=_coupon_key(account, coupon_id), account=account, object="coupon"
    ).first()
    if obj is not None:
        _coupon_refresh(obj)
    return obj


def create_coupon(account: str, params: dict[str, Any]) -> Response:
    params = _parse(COUPON_CREATE, params)
    coupon_id = params.get("id")
    if coupon_id is not None:
        if SandboxObject.objects.filter(id=_coupon_key(account, coupon_id)).exists():
            raise ApiError(
                400, "Coupon already exists.", code="resource_already_exists", param="id"
            )
    else:
        while (
            coupon_id is None
            or SandboxObject.objects.filter(id=_coupon_key(account, coupon_id)).exists()
        ):
            coupon_id = "".join(secrets.choice(COUPON_ID_ALPHABET) for _ in range(8))
    percent_off = params.get("percent_off")
    coupon = {
        "id": coupon_id,
        "object": "coupon",
        "amount_off": params.get("amount_off"),
        "created": int(time.time()),
        "currency": params.get("currency"),
        "duration": params.get("duration", "once"),
        "duration_in_months": params.get("duration_in_months"),
        "livemode": False,
        "max_redemptions": params.get("max_redemptions"),
        "metadata": params.get("metadata", {}),
        "name": params.get("name"),
        "percent_off": None if percent_off is None else _json_number(percent_off),
        "redeem_by": params.get("redeem_by"),
        "times_redeemed": 0,
        "valid": True,
    }
    SandboxObject.objects.create(
        id=_coupon_key(account, coupon_id),
        account=account,
        object="coupon",
        data=coupon,
        private={"percent_off": None if percent_off is None else _plain(percent_off)},
    )
    return Response(200, coupon)


def retrieve_coupon(account: str, params: dict[str, Any], coupon_id: str) -> Response:
    _parse(RETRIEVE, params)
    coupon_id = unquote_plus(coupon_id)  # the library quotes the id into the path
    obj = _coupon_object(account, coupon_id)
    if obj is None:
        raise ApiError(404, f"No such coupon: '{coupon_id}'", code="resource_missing", param="id")
    return Response(200, obj.data)


def coupon_redeem(*, account: str, coupon_id: str) -> None:
    """Count one redemption of a coupon (a Checkout Session using it was paid), under a lock."""
    obj = (
        SandboxObject.objects.select_for_update()
        .filter(id=_coupon_key(account, coupon_id), account=account, object="coupon")
        .first()
    )
    if obj is None:  # deleted since; nothing to count
        return
    obj.data["times_redeemed"] += 1
    obj.data["valid"] = _coupon_is_valid(obj.data, time.time())
    obj.save(update_fields=["data"])


# --- Tax rates ----------------------------------------------------------------------------

TAX_TYPES = (
    "admissions_tax",
    "amusement_tax",
    "attendance_tax",
    "communications_tax",
    "digital_excise_tax",
    "entertainment_tax",
    "get_fund",
    "gross_receipts_tax",
    "gst",
    "hospitality_tax",
    "hst",
    "igst",
    "jct",
    "lease_tax",
    "luxury_tax",
    "mass_transit_parking_tax",
    "nhil",
    "parking_tax",
    "pst",
    "qst",
    "resort_tax",
    "retail_delivery_fee",
    "rst",
    "sales_tax",
    "service_tax",
    "tourism_tax",
    "utility_users_tax",
    "vat",
)


def _check_tax_rate(params: dict[str, Any], path: str) -> None:
    country = params.get("country")
    if country is not None and not re.fullmatch(r"[A-Za-z]{2}", country):
        raise ParamError(
            f"Country '{country}' is unknown. Use a two-letter ISO 3166-1 code such as 'DE'.",
            param="country",
        )


TAX_RATE_CREATE = Obj(
    {
        "display_name": Str(max_length=50),
        "percentage": Dec(minimum=0, maximum=100, places=4),
        "inclusive": Bool(),
        "active": Bool(),
        "country": Str(max_length=2),
        "state": Str(max_length=2),
        "jurisdiction": Str(max_length=50),
        "description": Str(max_length=5000),
        "tax_type": Str(choices=TAX_TYPES),
        "metadata": Metadata(),
        "expand": ListOf(Str()),
    },
    required=("display_name", "inclusive", "percentage"),
    check=_check_tax_rate,
)


def create_tax_rate(account: str, params: dict[str, Any]) -> Response:
    params = _parse(TAX_RATE_CREATE, params)
    tax_rate_id = new_id("txr_")
    country = params.get("country")
    tax_rate = {
        "id": tax_rate_id,
        "object": "tax_rate",
        "active": params.get("active", True),
        "country": country.upper() if country else None,
        "created": int(time.time()),
        "description": params.get("description"),
        "display_name": params["display_name"],
        "effective_percentage": None,
        "flat_amount": None,
        "inclusive": params["inclusive"],
        "jurisdiction": params.get("jurisdiction"),
        "jurisdiction_level": None,
        "livemode": False,
        "metadata": params.get("metadata", {}),
        "percentage": _json_number(params["percentage"]),
        "rate_type": "percentage",
        "state": params.get("state"),
        "tax_type": params.get("tax_type"),
    }
    SandboxObject.objects.create(
        id=tax_rate_id,
        account=account,
        object="tax_rate",
        data=tax_rate,
        private={"percentage": _plain(params["percentage"])},
    )
    return Response(200, tax_rate)


def retrieve_tax_rate(account: str, params: dict[str, Any], tax_rate_id: str) -> Response:
    _parse(RETRIEVE, params)
    obj = get_object(account, "tax_rate", unquote_plus(tax_rate_id), name="tax rate")
    return Response(200, obj.data)


# --- Amounts: discounts and taxes ---------------------------------------------------------


@dataclass(frozen=True)
class RateTerms:
    """What a tax rate contributes to the arithmetic: its exact percentage and kind."""

    percentage: Decimal
    inclusive: bool


@dataclass(frozen=True)
class LineAmounts:
    subtotal: int
    discount: int
    taxes: tuple[int, ...]  # one amount per tax rate of the line, in the line's order
    taxable_amount: int  # what the rates are on: the line after discount, net of inclusive tax
    total: int

    @property
    def tax(self) -> int:
        return sum(self.taxes)


def round_half_up(value: Decimal) -> int:
    """Round to a whole minor unit, halves away from zero (amounts here are never negative)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def spread(amount: int, weights: Sequence[int]) -> list[int]:
    """Share `amount` in proportion to `weights` by the largest-remainder method.

    Each share is first rounded down (`amount * w // Σw`, integer arithmetic); the minor units
    left over go one each to the largest remainders (`amount * w % Σw`), ties to the earlier
    weight. The shares always add up to `amount`.
    """
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    shares = [amount * weight // whole for weight in weights]
    remainders = [amount * weight % whole for weight in weights]
    leftover = amount - sum(shares)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:leftover]:
        shares[index] += 1
    return shares


def checkout_amounts(
    lines: Sequence[tuple[int, Sequence[RateTerms]]],
    *,
    percent_off: Decimal | None = None,
    amount_off: int | None = None,
) -> list[LineAmounts]:
    """Price the lines of a Checkout Session as Stripe does, in integer minor units.

    `lines` holds, per line item, its subtotal (`unit_amount * quantity`) and its tax rates. The
    rules, which the shop's own pricing (`storefront/pricing.py`) follows to the minor unit:

    1. `amount_subtotal = Σ line subtotals`.
    2. Discount (at most one coupon), taken before tax:
       - `percent_off`: each line's discount = round_half_up(subtotal * percent_off / 100);
       - `amount_off`: `d = min(amount_off, amount_subtotal)` is spread over the lines in
         proportion to their subtotals by the largest-remainder method (`spread`): each share
         rounded down, the leftover minor units one each to the largest remainders, ties to
         the earlier line; so Σ line discounts == d.
       `total_details.amount_discount = Σ line discounts`.
    3. Taxes, per line, on `base = subtotal − discount`. With `P_incl` = Σ percentages of the
       line's inclusive rates:
       - each inclusive rate's tax = round_half_up(base * p / (100 + P_incl)) (the part of
         `base` it already is);
       - `net = base − Σ inclusive taxes`; each exclusive rate's tax =
         round_half_up(net * p / 100) (added on top);
       - line `amount_tax` = Σ all its taxes, inclusive ones included (as Stripe reports them);
         line `amount_total = base + Σ exclusive taxes`; every tax's `taxable_amount` is `net`.
    4. `total_details.amount_tax = Σ line amount_tax`;
       `amount_total = amount_subtotal − amount_discount + Σ exclusive taxes`
       (== Σ line amount_total). Stripe's minimum and maximum charge apply to `amount_total`.

    round_half_up is Decimal `quantize(Decimal(1), ROUND_HALF_UP)` to a whole minor unit. No
    float is involved: percentages are exact Decimals, amounts ints, and the division runs with
    enough precision that no quotient can be rounded before it is rounded half-up.
    """
    subtotals = [subtotal for subtotal, _ in lines]
    with localcontext() as context:
        # Exact products; quotients far beyond the minor unit (amounts can be any int here:
        # the maximum-charge check comes after).
        context.prec = max(28, len(str(max(subtotals, default=0))) + 30)
        return _checkout_amounts(lines, subtotals, percent_off, amount_off)


def _checkout_amounts(lines, subtotals, percent_off, amount_off) -> list[LineAmounts]:
    if percent_off is not None:
        discounts = [round_half_up(subtotal * percent_off / 100) for subtotal in subtotals]
    elif amount_off is not None:
        discounts = spread(min(amount_off, sum(subtotals)), subtotals)
    else:
        discounts = [0] * len(subtotals)
    priced = []
    for (subtotal, rates), discount in zip(lines, discounts, strict=True):
        base = subtotal - discount
        inclusive_percent = sum((r.percentage for r in rates if r.inclusive), Decimal(0))
        inclusive = {
            index: round_half_up(base * r.percentage / (100 + inclusive_percent))
            for index, r in enumerate(rates)
            if r.inclusive
        }
        net = base - sum(inclusive.values())
        taxes = [
            inclusive[index] if r.inclusive else round_half_up(net * r.percentage / 100)
            for index, r in enumerate(rates)
        ]
        exclusive = sum(tax for r, tax in zip(rates, taxes, strict=True) if not r.inclusive)
        priced.append(
            LineAmounts(
                subtotal=subtotal,
                discount=discount,
                taxes=tuple(taxes),
                taxable_amount=net,
                total=base + exclusive,
            )
        )
    return priced


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
    _check_currency(price["currency"], f"{path}[currency]")
    _check_amount(price["unit_amount"], price["currency"], f"{path}[unit_amount]")


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
LINE_ITEMS_LIST = Obj(
    {
        "expand": ListOf(Str()),
        # One page holds every line (a session has at most 100): the cursors change nothing.
        "limit": Int(minimum=1, maximum=100),
        "starting_after": Str(),
        "ending_before": Str(),
    }
)
# Fields of a line item that Stripe leaves out unless expanded (`line_items.data.taxes`).
LINE_ITEM_INCLUDABLE = ("discounts", "taxes")


def _money_words(amount: int, currency: str) -> str:
    return f"{from_minor_units(amount, currency)} {currency}"


def _line_item(
    line: dict[str, Any],
    created: int,
    amounts: LineAmounts,
    discount: dict[str, Any] | None,
    rates: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """A Checkout line item as the sandbox keeps it: with its `discounts` and `taxes`.

    Those two are the fields Stripe includes only on request (`LINE_ITEM_INCLUDABLE`);
    `_public_line_item` removes them when they were not asked for.
    """
    price = line["price_data"]
    return {
        "id": new_id("li_"),
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": amounts.discount,
        "amount_subtotal": amounts.subtotal,
        "amount_tax": amounts.tax,
        "amount_total": amounts.total,
        "currency": price["currency"],
        "description": price.get("product_data", {}).get("name"),
        "discounts": (
            [{"amount": amounts.discount, "discount": discount}] if discount is not None else []
        ),
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
        "taxes": [
            {
                "amount": tax,
                "rate": rate,
                "taxability_reason": None,
                "taxable_amount": amounts.taxable_amount,
            }
            for tax, rate in zip(amounts.taxes, rates, strict=True)
        ],
    }


def _public_line_item(line: dict[str, Any], include: set[str]) -> dict[str, Any]:
    return {
        key: value
        for key, value in line.items()
        if key not in LINE_ITEM_INCLUDABLE or key in include
    }


def _session_coupon(account: str, params: dict[str, Any], currency: str) -> SandboxObject | None:
    """The coupon of `discounts`, checked as Stripe checks it; None without a discount."""
    if not params.get("discounts"):
        return None
    discount = params["discounts"][0]
    if "promotion_code" in discount:
        # The sandbox keeps no promotion codes, so any code is unknown to it.
        raise ApiError(
            400,
            f"No such promotion code: '{discount['promotion_code']}'",
            code="resource_missing",
            param="discounts[0][promotion_code]",
        )
    coupon_id = discount["coupon"]
    obj = _coupon_object(account, coupon_id)
    if obj is None:
        raise ApiError(
            400,
            f"No such coupon: '{coupon_id}'",
            code="resource_missing",
            param="discounts[0][coupon]",
        )
    coupon = obj.data
    if not coupon["valid"]:
        raise ApiError(
            400,
            f"The coupon '{coupon_id}' is no longer valid: it has expired or reached its "
            "max_redemptions.",
            code="coupon_expired",
            param="discounts[0][coupon]",
        )
    if coupon["amount_off"] is not None and coupon["currency"] != currency:
        raise ApiError(
            400,
            f"The coupon '{coupon_id}' takes an amount off in {coupon['currency']}, but this "
            f"Checkout Session is in {currency}. Use a coupon in {currency} or a percent_off "
            "coupon.",
            param="discounts[0][coupon]",
        )
    return obj


def _session_tax_rates(account: str, params: dict[str, Any]) -> list[list[SandboxObject]]:
    """The tax rates of each line item, checked as Stripe checks them."""
    wanted = {rate for line in params["line_items"] for rate in line.get("tax_rates", [])}
    found = {
        obj.id: obj
        for obj in SandboxObject.objects.filter(account=account, object="tax_rate", id__in=wanted)
    }
    per_line = []
    for index, line in enumerate(params["line_items"]):
        rates = []
        for position, rate_id in enumerate(line.get("tax_rates", [])):
            param = f"line_items[{index}][tax_rates][{position}]"
            if rate_id not in found:
                raise ApiError(
                    400, f"No such tax rate: '{rate_id}'", code="resource_missing", param=param
                )
            if not found[rate_id].data["active"]:
                raise ApiError(
                    400,
                    f"The tax rate '{rate_id}' is inactive. Inactive tax rates cannot be used "
                    "with new Checkout Sessions.",
                    param=param,
                )
            if found[rate_id] in rates:
                raise ApiError(
                    400,
                    f"The tax rate '{rate_id}' is given twice for line_items[{index}].",
                    param=param,
                )
            rates.append(found[rate_id])
        per_line.append(rates)
    return per_line


def _discount_object(session_id: str, coupon_id: str, created: int) -> dict[str, Any]:
    """The Discount a coupon becomes on a Checkout Session (shaped like Stripe's `discount`)."""
    return {
        "id": new_id("di_"),
        "object": "discount",
        "checkout_session": session_id,
        "customer": None,
        "customer_account": None,
        "end": None,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"coupon": coupon_id, "type": "coupon"},
        "start": created,
        "subscription": None,
        "subscription_item": None,
    }


def _checkout_page_url(params: dict[str, Any], session_id: str) -> str:
    """The hosted page lives on the shop's own site: take the origin of the return URLs."""
    for name in ("success_url", "cancel_url"):
        if name in params:
            parts = urlsplit(params[name])
            return f"{parts.scheme}://{parts.netloc}/sandbox/checkout/{session_id}/"
    return f"/sandbox/checkout/{session_id}/"


def webhook_secret_for_key(api_key: str) -> str:
    """The webhook secret of a sandbox key's account: `sk_test_sandbox_usd` → `whsec_sandbox_usd`.

    The same derivation as `payments.stripe.accounts` uses to hand sandbox accounts their keys.
    """
    return "whsec_" + api_key.removeprefix("sk_test_")


def _webhook_currency(api_key: str | None, currency: str) -> str:
    """The currency of the account (its webhook endpoint is `/payments/webhooks/stripe/<it>/`).

    A sandbox key names it (`sk_test_sandbox_usd`); for any other key, the session's.
    """
    if api_key and api_key.startswith(SANDBOX_SECRET_KEY_PREFIX):
        return api_key.removeprefix(SANDBOX_SECRET_KEY_PREFIX).lower()
    return currency


def create_checkout_session(
    account: str, params: dict[str, Any], *, api_key: str | None = None
) -> Response:
    """Create a session; `api_key` (the request's key) tells where its events are to be sent."""
    params = _parse(CHECKOUT_SESSION_CREATE, params)
    now = int(time.time())
    currency = params["line_items"][0]["price_data"]["currency"]
    coupon = _session_coupon(account, params, currency)
    rates = _session_tax_rates(account, params)
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
    discount = _discount_object(session_id, coupon.data["id"], now) if coupon else None
    line_items = [
        _line_item(line, now, line_amounts, discount, [rate.data for rate in line_rates])
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
            "webhook_currency": _webhook_currency(api_key, currency),
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
        session = {**session, "line_items": _line_item_list(session["id"], line_items, include)}
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
    obj = _coupon_object(account, coupon_id)
    return obj.data if obj is not None else coupon_id


def _line_item_list(
    session_id: str, line_items: list[dict], include: set[str] | frozenset[str] = frozenset()
) -> dict:
    return {
        "object": "list",
        "data": [_public_line_item(line, set(include)) for line in line_items],
        "has_more": False,
        "url": f"/v1/checkout/sessions/{session_id}/line_items",
    }


def get_object(
    account: str, object_type: str, object_id: str, *, name: str | None = None
) -> SandboxObject:
    """Fetch an object of this account, or answer as Stripe does for anything else.

    `name` is how Stripe's message names the type when it differs from `object_type`
    ("No such tax rate: 'txr_...'").
    """
    try:
        return SandboxObject.objects.get(id=object_id, account=account, object=object_type)
    except SandboxObject.DoesNotExist:
        raise ApiError(
            404,
            f"No such {name or object_type}: '{object_id}'",
            code="resource_missing",
            param="id",
        ) from None


def retrieve_checkout_session(account: str, params: dict[str, Any], session_id: str) -> Response:
    params = _parse(RETRIEVE, params)
    obj = get_object(account, "checkout.session", session_id)
    expire_if_due(obj)
    return Response(
        200, _expand(obj.data, obj.private["line_items"], params.get("expand", []), account)
    )


def list_checkout_line_items(account: str, params: dict[str, Any], session_id: str) -> Response:
    params = _parse(LINE_ITEMS_LIST, params)
    obj = get_object(account, "checkout.session", session_id)
    include = {
        path.removeprefix("data.").split(".")[0]
        for path in params.get("expand", [])
        if path.startswith("data.")
    }
    return Response(200, _line_item_list(session_id, obj.private["line_items"], include))


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
    from payments.stripe.sandbox import events  # events builds on this module

    obj.data.update(status="expired", url=None)
    obj.save(update_fields=["data"])
    events.checkout_session_event(obj, "checkout.session.expired")


# --- Events -------------------------------------------------------------------------------


def retrieve_event(account: str, params: dict[str, Any], event_id: str) -> Response:
    _parse(RETRIEVE, params)
    return Response(200, get_object(account, "event", event_id).data)


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


# --- Dispatch -----------------------------------------------------------------------------

Handler = Callable[..., Response]
ROUTES: list[tuple[str, str, Handler]] = [
    ("post", r"/v1/checkout/sessions", create_checkout_session),
    ("get", r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)", retrieve_checkout_session),
    ("get", r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)/line_items", list_checkout_line_items),
    ("post", r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)/expire", expire_checkout_session),
    ("post", r"/v1/coupons", create_coupon),
    ("get", r"/v1/coupons/([^/]+)", retrieve_coupon),
    ("post", r"/v1/tax_rates", create_tax_rate),
    ("get", r"/v1/tax_rates/([^/]+)", retrieve_tax_rate),
    ("get", r"/v1/events/(evt_[A-Za-z0-9]+)", retrieve_event),
]
# Handlers that are also given the request's secret key (keyword `api_key`).
KEYED_HANDLERS: set[Handler] = {create_checkout_session}


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


def _api_key(headers: Mapping[str, str]) -> str:
    auth = next((value for name, value in headers.items() if name.lower() == "authorization"), "")
    return auth.removeprefix("Bearer ").strip()


def _authenticate(headers: Mapping[str, str]) -> tuple[str, str]:
    key = _api_key(headers)
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
        keyed = {"api_key": _api_key(headers)} if handler in KEYED_HANDLERS else {}
        with transaction.atomic():
            response = handler(account, params, *args, **keyed)
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
