"""Building coupons, tax rates and the Checkout Sessions that use them, for the sandbox's tests."""

import pytest
import stripe

from payments.stripe.sandbox.models import SandboxObject

GOOD_CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"}


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
