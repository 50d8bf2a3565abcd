"""Fixtures of the Pay in parts tests: the rail on, no store configured, the sandbox bank."""

import pytest

RAILS = ["payments.stripe.rail.StripeRail", "payments.payparts.rail.PayPartsRail"]


@pytest.fixture(autouse=True)
def payparts(settings):
    """Whatever a developer's .env says: the sandbox bank, never PrivatBank."""
    settings.PAYMENT_RAILS = list(RAILS)
    settings.PAYPARTS_API_STORE_ID = ""
    settings.PAYPARTS_API_PASSWORD = ""
    settings.PAYPARTS_SANDBOX = True
    settings.PAYPARTS_PARTS_COUNT_MAX = 6
    settings.PAYPARTS_MERCHANT_TYPE = "PP"
    return settings
