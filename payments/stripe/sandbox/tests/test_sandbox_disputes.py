"""Disputes in the sandbox: the test card opens one, the API answers and decides it as Stripe's
test mode does, the command and the admin play the buyer's bank; every change is an event."""

import json
from io import StringIO

import pytest
import stripe
from django.core.management import CommandError, call_command

from payments.stripe.sandbox.cards import Card
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.payment_confirmation import confirm_in_browser
from payments.stripe.sandbox.tests.events.event_tools import (
    CARD,
    all_events,
    open_session,
    pay,
    verify,
)
from payments.stripe.sandbox.tests.sandbox_tools import stripe_example

pytestmark = pytest.mark.django_db

DISPUTED = Card(number="4000000000000259", exp_month=12, exp_year=2040, cvc="123")


@pytest.fixture(autouse=True)
def webhooks_off(settings):
    """Events are recorded, never sent, unless a test sends them itself."""
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


def disputed_payment(usd) -> tuple[SandboxObject, SandboxObject]:
    """A checkout paid with the dispute card: (its PaymentIntent, the dispute opened on it)."""
    session = open_session(usd)
    paid = pay(session.id, DISPUTED)
    intent_id = paid.data["payment_intent"]
    dispute = SandboxObject.objects.get(object="dispute")
    return SandboxObject.objects.get(id=intent_id), dispute


def types():
    return [event.data["type"] for event in all_events()]


def test_the_dispute_card_pays_then_a_fraudulent_dispute_opens_after_the_payments_events(usd):
    intent, dispute = disputed_payment(usd)

    assert intent.data["status"] == "succeeded"
    data = dispute.data
    assert dispute.id.startswith("dp_")
    assert (data["amount"], data["currency"], data["reason"], data["status"]) == (
        3998,
        "usd",
        "fraudulent",
        "needs_response",
    )
    assert data["payment_intent"] == intent.id
    assert data["charge"] == intent.data["latest_charge"]
    assert data["is_charge_refundable"] is False and data["livemode"] is False
    details = data["evidence_details"]
    assert details["due_by"] > data["created"] + 6 * 86400 and details["has_evidence"] is False
    assert types() == [
        "payment_intent.succeeded",
        "checkout.session.completed",
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    ]
    created = all_events("charge.dispute.created")[0]
    assert created.data["data"]["object"]["id"] == dispute.id
    # Sent where the payment's events go, signed with the same account's secret.
    paid = all_events("checkout.session.completed")[0]
    assert created.private["endpoint"] == paid.private["endpoint"]
    assert created.private["webhook_secret"] == "whsec_sandbox_usd"


def test_the_dispute_is_shaped_like_stripes_example(usd):
    _, dispute = disputed_payment(usd)
    example = stripe_example("dispute")

    assert set(dispute.data) == set(example)
    assert set(dispute.data["evidence"]) == set(example["evidence"])
    assert set(dispute.data["evidence_details"]) == set(example["evidence_details"])
    assert set(dispute.data["payment_method_details"]["card"]) == set(
        example["payment_method_details"]["card"]
    )


def test_a_sandbox_charge_says_it_is_disputed(usd):
    intent, _ = disputed_payment(usd)

    charge = usd.v1.charges.retrieve(intent.data["latest_charge"])

    assert charge.disputed is True


def test_retrieve_is_the_accounts_own(usd, eur):
    _, dispute = disputed_payment(usd)

    assert usd.v1.disputes.retrieve(dispute.id).status == "needs_response"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        eur.v1.disputes.retrieve(dispute.id)
    assert refused.value.code == "resource_missing"


def test_losing_evidence_puts_it_under_review_then_lost(usd):
    _, dispute = disputed_payment(usd)

    answer = usd.v1.disputes.update(
        dispute.id, {"evidence": {"uncategorized_text": "losing_evidence"}}
    )

    assert answer.status == "under_review"  # the answer to the submission, as at Stripe
    assert answer.evidence_details.submission_count == 1
    now = usd.v1.disputes.retrieve(dispute.id)
    assert now.status == "lost"
    assert now.evidence.uncategorized_text == "losing_evidence"
    assert types()[-2:] == ["charge.dispute.updated", "charge.dispute.closed"]
    updated = all_events("charge.dispute.updated")[0].data["data"]
    assert updated["object"]["status"] == "under_review"
    assert updated["previous_attributes"]["status"] == "needs_response"
    closed = all_events("charge.dispute.closed")[0].data["data"]["object"]
    assert closed["status"] == "lost"


