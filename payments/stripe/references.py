"""Coupons and tax rates: our Discounts and Taxes as Stripe objects, made once per account.

A checkout that needs a coupon or a tax rate reuses the one made before for the same row and
the same terms (StripeObjectRef), so steady-state checkouts make one Stripe call.
"""

import hashlib
import json
from decimal import Decimal

from django.db import transaction

from currencies.minor_units import to_minor_units
from payments.stripe import client
from payments.stripe.accounts import StripeAccount
from payments.stripe.models import StripeObjectRef
from payments.values import DiscountTerms, TaxTerms


def _decimal_param(value: Decimal) -> str:
    """`Decimal("10.00")` → `"10"`: what Stripe's decimal parameters expect."""
    return format(value.normalize(), "f")


def coupon_params(discount: DiscountTerms) -> dict:
    params: dict = {"name": discount.name, "duration": discount.duration}
    if discount.duration_in_months is not None:
        params["duration_in_months"] = discount.duration_in_months
    if discount.percent_off is not None:
        params["percent_off"] = _decimal_param(discount.percent_off)
    else:
        currency = str(discount.amount_off.currency)
        params["amount_off"] = to_minor_units(discount.amount_off.amount, currency)
        params["currency"] = currency.lower()
    return params


def tax_rate_params(tax: TaxTerms) -> dict:
    params: dict = {
        "display_name": tax.display_name,
        "percentage": _decimal_param(tax.percentage),
        "inclusive": tax.inclusive,
    }
    # Stripe reads an empty string as "unset" and refuses it on create: leave blanks out.
    if tax.jurisdiction:
        params["jurisdiction"] = tax.jurisdiction
    if tax.description:
        params["description"] = tax.description
    return params


def stripe_object_ensure(
    account: StripeAccount, *, kind: str, key: str, params: dict
) -> tuple[str, bool]:
    """Return (Stripe id, whether it was created now) of the object made from `params` for our
    row `key` on `account`.

    Created on first use and remembered, so steady-state checkouts make no extra Stripe call.
    Two first uses at once send the same idempotency key, so Stripe makes one object, and the
    unique constraint keeps one row.
    """
    fingerprint = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    lookup = {
        "account": account.identity,
        "kind": kind,
        "local_key": key,
        "fingerprint": fingerprint,
    }
    ref = StripeObjectRef.objects.filter(**lookup).first()
    if ref is not None:
        return ref.stripe_id, False
    stripe_id = client.stripe_object_create(
        account, kind=kind, params=params, idempotency_key=f"{kind}-{key}-{fingerprint[:32]}"
    )
    with transaction.atomic():
        ref, _ = StripeObjectRef.objects.get_or_create(**lookup, defaults={"stripe_id": stripe_id})
    return ref.stripe_id, True


def coupon_ensure(account: StripeAccount, discount: DiscountTerms) -> tuple[str, bool]:
    return stripe_object_ensure(
        account, kind="coupon", key=discount.key, params=coupon_params(discount)
    )


def tax_rate_ensure(account: StripeAccount, tax: TaxTerms) -> tuple[str, bool]:
    return stripe_object_ensure(account, kind="tax_rate", key=tax.key, params=tax_rate_params(tax))
