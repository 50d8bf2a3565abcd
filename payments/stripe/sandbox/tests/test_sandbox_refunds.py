"""The sandbox's Charges and Refunds, through the real `stripe` library: as strict as Stripe."""

import pytest
import stripe
from django.core.management import call_command

from payments.stripe.sandbox import refunds as sandbox_refunds
from payments.stripe.sandbox.cards import CARD_REFUND_FAILS, CARD_REFUND_PENDING, Card
from payments.stripe.sandbox.dispute_bank import dispute_open
from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest
from payments.stripe.sandbox.tests.sandbox_tools import stripe_example

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_delivery(settings):
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


def paid_intent(client, *, amount=1000, currency="usd", number="4242424242424242") -> str:
    """A Checkout Session for `amount`, paid with the test card `number`; its PaymentIntent id."""
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": currency,
                        "unit_amount": amount,
                        "product_data": {"name": "Tea"},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": "http://shop.example/ok/?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://shop.example/cancel/",
        }
    )
    card = Card(number=number, exp_month=12, exp_year=2040, cvc="123")
    paid = checkout_session_pay(session_id=session.id, card=card, email="buyer@example.com")
    return paid.data["payment_intent"]


def event_types() -> list[str]:
    return [
        event.data["type"]
        for event in SandboxObject.objects.filter(object="event").order_by("created", "pk")
        if event.data["type"].startswith(("refund.", "charge."))
    ]


def test_a_paid_payment_has_a_charge_shaped_like_stripes(usd):
    intent = usd.v1.payment_intents.retrieve(paid_intent(usd))
    charge = usd.v1.charges.retrieve(intent.latest_charge).to_dict()
    # Since API version 2022-11-15 a Charge no longer embeds its refunds.
    assert set(charge) == set(stripe_example("charge")) - {"refunds"}
    assert (charge["amount"], charge["amount_captured"], charge["amount_refunded"]) == (
        1000,
        1000,
        0,
    )
    assert (charge["payment_intent"], charge["status"], charge["refunded"]) == (
        intent.id,
        "succeeded",
        False,
    )
    assert charge["disputed"] is False
    assert charge["payment_method_details"]["card"]["last4"] == "4242"


def test_partial_then_the_rest(usd):
    intent_id = paid_intent(usd)
    first = usd.v1.refunds.create(
        {"payment_intent": intent_id, "amount": 300, "reason": "requested_by_customer"},
        {"idempotency_key": "refund-1"},
    )
    assert set(first.to_dict()) == set(stripe_example("refund"))
    assert (first.status, first.amount, first.currency, first.reason) == (
        "succeeded",
        300,
        "usd",
        "requested_by_customer",
    )
    assert first.payment_intent == intent_id
    charge = usd.v1.charges.retrieve(first.charge)
    assert (charge.amount_refunded, charge.refunded) == (300, False)

    rest = usd.v1.refunds.create({"payment_intent": intent_id})  # the amount that remains
    assert rest.amount == 700
    charge = usd.v1.charges.retrieve(first.charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, True)
    # Stripe's order: each refund's own event, then the charge's.
    assert event_types() == [
        "refund.created",
        "charge.refunded",
        "refund.created",
        "charge.refunded",
    ]
    refunded = SandboxObject.objects.filter(object="event", data__type="charge.refunded").last()
    assert "refunds" not in refunded.data["data"]["object"]
    listed = usd.v1.refunds.list({"payment_intent": intent_id})
    assert [refund.id for refund in listed.data] == [rest.id, first.id]


def test_a_replayed_request_refunds_once(usd):
    intent_id = paid_intent(usd)
    for _ in range(2):
        refund = usd.v1.refunds.create(
            {"payment_intent": intent_id, "amount": 300}, {"idempotency_key": "same-key"}
        )
    assert SandboxObject.objects.filter(object="refund").count() == 1
    assert usd.v1.charges.retrieve(refund.charge).amount_refunded == 300


def test_over_refunds_are_refused_in_stripes_words(usd):
    intent_id = paid_intent(usd, amount=1000)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        usd.v1.refunds.create({"payment_intent": intent_id, "amount": 1500})
    assert caught.value.param == "amount"
    assert caught.value.user_message == (
        "Refund amount ($15.00) is greater than unrefunded amount on charge ($10.00)"
    )
    usd.v1.refunds.create({"payment_intent": intent_id, "amount": 400})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        usd.v1.refunds.create({"payment_intent": intent_id, "amount": 601})
    assert "on charge ($6.00)" in caught.value.user_message
    usd.v1.refunds.create({"payment_intent": intent_id})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        usd.v1.refunds.create({"payment_intent": intent_id, "amount": 1})
    assert caught.value.code == "charge_already_refunded"
    assert "has already been refunded" in caught.value.user_message
    assert SandboxObject.objects.filter(object="refund").count() == 2
    refused = SandboxRequest.objects.filter(path="/v1/refunds", status_code=400)
    assert refused.count() == 3


