"""The sandbox checks e-mail addresses as Stripe does: `customer_email` and `receipt_email` are
refused with `email_invalid`, and its hosted page refuses an address a buyer mistypes."""

import pytest
import stripe

from payments.stripe.sandbox.models import SandboxObject

pytestmark = pytest.mark.django_db

LINE = {
    "price_data": {"currency": "usd", "unit_amount": 1999, "product_data": {"name": "Mug"}},
    "quantity": 1,
}
CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"}


def session(usd, **params):
    return usd.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [LINE],
            "success_url": "http://testserver/success/?session_id={CHECKOUT_SESSION_ID}",
            **params,
        }
    )


@pytest.mark.parametrize(
    "address", ["buyer@example", "buyer", " buyer@example.com", "buyer\uff20example.com"]
)
def test_a_malformed_customer_email_is_refused_as_stripe_refuses_it(usd, address):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        session(usd, customer_email=address)

    assert refused.value.code == "email_invalid"
    assert refused.value.param == "customer_email"
    assert refused.value.user_message == f"Invalid email address: {address}"
    assert not SandboxObject.objects.filter(object="checkout.session").exists()


def test_a_malformed_receipt_email_is_refused(usd):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        usd.v1.payment_intents.create(
            {"amount": 1999, "currency": "usd", "receipt_email": "buyer@localhost"}
        )

    assert (refused.value.code, refused.value.param) == ("email_invalid", "receipt_email")


def test_customer_email_is_kept_shown_fixed_and_becomes_the_customer_details(usd, client):
    created = session(usd, customer_email="ada@example.com")
    assert created.customer_email == "ada@example.com"
    assert created.customer_details is None

    page = client.get(f"/sandbox/checkout/{created.id}/").content.decode()
    assert 'value="ada@example.com" readonly' in page
    client.post(f"/sandbox/checkout/{created.id}/", {**CARD, "email": "eve@example.com"})

    paid = usd.v1.checkout.sessions.retrieve(created.id)
    assert paid.payment_status == "paid"
    assert paid.customer_details.email == "ada@example.com"


def test_the_hosted_page_refuses_a_mistyped_address_and_charges_nothing(usd, client):
    created = session(usd)

    response = client.post(f"/sandbox/checkout/{created.id}/", {**CARD, "email": "ada@example"})

    assert response.status_code == 200  # the form again, with the message: not an error
    assert "Your email address is invalid." in response.content.decode()
    assert usd.v1.checkout.sessions.retrieve(created.id).status == "open"
