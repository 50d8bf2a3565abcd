"""Coupons in the sandbox: `POST /v1/coupons`, `GET /v1/coupons/{id}`, and their use on a session.

Like Stripe's:
- a coupon takes `percent_off` (up to two decimal places, kept exact) or `amount_off` in a
  `currency`, never both; a `duration` (`once`, `repeating` with `duration_in_months`,
  `forever`), `max_redemptions`, `redeem_by` (in the future, at most five years ahead), `name`,
  `metadata`;
- its id is eight random capitals and digits unless the caller chooses one (`id=SPRING10`,
  spaces allowed, quoted into the URL by the library); a chosen id is unique per account, and two
  accounts may each have a coupon of the same id (`_coupon_key` scopes the row to the account);
- `valid` turns false once past `redeem_by` (when next looked at) or redeemed
  `max_redemptions` times; a redemption is counted when a Checkout Session using the coupon is
  paid (`coupon_redeem`, from `hosted_checkout`), not when the session is made;
- on a Checkout Session (`discounts[0][coupon]`, `coupon_for_session`): an unknown or another
  account's coupon is `resource_missing`, an invalid one `coupon_expired`, an `amount_off` in
  another currency than the session's is refused; promotion codes are unknown to the sandbox.
  The coupon becomes a Discount object on the session's line items (`discount_object`).
"""

import secrets
import string
import time
from typing import Any
from urllib.parse import unquote_plus

from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import (
    RETRIEVE,
    ApiError,
    Response,
    check_amount,
    check_currency,
    json_number,
    new_id,
    parse_params,
    plain_decimal,
)
from payments.stripe.sandbox.params import Dec, Int, ListOf, Metadata, Obj, ParamError, Str

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
        check_currency(params["currency"], "currency")
    if "amount_off" in params:
        if "currency" not in params:
            raise ParamError(
                "Missing required param: currency (it is required with amount_off).",
                param="currency",
                code="parameter_missing",
            )
        check_amount(params["amount_off"], params["currency"], "amount_off")
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


def coupon_object(account: str, coupon_id: str) -> SandboxObject | None:
    obj = SandboxObject.objects.filter(
        id=_coupon_key(account, coupon_id), account=account, object="coupon"
    ).first()
    if obj is not None:
        _coupon_refresh(obj)
    return obj


def create_coupon(account: str, params: dict[str, Any]) -> Response:
    params = parse_params(COUPON_CREATE, params)
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
        "percent_off": None if percent_off is None else json_number(percent_off),
        "redeem_by": params.get("redeem_by"),
        "times_redeemed": 0,
        "valid": True,
    }
    SandboxObject.objects.create(
        id=_coupon_key(account, coupon_id),
        account=account,
        object="coupon",
        data=coupon,
        private={"percent_off": None if percent_off is None else plain_decimal(percent_off)},
    )
    return Response(200, coupon)


def retrieve_coupon(account: str, params: dict[str, Any], coupon_id: str) -> Response:
    parse_params(RETRIEVE, params)
    coupon_id = unquote_plus(coupon_id)  # the library quotes the id into the path
    obj = coupon_object(account, coupon_id)
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


# --- On a Checkout Session ---------------------------------------------------------------


def coupon_for_session(account: str, params: dict[str, Any], currency: str) -> SandboxObject | None:
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
    obj = coupon_object(account, coupon_id)
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


def discount_object(session_id: str, coupon_id: str, created: int) -> dict[str, Any]:
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
