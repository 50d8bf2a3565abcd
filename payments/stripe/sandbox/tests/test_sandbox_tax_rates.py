"""Tax rates as Stripe has them, and as a Checkout Session's lines use them (`tax_rates`)."""

import re
from decimal import Decimal

import pytest
import stripe

from payments.stripe.sandbox.params import Dec, ParamError
from payments.stripe.sandbox.tests.pricing_tools import (
    line,
    refused,
    session_params,
    vat,
)
from payments.stripe.sandbox.tests.sandbox_tools import stripe_example as example

pytestmark = pytest.mark.django_db


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


# --- On a Checkout Session ---------------------------------------------------------------


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
