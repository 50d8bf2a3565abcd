"""Stripe refunds end to end: asked for from our side through the account that took the payment,
made in the (sandbox's) dashboard and learnt by webhook, each recorded once however the news
arrives, and announced once."""

import json

import pytest
import stripe

from payments.errors import PaymentError
from payments.models import ReceivedNotification, Refund
from payments.redeliveries import duplicates_counted
from payments.refunds import refund_request, refundable, refunded
from payments.signals import refund_failed, refund_succeeded
from payments.stripe import client as stripe_client
from payments.stripe.sandbox import refunds as sandbox_refunds
from payments.stripe.sandbox.cards import CARD_REFUND_FAILS, Card
from payments.stripe.sandbox.client import sandbox_outage
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest
from payments.stripe.sandbox.tests.sandbox_tools import requests_of
from payments.stripe.tests.checkout_tools import order_paid
from payments.stripe.tests.webhook_tools import post_event
from storefront.tests.factories import make_item, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_delivery(settings):
    """Sandbox events are recorded, not sent: each test posts the ones it means to."""
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


@pytest.fixture
def announced():
    """Every refund signal sent during the test, as (signal, refund id)."""
    sent = []
    receivers = {
        refund_succeeded: lambda sender, refund, **kw: sent.append(("succeeded", refund.pk)),
        refund_failed: lambda sender, refund, **kw: sent.append(("failed", refund.pk)),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver)
    yield sent
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


def paid_payment(pay_order, *, currency="USD", price="20.00"):
    return pay_order(make_order((make_item(price=price, currency=currency), 1)))


def pay_with_card(number: str, *, currency="USD", price="20.00"):
    """Pay a new order in one sandbox checkout with the test card `number`; its Payment."""
    order = make_order((make_item(price=price, currency=currency), 1))
    return order_paid(order, card=Card(number=number, exp_month=12, exp_year=2040, cvc="123"))


def refund_posts():
    return SandboxRequest.objects.filter(method="POST", path="/v1/refunds")


def sandbox_events(type_: str) -> list[dict]:
    """The sandbox's recorded events of `type_`, oldest first, as Stripe would post them."""
    rows = SandboxObject.objects.filter(object="event", data__type=type_).order_by("created", "pk")
    return [row.data for row in rows]


def test_partial_then_full_refund_through_the_account_that_took_it(
    pay_order, announced, django_capture_on_commit_callbacks
):
    payment = paid_payment(pay_order, currency="EUR", price="20.00")

    with django_capture_on_commit_callbacks(execute=True):
        first = refund_request(payment=payment, amount=500, reason="requested_by_customer")

    assert first.status == Refund.Status.SUCCEEDED and first.provider_ref.startswith("re_")
    assert (refunded(payment), refundable(payment)) == (500, 1500)
    [sent] = refund_posts()
    # The EUR account took it, so the EUR key refunds it, with our row's key twice over.
    assert sent.account == requests_of("EUR").first().account
    assert not requests_of("USD").exists()
    assert sent.idempotency_key == first.request_key
    assert sent.params == {
        "payment_intent": payment.provider_payment_ref,
        "amount": "500",
        "reason": "requested_by_customer",
        "metadata": {"refund_request": first.request_key},
    }

    with django_capture_on_commit_callbacks(execute=True):
        rest = refund_request(payment=payment, amount=1500)

    assert rest.status == Refund.Status.SUCCEEDED and "reason" not in refund_posts().last().params
    assert (refunded(payment), refundable(payment)) == (2000, 0)
    charge = SandboxObject.objects.get(
        object="charge", data__payment_intent=payment.provider_payment_ref
    )
    assert (charge.data["amount_refunded"], charge.data["refunded"]) == (2000, True)
    assert announced == [("succeeded", first.pk), ("succeeded", rest.pk)]


def test_an_over_refund_is_refused_by_us_and_by_stripe(pay_order, eur):
    payment = paid_payment(pay_order, currency="EUR", price="20.00")
    refund_request(payment=payment, amount=1500)

    with pytest.raises(PaymentError) as caught:
        refund_request(payment=payment, amount=501)

    assert caught.value.status == 422 and "at most 500" in caught.value.message
    assert refund_posts().count() == 1  # nothing more was sent to Stripe
    assert Refund.objects.count() == 1
    # Asked directly, Stripe (the sandbox) refuses it too, in its own words.
    with pytest.raises(stripe.InvalidRequestError) as refused:
        eur.v1.refunds.create({"payment_intent": payment.provider_payment_ref, "amount": 501})
    assert refused.value.user_message == (
        "Refund amount (€5.01) is greater than unrefunded amount on charge (€5.00)"
    )
    assert refundable(payment) == 500


def test_stripes_refusal_fails_the_refund_with_its_reason(pay_order, usd):
    payment = paid_payment(pay_order)
    # Refunded in the dashboard meanwhile, unknown to us yet: Stripe refuses ours.
    usd.v1.refunds.create({"payment_intent": payment.provider_payment_ref})

    with pytest.raises(PaymentError) as caught:
        refund_request(payment=payment, amount=700)

    refund = Refund.objects.get()
    assert refund.status == Refund.Status.FAILED
    assert "has already been refunded" in caught.value.message
    assert "has already been refunded" in refund.message


