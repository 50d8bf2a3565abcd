"""The amounts of a Checkout Session with a coupon and tax rates, computed as Stripe computes
them, and shown on the hosted checkout page."""

import re
from decimal import Decimal

import pytest

from payments.stripe.sandbox.pricing import RateTerms, checkout_amounts, spread
from payments.stripe.sandbox.tests.pricing_tools import (
    line,
    refused,
    session_params,
    vat,
)
from payments.stripe.sandbox.tests.sandbox_tools import stripe_example as example

pytestmark = pytest.mark.django_db


# --- Totals -------------------------------------------------------------------------------

# Each case: currency, lines as (unit_amount, quantity, names of the line's tax rates), the
# coupon (or None), the tax rates by name as (percentage, inclusive); then per line the expected
# (amount_discount, amount_tax, amount_total) and the session's
# (amount_subtotal, amount_discount, amount_tax, amount_total).
TOTALS_CASES = {
    "percent off, exclusive tax": (
        # line 1: 1999 × 2 = 3998; 10% = 399.8 → 400; base 3598; 8.25% = 296.835 → 297;
        #         total 3598 + 297 = 3895
        # line 2: 500; 10% = 50; base 450; 8.25% = 37.125 → 37; total 487
        # session: 4498 − 450 + 334 = 4382 (= 3895 + 487)
        "usd",
        [(1999, 2, ["sales"]), (500, 1, ["sales"])],
        {"percent_off": "10"},
        {"sales": ("8.25", False)},
        [(400, 297, 3895), (50, 37, 487)],
        (4498, 450, 334, 4382),
    ),
    "halves round up, not to even": (
        # 1005; 10% = 100.5 → 101 (not 100); base 904; 6.25% = 56.5 → 57 (not 56);
        # total 904 + 57 = 961
        "usd",
        [(1005, 1, ["city"])],
        {"percent_off": "10"},
        {"city": ("6.25", False)},
        [(101, 57, 961)],
        (1005, 101, 57, 961),
    ),
    "amount off spread over 3 lines": (
        # subtotals 1000, 2500, 333 (Σ 3833); d = 1000
        # floors: 1000·1000/3833 = 260 r 3420; 1000·2500/3833 = 652 r 884;
        #         1000·333/3833 = 86 r 3362; Σ 998, 2 left → largest remainders 3420, 3362
        # discounts 261, 652, 87 (Σ 1000); totals 739, 1848, 246; session 3833 − 1000 = 2833
        "eur",
        [(1000, 1, []), (1250, 2, []), (333, 1, [])],
        {"amount_off": 1000, "currency": "eur"},
        {},
        [(261, 0, 739), (652, 0, 1848), (87, 0, 246)],
        (3833, 1000, 0, 2833),
    ),
    "amount off, equal remainders go to the earlier lines": (
        # 500 over 1000, 1000, 1000: 166 r 2000 each, 2 left → lines 1 and 2 get one more
        "eur",
        [(1000, 1, []), (1000, 1, []), (1000, 1, [])],
        {"amount_off": 500, "currency": "eur"},
        {},
        [(167, 0, 833), (167, 0, 833), (166, 0, 834)],
        (3000, 500, 0, 2500),
    ),
    "inclusive tax": (
        # 2400 with 19% inclusive: 2400 · 19 / 119 = 383.19 → 383; total stays 2400
        "eur",
        [(2400, 1, ["vat"])],
        None,
        {"vat": ("19", True)},
        [(0, 383, 2400)],
        (2400, 0, 383, 2400),
    ),
    "inclusive and exclusive tax": (
        # 10000; VAT 19% incl: 10000 · 19 / 119 = 1596.64 → 1597; net 8403;
        # tourism 2.5% excl: 8403 · 2.5 / 100 = 210.075 → 210; tax 1597 + 210 = 1807;
        # total 10000 + 210 = 10210
        "eur",
        [(10000, 1, ["vat", "tourism"])],
        None,
        {"vat": ("19", True), "tourism": ("2.5", False)},
        [(0, 1807, 10210)],
        (10000, 0, 1807, 10210),
    ),
    "two inclusive rates share one divisor, after a discount": (
        # 5000; 20% off = 1000; base 4000; P_incl = 19 + 1.5 = 20.5
        # VAT 4000 · 19 / 120.5 = 630.71 → 631; levy 4000 · 1.5 / 120.5 = 49.79 → 50;
        # net 3319; tourism 2.5% = 82.975 → 83; tax 631 + 50 + 83 = 764; total 4000 + 83 = 4083
        "eur",
        [(5000, 1, ["vat", "levy", "tourism"])],
        {"percent_off": "20"},
        {"vat": ("19", True), "levy": ("1.5", True), "tourism": ("2.5", False)},
        [(1000, 764, 4083)],
        (5000, 1000, 764, 4083),
    ),
    "zero-decimal currency": (
        # JPY 1500 × 3 = 4500; 10% = 450; base 4050; 8% excl = 324; total 4374
        "jpy",
        [(1500, 3, ["jct"])],
        {"percent_off": "10"},
        {"jct": ("8", False)},
        [(450, 324, 4374)],
        (4500, 450, 324, 4374),
    ),
    "lines with and without tax": (
        # 1200: 5% off = 60, base 1140, 20% excl = 228, total 1368
        # 800 (no rate): 5% off = 40, total 760; session 2000 − 100 + 228 = 2128
        "usd",
        [(1200, 1, ["vat"]), (800, 1, [])],
        {"percent_off": "5"},
        {"vat": ("20", False)},
        [(60, 228, 1368), (40, 0, 760)],
        (2000, 100, 228, 2128),
    ),
}


