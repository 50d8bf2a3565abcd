"""Tests for currencies.minor_units: Stripe's integer minor units, exactly.

Pure Python; runs without Django:
``python -m pytest -p no:django currencies/tests/test_minor_units.py``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from currencies.minor_units import (
    MINIMUM_CHARGE,
    STRIPE_CURRENCIES,
    THREE_DECIMAL,
    WHOLE_UNIT_PAYOUTS,
    WHOLE_UNITS_ONLY,
    ZERO_DECIMAL,
    CurrencyError,
    check_minor_amount,
    from_minor_units,
    minimum_charge,
    minor_unit_exponent,
    to_minor_units,
)

ALL_CURRENCIES = sorted(STRIPE_CURRENCIES)

# One representative per rule class, used by the loops below.
TWO_DECIMAL_PLAIN = "USD"
REPRESENTATIVES = ["USD", "EUR", "JPY", "MGA", "KWD", "BHD", "ISK", "UGX", "HUF", "TWD"]


# --- Every supported currency ------------------------------------------------------------


@pytest.mark.parametrize("currency", ALL_CURRENCIES)
def test_twelve_units_in_every_currency(currency: str) -> None:
    exponent = minor_unit_exponent(currency)
    minor = to_minor_units(Decimal(12), currency)
    assert minor == 12 * 10**exponent
    assert to_minor_units(12, currency) == minor
    back = from_minor_units(minor, currency)
    assert back == Decimal(12)
    assert back.as_tuple().exponent == -exponent  # carries exactly the currency's decimals


@pytest.mark.parametrize("currency", ALL_CURRENCIES)
def test_lower_and_mixed_case_codes_work(currency: str) -> None:
    assert minor_unit_exponent(currency.lower()) == minor_unit_exponent(currency)
    assert to_minor_units(Decimal(12), currency.lower()) == to_minor_units(Decimal(12), currency)
    assert from_minor_units(1200, currency.capitalize()) == from_minor_units(1200, currency)
    check_minor_amount(1200, currency.lower())


@pytest.mark.parametrize("currency", ALL_CURRENCIES)
def test_exponent_is_one_of_stripes_three(currency: str) -> None:
    assert minor_unit_exponent(currency) in (0, 2, 3)


# --- The documented examples, pinned exactly ----------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal(1500), "JPY", 1500),
        (Decimal("19.99"), "USD", 1999),
        (Decimal("5.120"), "KWD", 5120),
        (Decimal("5.12"), "KWD", 5120),
        (Decimal(24), "EUR", 2400),
        (24, "EUR", 2400),
        (Decimal(1000), "ISK", 100000),
        (Decimal("19.990"), "USD", 1999),  # trailing zeros are not extra precision
        (Decimal("1E+3"), "JPY", 1000),  # positive exponent in the Decimal itself
        (Decimal(0), "USD", 0),
        (Decimal("-0.00"), "USD", 0),
        (Decimal("0.01"), "USD", 1),
        (Decimal("-19.99"), "USD", -1999),  # refunds: sign is the caller's business
        (Decimal("-5.120"), "KWD", -5120),
        (Decimal("12345678901234567890123456789012.34"), "USD", 1234567890123456789012345678901234),
    ],
)
def test_to_minor_units_examples(amount: Decimal | int, currency: str, minor: int) -> None:
    result = to_minor_units(amount, currency)
    assert result == minor
    assert type(result) is int


@pytest.mark.parametrize(
    ("minor", "currency", "expected"),
    [
        (1999, "USD", "19.99"),
        (1500, "JPY", "1500"),
        (5120, "KWD", "5.120"),
        (2400, "EUR", "24.00"),
        (100000, "ISK", "1000.00"),
        (0, "USD", "0.00"),
        (0, "JPY", "0"),
        (-1999, "USD", "-19.99"),
        (1, "BHD", "0.001"),
    ],
)
def test_from_minor_units_examples(minor: int, currency: str, expected: str) -> None:
    result = from_minor_units(minor, currency)
    # Compare the string too: Decimal("19.9900") == Decimal("19.99") would hide a wrong scale.
    assert str(result) == expected
    assert result == Decimal(expected)


# --- Stripe's special cases (docs.stripe.com/currencies#special-cases) ------------------


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        # Documented: two-decimal in the API although ISO 4217 says zero; whole units only.
        ("ISK", 2),
        ("UGX", 2),
        # Documented: two-decimal for charges; only payouts are whole-unit.
        ("HUF", 2),
        ("TWD", 2),
        # Zero-decimal at Stripe although ISO 4217 gives MGA two decimals.
        ("MGA", 0),
        ("JPY", 0),
        ("KRW", 0),
        ("KWD", 3),
        ("TND", 3),
        ("USD", 2),
    ],
)
def test_special_case_exponents(currency: str, exponent: int) -> None:
    assert minor_unit_exponent(currency) == exponent


def test_isk_five_kronur_is_sent_as_500() -> None:
    # Stripe's own example for ISK and for UGX: 5 units -> amount 500.
    assert to_minor_units(Decimal(5), "ISK") == 500
    assert to_minor_units(Decimal("5.00"), "ISK") == 500


def test_ugx_five_shillings_is_sent_as_500() -> None:
    # Listed among Stripe's zero-decimal currencies, but the special-cases table (and the
    # API) require the two-decimal form; sending 5 would charge 0.05 UGX.
    assert to_minor_units(Decimal(5), "UGX") == 500
    assert to_minor_units(Decimal(2000), "UGX") == 200000
    assert "UGX" not in ZERO_DECIMAL


@pytest.mark.parametrize("currency", ["ISK", "UGX"])
@pytest.mark.parametrize("amount", [Decimal("10.50"), Decimal("10.5"), Decimal("0.01")])
def test_whole_units_only_refuses_fractions(currency: str, amount: Decimal) -> None:
    with pytest.raises(CurrencyError, match=rf"^{currency} .*multiple of 1\.00 \(got "):
        to_minor_units(amount, currency)


@pytest.mark.parametrize("currency", ["ISK", "UGX"])
@pytest.mark.parametrize("minor", [1050, 1, 99, -50])
def test_whole_units_only_minor_check(currency: str, minor: int) -> None:
    with pytest.raises(CurrencyError):
        check_minor_amount(minor, currency)


@pytest.mark.parametrize("currency", ["ISK", "UGX"])
def test_whole_units_only_reads_legacy_fractions(currency: str) -> None:
    # Fractional ISK charges predate April 2023; reading them back must still work.
    assert from_minor_units(4010, currency) == Decimal("40.10")


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("10.45"), "HUF", 1045),  # Stripe's own payout example, as a charge
        (Decimal("800.45"), "TWD", 80045),
        (Decimal("175.00"), "HUF", 17500),
    ],
)
def test_huf_and_twd_charge_fractions_are_allowed(
    amount: Decimal, currency: str, minor: int
) -> None:
    # The divisible-by-100 rule is for manual payouts only; charges are two-decimal.
    assert to_minor_units(amount, currency) == minor
    check_minor_amount(minor, currency)


@pytest.mark.parametrize(
    ("amount", "minor"),
    [(Decimal(1500), 1500), (Decimal(1), 1), (Decimal("1500.0"), 1500)],
)
def test_mga_is_zero_decimal(amount: Decimal, minor: int) -> None:
    assert to_minor_units(amount, "MGA") == minor


def test_mga_fraction_is_refused() -> None:
    with pytest.raises(CurrencyError, match=r"^MGA .*multiple of 1 \(got 1500\.2\)$"):
        to_minor_units(Decimal("1500.2"), "MGA")


# --- Three-decimal currencies --------------------------------------------------------------


def test_kwd_last_digit_must_be_zero_message() -> None:
    with pytest.raises(CurrencyError) as info:
        to_minor_units(Decimal("5.125"), "KWD")
    assert str(info.value) == "KWD amounts sent to Stripe must be a multiple of 0.010 (got 5.125)"


@pytest.mark.parametrize("currency", sorted(THREE_DECIMAL))
@pytest.mark.parametrize("amount", [Decimal("5.125"), Decimal("0.001"), Decimal("-5.125")])
def test_three_decimal_last_digit_refused(currency: str, amount: Decimal) -> None:
    with pytest.raises(CurrencyError, match=r"multiple of 0\.010"):
        to_minor_units(amount, currency)


@pytest.mark.parametrize("currency", sorted(THREE_DECIMAL))
def test_three_decimal_minor_check(currency: str) -> None:
    check_minor_amount(5120, currency)
    check_minor_amount(-5120, currency)
    with pytest.raises(CurrencyError):
        check_minor_amount(5125, currency)
    with pytest.raises(CurrencyError):
        check_minor_amount(-5125, currency)


# --- Refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "step"),
    [
        (Decimal("19.999"), "USD", "0.01"),
        (Decimal("0.001"), "EUR", "0.01"),
        (Decimal("1500.5"), "JPY", "1"),
        (Decimal("0.1"), "KRW", "1"),
        (Decimal("5.1234"), "KWD", "0.010"),
        (Decimal("1E-30"), "USD", "0.01"),
    ],
)
def test_too_much_precision_is_refused_not_rounded(
    amount: Decimal, currency: str, step: str
) -> None:
    with pytest.raises(CurrencyError) as info:
        to_minor_units(amount, currency)
    message = f"{currency} amounts sent to Stripe must be a multiple of {step} (got {amount})"
    assert str(info.value) == message


@pytest.mark.parametrize("amount", [19.99, 1500.0, 0.0, float("nan"), float("inf")])
def test_float_is_a_type_error(amount: float) -> None:
    with pytest.raises(TypeError, match="binary floats"):
        to_minor_units(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["19.99", True, False, None, b"1", [1]])
def test_other_amount_types_are_type_errors(amount: object) -> None:
    with pytest.raises(TypeError):
        to_minor_units(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "amount",
    [Decimal("NaN"), Decimal("-NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")],
)
@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD"])
def test_non_finite_is_refused(amount: Decimal, currency: str) -> None:
    with pytest.raises(CurrencyError, match="finite"):
        to_minor_units(amount, currency)


@pytest.mark.parametrize("currency", ["XXX", "ABC", "xxx", "", "US", "USDD", " usd", "HRK"])
def test_unknown_currency_is_refused_everywhere(currency: str) -> None:
    with pytest.raises(CurrencyError):
        minor_unit_exponent(currency)
    with pytest.raises(CurrencyError):
        to_minor_units(Decimal(1), currency)
    with pytest.raises(CurrencyError):
        from_minor_units(100, currency)
    with pytest.raises(CurrencyError):
        check_minor_amount(100, currency)
    with pytest.raises(CurrencyError):
        minimum_charge(currency)


def test_currency_error_is_a_value_error() -> None:
    assert issubclass(CurrencyError, ValueError)


@pytest.mark.parametrize("currency", [None, 840, b"usd"])
def test_non_string_currency_is_a_type_error(currency: object) -> None:
    with pytest.raises(TypeError):
        minor_unit_exponent(currency)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [True, False, 19.99, Decimal(1999), "1999", None])
def test_from_minor_units_wants_an_int(amount: object) -> None:
    with pytest.raises(TypeError):
        from_minor_units(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [True, 19.99, Decimal(1999), "1999"])
def test_check_minor_amount_wants_an_int(amount: object) -> None:
    with pytest.raises(TypeError):
        check_minor_amount(amount, "USD")  # type: ignore[arg-type]


# --- Minimum charges -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "minimum"),
    [
        ("USD", 50),
        ("usd", 50),
        ("EUR", 50),
        ("GBP", 30),
        ("JPY", 50),
        ("KRW", 50),
        ("HUF", 17500),
        ("MXN", 1000),
        ("THB", 1000),
        ("CZK", 1500),
        ("HKD", 400),
    ],
)
def test_documented_minimums(currency: str, minimum: int) -> None:
    assert minimum_charge(currency) == minimum


@pytest.mark.parametrize("currency", ["KWD", "ISK", "UGX", "XOF", "VND"])
def test_undocumented_minimum_is_none(currency: str) -> None:
    assert minimum_charge(currency) is None


# --- Table consistency ---------------------------------------------------------------------


def test_table_sizes() -> None:
    assert 130 <= len(STRIPE_CURRENCIES) <= 145  # Stripe advertises "135+" currencies
    assert len(ZERO_DECIMAL) == 15  # Stripe's list of 16, minus UGX (see module notes)
    assert {"BHD", "JOD", "KWD", "OMR", "TND"} == THREE_DECIMAL


def test_codes_are_upper_case_iso_shaped() -> None:
    for table in (STRIPE_CURRENCIES, ZERO_DECIMAL, THREE_DECIMAL, WHOLE_UNITS_ONLY):
        for code in table:
            assert len(code) == 3
            assert code.isascii()
            assert code.isalpha()
            assert code.isupper()


def test_rule_tables_are_supported_and_disjoint() -> None:
    rule_tables = [ZERO_DECIMAL, THREE_DECIMAL, WHOLE_UNITS_ONLY, WHOLE_UNIT_PAYOUTS]
    for table in rule_tables:
        assert table <= STRIPE_CURRENCIES
    for i, first in enumerate(rule_tables):
        for second in rule_tables[i + 1 :]:
            assert not first & second


@pytest.mark.parametrize(("currency", "minimum"), sorted(MINIMUM_CHARGE.items()))
def test_minimums_are_supported_and_valid(currency: str, minimum: int) -> None:
    assert currency in STRIPE_CURRENCIES
    assert currency.isupper()
    assert minimum > 0
    check_minor_amount(minimum, currency)
    # And the conversion agrees with itself on the documented figure.
    assert to_minor_units(from_minor_units(minimum, currency), currency) == minimum


# --- Round-trip property, by exponent class --------------------------------------------------

# Hand-picked edges plus a dense low range; no hypothesis needed.
_EDGES = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 99_999_999, 999_999_999_999, 10**30]
MINOR_SAMPLE = sorted({*range(2001), *_EDGES, *(-m for m in _EDGES)})


@pytest.mark.parametrize("currency", REPRESENTATIVES)
def test_round_trip_over_many_amounts(currency: str) -> None:
    code = currency.upper()
    step = 10 if code in THREE_DECIMAL else 100 if code in WHOLE_UNITS_ONLY else 1
    checked = 0
    for minor in MINOR_SAMPLE:
        major = from_minor_units(minor, currency)
        if minor % step:
            # Off Stripe's grid: readable, but never sent back.
            with pytest.raises(CurrencyError):
                check_minor_amount(minor, currency)
            with pytest.raises(CurrencyError):
                to_minor_units(major, currency)
        else:
            check_minor_amount(minor, currency)
            assert to_minor_units(major, currency) == minor
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("currency", REPRESENTATIVES)
def test_one_minor_unit_finer_is_always_refused(currency: str) -> None:
    exponent = minor_unit_exponent(currency)
    finer = Decimal(1).scaleb(-(exponent + 1))  # 0.001 USD, 0.1 JPY, 0.0001 KWD
    for whole in (Decimal(0), Decimal(7), Decimal(-7), Decimal(123456)):
        with pytest.raises(CurrencyError):
            to_minor_units(whole + finer, currency)
