"""Coupons, tax rates and the amounts of a Checkout Session that uses them, as Stripe has them."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import stripe

from payments.stripe.sandbox.api import RateTerms, checkout_amounts, spread
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.params import Dec, ParamError

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "stripe" / "fixtures3.json"
GOOD_CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"}


def example(resource: str) -> dict:
    if not FIXTURES.is_file():
        pytest.skip(f"Stripe's example objects are not at {FIXTURES}")
    return json.loads(FIXTURES.read_text())["resources"][resource]


def line(currency, unit_amount, quantity=1, tax_rates=(), name="Thing"):
    item = {
        "price_data": {
            "currency": currency,
            "unit_amount": unit_amount,
            "product_data": {"name": name},
        },
        "quantity": quantity,
    }
    if tax_rates:
        item["tax_rates"] = list(tax_rates)
    return item


def session_params(lines, coupon=None, **overrides):
    params = {
        "mode": "payment",
        "line_items": lines,
        "success_url": "https://shop.example/success/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cancel/",
    }
    if coupon is not None:
        params["discounts"] = [{"coupon": coupon}]
    params.update(overrides)
    return params


def vat(client, percentage="19", inclusive=True, **extra):
    params = {"display_name": "VAT", "percentage": percentage, "inclusive": inclusive}
    return client.v1.tax_rates.create({**params, **extra})


def refused(call) -> stripe.InvalidRequestError:
    """Run a call Stripe would refuse; nothing new may be stored."""
    before = SandboxObject.objects.count()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    assert SandboxObject.objects.count() == before
    return caught.value


# --- Coupons ------------------------------------------------------------------------------


def test_percent_off_coupon_is_created_and_retrieved_like_stripe(usd):
    coupon = usd.v1.coupons.create(
        {"name": "Spring sale", "percent_off": "12.5", "metadata": {"campaign": "spring"}}
    )

    assert re.fullmatch(r"[A-Z0-9]{8}", coupon.id)
    assert coupon.object == "coupon"
    assert (coupon.percent_off, coupon.amount_off, coupon.currency) == (12.5, None, None)
    assert (coupon.duration, coupon.duration_in_months) == ("once", None)
    assert (coupon.valid, coupon.times_redeemed, coupon.livemode) == (True, 0, False)
    assert coupon.metadata.to_dict() == {"campaign": "spring"}
    assert usd.v1.coupons.retrieve(coupon.id).to_dict() == coupon.to_dict()


def test_amount_off_coupon_with_custom_id_and_repeating_duration(usd):
    coupon = usd.v1.coupons.create(
        {
            "id": "WELCOME 5",
            "name": "Welcome",
            "amount_off": 500,
            "currency": "usd",
            "duration": "repeating",
            "duration_in_months": 3,
            "max_redemptions": 10,
        }
    )

    assert (coupon.id, coupon.amount_off, coupon.currency) == ("WELCOME 5", 500, "usd")
    assert (coupon.duration, coupon.duration_in_months, coupon.max_redemptions) == (
        "repeating",
        3,
        10,
    )
    # The id goes into the URL quoted ("WELCOME+5"): the sandbox reads it back.
    assert usd.v1.coupons.retrieve("WELCOME 5").id == "WELCOME 5"


def test_coupon_has_every_field_of_stripes_own_example(usd):
    fixture = example("coupon")

    coupon = usd.v1.coupons.create({"percent_off": "25.5", "duration": "forever"}).to_dict()

    assert set(coupon) == set(fixture)
    for key, value in fixture.items():
        if value is not None and coupon[key] is not None:
            assert type(coupon[key]) is type(value), key


def test_percent_off_is_a_json_number_whole_or_not(usd):
    assert usd.v1.coupons.create({"percent_off": "10"}).percent_off == 10
    assert usd.v1.coupons.create({"percent_off": "33.33"}).percent_off == 33.33


def test_a_coupon_belongs_to_its_account(usd, eur):
    coupon = usd.v1.coupons.create({"percent_off": "10"})

    with pytest.raises(stripe.InvalidRequestError) as caught:
        eur.v1.coupons.retrieve(coupon.id)

    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    assert caught.value.user_message == f"No such coupon: '{coupon.id}'"


def test_two_accounts_may_use_the_same_custom_coupon_id(usd, eur):
    usd.v1.coupons.create({"id": "SPRING", "percent_off": "10"})
    eur.v1.coupons.create({"id": "SPRING", "percent_off": "20"})

    assert usd.v1.coupons.retrieve("SPRING").percent_off == 10
    assert eur.v1.coupons.retrieve("SPRING").percent_off == 20


def test_a_custom_coupon_id_is_used_once_per_account(usd):
    usd.v1.coupons.create({"id": "SPRING", "percent_off": "10"})

    error = refused(lambda: usd.v1.coupons.create({"id": "SPRING", "percent_off": "20"}))

    assert (error.http_status, error.code, error.param) == (400, "resource_already_exists", "id")


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"percent_off": "0"}, "percent_off", None),
        ({"percent_off": "101"}, "percent_off", None),
        ({"percent_off": "-5"}, "percent_off", None),
        ({"percent_off": "abc"}, "percent_off", None),
        ({"percent_off": "12.345"}, "percent_off", None),
        ({"percent_off": ""}, "percent_off", "parameter_invalid_empty"),
        (
            {"percent_off": "10", "amount_off": 500, "currency": "usd"},
            "amount_off",
            "parameters_exclusive",
        ),
        ({"name": "Nothing off"}, "percent_off", "parameter_missing"),
        ({"amount_off": 500}, "currency", "parameter_missing"),
        ({"amount_off": 0, "currency": "usd"}, "amount_off", None),
        ({"amount_off": "5.00", "currency": "usd"}, "amount_off", "parameter_invalid_integer"),
        ({"amount_off": 150, "currency": "isk"}, "amount_off", "amount_invalid"),
        ({"amount_off": 500, "currency": "USD"}, "currency", None),
        (
            {"percent_off": "10", "duration": "repeating"},
            "duration_in_months",
            "parameter_missing",
        ),
        ({"percent_off": "10", "duration_in_months": 3}, "duration_in_months", None),
        ({"percent_off": "10", "duration": "weekly"}, "duration", None),
        ({"percent_off": "10", "name": "x" * 41}, "name", "parameter_invalid_string_too_long"),
        ({"percent_off": "10", "redeem_by": 1}, "redeem_by", None),
        ({"percent_off": "10", "max_redemptions": 0}, "max_redemptions", None),
        (
            {"percent_off": "10", "applies_to": {"products": ["prod_1"]}},
            "applies_to",
            "parameter_unknown",
        ),
    ],
)
def test_coupons_stripe_would_refuse_are_refused(usd, params, param, code):
    error = refused(lambda: usd.v1.coupons.create(params))

    assert error.http_status == 400
    assert (error.param, error.code) == (param, code)


def test_invalid_decimal_messages_read_like_stripes(usd):
    not_a_number = refused(lambda: usd.v1.coupons.create({"percent_off": "abc"}))
    too_precise = refused(lambda: usd.v1.coupons.create({"percent_off": "23.0000"}))

    assert not_a_number.user_message == "Invalid decimal: abc"
    assert too_precise.user_message == (
        "Invalid decimal: 23.0000; must contain at maximum 2 decimal places."
    )


def test_unknown_coupon_is_404(usd):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        usd.v1.coupons.retrieve("NOPE")

    assert caught.value.http_status == 404
    assert caught.value.user_message == "No such coupon: 'NOPE'"


# --- Tax rates ----------------------------------------------------------------------------


def test_tax_rate_is_created_and_retrieved_like_stripe(usd):
    rate = usd.v1.tax_rates.create(
        {
            "display_name": "Sales tax",
            "percentage": "8.875",
            "inclusive": False,
            "country": "US",
            "state": "NY",
            "jurisdiction": "US - NY",
            "description": "New York City sales tax",
            "tax_type": "sales_tax",
        }
    )

    assert re.fullmatch(r"txr_[A-Za-z0-9]{24}", rate.id)
    assert (rate.object, rate.display_name, rate.percentage) == ("tax_rate", "Sales tax", 8.875)
    assert (rate.inclusive, rate.active, rate.livemode) == (False, True, False)
    assert (rate.country, rate.state, rate.jurisdiction, rate.tax_type) == (
        "US",
        "NY",
        "US - NY",
        "sales_tax",
    )
    assert (rate.effective_percentage, rate.flat_amount, rate.rate_type) == (
        None,
        None,
        "percentage",
    )
    assert usd.v1.tax_rates.retrieve(rate.id).to_dict() == rate.to_dict()


def test_tax_rate_has_every_field_of_stripes_own_example(usd):
    fixture = example("tax_rate")

    rate = vat(usd, country="DE", tax_type="vat").to_dict()

    assert set(rate) == set(fixture)
    assert rate["percentage"] == 19
    for key, value in fixture.items():
        if value is not None and rate[key] is not None:
            assert type(rate[key]) is type(value), key


def test_a_tax_rate_belongs_to_its_account(usd, eur):
    rate = vat(usd)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        eur.v1.tax_rates.retrieve(rate.id)

    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    assert caught.value.user_message == f"No such tax rate: '{rate.id}'"


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"percentage": "19", "inclusive": True}, "display_name", "parameter_missing"),
        ({"display_name": "VAT", "inclusive": True}, "percentage", "parameter_missing"),
        ({"display_name": "VAT", "percentage": "19"}, "inclusive", "parameter_missing"),
        ({"display_name": "VAT", "percentage": "100.5", "inclusive": True}, "percentage", None),
        ({"display_name": "VAT", "percentage": "-1", "inclusive": True}, "percentage", None),
        ({"display_name": "VAT", "percentage": "19.12345", "inclusive": True}, "percentage", None),
        ({"display_name": "VAT", "percentage": "nineteen", "inclusive": True}, "percentage", None),
        ({"display_name": "VAT", "percentage": "19", "inclusive": "yes"}, "inclusive", None),
        (
            {"display_name": "V" * 51, "percentage": "19", "inclusive": True},
            "display_name",
            "parameter_invalid_string_too_long",
        ),
        (
            {"display_name": "VAT", "percentage": "19", "inclusive": True, "tax_type": "tithe"},
            "tax_type",
            None,
        ),
        (
            {"display_name": "VAT", "percentage": "19", "inclusive": True, "country": "D1"},
            "country",
            None,
        ),
    ],
)
def test_tax_rates_stripe_would_refuse_are_refused(usd, params, param, code):
    error = refused(lambda: usd.v1.tax_rates.create(params))

    assert error.http_status == 400
    assert (error.param, error.code) == (param, code)


def test_zero_and_four_decimal_percentages_are_accepted(usd):
    assert vat(usd, percentage="0").percentage == 0
    assert vat(usd, percentage="7.6875").percentage == 7.6875


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


def test_discounts_coupon_can_be_expanded(usd):
    coupon = usd.v1.coupons.create({"name": "Spring sale", "percent_off": "10"})
    session = usd.v1.checkout.sessions.create(
        session_params([line("usd", 1000)], coupon.id, expand=["discounts.coupon"])
    )

    assert session.discounts[0].coupon.name == "Spring sale"


# --- Refusals -----------------------------------------------------------------------------


def test_unknown_coupon_is_refused(usd):
    error = refused(
        lambda: usd.v1.checkout.sessions.create(session_params([line("usd", 1000)], "NOPE"))
    )

    assert (error.http_status, error.code, error.param) == (
        400,
        "resource_missing",
        "discounts[0][coupon]",
    )
    assert error.user_message == "No such coupon: 'NOPE'"


def test_another_accounts_coupon_is_refused(usd, eur):
    coupon = eur.v1.coupons.create({"percent_off": "10"})

    error = refused(
        lambda: usd.v1.checkout.sessions.create(session_params([line("usd", 1000)], coupon.id))
    )

    assert (error.code, error.param) == ("resource_missing", "discounts[0][coupon]")
    assert error.user_message == f"No such coupon: '{coupon.id}'"


def test_promotion_codes_are_unknown_to_the_sandbox(usd):
    params = session_params([line("usd", 1000)], discounts=[{"promotion_code": "promo_1Abc"}])

    error = refused(lambda: usd.v1.checkout.sessions.create(params))

    assert (error.code, error.param) == ("resource_missing", "discounts[0][promotion_code]")
    assert error.user_message == "No such promotion code: 'promo_1Abc'"


@pytest.mark.parametrize(
    ("discounts", "param", "code"),
    [
        ([{"coupon": "A"}, {"coupon": "B"}], "discounts", None),
        ([{"coupon": "A", "promotion_code": "promo_1"}], "discounts[0]", "parameters_exclusive"),
    ],
)
def test_malformed_discounts_are_refused(usd, discounts, param, code):
    params = session_params([line("usd", 1000)], discounts=discounts)

    error = refused(lambda: usd.v1.checkout.sessions.create(params))

    assert (error.param, error.code) == (param, code)


def test_amount_off_coupon_in_another_currency_is_refused(usd):
    coupon = usd.v1.coupons.create({"amount_off": 500, "currency": "eur"})

    error = refused(
        lambda: usd.v1.checkout.sessions.create(session_params([line("usd", 1000)], coupon.id))
    )

    assert (error.http_status, error.param) == (400, "discounts[0][coupon]")
    assert "eur" in error.user_message and "usd" in error.user_message


def test_percent_off_coupon_works_in_any_currency(usd):
    coupon = usd.v1.coupons.create({"percent_off": "10", "currency": "eur"})

    session = usd.v1.checkout.sessions.create(session_params([line("jpy", 1000)], coupon.id))

    assert session.amount_total == 900


def test_coupon_past_redeem_by_is_refused(usd):
    coupon = usd.v1.coupons.create({"percent_off": "10"})
    stored = SandboxObject.objects.get(object="coupon")
    stored.data["redeem_by"] = 1
    stored.save()

    error = refused(
        lambda: usd.v1.checkout.sessions.create(session_params([line("usd", 1000)], coupon.id))
    )

    assert (error.code, error.param) == ("coupon_expired", "discounts[0][coupon]")
    assert usd.v1.coupons.retrieve(coupon.id).valid is False


def test_paying_redeems_the_coupon_until_max_redemptions(client, usd):
    coupon = usd.v1.coupons.create({"percent_off": "10", "max_redemptions": 1})
    session = usd.v1.checkout.sessions.create(session_params([line("usd", 1000)], coupon.id))

    response = client.post(f"/sandbox/checkout/{session.id}/", GOOD_CARD)

    assert response.status_code == 302
    redeemed = usd.v1.coupons.retrieve(coupon.id)
    assert (redeemed.times_redeemed, redeemed.valid) == (1, False)
    error = refused(
        lambda: usd.v1.checkout.sessions.create(session_params([line("usd", 1000)], coupon.id))
    )
    assert error.code == "coupon_expired"


def test_unknown_tax_rate_is_refused(usd):
    rate = vat(usd)
    params = session_params(
        [line("usd", 1000, tax_rates=[rate.id]), line("usd", 1000, tax_rates=[rate.id, "txr_x"])]
    )

    error = refused(lambda: usd.v1.checkout.sessions.create(params))

    assert (error.http_status, error.code, error.param) == (
        400,
        "resource_missing",
        "line_items[1][tax_rates][1]",
    )
    assert error.user_message == "No such tax rate: 'txr_x'"


def test_another_accounts_tax_rate_is_refused(usd, eur):
    rate = vat(eur)

    error = refused(
        lambda: usd.v1.checkout.sessions.create(
            session_params([line("usd", 1000, tax_rates=[rate.id])])
        )
    )

    assert (error.code, error.param) == ("resource_missing", "line_items[0][tax_rates][0]")
    assert error.user_message == f"No such tax rate: '{rate.id}'"


def test_inactive_tax_rate_is_refused(usd):
    rate = vat(usd, active=False)

    error = refused(
        lambda: usd.v1.checkout.sessions.create(
            session_params([line("usd", 1000, tax_rates=[rate.id])])
        )
    )

    assert (error.http_status, error.param) == (400, "line_items[0][tax_rates][0]")
    assert "inactive" in error.user_message


def test_more_than_five_tax_rates_on_a_line_are_refused(usd):
    rates = [vat(usd, percentage="1").id for _ in range(6)]

    error = refused(
        lambda: usd.v1.checkout.sessions.create(
            session_params([line("usd", 1000, tax_rates=rates)])
        )
    )

    assert error.param == "line_items[0][tax_rates]"


# --- Decimal parameters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10", Decimal("10")), ("12.50", Decimal("12.50")), (".5", Decimal("0.5"))],
)
def test_dec_reads_decimal_strings_exactly(text, expected):
    assert Dec(0, 100, places=2).parse(text, "p") == expected


@pytest.mark.parametrize("text", ["1e2", "12.", "0x10", "NaN", "Infinity", " 12", "1,5"])
def test_dec_refuses_what_is_not_a_plain_decimal(text):
    with pytest.raises(ParamError) as caught:
        Dec(0, 100, places=2).parse(text, "p")

    assert (caught.value.param, caught.value.message) == ("p", f"Invalid decimal: {text}")


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
