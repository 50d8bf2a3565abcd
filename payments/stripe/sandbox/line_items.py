"""The line items of a Checkout Session: how they are given, kept and shown, as at Stripe.

Given: each `line_items[]` has inline `price_data` (`currency`, `unit_amount` valid in that
currency's minor units, `product_data[name]` or a `product` id, `tax_behavior`) and a
`quantity` (0 to 999,999), optionally up to five `tax_rates`; a `price` id is unknown to the
sandbox (it keeps no Price objects), as to a fresh account (`LINE_ITEM`, `PRICE_DATA`).

Kept (`line_item`): an `item` (`li_...`) with its amounts from `pricing.checkout_amounts`, an
inline, inactive `price` (`price_...`) and, as the sandbox keeps them, its `discounts` (the
coupon's Discount and the line's share of it) and `taxes` (per rate: amount, the rate object,
`taxable_amount`). The session keeps its items in `private["line_items"]`.

Shown: Stripe leaves `discounts` and `taxes` out of a line item unless they are expanded
(`LINE_ITEM_INCLUDABLE`: `expand[]=line_items.data.taxes` on the session,
`expand[]=data.taxes` on the list); `line_item_list` is the list object
`GET /v1/checkout/sessions/{id}/line_items` answers (`LINE_ITEMS_LIST`: one page holds all).
"""

from collections.abc import Sequence
from typing import Any

from payments.stripe.sandbox.objects import check_amount, check_currency, new_id
from payments.stripe.sandbox.params import Int, ListOf, Metadata, Obj, ParamError, Str, Url
from payments.stripe.sandbox.pricing import LineAmounts


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
    check_currency(price["currency"], f"{path}[currency]")
    check_amount(price["unit_amount"], price["currency"], f"{path}[unit_amount]")


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


def line_item(
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


def line_item_list(
    session_id: str, line_items: list[dict], include: set[str] | frozenset[str] = frozenset()
) -> dict:
    return {
        "object": "list",
        "data": [_public_line_item(line, set(include)) for line in line_items],
        "has_more": False,
        "url": f"/v1/checkout/sessions/{session_id}/line_items",
    }