@pytest.mark.parametrize(
    ("currency", "lines", "coupon", "rates", "expected_lines", "expected_session"),
    list(TOTALS_CASES.values()),
    ids=list(TOTALS_CASES),
)
def test_session_amounts_are_computed_as_stripe_does(
    usd, currency, lines, coupon, rates, expected_lines, expected_session
):
    rate_ids = {
        name: usd.v1.tax_rates.create(
            {"display_name": name, "percentage": percentage, "inclusive": inclusive}
        ).id
        for name, (percentage, inclusive) in rates.items()
    }
    coupon_id = usd.v1.coupons.create({"name": "Sale", **coupon}).id if coupon else None
    params = session_params(
        [
            line(currency, unit, quantity, [rate_ids[name] for name in names])
            for unit, quantity, names in lines
        ],
        coupon_id,
    )

    session = usd.v1.checkout.sessions.create({**params, "expand": ["line_items"]})

    totals = session.total_details
    assert (
        session.amount_subtotal,
        totals.amount_discount,
        totals.amount_tax,
        session.amount_total,
    ) == expected_session
    assert totals.amount_shipping == 0
    items = session.line_items.data
    assert [(i.amount_discount, i.amount_tax, i.amount_total) for i in items] == expected_lines
    assert sum(i.amount_total for i in items) == session.amount_total
    assert sum(i.amount_subtotal for i in items) == session.amount_subtotal
    assert sum(i.amount_discount for i in items) == totals.amount_discount
    assert sum(i.amount_tax for i in items) == totals.amount_tax


def test_pure_amounts_cap_an_amount_off_at_the_subtotal():
    # 1500 + 1500 = 3000 with 5000 off: d = min(5000, 3000) = 3000, 1500 each; tax on 0 is 0
    amounts = checkout_amounts(
        [(1500, [RateTerms(Decimal("20"), False)]), (1500, [])], amount_off=5000
    )

    assert [(a.discount, a.tax, a.total) for a in amounts] == [(1500, 0, 0), (1500, 0, 0)]


def test_spread_always_adds_up():
    for amount in range(0, 1001, 37):
        for weights in ([1, 1, 1], [999, 1, 0], [333, 333, 334], [7, 11, 13, 17]):
            assert sum(spread(amount, weights)) == amount
    assert spread(10, [0, 0]) == [0, 0]


def test_amount_off_larger_than_the_subtotal_leaves_nothing_to_charge(usd):
    # 3000 − min(5000, 3000) = 0, under Stripe's 0.50 USD minimum charge
    coupon = usd.v1.coupons.create({"amount_off": 5000, "currency": "usd"})

    error = refused(
        lambda: usd.v1.checkout.sessions.create(session_params([line("usd", 3000)], coupon.id))
    )

    assert error.code == "amount_too_small"
    assert "at least 0.50 USD" in error.user_message


def test_the_minimum_charge_applies_after_the_discount(usd):
    # 60 − 10% (6) = 54 passes; 55 − 10% (5.5 → 6) = 49 does not
    coupon = usd.v1.coupons.create({"percent_off": "10"})

    assert (
        usd.v1.checkout.sessions.create(session_params([line("usd", 60)], coupon.id)).amount_total
        == 54
    )
    error = refused(
        lambda: usd.v1.checkout.sessions.create(session_params([line("usd", 55)], coupon.id))
    )
    assert error.code == "amount_too_small"


