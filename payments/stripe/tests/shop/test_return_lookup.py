"""A return page asks Stripe only about a payment we started: an id we never issued is a 404
without a request to Stripe, however many anyone types."""

import secrets

import pytest
from django.urls import reverse

from payments.models import Payment
from payments.stripe.sandbox.models import SandboxRequest
from storefront.tests.factories import make_item, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def generous_return_limit(settings):
    """Every request below reaches the page (the return pages' own limit is tested apart)."""
    settings.SHOP_RETURN_LIMIT = 1000


RETURN_FORMS = {
    "checkout": "/payment/stripe/return/?session_id=cs_test_{id}&currency=usd",
    "success": "/success/?session_id=cs_test_{id}&currency=usd",
    "payment_element": "/payment/return/?payment_intent=pi_{id}&currency=usd"
    "&payment_intent_client_secret=pi_{id}_secret_x&redirect_status=succeeded",
}


@pytest.mark.parametrize("form", list(RETURN_FORMS))
def test_ids_we_never_issued_are_404s_without_a_stripe_request(client, form):
    make_item()  # a shop with something in it; nothing started
    answers = [client.get(RETURN_FORMS[form].format(id=secrets.token_hex(12))) for _ in range(80)]

    assert {response.status_code for response in answers} == {404}
    assert "We could not find this payment." in answers[0].content.decode()
    assert SandboxRequest.objects.count() == 0


def test_an_id_another_account_issued_is_a_404_without_a_stripe_request(client):
    session_id = client.get(f"/buy/{make_item(currency='EUR').pk}").json()["id"]
    before = SandboxRequest.objects.count()

    response = client.get(f"/success/?session_id={session_id}&currency=usd")

    assert response.status_code == 404
    assert SandboxRequest.objects.count() == before


def test_a_checkouts_own_payment_intent_is_not_ours_to_confirm(client):
    # Payment intents we did not make (Checkout's own, named on a paid Payment) are not ours.
    session_id = client.get(f"/buy/{make_item().pk}").json()["id"]
    Payment.objects.filter(provider_ref=session_id).update(provider_payment_ref="pi_checkouts1")
    before = SandboxRequest.objects.count()

    response = client.get("/payment/return/?payment_intent=pi_checkouts1&currency=usd")

    assert response.status_code == 404
    assert SandboxRequest.objects.count() == before


def test_ids_we_issued_are_asked_about_once_per_visit(client):
    order = make_order((make_item(price="5.00"), 1))
    client.get(f"{order.get_absolute_url()}?key={order.access_key}")
    session_id = client.get(f"/buy/order/{order.pk}/").json()["id"]
    client.get(reverse("storefront:order_pay_form", args=[order.pk]))
    intent_id = Payment.objects.get(provider_ref__startswith="pi_").provider_ref
    before = SandboxRequest.objects.count()

    session_page = client.get(f"/success/?session_id={session_id}&currency=usd")
    intent_page = client.get(f"/payment/return/?payment_intent={intent_id}&currency=usd")

    assert (session_page.status_code, intent_page.status_code) == (200, 200)
    assert "not complete yet" in session_page.content.decode()
    assert SandboxRequest.objects.count() - before == 2