def test_winning_evidence_wins_it_and_reinstates_the_funds(usd):
    _, dispute = disputed_payment(usd)

    usd.v1.disputes.update(dispute.id, {"evidence": {"uncategorized_text": "winning_evidence"}})

    assert usd.v1.disputes.retrieve(dispute.id).status == "won"
    assert types()[-3:] == [
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]


def test_other_evidence_stays_under_review_and_a_closed_dispute_takes_no_more(usd):
    _, dispute = disputed_payment(usd)

    usd.v1.disputes.update(dispute.id, {"evidence": {"product_description": "A notebook."}})
    assert usd.v1.disputes.retrieve(dispute.id).status == "under_review"

    with pytest.raises(stripe.InvalidRequestError) as refused:
        usd.v1.disputes.update(dispute.id, {"evidence": {"uncategorized_text": "more"}})
    assert "under_review" in refused.value.user_message


def test_staged_evidence_is_not_submitted(usd):
    _, dispute = disputed_payment(usd)

    answer = usd.v1.disputes.update(
        dispute.id,
        {"evidence": {"uncategorized_text": "winning_evidence"}, "submit": False},
    )

    assert answer.status == "needs_response"
    assert answer.evidence_details.has_evidence is True
    assert answer.evidence_details.submission_count == 0
    assert types()[-1] == "charge.dispute.updated"


def test_metadata_is_set_and_unset_as_at_stripe(usd):
    _, dispute = disputed_payment(usd)

    usd.v1.disputes.update(dispute.id, {"metadata": {"order": "5", "note": "x"}})
    answer = usd.v1.disputes.update(dispute.id, {"metadata": {"note": ""}})

    assert answer.metadata.to_dict() == {"order": "5"}
    assert answer.status == "needs_response"


def test_closing_accepts_the_dispute_as_lost_once(usd):
    _, dispute = disputed_payment(usd)

    assert usd.v1.disputes.close(dispute.id).status == "lost"
    assert types()[-1] == "charge.dispute.closed"
    with pytest.raises(stripe.InvalidRequestError):
        usd.v1.disputes.close(dispute.id)


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"evidence": {"favourite_colour": "blue"}}, "evidence[favourite_colour]", None),
        ({"evidence": {"receipt": "file_123"}}, "evidence[receipt]", "resource_missing"),
        ({"evidence": {"uncategorized_text": "x" * 20_001}}, "evidence[uncategorized_text]", None),
        ({"submit": "maybe"}, "submit", None),
    ],
)
def test_updates_are_checked_as_stripe_checks_them(usd, params, param, code):
    _, dispute = disputed_payment(usd)

    with pytest.raises(stripe.InvalidRequestError) as refused:
        usd.v1.disputes.update(dispute.id, params)

    assert refused.value.param == param
    if code:
        assert refused.value.code == code
    assert SandboxObject.objects.get(id=dispute.id).data == dispute.data


def test_the_payment_element_with_the_dispute_card_is_disputed_too(usd):
    intent = usd.v1.payment_intents.create({"amount": 1500, "currency": "usd"})

    result = confirm_in_browser(
        intent_id=intent.id,
        client_secret=intent.client_secret,
        publishable_key="pk_test_sandbox_usd",
        card={"number": "4000 0000 0000 0259", "expiry": "12 / 40", "cvc": "123"},
        return_url="https://shop.example/payment/stripe/return/",
    )

    assert "redirect" in result
    dispute = SandboxObject.objects.get(object="dispute")
    assert (dispute.data["payment_intent"], dispute.data["amount"]) == (intent.id, 1500)
    assert types() == [
        "payment_intent.succeeded",
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    ]
    assert all_events("charge.dispute.created")[0].private["endpoint"] == {
        "origin": "https://shop.example",
        "currency": "usd",
    }


