"""Exact conversion between Decimal money amounts and Stripe's integer minor units.

Stripe's API takes every ``amount`` as an integer count of the currency's
minor unit, but "minor unit" means what *Stripe* says it means, which is not
always what ISO 4217 says:

* ISK and UGX are zero-decimal in ISO 4217, yet Stripe still represents them
  with two decimals (5 ISK is sent as ``500``) and refuses fractions.
* MGA has two decimals in ISO 4217, yet Stripe treats it as zero-decimal.
* BHD, JOD, KWD, OMR and TND have three decimals, but Stripe only accepts
  amounts whose last minor digit is 0.

This module is the single place that knows those rules.  It never rounds:
an amount that Stripe could not represent exactly is refused with a
:class:`CurrencyError`, because a silently rounded charge is a charge for a
different sum than the order records.  ``float`` is refused outright.

It is pure standard library on purpose (no Django, no ``stripe``) so that it
can be tested and reused anywhere.

Source for every table below, unless a comment says otherwise: Stripe,
"Supported currencies", https://docs.stripe.com/currencies (also served as
https://docs.stripe.com/currencies.md), read in 2026.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

__all__ = [
    "MINIMUM_CHARGE",
    "STRIPE_CURRENCIES",
    "THREE_DECIMAL",
    "WHOLE_UNITS_ONLY",
    "WHOLE_UNIT_PAYOUTS",
    "ZERO_DECIMAL",
    "CurrencyError",
    "check_minor_amount",
    "from_minor_units",
    "minimum_charge",
    "minor_unit_exponent",
    "to_minor_units",
]


class CurrencyError(ValueError):
    """An amount or currency code that Stripe would not accept.

    The message is written for a merchant, e.g.
    ``"KWD amounts sent to Stripe must be a multiple of 0.010 (got 5.125)"``.
    """


# --- Which currencies exist at all -------------------------------------------------------
#
# Presentment currencies, from the "Supported presentment currencies" table of
# docs.stripe.com/currencies.  That table is rendered per account country (the .md
# export leaves it out), so this is the union of what Stripe documents, not what any one
# account may use; Stripe still rejects a currency the account's country does not offer.
# Notes on the snapshot:
#   * Stripe keeps the legacy code STD for the São Tomé dobra (not ISO's STN).
#   * XCG (Caribbean guilder) is listed next to ANG, which it is replacing.
#   * HRK is gone (Croatia uses EUR since 2023).
#   * The three-decimal currencies (BHD, JOD, KWD, OMR, TND) only show up for accounts in
#     some countries (e.g. the UAE rendering of the page); they are included so that
#     the three-decimal rule below has something to apply to.
STRIPE_CURRENCIES: Final[frozenset[str]] = frozenset(
    {
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN",
        "BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL",
        "BSD", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP",
        "CRC", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ETB", "EUR",
        "FJD", "FKP", "GBP", "GEL", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD",
        "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "ISK", "JMD", "JOD", "JPY",
        "KES", "KGS", "KHR", "KMF", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP",
        "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP",
        "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK",
        "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
        "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SEK", "SGD",
        "SHP", "SLE", "SOS", "SRD", "STD", "SZL", "THB", "TJS", "TND", "TOP",
        "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VND",
        "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW",
    }
)  # fmt: skip

# --- Exponent rules ----------------------------------------------------------------------
#
# Everything not listed below is two-decimal ("Currencies are two-decimal currencies
# unless otherwise specified").

# Zero-decimal: the API amount *is* the major amount (500 JPY -> 500).
# docs.stripe.com/currencies, "Zero-decimal currencies".
#
# MGA is here although ISO 4217 gives it two decimals: Stripe lists it as zero-decimal
# and has no special-case row for it, so MGA 1500 is sent as 1500.
#
# UGX is deliberately NOT here, although Stripe's zero-decimal list names it.  The same
# page's "Special cases" table overrides that list for UGX: it must be sent as a
# two-decimal value whose decimals are always 00 (5 UGX -> 500).  The API enforces the
# override ("Currency UGX has become effectively zero-decimal and charged amounts must be
# evenly divisible by 100", quoted from Stripe's error in
# github.com/woocommerce/woocommerce-gateway-stripe/issues/2674), and integrations that
# sent UGX unscaled charged 1/100 of the price (github.com/odoo/odoo/pull/227688,
# github.com/WordPress/wordcamp.org/pull/1320).  Membership here therefore means
# "exponent 0 in the API", which is the only meaning a caller can safely act on.
ZERO_DECIMAL: Final[frozenset[str]] = frozenset(
    {
        "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
        "PYG", "RWF", "VND", "VUV", "XAF", "XOF", "XPF",
    }
)  # fmt: skip

# Three-decimal: the API amount is in thousandths, and Stripe (for compatibility with its
# payment partners) requires the last digit to be 0, i.e. a multiple of 10; it tells
# integrations to round to the nearest ten themselves (5.124 KWD -> 5120 or 5130), and the
# rule covers PaymentIntents, refunds and disputes alike.  Source: the "Three-decimal
# currencies" section of docs.stripe.com/currencies as archived by the Wayback Machine
# (2022-06-18 and 2022-12-31 snapshots).  The current page no longer has that section
# although it still advertises three-decimal support and still lists these currencies for
# some countries; whether the last-digit rule is still enforced is not documented today,
# so the conservative reading (enforce it) is kept.
THREE_DECIMAL: Final[frozenset[str]] = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

# --- Special cases (docs.stripe.com/currencies#special-cases) ----------------------------

# ISO 4217 made these zero-decimal, but Stripe keeps a two-decimal representation for
# backwards compatibility with the decimals always 00: 5 ISK or 5 UGX is sent as 500, and
# fractions cannot be charged, so the minor amount must be a multiple of 100.  (ISK since
# 2023-04-14, see support.stripe.com/questions/deprecation-of-fractional-isk-charges-and-
# refunds, which also applies the rule to refunds.)  For UGX invoices that come out
# fractional after prorations, coupons or taxes, Stripe itself rounds to a multiple of 100
# and books the difference to the customer balance; amounts we send must already comply.
WHOLE_UNITS_ONLY: Final[frozenset[str]] = frozenset({"ISK", "UGX"})

# HUF and TWD are ordinary two-decimal currencies for charges (HUF 10.45 -> 1045 is a
# valid charge).  Stripe treats them as zero-decimal only for *payouts*: a manual payout
# amount must be divisible by 100.  This module converts charge and refund amounts, so the
# rule is recorded here for payout code but deliberately not enforced by
# check_minor_amount().
WHOLE_UNIT_PAYOUTS: Final[frozenset[str]] = frozenset({"HUF", "TWD"})

# --- Minimum charge amounts --------------------------------------------------------------
#
# "Minimum charge amount by currency", docs.stripe.com/currencies, converted to minor
# units with the exponents above.  Caveat from the same section: the minimum is enforced
# in the account's *settlement* currency, so a charge in another currency must reach the
# equivalent of the settlement currency's minimum after conversion; these figures are
# exact only when charge and settlement currency are the same.  Some payment methods are
# exempt (iDEAL accepts 1).  COP and IDR really are documented as 0.50.  (BGN, listed at
# 1.00 in earlier versions of the page, is no longer in the table.)
MINIMUM_CHARGE: Final[dict[str, int]] = {
    "USD": 50,  # 0.50
    "AED": 200,  # 2.00
    "ARS": 50,  # 0.50
    "AUD": 50,  # 0.50
    "BRL": 50,  # 0.50
    "CAD": 50,  # 0.50
    "CHF": 50,  # 0.50
    "COP": 50,  # 0.50
    "CZK": 1500,  # 15.00
    "DKK": 250,  # 2.50
    "EUR": 50,  # 0.50
    "GBP": 30,  # 0.30
    "HKD": 400,  # 4.00
    "HUF": 17500,  # 175.00
    "IDR": 50,  # 0.50
    "ILS": 50,  # 0.50
    "INR": 50,  # 0.50
    "JPY": 50,  # 50 (zero-decimal)
    "KRW": 50,  # 50 (zero-decimal)
    "MXN": 1000,  # 10
    "MYR": 200,  # 2.00
    "NOK": 300,  # 3.00
    "NZD": 50,  # 0.50
    "PHP": 50,  # 0.50
    "PLN": 200,  # 2.00
    "RON": 200,  # 2.00
    "RUB": 50,  # 0.50
    "SEK": 300,  # 3.00
    "SGD": 50,  # 0.50
    "THB": 1000,  # 10
    "ZAR": 50,  # 0.50
}


# --- Functions ---------------------------------------------------------------------------


def _normalise(currency: str) -> str:
    """Return the upper-case code, or raise if Stripe does not support it."""
    if not isinstance(currency, str):
        raise TypeError(f"currency must be a str, not {type(currency).__name__}")
    code = currency.upper()
    if code not in STRIPE_CURRENCIES:
        raise CurrencyError(f"{currency!r} is not a currency Stripe accepts for payments")
    return code


def _exponent(code: str) -> int:
    """Return the API exponent for an already normalised code."""
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def _step(code: str) -> int:
    """Return the granularity, in minor units, that Stripe accepts for ``code``."""
    if code in THREE_DECIMAL:
        return 10
    if code in WHOLE_UNITS_ONLY:
        return 100
    return 1


def _major(minor: int, exponent: int) -> Decimal:
    """Build the exact Decimal for ``minor`` units at ``exponent``.

    Built from the digit tuple rather than with ``scaleb()`` or division, which are
    subject to the decimal context's precision and could round a very long amount.
    """
    sign, digits, _ = Decimal(minor).as_tuple()
    return Decimal((sign, digits, -exponent))


def _refuse(code: str, step: int, exponent: int, got: object) -> CurrencyError:
    """Build the merchant-facing error for an amount off Stripe's grid."""
    return CurrencyError(
        f"{code} amounts sent to Stripe must be a multiple of {_major(step, exponent)} (got {got})"
    )


