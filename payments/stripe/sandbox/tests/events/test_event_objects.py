"""The sandbox's webhook events: recorded like Stripe's, shaped and signed like Stripe's.

Nothing here talks to anything but 127.0.0.1: sessions whose events are delivered point their
return URLs at a tiny HTTP server the test starts; every other session's events stay unsent
(`STRIPE_SANDBOX_WEBHOOKS = "off"`).
"""

import json
import re
import time

import pytest
import stripe
from django.db import transaction

from payments.stripe.sandbox import events
from payments.stripe.sandbox.cards import CardError
from payments.stripe.sandbox.objects import API_VERSION, account_id_for_key
from payments.stripe.sandbox.tests.events.event_tools import (
    DECLINED,
    EUR_SECRET,
    USD_SECRET,
    WEBHOOK_PATH,
    all_events,
    open_session,
    paid_event,
    pay,
)
from payments.stripe.sandbox.tests.sandbox_tools import session_object, stripe_example
from payments.stripe.sandbox.tests.test_sandbox_api import session_params

pytestmark = pytest.mark.django_db

# --- Which events, when ---------------------------------------------------------------------


def test_paying_emits_the_payment_intents_event_then_the_completed_session(usd):
    session = open_session(usd)

    pay(session.id)

    intent_event, event = all_events()
    assert intent_event.data["type"] == "payment_intent.succeeded"
    paid_by = intent_event.data["data"]["object"]
    assert paid_by["id"] == session_object(session.id).data["payment_intent"]
    assert paid_by["status"] == "succeeded"
    assert event.data["type"] == "checkout.session.completed"
    assert (
        event.account
        == account_id_for_key("sk_test_sandbox_usd")
        == session_object(session.id).account
    )
    paid = event.data["data"]["object"]
    assert paid == session_object(session.id).data
    assert (paid["id"], paid["object"]) == (session.id, "checkout.session")
    assert (paid["status"], paid["payment_status"]) == ("complete", "paid")
    assert (paid["amount_total"], paid["currency"]) == (3998, "usd")
    assert paid["payment_intent"].startswith("pi_")


def test_the_event_keeps_a_snapshot_of_the_object():
    session = {"id": "cs_test_x", "object": "checkout.session", "metadata": {"a": "1"}}
    event = events.event_create(
        account="acct_x", type="checkout.session.completed", obj=session, secret=None, endpoint=None
    )

    session["metadata"]["a"] = "changed later"

    event.refresh_from_db()
    assert event.data["data"]["object"]["metadata"] == {"a": "1"}


def test_paying_twice_emits_its_events_once(usd):
    session = open_session(usd)

    pay(session.id)
    pay(session.id)

    assert [event.data["type"] for event in all_events()] == [
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]


def test_a_declined_card_emits_nothing(usd):
    session = open_session(usd)

    with pytest.raises(CardError):
        pay(session.id, DECLINED)

    assert all_events() == []
    assert session_object(session.id).data["status"] == "open"


