"""Disputes on Stripe, end to end: the sandbox opens one (a chargeback or an inquiry) on a
payment, its signed `charge.dispute.*` events reach the account's endpoint, and the core records
it once, against the right payment, following Stripe's lifecycle (an inquiry that escalates, a
verdict, an appeal) and refusing older news; the admin and the order say where it stands."""

import json
import threading
import urllib.request

import pytest

from payments.models import Dispute, Payment, ReceivedNotification
from payments.stripe.sandbox.cards import Card
from payments.stripe.sandbox.dispute_bank import (
    dispute_appeal_open,
    dispute_decide,
    dispute_escalate,
    dispute_open,
)
from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.tests.webhook_tools import event_for, post_event
from storefront.models import Order
from storefront.shop.settlement import order_settlement
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db

DISPUTED = Card(number="4000000000000259", exp_month=12, exp_year=2040, cvc="123")


@pytest.fixture(autouse=True)
def webhooks_off(settings):
    """The sandbox records its events; each test delivers them itself, in its own order."""
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


def sandbox_events(type: str) -> list[dict]:
    rows = SandboxObject.objects.filter(object="event", data__type=type).order_by("created", "id")
    return [row.data for row in rows]


def deliver(client, type: str, currency: str = "usd"):
    """Post the sandbox's latest event of `type` to the account's endpoint, signed."""
    return post_event(client, sandbox_events(type)[-1], currency)


@pytest.fixture
def disputed(client) -> dict:
    """A USD item bought through /buy, paid with the dispute card, its payment events
    delivered: the sandbox's dispute (not yet delivered)."""
    item = make_item(price="42.50", currency="USD")
    session_id = client.get(f"/buy/{item.pk}").json()["id"]
    checkout_session_pay(session_id=session_id, card=DISPUTED, email="buyer@example.com")
    assert deliver(client, "checkout.session.completed").json()["outcome"] == "processed"
    return SandboxObject.objects.get(object="dispute").data


def test_a_dispute_reaches_the_webhook_and_is_recorded_once_against_its_payment(client, disputed):
    first = deliver(client, "charge.dispute.created")
    again = deliver(client, "charge.dispute.created")

    assert first.json()["outcome"] == "processed"
    assert again.json()["outcome"] == "duplicate"
    payment = Payment.objects.get()
    dispute = Dispute.objects.get()
    assert dispute.payment == payment
    assert payment.provider_payment_ref == disputed["payment_intent"]
    assert (dispute.provider_ref, dispute.amount, dispute.currency, dispute.reason) == (
        disputed["id"],
        4250,
        "USD",
        "fraudulent",
    )
    assert dispute.status == "needs_response" and dispute.closed_at is None
    assert int(dispute.evidence_due_by.timestamp()) == disputed["evidence_details"]["due_by"]
    # The order stays paid: what a lost dispute means for it is the shop's to say.
    assert Order.objects.get().status == Order.Status.PAID


def test_a_dispute_overtaking_the_sessions_own_event_still_finds_its_payment(client):
    item = make_item(price="42.50", currency="USD")
    session_id = client.get(f"/buy/{item.pk}").json()["id"]
    checkout_session_pay(session_id=session_id, card=DISPUTED, email="buyer@example.com")

    first = deliver(client, "charge.dispute.created")  # before checkout.session.completed
    deliver(client, "checkout.session.completed")

    assert first.json()["outcome"] == "processed"
    dispute = Dispute.objects.get()
    assert dispute.payment.provider_ref == session_id
    assert dispute.payment.status == "succeeded"


def test_funds_withdrawn_is_acknowledged_and_records_the_same_dispute(client, disputed):
    deliver(client, "charge.dispute.created")

    answer = deliver(client, "charge.dispute.funds_withdrawn")

    assert answer.status_code == 200
    assert Dispute.objects.count() == 1


def test_losing_evidence_closes_it_as_lost(client, disputed, usd):
    deliver(client, "charge.dispute.created")

    usd.v1.disputes.update(disputed["id"], {"evidence": {"uncategorized_text": "losing_evidence"}})
    deliver(client, "charge.dispute.updated")
    assert Dispute.objects.get().status == "under_review"
    deliver(client, "charge.dispute.closed")

    dispute = Dispute.objects.get()
    assert dispute.status == "lost" and dispute.closed_at is not None


