"""The hosted checkout page with Stripe's 3-D Secure test cards, and the expiry as typed."""

import pytest

from payments.stripe.sandbox.cards import Card, CardError
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.sandbox_tools import session_object
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db

CARDS_ASKING_AUTHENTICATION = ["4000 0025 0000 3155", "4000 0027 6000 3184"]
FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment "
    "method and try again."
)


@pytest.fixture(autouse=True)
def no_delivery(settings):
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


@pytest.fixture
def session_id(client):
    item = make_item(name="Tote bag", price="24.00", currency="EUR")
    return client.get(f"/buy/{item.pk}").json()["id"]


def card(number):
    return {"card_number": number, "expiry": "12 / 34", "cvc": "123", "email": "ada@example.com"}


def event_types():
    return sorted(SandboxObject.objects.filter(object="event").values_list("data__type", flat=True))


def intents():
    return SandboxObject.objects.filter(object="payment_intent")


@pytest.mark.parametrize("number", CARDS_ASKING_AUTHENTICATION)
def test_a_3ds_card_asks_for_the_step_and_completing_it_pays(client, session_id, number):
    url = f"/sandbox/checkout/{session_id}/"

    asked = client.post(url, card(number))

    assert asked.status_code == 302
    assert asked["Location"] == f"{url}authenticate/"
    session = session_object(session_id).data
    assert (session["status"], session["payment_status"]) == ("open", "unpaid")
    [intent] = intents()
    assert intent.data["status"] == "requires_action"
    assert intent.data["next_action"]["type"] == "redirect_to_url"
    assert event_types() == []  # asking for the step sends nothing, as at Stripe
    step = client.get(f"{url}authenticate/").content.decode()
    assert "Complete authentication" in step and "€24.00" in step

    done = client.post(f"{url}authenticate/", {"outcome": "complete"})

    assert done["Location"] == (
        f"http://testserver/payment/stripe/return/?session_id={session_id}&currency=eur"
    )
    session = session_object(session_id).data
    assert (session["status"], session["payment_status"]) == ("complete", "paid")
    assert session["payment_intent"] == intent.id
    assert session["customer_details"]["email"] == "ada@example.com"
    intent.refresh_from_db()
    assert (intent.data["status"], intent.data["amount_received"]) == ("succeeded", 2400)
    charge = SandboxObject.objects.get(id=intent.data["latest_charge"])
    assert charge.data["payment_method_details"]["card"]["last4"] == number[-4:]
    assert event_types() == ["checkout.session.completed", "payment_intent.succeeded"]
    # Answering the step again (a second tab, the back button) changes nothing.
    again = client.post(f"{url}authenticate/", {"outcome": "fail"})
    assert again["Location"] == done["Location"]
    assert session_object(session_id).data["payment_status"] == "paid"
    assert event_types() == ["checkout.session.completed", "payment_intent.succeeded"]


@pytest.mark.parametrize("number", CARDS_ASKING_AUTHENTICATION)
def test_failing_the_step_leaves_the_session_open_and_says_why(client, session_id, number):
    url = f"/sandbox/checkout/{session_id}/"
    client.post(url, card(number))

    failed = client.post(f"{url}authenticate/", {"outcome": "fail"})

    assert failed["Location"] == url
    session = session_object(session_id).data
    assert (session["status"], session["payment_status"]) == ("open", "unpaid")
    [intent] = intents()
    assert intent.data["status"] == "requires_payment_method"
    assert intent.data["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    assert event_types() == ["payment_intent.payment_failed"]
    page = client.get(url)
    assert page.status_code == 200
    assert FAILED in page.content.decode()
    assert 'id="pay-button"' in page.content.decode()

    # Another card pays the same PaymentIntent, as at Stripe.
    paid = client.post(url, card("4242 4242 4242 4242"))

    assert paid.status_code == 302 and "/payment/stripe/return/" in paid["Location"]
    [intent] = intents()
    assert intent.data["status"] == "succeeded"
    assert session_object(session_id).data["payment_intent"] == intent.id
    assert event_types() == [
        "checkout.session.completed",
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
    ]
    assert FAILED not in client.get(url).content.decode()


def test_the_step_of_a_session_not_waiting_for_one_goes_back_to_the_checkout(client, session_id):
    url = f"/sandbox/checkout/{session_id}/"

    assert client.get(f"{url}authenticate/")["Location"] == url
    assert client.post(f"{url}authenticate/", {"outcome": "complete"})["Location"] == url
    assert session_object(session_id).data["payment_status"] == "unpaid"
    assert not intents().exists()


def test_the_step_of_an_unknown_session_is_404(client):
    assert client.get("/sandbox/checkout/cs_test_nope/authenticate/").status_code == 404


@pytest.mark.parametrize("typed", ["1234", "12/34", "12 / 34", "12/2034", " 12 /34 ", "122034"])
def test_the_expiry_is_read_as_stripes_field_takes_it(typed):
    parsed = Card.from_form("4242 4242 4242 4242", typed, "123")

    assert (parsed.exp_month, parsed.exp_year) == (12, 2034)


@pytest.mark.parametrize("typed", ["", "12", "123", "1334", "12 / 3", "12345", "ab/cd"])
def test_an_incomplete_expiry_is_refused(typed):
    with pytest.raises(CardError, match="expiration date is incomplete"):
        Card.from_form("4242 4242 4242 4242", typed, "123")


def test_the_page_pays_with_an_expiry_typed_without_a_slash(client, session_id):
    paid = client.post(
        f"/sandbox/checkout/{session_id}/", {**card("4242424242424242"), "expiry": "1234"}
    )

    assert paid.status_code == 302
    assert session_object(session_id).data["payment_status"] == "paid"