def test_a_dashboard_refund_is_recorded_once_by_webhook(
    pay_order, client, announced, django_capture_on_commit_callbacks
):
    payment = paid_payment(pay_order)
    sandbox_refunds.refund_in_dashboard(payment.provider_payment_ref, amount=300)
    [created] = sandbox_events("refund.created")
    [charge_refunded] = sandbox_events("charge.refunded")

    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            post_event(client, event).json()["outcome"]
            for event in (created, charge_refunded, created, charge_refunded)
        ]

    assert answers == ["processed", "ignored", "duplicate", "duplicate"]
    refund = Refund.objects.get()
    assert (refund.status, refund.amount, refund.currency) == ("succeeded", 300, "USD")
    assert refund.provider_ref == created["data"]["object"]["id"]
    assert (refund.request_key, refund.requested_by) == (None, None)
    assert refunded(payment) == 300
    assert announced == [("succeeded", refund.pk)]
    records = ReceivedNotification.objects.order_by("pk")
    assert [(r.type, duplicates_counted(r)) for r in records] == [
        ("refund.created", 1),
        ("charge.refunded", 1),
    ]


def test_a_webhook_overtaking_the_answer_leaves_one_refund(
    pay_order, client, monkeypatch, announced, django_capture_on_commit_callbacks
):
    payment = paid_payment(pay_order)
    real_create = stripe_client.refund_create

    def create_then_webhook(account, **kwargs):
        answer = real_create(account, **kwargs)
        # Stripe's event reaches the shop before Stripe's answer does.
        [event] = sandbox_events("refund.created")
        assert post_event(client, event).json()["outcome"] == "processed"
        return answer

    monkeypatch.setattr(stripe_client, "refund_create", create_then_webhook)
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(payment=payment, amount=1000)

    assert Refund.objects.get() == refund
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.provider_ref == sandbox_events("refund.created")[0]["data"]["object"]["id"]
    assert refunded(payment) == 1000
    assert announced == [("succeeded", refund.pk)]


def test_events_of_another_account_or_an_unknown_payment_change_nothing(pay_order, client):
    payment = paid_payment(pay_order)  # USD
    sandbox_refunds.refund_in_dashboard(payment.provider_payment_ref, amount=300)
    [created] = sandbox_events("refund.created")

    # Correctly signed by the EUR account, about the USD account's payment.
    on_eur = post_event(client, {**created, "id": "evt_on_eur"}, "eur")
    # Signed by the USD account, about a payment no account of ours started.
    unknown = json.loads(json.dumps(created))
    unknown["id"] = "evt_unknown_payment"
    unknown["data"]["object"]["payment_intent"] = "pi_neverours"
    elsewhere = post_event(client, unknown)
    # Signed with the EUR secret, posted to the USD endpoint.
    forged = post_event(client, {**created, "id": "evt_forged"}, secret="whsec_sandbox_eur")

    assert (on_eur.status_code, on_eur.json()["outcome"]) == (200, "ignored")
    assert (elsewhere.status_code, elsewhere.json()["outcome"]) == (200, "ignored")
    assert forged.status_code == 400
    assert not Refund.objects.exists()
    assert refundable(payment) == 2000


def test_a_refund_that_fails_later_is_announced_once_each_way(
    client, announced, django_capture_on_commit_callbacks
):
    payment = pay_with_card(CARD_REFUND_FAILS)
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(payment=payment, amount=2000)
    assert refund.status == Refund.Status.SUCCEEDED  # at first, as Stripe's test card does

    sandbox_refunds.refund_settle(refund.provider_ref)  # "some time later"
    late = sandbox_events("refund.updated") + sandbox_events("refund.failed")
    with django_capture_on_commit_callbacks(execute=True):
        for event in late + late:
            assert post_event(client, event).status_code == 200

    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    assert refund.message == "The buyer's card has expired or was cancelled."
    assert announced == [("succeeded", refund.pk), ("failed", refund.pk)]
    # Nothing was given back after all: all of it can be refunded again.
    assert (refunded(payment), refundable(payment)) == (0, 2000)


def test_a_payment_of_an_account_no_longer_configured_is_not_sent_elsewhere(pay_order, settings):
    payment = paid_payment(pay_order)
    settings.STRIPE_ACCOUNTS = {
        **settings.STRIPE_ACCOUNTS,
        "USD": {
            "secret_key": "sk_test_another",
            "publishable_key": "pk_test_another",
            "webhook_secret": "whsec_another",
        },
    }

    with pytest.raises(PaymentError) as caught:
        refund_request(payment=payment, amount=100)

    assert caught.value.status == 409 and "dashboard" in caught.value.message
    assert not refund_posts().exists()
    assert Refund.objects.get().status == Refund.Status.FAILED


def test_stripe_unreachable_leaves_the_refund_pending(pay_order):
    payment = paid_payment(pay_order)

    with sandbox_outage("unreachable"), pytest.raises(PaymentError) as caught:
        refund_request(payment=payment, amount=100)

    assert caught.value.status == 503
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.PENDING and refund.message
    assert refundable(payment) == 1900  # it may have been made: it still counts