def test_winning_evidence_closes_it_as_won(client, disputed, usd):
    deliver(client, "charge.dispute.created")

    usd.v1.disputes.update(disputed["id"], {"evidence": {"uncategorized_text": "winning_evidence"}})
    for type in ("updated", "closed", "funds_reinstated"):
        assert deliver(client, f"charge.dispute.{type}").status_code == 200

    dispute = Dispute.objects.get()
    assert dispute.status == "won" and dispute.closed_at is not None


def test_accepting_it_loses_it(client, disputed, usd):
    usd.v1.disputes.close(disputed["id"])

    deliver(client, "charge.dispute.closed")

    assert Dispute.objects.get().status == "lost"


def test_a_late_update_after_the_close_does_not_reopen_it(client, disputed, usd):
    usd.v1.disputes.update(disputed["id"], {"evidence": {"uncategorized_text": "losing_evidence"}})
    deliver(client, "charge.dispute.closed")  # the verdict overtakes the rest
    closed_at = Dispute.objects.get().closed_at

    late = [deliver(client, "charge.dispute.updated"), deliver(client, "charge.dispute.created")]

    assert [answer.json()["outcome"] for answer in late] == ["processed", "processed"]
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.closed_at) == ("lost", closed_at)


def test_a_dispute_signed_by_another_account_changes_nothing(client, disputed):
    answer = post_event(client, sandbox_events("charge.dispute.created")[-1], "eur")

    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"
    assert not Dispute.objects.exists()
    record = ReceivedNotification.objects.get(type="charge.dispute.created")
    assert record.account == "pk_test_sandbox_eur" and record.status == "ignored"
    assert disputed["payment_intent"] in record.error


def test_a_dispute_naming_only_its_charge_is_traced_through_the_charge(client, disputed):
    bare = {**disputed, "payment_intent": None}

    answer = post_event(client, event_for(bare, "charge.dispute.created"))

    assert answer.json()["outcome"] == "processed"
    assert Dispute.objects.get().payment == Payment.objects.get()


def test_a_test_mode_dispute_never_touches_a_live_payment(client, disputed):
    Payment.objects.update(livemode=True)

    answer = deliver(client, "charge.dispute.created")

    assert answer.json()["outcome"] == "ignored"
    assert not Dispute.objects.exists()


def test_a_status_we_do_not_know_is_recorded_and_changes_nothing(client, disputed):
    answer = post_event(
        client, event_for({**disputed, "status": "something_new"}, "charge.dispute.updated")
    )

    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"
    assert not Dispute.objects.exists()


def test_a_dispute_event_without_an_object_id_is_refused(client, disputed):
    answer = post_event(client, event_for({"object": "dispute"}, "charge.dispute.created"))

    assert answer.status_code == 400
    assert not Dispute.objects.exists()


def test_a_payment_element_payment_can_be_disputed_too(client, usd):
    from payments.stripe.sandbox.payment_confirmation import confirm_in_browser

    item = make_item(price="15.00", currency="USD")
    page = client.get(f"/item/{item.pk}/pay/", follow=True)
    intent_id = Payment.objects.get().provider_ref
    intent = usd.v1.payment_intents.retrieve(intent_id)
    assert page.status_code == 200
    confirm_in_browser(
        intent_id=intent_id,
        client_secret=intent.client_secret,
        publishable_key="pk_test_sandbox_usd",
        card={"number": "4000000000000259", "expiry": "12 / 40", "cvc": "123"},
        return_url="http://testserver/payment/stripe/return/",
    )

    deliver(client, "payment_intent.succeeded")
    deliver(client, "charge.dispute.created")

    dispute = Dispute.objects.get()
    assert dispute.payment.provider_ref == intent_id and dispute.amount == 1500


