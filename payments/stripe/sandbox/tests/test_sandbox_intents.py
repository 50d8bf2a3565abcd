"""The sandbox's PaymentIntents: the API, and confirmPayment as Stripe.js does it."""

import json

import pytest
import stripe

from payments.stripe.sandbox.client import SandboxHTTPClient
from payments.stripe.sandbox.models import SandboxObject

pytestmark = pytest.mark.django_db

RETURN_URL = "http://shop.example/payment/return/?currency=usd"


@pytest.fixture(autouse=True)
def no_delivery(settings):
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


@pytest.fixture
def intent(usd):
    return usd.v1.payment_intents.create(
        {
            "amount": 1999,
            "currency": "usd",
            "automatic_payment_methods": {"enabled": True},
            "metadata": {"order_id": "7"},
        }
    )


def confirm(client, intent, number, *, key="pk_test_sandbox_usd", secret=None):
    return client.post(
        f"/sandbox/payment_intents/{intent.id}/confirm/",
        data=json.dumps(
            {
                "client_secret": secret or intent.client_secret,
                "publishable_key": key,
                "card": {"number": number, "expiry": "12 / 34", "cvc": "123"},
                "return_url": RETURN_URL,
            }
        ),
        content_type="application/json",
    )


def events_of(type_):
    return SandboxObject.objects.filter(object="event", data__type=type_)


def test_create_and_retrieve_like_stripe(usd, intent):
    assert intent.id.startswith("pi_") and intent.client_secret.startswith(f"{intent.id}_secret_")
    assert (intent.status, intent.amount, intent.currency) == (
        "requires_payment_method",
        1999,
        "usd",
    )
    assert usd.v1.payment_intents.retrieve(intent.id).metadata.to_dict() == {"order_id": "7"}


def test_payment_method_types_and_bad_amounts_are_refused(usd):
    for params, param in [
        (
            {"amount": 1999, "currency": "usd", "payment_method_types": ["card"]},
            "payment_method_types",
        ),
        ({"amount": 10, "currency": "usd"}, "amount"),
        ({"amount": 5125, "currency": "kwd"}, "amount"),
        ({"currency": "usd"}, "amount"),
    ]:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            usd.v1.payment_intents.create(params)
        assert caught.value.param == param
    assert not SandboxObject.objects.filter(object="payment_intent").exists()


def test_another_account_cannot_see_it(intent):
    eur = stripe.StripeClient("sk_test_sandbox_eur", http_client=SandboxHTTPClient())

    with pytest.raises(stripe.InvalidRequestError):
        eur.v1.payment_intents.retrieve(intent.id)


def test_4242_succeeds_and_redirects_with_stripes_query(client, usd, intent):
    response = confirm(client, intent, "4242 4242 4242 4242")

    redirect = response.json()["redirect"]
    assert redirect.startswith(RETURN_URL + "&payment_intent=" + intent.id)
    assert f"payment_intent_client_secret={intent.client_secret}" in redirect
    assert redirect.endswith("redirect_status=succeeded")
    assert usd.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    [event] = events_of("payment_intent.succeeded")
    assert event.data["data"]["object"]["id"] == intent.id
    assert event.private["endpoint"] == {"origin": "http://shop.example", "currency": "usd"}


def test_a_declined_card_answers_the_error_and_leaves_it_open(client, usd, intent):
    response = confirm(client, intent, "4000 0000 0000 0002")

    assert response.json()["error"]["message"] == "Your card was declined."
    retrieved = usd.v1.payment_intents.retrieve(intent.id)
    assert retrieved.status == "requires_payment_method"
    assert retrieved.last_payment_error.message == "Your card was declined."
    assert events_of("payment_intent.payment_failed").count() == 1
    # Another card may still pay it.
    assert "redirect" in confirm(client, intent, "4242424242424242").json()


@pytest.mark.parametrize("card", ["4000 0025 0000 3155", "4000 0027 6000 3184"])
@pytest.mark.parametrize("outcome", ["complete", "fail"])
def test_3ds_card_asks_for_a_confirmation_step(client, usd, intent, card, outcome):
    first = confirm(client, intent, card).json()

    assert (
        first["redirect"]
        == f"http://shop.example/sandbox/payment_intents/{intent.id}/authenticate/"
    )
    assert usd.v1.payment_intents.retrieve(intent.id).status == "requires_action"
    page = client.get(f"/sandbox/payment_intents/{intent.id}/authenticate/").content.decode()
    assert "Complete authentication" in page and "$19.99" in page

    back = client.post(f"/sandbox/payment_intents/{intent.id}/authenticate/", {"outcome": outcome})

    status = "succeeded" if outcome == "complete" else "failed"
    assert back["Location"].endswith(f"redirect_status={status}")
    expected = "succeeded" if outcome == "complete" else "requires_payment_method"
    assert usd.v1.payment_intents.retrieve(intent.id).status == expected


@pytest.mark.parametrize(
    "tamper",
    [{"secret": "pi_x_secret_wrong"}, {"key": "pk_test_sandbox_eur"}, {"key": "pk_live_x"}],
)
def test_confirm_needs_the_right_client_secret_and_account(client, usd, intent, tamper):
    response = confirm(client, intent, "4242424242424242", **tamper)

    assert response.status_code == 400
    assert usd.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_an_invalid_card_number_is_a_validation_error(client, usd, intent):
    response = confirm(client, intent, "1234")

    # What Stripe.js resolves to without asking Stripe: an answer, not a failed request.
    assert response.status_code == 200
    assert response.json()["error"] == {
        "type": "validation_error",
        "code": "incomplete",
        "message": "Your card number is invalid.",
    }
    assert usd.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
    assert not events_of("payment_intent.payment_failed").exists()
