"""Paying on our own page: a PaymentIntent per order and amount, and the same fulfilment."""

import pytest
from django.urls import reverse

from payments.models import Payment
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.sandbox_tools import requests_of, sandbox_account
from payments.stripe.tests.webhook_tools import event_for, post_event
from storefront.models import Order, OrderLine
from storefront.tests.factories import make_discount, make_item, make_order, make_tax

pytestmark = pytest.mark.django_db


@pytest.fixture
def eur_order(client):
    order = make_order(
        (make_item(name="Tote bag", price="24.00", currency="EUR"), 2),
        discount=make_discount(percent_off="10"),
        taxes=(make_tax(percentage="19", inclusive=True),),
    )
    client.get(f"{order.get_absolute_url()}?key={order.access_key}")
    return order


def intent_of(order) -> SandboxObject:
    payment = Payment.objects.get(reference=order.payment_reference, provider_ref__startswith="pi_")
    return SandboxObject.objects.get(id=payment.provider_ref)


def set_intent(intent: SandboxObject, **fields) -> dict:
    intent.data.update(fields)
    intent.save()
    return intent.data


def test_pay_page_creates_a_payment_intent_for_the_order_total_on_its_account(client, eur_order):
    page = client.get(reverse("storefront:order_pay_form", args=[eur_order.pk])).content.decode()

    intent = intent_of(eur_order)
    # 48.00 − 10 % = 43.20; the 19 % VAT is included.
    assert (intent.data["amount"], intent.data["currency"]) == (4320, "eur")
    assert intent.account == sandbox_account("EUR")
    request = requests_of("EUR").get(path="/v1/payment_intents")
    assert request.params == {
        "amount": "4320",
        "currency": "eur",
        "automatic_payment_methods": {"enabled": "true"},
        "description": f"Order #{eur_order.pk}",
        "metadata": {
            "kind": "order",
            "order_id": str(eur_order.pk),
            "reference": f"order-{eur_order.pk}",
            "flow": "payment_element",
        },
    }
    assert request.idempotency_key.startswith(f"intent-order-{eur_order.pk}-")
    assert f'data-client-secret="{intent.data["client_secret"]}"' in page
    assert 'data-publishable-key="pk_test_sandbox_eur"' in page
    assert "sk_test" not in page
    assert "/payment/stripe/return/?currency=eur" in page
    assert "Pay €43.20" in page


def test_reloading_the_pay_page_reuses_the_payment_intent(client, eur_order):
    url = reverse("storefront:order_pay_form", args=[eur_order.pk])
    client.get(url)
    client.get(url)

    assert requests_of("EUR").filter(path="/v1/payment_intents").count() == 1
    assert SandboxObject.objects.filter(object="payment_intent").count() == 1


def test_a_changed_amount_gets_a_new_payment_intent(client, eur_order):
    url = reverse("storefront:order_pay_form", args=[eur_order.pk])
    client.get(url)
    OrderLine.objects.update(quantity=3)

    client.get(url)

    amounts = sorted(
        SandboxObject.objects.filter(object="payment_intent").values_list("data__amount", flat=True)
    )
    assert amounts == [4320, 6480]


def test_item_pay_makes_a_one_line_order_and_goes_to_its_pay_page(client):
    item = make_item(price="19.99", currency="USD")

    response = client.get(reverse("storefront:item_pay_redirect", args=[item.pk]))

    order = Order.objects.get()
    assert response["Location"] == reverse("storefront:order_pay_form", args=[order.pk])
    assert [(line.item, line.quantity) for line in order.lines.all()] == [(item, 1)]
    assert client.get(response["Location"]).status_code == 200


def test_someone_elses_pay_page_is_not_found(client):
    order = make_order((make_item(), 1))

    assert client.get(reverse("storefront:order_pay_form", args=[order.pk])).status_code == 404
    assert not SandboxObject.objects.exists()