@pytest.mark.django_db(transaction=True)
def test_the_shops_own_endpoint_receives_the_dispute_of_a_dispute_card(live_server, settings):
    """As `make run` works: pay with the dispute card, and the shop's server gets it all."""
    settings.STRIPE_SANDBOX_WEBHOOKS = "thread"
    port = live_server.url.rsplit(":", 1)[1]
    item = make_item(price="42.50", currency="USD")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}/buy/{item.pk}", timeout=10) as response:
        session_id = json.load(response)["id"]

    checkout_session_pay(session_id=session_id, card=DISPUTED, email="buyer@example.com")

    for thread in threading.enumerate():
        if thread.name.startswith("sandbox-webhook-"):
            thread.join(timeout=15)
    records = dict(ReceivedNotification.objects.values_list("type", "status"))
    assert records["charge.dispute.created"] == "processed"
    assert records["checkout.session.completed"] == "processed"
    dispute = Dispute.objects.get()
    assert dispute.payment.reference == Order.objects.get().payment_reference
    assert dispute.status == "needs_response"


# --- Inquiries, escalation, appeals -----------------------------------------------------------


@pytest.fixture
def paid(client) -> tuple[Order, str]:
    """A USD order bought through /buy with an ordinary card, its payment delivered:
    (the order, its PaymentIntent's id)."""
    item = make_item(price="42.50", currency="USD")
    session_id = client.get(f"/buy/{item.pk}").json()["id"]
    checkout_session_pay(
        session_id=session_id,
        card=Card(number="4242424242424242", exp_month=12, exp_year=2040, cvc="123"),
        email="buyer@example.com",
    )
    assert deliver(client, "checkout.session.completed").json()["outcome"] == "processed"
    return Order.objects.get(), Payment.objects.get().provider_payment_ref


def respond_by(dispute: Dispute) -> str:
    from django.utils.formats import date_format

    return f"respond by {date_format(dispute.evidence_due_by, 'DATE_FORMAT')}"


def admin_pages(admin_client) -> list[str]:
    payment = Payment.objects.get()
    return [
        admin_client.get(url).content.decode()
        for url in (
            "/admin/payments/dispute/",
            f"/admin/payments/dispute/{Dispute.objects.get().pk}/change/",
            "/admin/payments/payment/",
            f"/admin/payments/payment/{payment.pk}/change/",
        )
    ]


def test_an_inquiry_is_shown_then_its_escalation_to_a_chargeback(client, admin_client, paid):
    order, intent = paid
    dispute_open(intent, inquiry=True)
    assert deliver(client, "charge.dispute.created").json()["outcome"] == "processed"

    inquiry = Dispute.objects.get()
    assert (inquiry.status, inquiry.needs_response) == ("inquiry_needs_response", True)
    assert order_settlement(order).words == (
        f"Paid; inquiry from the buyer's bank: {respond_by(inquiry)}"
    )
    for html in admin_pages(admin_client):
        assert "Inquiry: needs a response" in html or "⚠ Inquiry: respond by" in html
    payments_list = admin_client.get("/admin/payments/payment/").content.decode()
    assert "1 dispute needs a response" in payments_list

    dispute_escalate(inquiry.provider_ref)
    assert deliver(client, "charge.dispute.updated").json()["outcome"] == "processed"
    assert deliver(client, "charge.dispute.funds_withdrawn").status_code == 200

    chargeback = Dispute.objects.get()
    assert chargeback.status == "needs_response"
    assert order_settlement(order).words == f"Paid; disputed: {respond_by(chargeback)}"
    for html in admin_pages(admin_client):
        assert "⚠ Respond by" in html
    # The inquiry's own opening, redelivered late, does not hide the chargeback.
    late = post_event(client, {**sandbox_events("charge.dispute.created")[-1], "id": "evt_late"})
    assert late.json()["outcome"] == "processed"
    assert Dispute.objects.get().status == "needs_response"


