"""The buyer's e-mail between the shop and Stripe: given on the order page, it is sent to Stripe
(Checkout's `customer_email`, a PaymentIntent's `receipt_email`); typed on Stripe's page, it comes
back (`customer_details.email`) to the order, and the receipt goes there."""

import pytest
from django.core import mail

from payments.stripe.sandbox.tests.sandbox_tools import requests_of, session_object
from payments.stripe.tests.webhook_tools import event_for, post_event
from storefront.models import Order, OrderMail
from storefront.tests.factories import make_item, make_order

pytestmark = pytest.mark.django_db

CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"}


@pytest.fixture
def order(client):
    """A $25.00 order this browser may see and pay."""
    order = make_order((make_item(name="Linen apron", price="25.00"), 1))
    client.get(f"{order.get_absolute_url()}?key={order.access_key}")
    return order


def checkout(client, order) -> str:
    """Press Pay: the Checkout Session's id."""
    response = client.get(f"/buy/order/{order.pk}")
    assert response.status_code == 200, response.content
    return response.json()["id"]


def pay_on_stripes_page(client, session_id: str, *, email: str, capture) -> str:
    """Pay on the (sandbox) hosted page, then follow it back to the shop: that page's text."""
    paid = client.post(f"/sandbox/checkout/{session_id}/", {**CARD, "email": email})
    assert paid.status_code == 302, paid.content.decode()
    with capture(execute=True):
        back = client.get(paid["Location"])
    return back.content.decode()


def test_the_address_given_on_the_order_page_is_sent_to_checkout_and_gets_the_receipt(
    client, order, django_capture_on_commit_callbacks
):
    client.post(f"/order/{order.pk}/email/", {"email": "ada@example.com"})

    session_id = checkout(client, order)

    create = requests_of("USD").get(path="/v1/checkout/sessions")
    assert create.params["customer_email"] == "ada@example.com"
    page = client.get(f"/sandbox/checkout/{session_id}/").content.decode()
    assert 'value="ada@example.com" readonly' in page  # shown, fixed, as on Stripe's page

    # A different address posted anyway changes nothing: Stripe keeps customer_email.
    pay_on_stripes_page(
        client, session_id, email="other@example.com", capture=django_capture_on_commit_callbacks
    )

    assert session_object(session_id).data["customer_details"]["email"] == "ada@example.com"
    order.refresh_from_db()
    assert (order.status, order.email) == (Order.Status.PAID, "ada@example.com")
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_without_an_address_checkout_asks_and_the_answer_reaches_the_order(
    client, order, django_capture_on_commit_callbacks
):
    session_id = checkout(client, order)

    assert "customer_email" not in requests_of("USD").get(path="/v1/checkout/sessions").params
    page = client.get(f"/sandbox/checkout/{session_id}/").content.decode()
    assert 'autocomplete="email" value=""' in page
    text = pay_on_stripes_page(
        client, session_id, email="payer@example.com", capture=django_capture_on_commit_callbacks
    )

    order.refresh_from_db()
    assert (order.status, order.email) == (Order.Status.PAID, "payer@example.com")
    assert "payer@example.com" in text  # the return page says where the receipt goes
    assert [m.to for m in mail.outbox] == [["payer@example.com"]]
    assert mail.outbox[0].attachments[0][0] == f"invoice-order-{order.pk}.pdf"


def test_the_webhook_and_the_return_page_together_send_one_receipt(
    client, order, django_capture_on_commit_callbacks
):
    session_id = checkout(client, order)
    paid = client.post(f"/sandbox/checkout/{session_id}/", {**CARD, "email": "payer@example.com"})

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event_for(session_object(session_id).data)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.get(paid["Location"])

    assert OrderMail.objects.get().status == "sent"
    assert len(mail.outbox) == 1


def test_a_payment_element_payment_carries_the_address_as_receipt_email(client, order):
    client.post(f"/order/{order.pk}/email/", {"email": "ada@example.com"})

    assert client.get(f"/order/{order.pk}/pay/").status_code == 200

    create = requests_of("USD").get(path="/v1/payment_intents")
    assert create.params["receipt_email"] == "ada@example.com"


def test_a_payment_intents_receipt_email_reaches_an_order_without_one(
    client, order, django_capture_on_commit_callbacks
):
    from payments.models import Payment
    from payments.stripe.sandbox.models import SandboxObject

    client.get(f"/order/{order.pk}/pay/")
    assert "receipt_email" not in requests_of("USD").get(path="/v1/payment_intents").params
    payment = Payment.objects.get(reference=order.payment_reference)
    intent = SandboxObject.objects.get(id=payment.provider_ref)
    # As if the buyer's address had been given to Stripe another way (Link, the dashboard).
    intent.data.update(status="succeeded", amount_received=2500, receipt_email="pe@example.com")
    intent.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event_for(intent.data, "payment_intent.succeeded"))

    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.email) == (Order.Status.PAID, "pe@example.com")
    assert [m.to for m in mail.outbox] == [["pe@example.com"]]
