"""The admin's currency menus list the currencies the shop sells in, not all of Stripe's."""

import re

import pytest
from django.urls import reverse

from storefront.tests.factories import make_item, make_order

pytestmark = pytest.mark.django_db

OFFERED = ["EUR", "RUB", "UAH", "USD"]  # the tests' Stripe accounts, and the two rails' own


def menu(html: str, name: str) -> list[str]:
    """The option values of the <select name=`name`> on a page."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name!r}"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


@pytest.fixture(autouse=True)
def rails(settings):
    settings.PAYMENT_RAILS = [
        "payments.stripe.rail.StripeRail",
        "payments.bank_transfer.rail.BankTransferRail",
        "payments.payparts.rail.PayPartsRail",
    ]


def test_an_open_orders_currency_menu_offers_the_shops_currencies(admin_client):
    order = make_order((make_item(price="19.99", currency="USD"), 1))

    html = admin_client.get(reverse("admin:storefront_order_change", args=[order.pk])).content
    add = admin_client.get(reverse("admin:storefront_order_add")).content

    for page in (html, add):
        assert [code for code in menu(page.decode(), "currency") if code] == OFFERED


def test_item_discount_and_tax_menus_offer_the_shops_currencies(admin_client):
    item = admin_client.get(reverse("admin:storefront_item_add")).content.decode()
    discount = admin_client.get(reverse("admin:storefront_discount_add")).content.decode()
    tax = admin_client.get(reverse("admin:storefront_tax_add")).content.decode()

    assert menu(item, "price_1") == OFFERED
    assert [code for code in menu(discount, "amount_off_1") if code] == OFFERED
    assert menu(tax, "currency") == ["", *OFFERED]  # a tax may be for every currency


def test_a_row_in_a_currency_no_longer_offered_keeps_it_among_the_choices(
    admin_client, settings, offer_currency
):
    offer_currency("JPY")
    order = make_order((make_item(price="500", currency="JPY"), 1))
    settings.SHOP_CURRENCIES = ["EUR", "USD"]  # JPY is no longer sold
    url = reverse("admin:storefront_order_change", args=[order.pk])

    html = admin_client.get(url).content.decode()

    assert [code for code in menu(html, "currency") if code] == sorted([*OFFERED, "JPY"])


def test_a_currency_the_shop_does_not_sell_is_refused(admin_client):
    url = reverse("admin:storefront_tax_add")
    data = {"display_name": "VAT", "percentage": "20", "currency": "JPY", "jurisdiction": "X"}

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "Select a valid choice. JPY is not one of the available choices." in (
        response.content.decode()
    )