def test_an_inquiry_closed_is_said_and_a_new_dispute_on_the_same_charge_is_shown(
    client, admin_client, paid
):
    order, intent = paid
    dispute_open(intent, inquiry=True)
    deliver(client, "charge.dispute.created")
    inquiry = SandboxObject.objects.get(object="dispute")
    dispute_decide(inquiry.id, won=True)
    for type in ("updated", "closed"):
        deliver(client, f"charge.dispute.{type}")
    assert Dispute.objects.get().status == "inquiry_closed"
    assert order_settlement(order).words == "Paid; inquiry closed"

    # The bank escalates after all, with a new dispute of the same charge (Stripe may do so).
    chargeback = {**inquiry.data, "id": "dp_escalated", "status": "needs_response"}
    answer = post_event(client, event_for(chargeback, "charge.dispute.created"))

    assert answer.json()["outcome"] == "processed"
    statuses = dict(Dispute.objects.values_list("provider_ref", "status"))
    assert statuses == {inquiry.id: "inquiry_closed", "dp_escalated": "needs_response"}
    escalated = Dispute.objects.get(provider_ref="dp_escalated")
    assert order_settlement(order).words == (
        f"Paid; disputed: {respond_by(escalated)}; inquiry closed"
    )
    listing = admin_client.get("/admin/payments/payment/").content.decode()
    assert "⚠ Respond by" in listing and "Inquiry closed" in listing


def test_a_lost_dispute_under_appeal_no_longer_reads_lost(client, admin_client, disputed, usd):
    order = Order.objects.get()
    dispute_decide(disputed["id"], won=False)
    for type in ("updated", "closed"):
        deliver(client, f"charge.dispute.{type}")
    assert order_settlement(order).words == "Paid; dispute lost ($42.50)"

    dispute_appeal_open(disputed["id"])
    deliver(client, "charge.dispute.updated")

    appeal = Dispute.objects.get()
    assert (appeal.status, appeal.appealed, appeal.closed_at) == (
        "appeal_needs_response",
        True,
        None,
    )
    assert order_settlement(order).words == f"Paid; dispute under appeal: {respond_by(appeal)}"
    for html in admin_pages(admin_client):
        assert "Appeal: needs a response" in html or "⚠ Appeal: respond by" in html

    usd.v1.disputes.update(
        disputed["id"], {"evidence": {"appeal": {"card": {"reason_for_filing": "Delivered."}}}}
    )
    deliver(client, "charge.dispute.updated")
    assert Dispute.objects.get().status == "appeal_under_review"
    assert order_settlement(order).words == (
        "Paid; dispute under appeal (the card network decides)"
    )
    for html in admin_pages(admin_client):
        assert "Under appeal" in html

    dispute_decide(disputed["id"], won=True)
    deliver(client, "charge.dispute.closed")
    deliver(client, "charge.dispute.funds_reinstated")

    won = Dispute.objects.get()
    assert (won.status, won.appealed) == ("won", True) and won.closed_at is not None
    assert order_settlement(order).words == "Paid; dispute won on appeal"
    assert "Closed: won on appeal" in admin_pages(admin_client)[0]


def test_an_older_event_arriving_late_is_refused_even_after_an_appeal(client, disputed):
    dispute_decide(disputed["id"], won=False)
    closed = sandbox_events("charge.dispute.closed")[-1]  # lost
    dispute_appeal_open(disputed["id"])
    appeal = sandbox_events("charge.dispute.updated")[-1]
    appeal["created"] = closed["created"] + 60  # a minute later, as at Stripe

    deliver(client, "charge.dispute.created")
    assert post_event(client, appeal).json()["outcome"] == "processed"
    # The verdict it appeals, delivered after it (a retry), is older news.
    late = post_event(client, closed)
    replayed = post_event(client, {**closed, "id": "evt_replayed", "created": closed["created"]})

    assert [r.status_code for r in (late, replayed)] == [200, 200]
    assert Dispute.objects.get().status == "appeal_needs_response"


def test_the_sandbox_command_plays_an_inquiry_and_an_appeal(paid):
    from io import StringIO

    from django.core.management import call_command

    def command(*args) -> str:
        out = StringIO()
        call_command("sandbox_dispute", *args, stdout=out)
        return out.getvalue()

    _, intent = paid
    opened = command("open", intent, "--inquiry")
    dispute_id = SandboxObject.objects.get(object="dispute").id
    assert f"{dispute_id}: warning_needs_response" in opened
    assert "funds_withdrawn" not in opened  # an inquiry moves no money
    assert "charge.dispute.updated" in command("escalate", dispute_id)
    assert f"{dispute_id}: lost" in command("lose", dispute_id)
    assert f"{dispute_id}: appeal_needs_response" in command("appeal", dispute_id)
    assert f"{dispute_id}: won" in command("win", dispute_id)
