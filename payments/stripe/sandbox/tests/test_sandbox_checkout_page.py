"""The sandbox's hosted checkout page: pay with a test card, get declined, come back."""

import pytest

from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.sandbox_tools import session_object
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db

GOOD_CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"}


@pytest.fixture
def session_id(client):
    item = make_item(name="Tote bag", price="24.00", currency="EUR")
    return client.get(f"/buy/{item.pk}").json()["id"]


def test_page_shows_the_line_items_and_total(client, session_id):
    page = client.get(f"/sandbox/checkout/{session_id}/").content.decode()

    assert "Tote bag" in page
    assert "Pay €24.00" in page
    assert "Stripe sandbox" in page


def test_paying_with_4242_completes_the_session_and_returns_to_success(client, session_id):
    response = client.post(
        f"/sandbox/checkout/{session_id}/", {**GOOD_CARD, "email": "buyer@example.com"}
    )

    assert response.status_code == 302
    assert response["Location"] == (
        f"http://testserver/payment/stripe/return/?session_id={session_id}&currency=eur"
    )
    session = session_object(session_id).data
    assert (session["status"], session["payment_status"]) == ("complete", "paid")
    assert session["customer_details"]["email"] == "buyer@example.com"
    intent = SandboxObject.objects.get(id=session["payment_intent"])
    assert (intent.data["status"], intent.data["amount"], intent.data["currency"]) == (
        "succeeded",
        2400,
        "eur",
    )
    assert intent.account == session_object(session_id).account


def test_paying_twice_charges_once(client, session_id):
    client.post(f"/sandbox/checkout/{session_id}/", GOOD_CARD)
    again = client.post(f"/sandbox/checkout/{session_id}/", GOOD_CARD)

    assert again.status_code == 302
    assert SandboxObject.objects.filter(object="payment_intent").count() == 1


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ({**GOOD_CARD, "card_number": "4000 0000 0000 0002"}, "Your card was declined."),
        ({**GOOD_CARD, "card_number": "4000000000009995"}, "Your card has insufficient funds."),
        ({**GOOD_CARD, "card_number": "4242 4242 4242 4241"}, "Your card number is invalid."),
        ({**GOOD_CARD, "expiry": "01 / 20"}, "Your card&#x27;s expiration date is in the past."),
        ({**GOOD_CARD, "cvc": "1"}, "Your card&#x27;s security code is incomplete."),
        ({**GOOD_CARD, "card_number": "5555 5555 5555 4444"}, "used a non test card"),
    ],
)
def test_declines_and_mistakes_leave_the_session_unpaid_with_a_message(
    client, session_id, card, message
):
    response = client.post(f"/sandbox/checkout/{session_id}/", card)

    assert response.status_code == 200  # the form again, with the message: not an error
    assert message in response.content.decode()
    session = session_object(session_id).data
    assert (session["status"], session["payment_status"]) == ("open", "unpaid")
    assert not SandboxObject.objects.filter(object="payment_intent").exists()


def test_expired_session_cannot_be_paid(client, session_id):
    obj = session_object(session_id)
    obj.data["expires_at"] = 1
    obj.save()

    response = client.post(f"/sandbox/checkout/{session_id}/", GOOD_CARD)

    assert response.status_code == 200  # the form again, with the message: not an error
    assert "expired" in response.content.decode()
    assert session_object(session_id).data["payment_status"] == "unpaid"


def test_cancel_link_goes_back_to_the_shop(client, session_id):
    page = client.get(f"/sandbox/checkout/{session_id}/").content.decode()

    assert 'href="http://testserver/cancel/?item=' in page


def test_unknown_session_is_404(client):
    assert client.get("/sandbox/checkout/cs_test_nope/").status_code == 404


def test_pages_do_not_exist_when_the_sandbox_is_off(client, session_id, settings):
    settings.STRIPE_SANDBOX = False

    assert client.get(f"/sandbox/checkout/{session_id}/").status_code == 404


def test_paying_an_overdue_session_expires_it_for_good(client, session_id):
    obj = session_object(session_id)
    obj.data["expires_at"] = 1
    obj.save()

    client.post(f"/sandbox/checkout/{session_id}/", GOOD_CARD)

    assert session_object(session_id).data["status"] == "expired"
    assert (
        SandboxObject.objects.filter(object="event", data__type="checkout.session.expired").count()
        == 1
    )
