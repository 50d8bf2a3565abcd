"""What a browser remembers of its buy-now orders: a signed cookie (`orders`), never a
`django_session` row; the same browser's next click pays the same order and session."""

import json

import pytest
from django.contrib.sessions.models import Session
from django.core import signing
from django.test import Client
from django.urls import reverse

from payments.stripe.sandbox.tests.sandbox_tools import requests_of
from storefront.models import Order
from storefront.shop.access import ORDERS_COOKIE
from storefront.tests.factories import make_item, make_tax

pytestmark = pytest.mark.django_db


def buy(client, item) -> dict:
    response = client.get(f"/buy/{item.pk}")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_new_browsers_buy_writes_no_session_row():
    make_tax(percentage="8", currency="USD", applies_to_new_orders=True)
    item = make_item(price="19.99", currency="USD")

    for _ in range(5):
        browser = Client()  # no cookie at all
        response = browser.get(f"/buy/{item.pk}")
        assert response.status_code == 200
        assert ORDERS_COOKIE in response.cookies
        assert "sessionid" not in response.cookies

    assert not Session.objects.exists()
    assert Order.objects.count() == 5


def test_the_same_browser_buying_again_gets_the_same_session_and_no_session_row(client):
    item = make_item(price="19.99", currency="USD")

    ids = {buy(client, item)["id"] for _ in range(3)}

    assert len(ids) == 1
    assert Order.objects.count() == 1
    assert requests_of("USD").filter(path="/v1/checkout/sessions").count() == 1
    assert not Session.objects.exists()


def test_the_cookie_is_httponly_lax_and_kept_as_long_as_a_session(client, settings):
    settings.SESSION_COOKIE_SECURE = True
    item = make_item(price="19.99", currency="USD")

    cookie = client.get(f"/buy/{item.pk}", secure=True).cookies[ORDERS_COOKIE]

    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"] == "Lax"  # sent when Stripe's page sends the buyer back
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE


def test_the_browser_that_bought_sees_and_pays_its_order_and_no_one_else_does(client):
    item = make_item(price="19.99", currency="USD")
    session_id = buy(client, item)["id"]
    order = Order.objects.get()

    assert client.get(reverse("storefront:order", args=[order.pk])).status_code == 200
    again = client.get(reverse("storefront:order_pay_json", args=[order.pk])).json()
    assert again["id"] == session_id
    stranger = Client()
    assert stranger.get(reverse("storefront:order", args=[order.pk])).status_code == 404
    assert stranger.get(reverse("storefront:order_pay_json", args=[order.pk])).status_code == 404


def test_a_forged_or_foreign_orders_cookie_is_worthless(client):
    item = make_item(price="19.99", currency="USD")
    theirs = Client()
    buy(theirs, item)
    order = Order.objects.get()
    forged = json.dumps({"made": [order.pk], "buy_now": {str(item.pk): order.pk}})
    other_salt = signing.dumps(json.loads(forged), salt="storefront.access.shared-orders")

    for value in (forged, other_salt, theirs.cookies[ORDERS_COOKIE].value[:-2] + "xx"):
        client.cookies[ORDERS_COOKIE] = value
        assert client.get(reverse("storefront:order", args=[order.pk])).status_code == 404

    client.cookies[ORDERS_COOKIE] = forged
    buy(client, item)
    assert Order.objects.count() == 2  # a new order, not theirs


def test_a_session_an_earlier_release_gave_order_ids_still_sees_them(client):
    """Buyers in the middle of paying while the release changes keep their orders."""
    item = make_item(price="19.99", currency="USD")
    buy(Client(), item)
    order = Order.objects.get()
    session = client.session
    session["order_ids"] = [order.pk]
    session.save()

    assert client.get(reverse("storefront:order", args=[order.pk])).status_code == 200


def test_the_browser_remembers_its_buy_now_orders_of_the_last_twenty_items(client):
    items = [make_item(price="1.00", currency="USD") for _ in range(21)]
    for item in items:
        buy(client, item)

    buy(client, items[-1])
    assert Order.objects.count() == 21  # the last item's order reused
    buy(client, items[0])
    assert Order.objects.count() == 22  # the first fell out of the last twenty