def test_a_paid_order_has_no_pay_page(client, eur_order):
    Order.objects.update(status=Order.Status.PAID)

    response = client.get(reverse("storefront:order_pay_form", args=[eur_order.pk]))

    assert response["Location"] == eur_order.get_absolute_url()


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("succeeded", "your payment went through"),
        ("processing", "Your payment is processing"),
        ("requires_payment_method", "Your payment did not go through"),
    ],
)
def test_return_page_says_how_the_payment_stands_as_stripe_tells_it(
    client, eur_order, status, words
):
    client.get(reverse("storefront:order_pay_form", args=[eur_order.pk]))
    intent = set_intent(
        intent_of(eur_order),
        status=status,
        last_payment_error=(
            {"message": "Your card was declined.", "type": "card_error"}
            if status == "requires_payment_method"
            else None
        ),
    )

    page = client.get(
        f"/payment/return/?currency=eur&payment_intent={intent['id']}"
        f"&payment_intent_client_secret={intent['client_secret']}&redirect_status=x"
    ).content.decode()

    assert words in page
    eur_order.refresh_from_db()
    assert eur_order.is_open == (status != "succeeded")
    if status == "requires_payment_method":
        assert "Your card was declined." in page
        assert reverse("storefront:order_pay_form", args=[eur_order.pk]) in page


@pytest.mark.parametrize("query", ["", "?payment_intent=nope&currency=eur", "?currency=eur"])
def test_return_page_without_a_payment_is_400(client, query):
    assert client.get(f"/payment/return/{query}").status_code == 400


def test_payment_intent_succeeded_webhook_pays_the_order_once(client, eur_order):
    client.get(reverse("storefront:order_pay_form", args=[eur_order.pk]))
    intent = set_intent(intent_of(eur_order), status="succeeded", amount_received=4320)
    event = event_for(intent, "payment_intent.succeeded")

    first = post_event(client, event, "eur")
    again = post_event(client, event, "eur")
    post_event(client, event_for(intent, "payment_intent.succeeded"), "eur")

    assert (first.json()["outcome"], again.json()["outcome"]) == ("processed", "duplicate")
    eur_order.refresh_from_db()
    assert eur_order.status == Order.Status.PAID
    payment = Payment.objects.get(provider_ref=intent["id"])
    assert (payment.status, payment.amount_received, payment.attention_note) == (
        "succeeded",
        4320,
        "",
    )


def test_a_payment_failed_webhook_leaves_the_order_open(client, eur_order):
    client.get(reverse("storefront:order_pay_form", args=[eur_order.pk]))
    intent = set_intent(
        intent_of(eur_order),
        last_payment_error={"message": "Your card was declined.", "type": "card_error"},
    )

    response = post_event(client, event_for(intent, "payment_intent.payment_failed"), "eur")

    assert response.json()["outcome"] == "processed"
    eur_order.refresh_from_db()
    assert eur_order.is_open
    assert Payment.objects.get(provider_ref=intent["id"]).status == "pending"


def test_checkouts_own_payment_intent_events_are_left_to_the_session_events(client):
    foreign = {
        "id": "pi_fromcheckout",
        "object": "payment_intent",
        "amount": 1999,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {},
    }

    response = post_event(client, event_for(foreign, "payment_intent.succeeded"))

    assert response.json()["outcome"] == "ignored"
    assert not Payment.objects.exists()


def test_paying_by_checkout_and_by_payment_element_pays_once_and_flags_the_second(
    client, eur_order
):
    from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
    from payments.stripe.sandbox.tests.sandbox_tools import session_object
    from payments.stripe.tests.webhook_tools import CARD

    client.get(reverse("storefront:order_pay_form", args=[eur_order.pk]))
    intent = set_intent(intent_of(eur_order), status="succeeded")
    session_id = client.get(reverse("storefront:order_pay_json", args=[eur_order.pk])).json()["id"]
    checkout_session_pay(session_id=session_id, card=CARD, email="")

    post_event(client, event_for(intent, "payment_intent.succeeded"), "eur")
    post_event(client, event_for(session_object(session_id).data), "eur")

    eur_order.refresh_from_db()
    assert eur_order.status == Order.Status.PAID
    by_intent = Payment.objects.get(provider_ref=intent["id"])
    by_checkout = Payment.objects.get(provider_ref=session_id)
    assert by_intent.fulfilled_at and not by_intent.attention_note
    assert by_checkout.status == "succeeded" and not by_checkout.fulfilled_at
    assert "already paid: refund this payment" in by_checkout.attention_note


def test_the_flow_setting_picks_the_main_button_and_keeps_the_other(client, settings):
    item = make_item()
    checkout_page = client.get(f"/item/{item.pk}").content.decode()
    settings.SHOP_PAYMENT_FLOW = "payment_element"
    element_page = client.get(f"/item/{item.pk}").content.decode()

    assert 'class="button" type="button"' in checkout_page  # Buy starts Checkout
    assert "pay by card on this page" in checkout_page
    assert f'id="pay-here-link" class="button" href="/item/{item.pk}/pay/">Buy' in element_page
    assert "pay with Stripe Checkout" in element_page
