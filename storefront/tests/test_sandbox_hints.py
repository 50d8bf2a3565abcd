"""The sandbox's hints sit beside the way of paying they are for: the test card only where a
card payment is offered, each sandbox bank's own hint on its own option."""

import pytest

from storefront.tests.factories import make_item, make_order
from storefront.tests.page_text import page_text

pytestmark = pytest.mark.django_db

CARD_HINT = "test card 4242 4242 4242 4242"


@pytest.fixture(autouse=True)
def every_rail_in_its_sandbox(settings):
    settings.PAYMENT_RAILS = [
        "payments.stripe.rail.StripeRail",
        "payments.bank_transfer.rail.BankTransferRail",
        "payments.payparts.rail.PayPartsRail",
    ]
    settings.BANK_TRANSFER_CURRENCY = "RUB"
    settings.BANK_WEBHOOK_SECRET = ""
    settings.BANK_SANDBOX = True
    settings.BANK_PAYEE = {}
    settings.PAYPARTS_API_STORE_ID = ""
    settings.PAYPARTS_API_PASSWORD = ""
    settings.PAYPARTS_SANDBOX = True


def order_page(client, currency, price):
    order = make_order((make_item(name="Thing", price=price, currency=currency), 1))
    return client.get(f"{order.get_absolute_url()}?key={order.access_key}").content.decode()


def test_a_card_order_says_which_test_card_pays(client):
    page = order_page(client, "USD", "19.99")

    assert "Sandbox mode." in page
    assert CARD_HINT in page
    assert 'data-rail="stripe"' in page


def test_a_bank_transfer_order_gives_the_sandbox_banks_hint_and_no_card(client):
    page = order_page(client, "RUB", "2500.00")

    assert 'id="pay-by-transfer"' in page
    assert "4242" not in page_text(page)
    assert "bank_sandbox transfer" in page


def test_a_pay_in_parts_order_gives_the_sandbox_banks_hint_and_no_card(client):
    page = order_page(client, "UAH", "1450.00")

    assert 'id="payparts-form"' in page
    assert "4242" not in page_text(page)
    assert "approve or decline the instalment plan" in page