# --- The command and the admin: the buyer's bank by hand ------------------------------------


def command(*args) -> str:
    out = StringIO()
    call_command("sandbox_dispute", *args, stdout=out)
    return out.getvalue()


def paid_intent(usd) -> str:
    session = open_session(usd)
    return pay(session.id, CARD).data["payment_intent"]


def test_the_command_disputes_any_paid_payment_then_rules_on_it(usd):
    intent_id = paid_intent(usd)

    opened = command("open", intent_id)
    dispute = SandboxObject.objects.get(object="dispute")
    assert f"{dispute.id}: needs_response (fraudulent, 3998 usd" in opened
    assert "charge.dispute.created: unsent" in opened
    lost = command("lose", dispute.id)

    assert f"{dispute.id}: lost" in lost
    assert "charge.dispute.updated" in lost and "charge.dispute.closed" in lost
    assert "charge.dispute.created" not in lost  # only what this ruling sent
    assert usd.v1.disputes.retrieve(dispute.id).status == "lost"
    with pytest.raises(CommandError, match="already lost"):
        command("win", dispute.id)
    with pytest.raises(CommandError, match="already disputed"):
        command("open", intent_id)


def test_the_command_refuses_what_cannot_be_disputed(usd):
    unpaid = usd.v1.payment_intents.create({"amount": 1500, "currency": "usd"})

    with pytest.raises(CommandError, match="only a paid one"):
        command("open", unpaid.id)
    with pytest.raises(CommandError, match="No such sandbox PaymentIntent"):
        command("open", "pi_nothing")
    with pytest.raises(CommandError, match="No such sandbox dispute"):
        command("win", "dp_nothing")
    assert not SandboxObject.objects.filter(object="dispute").exists()


def test_winning_a_dispute_under_review(usd):
    intent_id = paid_intent(usd)
    command("open", intent_id)
    dispute = SandboxObject.objects.get(object="dispute")
    usd.v1.disputes.update(dispute.id, {"evidence": {"customer_name": "Ann Buyer"}})

    command("win", dispute.id)

    assert usd.v1.disputes.retrieve(dispute.id).status == "won"


@pytest.mark.django_db(transaction=True)
def test_the_command_delivers_its_events_before_it_returns(usd, settings):
    from payments.stripe.sandbox.tests.events.event_tools import Receiver

    settings.STRIPE_SANDBOX_WEBHOOKS = "off"
    server = Receiver()
    try:
        session = open_session(usd, server.origin)
        intent_id = pay(session.id, CARD).data["payment_intent"]
        settings.STRIPE_SANDBOX_WEBHOOKS = "thread"
        settings.SHOP_URL = server.origin  # where the command sends (payments.shop_address)

        out = command("open", intent_id)

        assert "charge.dispute.created: delivered" in out
        assert "charge.dispute.funds_withdrawn: delivered" in out
        bodies = [json.loads(received["body"]) for received in server.received]
        # One thread per event, as for every sandbox event: they may arrive in either order.
        assert sorted(body["type"] for body in bodies) == [
            "charge.dispute.created",
            "charge.dispute.funds_withdrawn",
        ]
        for received in server.received:
            verify(received)
            assert received["path"] == "/payments/webhooks/stripe/usd/"
    finally:
        server.close()


def test_the_sandbox_admin_opens_and_decides_disputes(usd, admin_client):
    intent_id = paid_intent(usd)
    changelist = "/admin/sandbox/sandboxobject/"

    admin_client.post(
        changelist, {"action": "open_dispute", "_selected_action": [intent_id]}, follow=True
    )
    dispute = SandboxObject.objects.get(object="dispute")
    page = admin_client.post(
        changelist, {"action": "win_dispute", "_selected_action": [dispute.id]}, follow=True
    )

    assert f"Dispute {dispute.id} decided: won." in page.content.decode()
    assert SandboxObject.objects.get(id=dispute.id).data["status"] == "won"
    wrong = admin_client.post(
        changelist, {"action": "lose_dispute", "_selected_action": [intent_id]}, follow=True
    )
    assert f"Skipped {intent_id}: a payment_intent, not a dispute." in wrong.content.decode()