def test_session_lists_its_coupon_and_lines_carry_discounts_and_taxes_on_request(usd):
    coupon = usd.v1.coupons.create({"name": "Spring sale", "percent_off": "10"})
    rate = vat(usd)
    params = session_params([line("eur", 2400, tax_rates=[rate.id])], coupon.id)

    session = usd.v1.checkout.sessions.create(params)
    plain = usd.v1.checkout.sessions.retrieve(session.id, {"expand": ["line_items"]})
    full = usd.v1.checkout.sessions.retrieve(
        session.id,
        {"expand": ["line_items", "line_items.data.discounts", "line_items.data.taxes"]},
    )
    listed = usd.v1.checkout.sessions.line_items.list(
        session.id, {"expand": ["data.taxes", "data.discounts"]}
    )

    assert [d.to_dict() for d in session.discounts] == [
        {"coupon": coupon.id, "promotion_code": None}
    ]
    assert "taxes" not in plain.line_items.data[0] and "discounts" not in plain.line_items.data[0]
    [item] = full.line_items.data
    assert item.to_dict() == listed.data[0].to_dict()
    # 2400 − 240 = 2160; VAT 2160 · 19 / 119 = 344.87 → 345, on a net of 1815
    [discount] = item.discounts
    assert discount.amount == 240
    assert discount.discount.source.to_dict() == {"coupon": coupon.id, "type": "coupon"}
    assert discount.discount.checkout_session == session.id
    [tax] = item.taxes
    assert (tax.amount, tax.taxable_amount, tax.taxability_reason) == (345, 1815, None)
    assert tax.rate.id == rate.id


def test_discounted_and_taxed_objects_keep_stripes_field_sets(usd):
    item_fixture, discount_fixture = example("item"), example("discount")
    rate_fixture = example("tax_rate")
    coupon = usd.v1.coupons.create({"percent_off": "10"})
    rate = vat(usd)
    session = usd.v1.checkout.sessions.create(
        session_params([line("eur", 2400, tax_rates=[rate.id])], coupon.id)
    )

    plain = usd.v1.checkout.sessions.line_items.list(session.id).data[0].to_dict()
    full = (
        usd.v1.checkout.sessions.line_items.list(
            session.id, {"expand": ["data.discounts", "data.taxes"]}
        )
        .data[0]
        .to_dict()
    )

    assert set(plain) == set(item_fixture)
    assert set(full) == set(item_fixture) | {"discounts", "taxes"}
    assert set(full["discounts"][0]) == {"amount", "discount"}
    assert set(full["discounts"][0]["discount"]) == set(discount_fixture)
    assert set(full["taxes"][0]) == {"amount", "rate", "taxability_reason", "taxable_amount"}
    assert set(full["taxes"][0]["rate"]) == set(rate_fixture)


# --- The hosted checkout page -------------------------------------------------------------


def test_checkout_page_shows_the_discount_taxes_and_the_same_total(client, eur):
    coupon = eur.v1.coupons.create({"name": "Spring sale", "percent_off": "10"})
    vat_rate = vat(eur)
    fee = eur.v1.tax_rates.create(
        {"display_name": "Eco fee", "percentage": "2.5", "inclusive": False}
    )
    session = eur.v1.checkout.sessions.create(
        session_params(
            [line("eur", 2400, tax_rates=[vat_rate.id, fee.id], name="Tote bag")], coupon.id
        )
    )
    # 2400 − 10% (240) = 2160; VAT 19% incl: 2160 · 19 / 119 = 344.87 → 345; net 1815;
    # eco fee 2.5%: 45.375 → 45; tax 390; total 2160 + 45 = 2205
    assert session.amount_total == 2205

    page = client.get(f"/sandbox/checkout/{session.id}/").content.decode()

    def row(row_id):
        match = re.search(rf'<tr id="{row_id}">(.*?)</tr>', page, re.S)
        assert match, row_id
        return re.sub(r"\s+", " ", match.group(1))

    assert "Spring sale (10% off)" in row("amount-discount")
    assert "−€2.40" in row("amount-discount")
    assert "VAT 19% (incl.)" in page and "€3.45" in page
    assert "Eco fee 2.5%" in page and "€0.45" in page
    assert "€3.90" in row("amount-tax")
    assert re.search(r'id="amount-total">€22.05<', page)
    assert "Pay €22.05" in page


def test_checkout_page_names_an_amount_off_coupon_by_its_amount(client, eur):
    coupon = eur.v1.coupons.create({"name": "Welcome", "amount_off": 500, "currency": "eur"})
    session = eur.v1.checkout.sessions.create(session_params([line("eur", 2400)], coupon.id))

    page = client.get(f"/sandbox/checkout/{session.id}/").content.decode()

    assert "Welcome (€5.00 off)" in page
    assert "−€5.00" in page
    assert 'id="amount-tax"' not in page
    assert re.search(r'id="amount-total">€19.00<', page)


def test_checkout_page_without_coupon_or_tax_has_no_such_rows(client, eur):
    session = eur.v1.checkout.sessions.create(session_params([line("eur", 2400)]))

    page = client.get(f"/sandbox/checkout/{session.id}/").content.decode()

    assert 'id="amount-discount"' not in page and 'id="amount-tax"' not in page
    assert re.search(r'id="amount-total">€24.00<', page)
