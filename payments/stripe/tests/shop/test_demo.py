"""The demo data: loads once, and its orders cost the same on our page and at Checkout."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from payments.stripe.sandbox.tests.sandbox_tools import session_object
from storefront.models import Item, Order

pytestmark = pytest.mark.django_db


def total_on(page: str, element_id: str = "amount-total") -> str:
    return re.search(rf'id="{element_id}">([^<]+)<', page).group(1)


def test_load_demo_fills_an_empty_shop_once(capsys):
    call_command("load_demo")
    Item.objects.filter(pk=1).update(name="Renamed by the merchant")
    call_command("load_demo")

    assert Item.objects.filter(price_currency="USD").count() >= 1
    assert Item.objects.filter(price_currency="EUR").count() >= 1
    assert Item.objects.get(pk=1).name == "Renamed by the merchant"
    assert "demo data not loaded again" in capsys.readouterr().out


# USD: 2 × 19.99 + 12.50 = 52.48; 10 % per line: 4.00 + 1.25; sales tax 8.875 % per line on
# 35.98 and 11.25: 3.19 + 1.00; 52.48 − 5.25 + 4.19 = 51.42.
# EUR: 24.00 + 38.00 − 5.00 = 57.00, VAT included.
@pytest.mark.parametrize(
    ("order_id", "key", "total", "currency"),
    [(1, "demo-usd-order", "$51.42", "usd"), (2, "demo-eur-order", "€57.00", "eur")],
)
def test_demo_orders_show_the_same_total_everywhere(client, order_id, key, total, currency):
    call_command("load_demo")
    order = Order.objects.get(pk=order_id)
    assert order.discount is not None and order.taxes.exists()

    order_page = client.get(f"{order.get_absolute_url()}?key={key}").content.decode()
    session_id = client.get(reverse("storefront:order_pay_json", args=[order_id])).json()["id"]
    checkout_page = client.get(f"/sandbox/checkout/{session_id}/").content.decode()
    session = session_object(session_id).data

    assert total_on(order_page) == total
    assert total_on(checkout_page) == total
    assert session["currency"] == currency
    assert f"{session['amount_total']}" == re.sub(r"\D", "", total)
