"""Project-wide test set-up: every test talks to the offline Stripe sandbox, never the network."""

import pytest


@pytest.fixture(autouse=True)
def stripe_sandbox(settings):
    """USD and EUR accounts without keys, the sandbox allowed: whatever a developer's .env says.

    Real keys in a local .env must never make a test reach Stripe.
    """
    settings.SHOP_CURRENCIES = ["EUR", "USD"]
    settings.STRIPE_ACCOUNTS = {
        code: {"secret_key": "", "publishable_key": "", "webhook_secret": ""}
        for code in settings.SHOP_CURRENCIES
    }
    settings.STRIPE_SANDBOX = True
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    return settings


@pytest.fixture
def offer_currency(settings):
    """Add a currency to the shop, on the sandbox: `offer_currency("JPY")`."""

    def offer(code: str) -> None:
        settings.SHOP_CURRENCIES = sorted({*settings.SHOP_CURRENCIES, code})
        settings.STRIPE_ACCOUNTS = {
            **settings.STRIPE_ACCOUNTS,
            code: {"secret_key": "", "publishable_key": "", "webhook_secret": ""},
        }

    return offer


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} ({database['NAME']})"
