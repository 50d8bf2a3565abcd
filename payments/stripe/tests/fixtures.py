"""Fixtures every app's tests share about Stripe, registered through the root conftest's
`pytest_plugins`: every test talks to the offline sandbox (never the network), a currency can be
added to the shop on the sandbox, and `pay_order` pays an order the way a buyer pays it on the
shop's default rail (Stripe, in its sandbox)."""

import pytest


@pytest.fixture(autouse=True)
def stripe_sandbox(settings):
    """USD and EUR accounts without keys, the sandbox allowed: whatever a developer's .env says.

    Real keys in a local .env must never make a test reach Stripe. The tax rates and coupons
    an earlier test's sandbox made are forgotten with it.
    """
    from payments.stripe.references import known_forget

    known_forget()
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


@pytest.fixture
def pay_order():
    """`pay_order(order)` pays `order` in one sandbox checkout, as a buyer would, and confirms it
    as the return page does; returns the payment (the order is refreshed: paid)."""
    from payments.stripe.tests.checkout_tools import order_paid
    from storefront.models import Order

    def pay(order):
        payment = order_paid(order)
        assert order.status == Order.Status.PAID, payment.attention_note
        return payment

    return pay
