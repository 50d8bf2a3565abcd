"""Tax rates in the sandbox: `POST /v1/tax_rates`, `GET /v1/tax_rates/{id}`, and their use on lines.

Like Stripe's: a tax rate has a `display_name`, a `percentage` (0 to 100, up to four decimal
places, kept exact in `private["percentage"]` and shown as a JSON number) and is `inclusive`
(already part of the price) or not (added on top); optionally `active` (default true), a
two-letter `country`, `state`, `jurisdiction`, `description`, one of Stripe's `tax_type`s,
`metadata`. It belongs to the account that made it (`txr_...`; another account's lookup is
`resource_missing`, "No such tax rate").

On a Checkout Session, each line names up to five rates (`line_items[][tax_rates]`); each must be
the account's own, active, and not given twice for the same line (`tax_rates_for_lines`). What
the rates add up to is `pricing.checkout_amounts`'s business.
"""

import re
import time
from typing import Any
from urllib.parse import unquote_plus

from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import (
    RETRIEVE,
    ApiError,
    Response,
    get_object,
    json_number,
    new_id,
    parse_params,
    plain_decimal,
)
from payments.stripe.sandbox.params import Bool, Dec, ListOf, Metadata, Obj, ParamError, Str

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
    params = parse_params(TAX_RATE_CREATE, params)
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
        "percentage": json_number(params["percentage"]),
        "rate_type": "percentage",
        "state": params.get("state"),
        "tax_type": params.get("tax_type"),
    }
    SandboxObject.objects.create(
        id=tax_rate_id,
        account=account,
        object="tax_rate",
        data=tax_rate,
        private={"percentage": plain_decimal(params["percentage"])},
    )
    return Response(200, tax_rate)


def retrieve_tax_rate(account: str, params: dict[str, Any], tax_rate_id: str) -> Response:
    parse_params(RETRIEVE, params)
    obj = get_object(account, "tax_rate", unquote_plus(tax_rate_id), name="tax rate")
    return Response(200, obj.data)


# --- On a Checkout Session ---------------------------------------------------------------


def tax_rates_for_lines(account: str, params: dict[str, Any]) -> list[list[SandboxObject]]:
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
