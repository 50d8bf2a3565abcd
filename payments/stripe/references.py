"""Coupons and tax rates: our Discounts and Taxes as Stripe objects, made once per account.

A checkout that needs a coupon or a tax rate reuses the one made before for the same row and
the same terms (StripeObjectRef), so steady-state checkouts make one Stripe call. Each process
also remembers the ids it has found or made (`_known`, keyed like a row: account, kind, our row
and the fingerprint of its terms), so a steady-state checkout reads no row either: a row never
changes and is never deleted (the admin only shows them), and a Tax or Discount whose terms
change has another fingerprint, so it misses and its own object is found or made as before.
"""

import hashlib
import json
from collections.abc import Sequence
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


def _fingerprint(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


# (account identity, kind, local key, fingerprint) -> Stripe id, of rows committed. Bounded:
# past this many (terms edited again and again), it starts afresh.
_known: dict[tuple[str, str, str, str], str] = {}
KNOWN_KEPT = 1000


def _known_add(found: dict[tuple[str, str, str, str], str]) -> None:
    """Remember `found` once the transaction that read or wrote its rows has committed (at once
    outside one): a row rolled back is never remembered."""

    def add() -> None:
        if len(_known) + len(found) > KNOWN_KEPT:
            _known.clear()
        _known.update(found)

    if found:
        transaction.on_commit(add)


def known_forget() -> None:
    """Forget every id remembered in this process (the tests' sandbox starts empty each time)."""
    _known.clear()


def stripe_object_ensure(
    account: StripeAccount, *, kind: str, key: str, params: dict
) -> tuple[str, bool]:
    """Return (Stripe id, whether it was created now) of the object made from `params` for our
    row `key` on `account`.

    Created on first use and remembered, so steady-state checkouts make no extra Stripe call.
    Two first uses at once send the same idempotency key, so Stripe makes one object, and the
    unique constraint keeps one row.
    """
    fingerprint = _fingerprint(params)
    known_as = (account.identity, kind, key, fingerprint)
    if known_as in _known:
        return _known[known_as], False
    lookup = {
        "account": account.identity,
        "kind": kind,
        "local_key": key,
        "fingerprint": fingerprint,
    }
    ref = StripeObjectRef.objects.filter(**lookup).first()
    if ref is not None:
        _known_add({known_as: ref.stripe_id})
        return ref.stripe_id, False
    stripe_id = client.stripe_object_create(
        account, kind=kind, params=params, idempotency_key=f"{kind}-{key}-{fingerprint[:32]}"
    )
    with transaction.atomic():
        ref, _ = StripeObjectRef.objects.get_or_create(**lookup, defaults={"stripe_id": stripe_id})
    _known_add({known_as: ref.stripe_id})
    return ref.stripe_id, True


def coupon_ensure(account: StripeAccount, discount: DiscountTerms) -> tuple[str, bool]:
    return stripe_object_ensure(
        account, kind="coupon", key=discount.key, params=coupon_params(discount)
    )


def tax_rate_ensure(account: StripeAccount, tax: TaxTerms) -> tuple[str, bool]:
    return stripe_object_ensure(account, kind="tax_rate", key=tax.key, params=tax_rate_params(tax))


def tax_rates_ensure(account: StripeAccount, taxes: Sequence[TaxTerms]) -> list[str]:
    """The Stripe ids of the tax rates for `taxes` on `account`, in order: those this process
    knows without a query, those made before found in one query however many taxes a checkout
    has, any others made as `tax_rate_ensure` makes them."""
    wanted = [
        (tax, (account.identity, "tax_rate", tax.key, _fingerprint(tax_rate_params(tax))))
        for tax in taxes
    ]
    if all(known_as in _known for _, known_as in wanted):
        return [_known[known_as] for _, known_as in wanted]
    rows = StripeObjectRef.objects.filter(
        account=account.identity, kind="tax_rate", local_key__in={tax.key for tax, _ in wanted}
    ).values_list("local_key", "fingerprint", "stripe_id")
    found = {
        (account.identity, "tax_rate", key, fingerprint): stripe_id
        for key, fingerprint, stripe_id in rows
    }
    _known_add({known_as: found[known_as] for _, known_as in wanted if known_as in found})
    return [found.get(known_as) or tax_rate_ensure(account, tax)[0] for tax, known_as in wanted]
