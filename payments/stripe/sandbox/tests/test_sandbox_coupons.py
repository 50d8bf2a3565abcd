"""Coupons as Stripe has them, and as a Checkout Session uses them (`discounts`)."""

import re

import pytest
import stripe

from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.pricing_tools import (
    GOOD_CARD,
    line,
    refused,
    session_params,
)
from payments.stripe.sandbox.tests.sandbox_tools import stripe_example as example

pytestmark = pytest.mark.django_db


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


# --- On a Checkout Session ---------------------------------------------------------------


def test_discounts_coupon_can_be_expanded(usd):
    coupon = usd.v1.coupons.create({"name": "Spring sale", "percent_off": "10"})
    session = usd.v1.checkout.sessions.create(
        session_params([line("usd", 1000)], coupon.id, expand=["discounts.coupon"])
    )

    assert session.discounts[0].coupon.name == "Spring sale"


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
