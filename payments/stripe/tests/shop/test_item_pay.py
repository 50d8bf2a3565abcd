"""`/item/<id>/pay/` (a GET, which another site can send a browser to): the same browser
loading it again gets the same order and payment, and a provider that refuses leaves nothing."""

import pytest
from django.test import Client
from django.urls import reverse

from payments.models import Payment
from payments.stripe.sandbox.client import sandbox_outage
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest
from storefront.models import Order, OrderLine
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db


def item_pay_redirect(client, item, **extra):
    return client.get(reverse("storefront:item_pay_redirect", args=[item.pk]), **extra)


def test_ten_loads_make_one_order_one_payment_and_one_stripe_call(client):
    item = make_item(price="19.99", currency="USD")

    answers = [item_pay_redirect(client, item) for _ in range(10)]

    order = Order.objects.get()
    pay_page = reverse("storefront:order_pay_form", args=[order.pk])
    assert {response["Location"] for response in answers} == {pay_page}
    assert Payment.objects.filter(reference=order.payment_reference).count() == 1
    assert SandboxRequest.objects.count() == 1
    assert SandboxRequest.objects.get().path == "/v1/payment_intents"


def test_ten_loads_of_the_pay_page_it_leads_to_make_one_payment_intent(client):
    item = make_item(price="19.99", currency="USD")

    pages = [item_pay_redirect(client, item, follow=True) for _ in range(10)]

    assert {page.status_code for page in pages} == {200}
    secret = SandboxObject.objects.get(object="payment_intent").data["client_secret"]
    assert all(f'data-client-secret="{secret}"' in page.content.decode() for page in pages)
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1
    assert SandboxRequest.objects.filter(method="POST").count() == 1
    # Each pay page reads the open PaymentIntent back to reuse it.
    assert SandboxRequest.objects.filter(method="GET").count() == 10


@pytest.mark.parametrize(("kind", "status"), [("unreachable", 503), ("server_error", 502)])
def test_a_refused_start_leaves_no_order_and_no_payment(client, kind, status):
    item = make_item()

    with sandbox_outage(kind):
        response = item_pay_redirect(client, item)

    assert response.status_code == status
    assert response.content.decode().count('role="alert"') == 1
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not Payment.objects.exists()
    # Once Stripe answers again, the same load works.
    assert item_pay_redirect(client, item).status_code == 302
    assert Order.objects.count() == 1


def test_another_browser_gets_an_order_of_its_own(client):
    item = make_item()
    item_pay_redirect(client, item)

    item_pay_redirect(Client(), item)

    assert Order.objects.count() == 2


def test_an_order_changed_since_is_not_reused(client):
    item = make_item()
    item_pay_redirect(client, item)
    OrderLine.objects.update(quantity=2)

    response = item_pay_redirect(client, item)

    assert Order.objects.count() == 2
    assert response["Location"] == reverse(
        "storefront:order_pay_form", args=[Order.objects.latest("pk").pk]
    )


def test_buy_and_pay_here_share_one_order_for_the_item(client):
    item = make_item()
    client.get(f"/buy/{item.pk}")

    response = item_pay_redirect(client, item)

    order = Order.objects.get()
    assert response["Location"] == reverse("storefront:order_pay_form", args=[order.pk])