def test_a_charged_back_payment_cannot_be_refunded(usd):
    intent_id = paid_intent(usd, amount=1000)
    dispute_open(intent_id)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        usd.v1.refunds.create({"payment_intent": intent_id, "amount": 100})

    assert caught.value.code == "charge_disputed"
    assert "has been charged back" in caught.value.user_message
    assert not SandboxObject.objects.filter(object="refund").exists()


def test_bad_requests_are_refused(usd, eur):
    intent_id = paid_intent(usd)
    open_intent = usd.v1.payment_intents.create({"amount": 1000, "currency": "usd"})
    cases = [
        ({}, None),
        ({"payment_intent": "pi_unknown"}, "id"),
        ({"payment_intent": open_intent.id}, "payment_intent"),
        ({"payment_intent": intent_id, "reason": "changed_mind"}, "reason"),
        ({"payment_intent": intent_id, "amount": 0}, "amount"),
        ({"payment_intent": intent_id, "amount": ""}, "amount"),
        ({"payment_intent": intent_id, "refund_everything": "true"}, "refund_everything"),
    ]
    for params, param in cases:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            usd.v1.refunds.create(params)
        assert caught.value.param == param, params
    # Another account's payment does not exist for this one.
    with pytest.raises(stripe.InvalidRequestError) as caught:
        eur.v1.refunds.create({"payment_intent": intent_id})
    assert caught.value.code == "resource_missing"
    assert not SandboxObject.objects.filter(object="refund").exists()


def test_the_failing_refund_card_fails_later(usd, monkeypatch):
    intent_id = paid_intent(usd, number=CARD_REFUND_FAILS)
    refund = usd.v1.refunds.create({"payment_intent": intent_id, "amount": 1000})
    assert refund.status == "succeeded"  # at first, as Stripe's testing docs say
    assert usd.v1.refunds.retrieve(refund.id).status == "succeeded"  # not due yet

    monkeypatch.setattr(sandbox_refunds, "SETTLE_AFTER_SECONDS", 0)
    row = SandboxObject.objects.get(id=refund.id)
    row.private["settle_at"] = 0
    row.save()
    failed = usd.v1.refunds.retrieve(refund.id)  # "only in subsequent fetches"
    assert (failed.status, failed.failure_reason) == ("failed", "expired_or_canceled_card")
    charge = usd.v1.charges.retrieve(refund.charge)
    assert (charge.amount_refunded, charge.refunded) == (0, False)  # the money is back
    assert event_types()[-2:] == ["refund.updated", "refund.failed"]
    updated = SandboxObject.objects.get(object="event", data__type="refund.updated")
    assert updated.data["data"]["previous_attributes"]["status"] == "succeeded"
    # Settled once: reading it again, or settling again, sends nothing more.
    sandbox_refunds.refund_settle(refund.id)
    usd.v1.refunds.retrieve(refund.id)
    assert event_types().count("refund.failed") == 1
    # What failed can be refunded again.
    assert usd.v1.refunds.create({"payment_intent": intent_id}).amount == 1000


def test_the_pending_refund_card_succeeds_later(usd):
    intent_id = paid_intent(usd, number=CARD_REFUND_PENDING)
    refund = usd.v1.refunds.create({"payment_intent": intent_id, "amount": 250})
    assert refund.status == "pending"
    assert sandbox_refunds.refund_settle(refund.id).data["status"] == "succeeded"
    assert usd.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert usd.v1.charges.retrieve(refund.charge).amount_refunded == 250
    assert event_types()[-1] == "refund.updated"


def test_a_refund_in_the_dashboard(usd, capsys):
    intent_id = paid_intent(usd)
    call_command("sandbox_refund", intent_id, "--amount", "200")
    out = capsys.readouterr().out
    refund = SandboxObject.objects.get(object="refund")
    assert refund.id in out and "succeeded" in out
    assert refund.data["metadata"] == {} and refund.data["amount"] == 200
    # Not an API request of the shop's: no request, no idempotency key.
    assert not SandboxRequest.objects.filter(path="/v1/refunds").exists()
    assert event_types() == ["refund.created", "charge.refunded"]
    with pytest.raises(Exception, match="greater than unrefunded amount"):
        call_command("sandbox_refund", intent_id, "--amount", "900")
    with pytest.raises(Exception, match="No sandbox payment intent"):
        call_command("sandbox_refund", "pi_nothing")
