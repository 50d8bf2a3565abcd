"""The pages Checkout returns the buyer to say what happened, as Stripe tells it."""

import pytest
from django.test import Client
from django.urls import reverse

from payments.stripe.sandbox.cards import Card
from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
from storefront.models import Order, OrderLine
from storefront.tests.backoffice_tools import pdf_text
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db

CARD = Card(number="4242424242424242", exp_month=12, exp_year=2040, cvc="123")


def start(client, item):
    return client.get(f"/buy/{item.pk}").json()["id"]


def test_paid_session_shows_thanks_with_amount_and_item(client):
    item = make_item(name="Tote bag", price="24.00", currency="EUR")
    session_id = start(client, item)
    checkout_session_pay(session_id=session_id, card=CARD, email="buyer@example.com")

    page = client.get(f"/success/?session_id={session_id}&currency=eur").content.decode()

    assert "your payment went through" in page
    assert "€24.00" in page and "Tote bag" in page


def test_unpaid_session_is_not_called_a_success(client):
    item = make_item(currency="USD")
    session_id = start(client, item)

    page = client.get(f"/success/?session_id={session_id}&currency=usd").content.decode()

    assert "not complete yet" in page
    assert "went through" not in page


def test_session_of_another_account_is_not_found(client):
    item = make_item(currency="EUR")
    session_id = start(client, item)

    # The query string says USD, so the USD account is asked, and it has no such session.
    response = client.get(f"/success/?session_id={session_id}&currency=usd")

    assert response.status_code == 404
    assert "We could not find this payment." in response.content.decode()


@pytest.mark.parametrize(
    "query", ["", "?session_id=", "?session_id=abc&currency=usd", "?session_id=cs_test_x"]
)
def test_success_without_a_session_is_a_400_in_words(client, query):
    response = client.get(f"/success/{query}")

    assert response.status_code == 400
    assert "does not point to a payment" in response.content.decode()


def test_success_for_an_unknown_currency_is_a_503_in_words(client):
    response = client.get("/success/?session_id=cs_test_abc&currency=xyz")

    assert response.status_code == 503
    assert "Payments in XYZ are not available" in response.content.decode()


def test_success_page_marks_the_order_paid_once(client):
    item = make_item(price="24.00", currency="EUR")
    session_id = start(client, item)
    checkout_session_pay(session_id=session_id, card=CARD, email="")
    url = f"/success/?session_id={session_id}&currency=eur"

    client.get(url)
    order = Order.objects.get()
    first_paid_at = order.paid_at
    client.get(url)
    order.refresh_from_db()

    assert order.status == Order.Status.PAID
    assert order.paid_at == first_paid_at


def test_unpaid_session_does_not_pay_the_order(client):
    session_id = start(client, make_item())

    client.get(f"/success/?session_id={session_id}&currency=usd")

    assert Order.objects.get().status == Order.Status.OPEN


def test_a_payment_that_does_not_match_the_order_is_not_fulfilled(client):
    item = make_item(price="24.00", currency="EUR")
    session_id = start(client, item)
    checkout_session_pay(session_id=session_id, card=CARD, email="")
    # The order changed after checkout began: 2 × instead of the 1 × that was paid for.
    OrderLine.objects.update(quantity=2)

    page = client.get(f"/success/?session_id={session_id}&currency=eur").content.decode()

    assert Order.objects.get().status == Order.Status.OPEN
    assert "could not match it to your order" in page


def test_the_success_page_links_to_the_invoice_once_paid(client):
    item = make_item(name="Field Notes Notebook", price="19.99")
    session_id = client.get(f"/buy/{item.pk}").json()["id"]
    unpaid = client.get(f"/success/?session_id={session_id}&currency=usd")
    assert b"invoice" not in unpaid.content.lower()

    checkout_session_pay(session_id=session_id, card=CARD, email="buyer@example.com")
    page = client.get(f"/success/?session_id={session_id}&currency=usd").content.decode()

    order = Order.objects.get()
    assert order.status == Order.Status.PAID
    link = reverse("storefront:order_invoice", args=[order.pk]) + f"?key={order.access_key}"
    assert f'href="{link}"' in page
    assert "Download your invoice (PDF)" in page
    # The link works from a browser that never saw the order.
    response = Client().get(link)
    assert response.status_code == 200
    assert "$19.99" in pdf_text(response.content)


@pytest.mark.parametrize(
    "query",
    [
        "session_id=cs_test_" + "a" * 600 + "&currency=usd",
        "session_id=cs_test_a%20b&currency=usd",
        "session_id=cs_test_%C3%A9&currency=usd",
    ],
)
def test_a_session_id_not_shaped_like_stripes_is_a_400_before_any_request(client, query):
    from payments.stripe.sandbox.models import SandboxRequest

    response = client.get(f"/payment/stripe/return/?{query}")

    assert response.status_code == 400
    assert "does not point to a payment" in response.content.decode()
    assert not SandboxRequest.objects.exists()


def test_a_payment_intent_id_of_600_characters_is_a_400(client):
    response = client.get(f"/payment/stripe/return/?payment_intent=pi_{'a' * 600}&currency=usd")

    assert response.status_code == 400