def test_a_rolled_back_payment_records_and_sends_nothing(
    usd, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.STRIPE_SANDBOX_WEBHOOKS = "thread"
    started = []
    monkeypatch.setattr(events, "deliver_in_background", started.append)
    session = open_session(usd)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        pay(session.id)
        raise RuntimeError("the payment's transaction fails after the event")

    assert callbacks == [] and started == []
    assert all_events() == []
    assert session_object(session.id).data["status"] == "open"


def test_thread_mode_starts_delivery_only_after_commit_and_once(
    usd, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.STRIPE_SANDBOX_WEBHOOKS = "thread"
    started = []
    monkeypatch.setattr(events, "deliver_in_background", started.append)
    session = open_session(usd)

    with django_capture_on_commit_callbacks() as callbacks:
        pay(session.id)
        pay(session.id)
    assert started == []  # not committed yet: nothing sent

    for callback in callbacks:
        callback()
    assert started == [event.id for event in all_events()]  # each event once, in order


def test_off_mode_records_the_event_undelivered(usd, django_capture_on_commit_callbacks):
    session = open_session(usd)

    with django_capture_on_commit_callbacks() as callbacks:
        pay(session.id)

    assert callbacks == []
    for event in all_events():
        assert event.data["pending_webhooks"] == 1
        assert event.private["deliveries"] == []
        assert events.delivery_state(event) == "unsent"


def test_events_for_the_test_clients_host_are_not_sent(
    usd, settings, django_capture_on_commit_callbacks
):
    settings.STRIPE_SANDBOX_WEBHOOKS = "thread"
    session = open_session(usd, origin="http://testserver")

    with django_capture_on_commit_callbacks() as callbacks:
        pay(session.id)

    assert callbacks == []
    for event in all_events():
        assert events.event_endpoint(event).url == "http://testserver" + WEBHOOK_PATH
        assert events.delivery_state(event) == "unsent"


def test_expiring_through_the_api_emits_expired(usd):
    session = open_session(usd)

    usd.v1.checkout.sessions.expire(session.id)

    (event,) = all_events()
    assert event.data["type"] == "checkout.session.expired"
    expired = event.data["data"]["object"]
    assert (expired["id"], expired["status"], expired["url"]) == (session.id, "expired", None)
    with pytest.raises(stripe.InvalidRequestError):
        usd.v1.checkout.sessions.expire(session.id)
    assert len(all_events()) == 1


def test_a_session_past_expires_at_emits_expired_once_when_looked_at(usd):
    session = open_session(usd)
    row = session_object(session.id)
    row.data["expires_at"] = int(time.time()) - 1
    row.save()

    assert usd.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert usd.v1.checkout.sessions.retrieve(session.id).status == "expired"
    with pytest.raises(CardError):
        pay(session.id)

    (event,) = all_events()
    assert event.data["type"] == "checkout.session.expired"
    assert event.data["data"]["object"]["status"] == "expired"


# --- The event ------------------------------------------------------------------------------


def test_event_has_exactly_the_fields_of_stripes_example(usd):
    example = stripe_example("event")

    event = paid_event(usd).data

    assert set(event) == set(example)
    assert set(event["data"]) == set(example["data"])
    assert set(event["request"]) == set(example["request"])
    assert re.fullmatch(r"evt_[A-Za-z0-9]{24}", event["id"])
    assert len(event["id"]) == len(example["id"])
    assert event["object"] == "event"
    assert event["api_version"] == API_VERSION == stripe.api_version
    assert abs(event["created"] - time.time()) < 60
    assert (event["livemode"], event["pending_webhooks"]) == (False, 1)
    assert event["request"] == {"id": None, "idempotency_key": None}


def test_the_webhook_secret_stays_out_of_the_event_and_the_api(usd):
    session = open_session(usd)
    pay(session.id)
    (event,) = all_events("checkout.session.completed")

    assert session_object(session.id).private["webhook_secret"] == USD_SECRET
    assert session_object(session.id).private["webhook_currency"] == "usd"
    assert "whsec_" not in json.dumps(event.data)
    assert "whsec_" not in json.dumps(usd.v1.checkout.sessions.retrieve(session.id).to_dict())
    assert "whsec_" not in json.dumps(usd.v1.events.retrieve(event.id).to_dict())


def test_each_account_signs_with_its_own_secret(usd, eur):
    session = eur.v1.checkout.sessions.create(
        session_params(
            line_items=[
                {
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 500,
                        "product_data": {"name": "Mug"},
                    },
                    "quantity": 1,
                }
            ]
        )
    )
    pay(session.id)

    assert session_object(session.id).private["webhook_secret"] == EUR_SECRET
    for event in all_events():  # the PaymentIntent's and the session's, to the EUR endpoint
        assert events.event_endpoint(event).url == (
            "https://shop.example/payments/webhooks/stripe/eur/"
        )


def test_retrieve_through_the_library_is_account_isolated(usd, eur):
    event = paid_event(usd)

    retrieved = usd.v1.events.retrieve(event.id)

    assert isinstance(retrieved, stripe.Event)
    assert retrieved.to_dict() == event.data
    assert retrieved.type == "checkout.session.completed"
    assert retrieved.data.object["id"] == event.data["data"]["object"]["id"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        eur.v1.events.retrieve(event.id)
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        usd.v1.events.retrieve("evt_" + "x" * 24)
    assert missing.value.code == "resource_missing"


def test_the_signature_verifies_with_the_accounts_secret_only(usd):
    event = paid_event(usd)
    body = events.event_body(event)
    header = events.signature_header(event, body)

    stripe.WebhookSignature.verify_header(body, header, USD_SECRET, tolerance=300)
    assert stripe.Webhook.construct_event(body, header, USD_SECRET).id == event.id
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body, header, EUR_SECRET, tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body + " ", header, USD_SECRET, tolerance=300)
    stale = events.signature_header(event, body, timestamp=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body, stale, USD_SECRET, tolerance=300)


def test_the_endpoint_is_the_shops_webhook_url_on_the_return_urls_origin(usd):
    event = paid_event(usd, origin="http://127.0.0.1:8000")

    assert events.event_endpoint(event).url == "http://127.0.0.1:8000" + WEBHOOK_PATH


@pytest.mark.urls("payments.stripe.sandbox.urls")  # a URLconf without the shop's webhook endpoint
def test_the_endpoint_falls_back_to_the_documented_path():
    assert events.endpoint_for("https://shop.example", "USD").url == (
        "https://shop.example" + WEBHOOK_PATH
    )


def test_no_web_origin_no_endpoint():
    assert events.endpoint_for("", "usd") is None
    assert events.endpoint_for("://", "usd") is None
    assert events.endpoint_for("ftp://shop.example", "usd") is None
    assert events.endpoint_for("http://[::1", "usd") is None