def minor_unit_exponent(currency: str) -> int:
    """Return how many decimals Stripe's API uses for ``currency`` (0, 2 or 3).

    The code is case-insensitive.  This is Stripe's exponent, which differs from ISO
    4217 for ISK and UGX (2, not 0) and MGA (0, not 2).

    Raises:
        CurrencyError: ``currency`` is not one Stripe supports for payments.
        TypeError: ``currency`` is not a str.
    """
    return _exponent(_normalise(currency))


def check_minor_amount(amount: int, currency: str) -> None:
    """Check that an integer minor-unit amount is one Stripe's API would accept.

    The rules are the granularity rules only: for three-decimal currencies the last
    digit must be 0, for ISK and UGX the amount must be whole units (a multiple of 100).
    Sign and minimum charge are the caller's business: negative amounts pass (refund
    bookkeeping uses them) and so does 0.  HUF/TWD payout divisibility is not checked
    (see ``WHOLE_UNIT_PAYOUTS``).

    Raises:
        CurrencyError: unsupported currency, or an amount off Stripe's grid.
        TypeError: ``amount`` is not an int (``bool`` included) or ``currency`` not a str.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"minor-unit amount must be an int, not {type(amount).__name__}")
    code = _normalise(currency)
    step = _step(code)
    if amount % step:
        exponent = _exponent(code)
        raise _refuse(code, step, exponent, _major(amount, exponent))


def to_minor_units(amount: Decimal | int, currency: str) -> int:
    """Convert a major-unit amount into the integer ``amount`` Stripe expects.

    This is the one conversion the project uses to talk to Stripe.  It is exact and
    never rounds: ``Decimal("19.99")`` USD gives 1999, ``Decimal("5.120")`` KWD gives
    5120, ``1000`` ISK gives 100000.  Trailing zeros are fine (``Decimal("19.990")``
    USD is 1999); anything finer than Stripe can carry is refused.

    Negative amounts are converted like any other (refunds, adjustments); callers
    decide whether a sign is acceptable.

    Raises:
        TypeError: ``amount`` is a float (binary floats cannot hold most decimal
            prices exactly), a bool, or anything other than Decimal/int.
        CurrencyError: unsupported currency; NaN or infinity; more decimal places than
            the currency has (USD 19.999, JPY 1500.5); or an amount that Stripe's
            special rules forbid (KWD 5.125, ISK 10.50).
    """
    if isinstance(amount, float):
        raise TypeError(
            "float amounts are refused because binary floats cannot represent most "
            "prices exactly; pass a Decimal (e.g. Decimal('19.99')) or an int"
        )
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise TypeError(f"amount must be a Decimal or an int, not {type(amount).__name__}")

    code = _normalise(currency)
    exponent = _exponent(code)

    if isinstance(amount, int):
        minor = amount * 10**exponent
    else:
        # Integer arithmetic on the digit tuple: no decimal context, so no precision
        # limit and no chance of rounding behind our back.
        sign, digits, exp = amount.as_tuple()
        if not isinstance(exp, int):  # 'n'/'N' (quiet/signalling NaN) or 'F' (infinity)
            raise CurrencyError(f"{code} amount must be a finite number (got {amount})")
        coefficient = int("".join(map(str, digits)))
        shift = exp + exponent
        if shift >= 0:
            minor = coefficient * 10**shift
        else:
            minor, remainder = divmod(coefficient, 10**-shift)
            if remainder:  # finer than the currency's minor unit: never round it away
                raise _refuse(code, _step(code), exponent, amount)
        if sign:
            minor = -minor

    check_minor_amount(minor, code)  # Stripe's granularity rules live there, once
    return minor


def from_minor_units(amount: int, currency: str) -> Decimal:
    """Convert a Stripe integer ``amount`` back into an exact major-unit Decimal.

    The result carries exactly the currency's exponent: 1999 USD gives
    ``Decimal("19.99")``, 1500 JPY gives ``Decimal("1500")``, 5120 KWD gives
    ``Decimal("5.120")``.

    Stripe's granularity rules are deliberately *not* applied here: this reads what
    Stripe reports, and older objects can legitimately hold amounts that are no longer
    allowed (fractional ISK charges from before April 2023).  Use
    :func:`check_minor_amount` before sending such a value back.

    Raises:
        TypeError: ``amount`` is not an int (``bool`` included) or ``currency`` not a str.
        CurrencyError: ``currency`` is not one Stripe supports.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"minor-unit amount must be an int, not {type(amount).__name__}")
    return _major(amount, minor_unit_exponent(currency))


def minimum_charge(currency: str) -> int | None:
    """Return Stripe's documented minimum charge for ``currency`` in minor units.

    Returns None for supported currencies the documentation gives no minimum for.
    The documented minimum applies in the account's settlement currency (see
    ``MINIMUM_CHARGE``), so treat the figure as exact only when the charge is in the
    settlement currency.

    Raises:
        CurrencyError: ``currency`` is not one Stripe supports.
        TypeError: ``currency`` is not a str.
    """
    return MINIMUM_CHARGE.get(_normalise(currency))
