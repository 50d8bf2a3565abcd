"""Order totals the way Stripe Checkout computes them, in minor units."""

from decimal import Decimal

import pytest

from storefront.shop.pricing import TaxRule, compute_totals

VAT19_INCL = TaxRule(key="vat", percentage=Decimal("19"), inclusive=True)
VAT7_INCL = TaxRule(key="vat7", percentage=Decimal("7"), inclusive=True)
SALES8_EXCL = TaxRule(key="sales", percentage=Decimal("8"), inclusive=False)
STATE_6_25_EXCL = TaxRule(key="state", percentage=Decimal("6.25"), inclusive=False)


@pytest.mark.parametrize(
    ("case", "kwargs", "expected"),
    [
        (
            # 2 × 1999 = 3998; nothing else.
            "plain",
            {"lines": [(1999, 2)]},
            {"subtotal": 3998, "discount": 0, "tax": 0, "total": 3998},
        ),
        (
            # 3998 + 1250 = 5248; 10 % per line: 399.8 → 400, 125 → 125; discount 525;
            # 8 % on 3598 = 287.84 → 288, on 1125 = 90; tax 378; total 5248 − 525 + 378 = 5101.
            "percent off, exclusive tax",
            {
                "lines": [(1999, 2), (1250, 1)],
                "percent_off": Decimal("10"),
                "taxes": [SALES8_EXCL],
            },
            {"subtotal": 5248, "discount": 525, "tax": 378, "total": 5101},
        ),
        (
            # 2400 with 19 % inside: 2400 × 19 / 119 = 383.19 → 383; the total stays 2400.
            "inclusive tax",
            {"lines": [(2400, 1)], "taxes": [VAT19_INCL]},
            {"subtotal": 2400, "discount": 0, "tax": 383, "total": 2400},
        ),
        (
            # 1000 off 1000 + 2000 + 3001 = 6001, shared 1000 × w / 6001:
            # 166.64, 333.28, 500.08 → floors 166, 333, 500 (999), the 1 left to the
            # largest remainder (.64 → line 1): 167, 333, 500. Total 5001.
            "amount off spread over lines",
            {"lines": [(1000, 1), (2000, 1), (3001, 1)], "amount_off": 1000},
            {"subtotal": 6001, "discount": 1000, "tax": 0, "total": 5001},
        ),
        (
            # Zero-decimal: 1500 × 3 = 4500; 10 % = 450; 8 % of 4050 = 324; total 4374.
            "JPY",
            {"lines": [(1500, 3)], "percent_off": Decimal("10"), "taxes": [SALES8_EXCL]},
            {"subtotal": 4500, "discount": 450, "tax": 324, "total": 4374},
        ),
        (
            # 3800 − 500 = 3300; inclusive 19 %: 3300 × 19 / 119 = 526.89 → 527;
            # net 2773; exclusive 6.25 %: 173.31 → 173; tax 700; total 3300 + 173 = 3473.
            "inclusive and exclusive with an amount off",
            {
                "lines": [(3800, 1)],
                "amount_off": 500,
                "taxes": [VAT19_INCL, STATE_6_25_EXCL],
            },
            {"subtotal": 3800, "discount": 500, "tax": 700, "total": 3473},
        ),
        (
            # Two inclusive rates share the price: 2600 × 19 / 126 = 392.06 → 392;
            # 2600 × 7 / 126 = 144.44 → 144; total unchanged.
            "two inclusive rates",
            {"lines": [(2600, 1)], "taxes": [VAT19_INCL, VAT7_INCL]},
            {"subtotal": 2600, "discount": 0, "tax": 536, "total": 2600},
        ),
        (
            # An amount off larger than the order takes it to zero, never below.
            "amount off capped at the subtotal",
            {"lines": [(500, 1)], "amount_off": 900, "taxes": [SALES8_EXCL]},
            {"subtotal": 500, "discount": 500, "tax": 0, "total": 0},
        ),
        (
            # Half a minor unit rounds up: 12.5 % of 4 = 0.5 → 1.
            "half up",
            {
                "lines": [(4, 1)],
                "taxes": [TaxRule(key="t", percentage=Decimal("12.5"), inclusive=False)],
            },
            {"subtotal": 4, "discount": 0, "tax": 1, "total": 5},
        ),
    ],
)
def test_totals(case, kwargs, expected):
    totals = compute_totals(**kwargs)

    got = {
        "subtotal": totals.subtotal,
        "discount": totals.discount,
        "tax": totals.tax,
        "total": totals.total,
    }
    assert got == expected, case
    assert sum(line.total for line in totals.lines) == totals.total


def test_amount_off_shares_add_up_and_follow_the_weights():
    totals = compute_totals(lines=[(1000, 1), (2000, 1), (3001, 1)], amount_off=1000)

    assert [line.discount for line in totals.lines] == [167, 333, 500]


def test_tax_by_key_adds_lines_up():
    totals = compute_totals(lines=[(1000, 1), (1000, 1)], taxes=[SALES8_EXCL, VAT19_INCL])

    # Per line: inclusive 1000 × 19 / 119 = 159.66 → 160; net 840; 8 % → 67.2 → 67.
    assert totals.tax_by_key() == {"vat": 320, "sales": 134}
