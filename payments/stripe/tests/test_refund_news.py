"""Refund news in any order, through the webhook as Stripe delivers it: a final status is final
against older news (the provider is asked, never the older word taken), reconcile's replay
changes nothing, and what is counted as refunded never exceeds what the payment received."""

import json
import secrets
import time

import pytest
from django.core import mail

from payments.models import ReceivedNotification, Refund
from payments.refunds import refundable, refunded
from payments.services import payments_reconcile
from payments.stripe.sandbox import refunds as sandbox_refunds
from payments.stripe.sandbox.cards import CARD_REFUND_FAILS, Card
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest
from payments.stripe.tests.checkout_tools import order_paid
from payments.stripe.tests.webhook_tools import post_event
from storefront.models import OrderMail
from storefront.shop.settlement import order_settlement
from storefront.tests.factories import make_item, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_delivery(settings):
    """Sandbox events are recorded, not sent: each test posts the ones it means to."""
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


def paid_order(*, card: str = "4242424242424242", price: str = "20.00"):
    """A USD order paid in the sandbox's Checkout (the buyer's address known); (order,
    payment)."""
    order = make_order((make_item(price=price, currency="USD"), 1))
    payment = order_paid(order, card=Card(number=card, exp_month=12, exp_year=2040, cvc="123"))
    assert order.email == "buyer@example.com"  # so a refund notice would be owed
    return order, payment


def sandbox_event(type_: str) -> dict:
    """The sandbox's one recorded event of `type_`, as Stripe would post it."""
    [row] = SandboxObject.objects.filter(object="event", data__type=type_)
    return row.data


def older(event: dict, *, type_: str, seconds: int = 30) -> dict:
    """`event`'s object in another event of `type_`, made `seconds` earlier (a late retry)."""
    copy = json.loads(json.dumps(event))
    return {**copy, "id": "evt_" + secrets.token_hex(12), "type": type_,
            "created": event["created"] - seconds}  # fmt: skip


def refund_notices() -> int:
    return OrderMail.objects.filter(kind=OrderMail.Kind.REFUND).count()


def asked_for(refund_id: str) -> int:
    return SandboxRequest.objects.filter(method="GET", path=f"/v1/refunds/{refund_id}").count()


def test_a_failed_refund_stays_failed_when_its_earlier_success_arrives_late(
    client, django_capture_on_commit_callbacks
):
    order, payment = paid_order(card=CARD_REFUND_FAILS)
    made = sandbox_refunds.refund_in_dashboard(payment.provider_payment_ref, amount=2000)
    created = sandbox_event("refund.created")  # status succeeded, as the test card begins
    sandbox_refunds.refund_settle(made.id)  # "some time later" it fails
    failed = sandbox_event("refund.failed")
    # The success, told again by a refund.updated Stripe retries late.
    late_success = older(created, type_="refund.updated")
    assert late_success["data"]["object"]["status"] == "succeeded"
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        first = post_event(client, failed)
        late = post_event(client, late_success)
        again = post_event(client, older(created, type_="refund.created", seconds=60))

    assert [r.status_code for r in (first, late, again)] == [200, 200, 200]
    refund = Refund.objects.get()
    assert (refund.provider_ref, refund.status) == (made.id, Refund.Status.FAILED)
    assert refund.message == "The buyer's card has expired or was cancelled."
    # The older word was not taken: Stripe was asked, through the USD account, each time.
    assert asked_for(made.id) == 2
    assert refund_notices() == 0 and mail.outbox == []
    assert (refunded(payment), refundable(payment)) == (0, 2000)
    assert order_settlement(order).words == "Paid"


def test_a_refund_that_succeeded_and_later_failed_follows_stripe(
    client, django_capture_on_commit_callbacks
):
    """The other way round: our record says succeeded, the newer word says failed, and Stripe
    (asked) agrees: the refund fails, as Stripe's test card makes it."""
    _, payment = paid_order(card=CARD_REFUND_FAILS)
    made = sandbox_refunds.refund_in_dashboard(payment.provider_payment_ref, amount=500)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, sandbox_event("refund.created"))
    assert Refund.objects.get().status == Refund.Status.SUCCEEDED and refund_notices() == 1

    sandbox_refunds.refund_settle(made.id)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, sandbox_event("refund.failed"))

    assert Refund.objects.get().status == Refund.Status.FAILED
    assert asked_for(made.id) == 1
    assert refunded(payment) == 0


def test_reconcile_replaying_older_events_does_not_flip_a_failed_refund(
    client, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    _, payment = paid_order(card=CARD_REFUND_FAILS)
    made = sandbox_refunds.refund_in_dashboard(payment.provider_payment_ref, amount=2000)
    sandbox_refunds.refund_settle(made.id)
    # Only refund.failed reached the shop; reconcile finds the rest, oldest first.
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, sandbox_event("refund.failed"))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        [usd] = payments_reconcile(since=timezone.now() - timezone.timedelta(hours=1),
                                   account_filter="USD")  # fmt: skip

    assert usd.ok and usd.failed == 0
    replayed = set(ReceivedNotification.objects.values_list("type", flat=True))
    assert {"refund.created", "refund.updated", "refund.failed"} <= replayed
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.FAILED
    assert refund_notices() == 0 and mail.outbox == []
    assert refunded(payment) == 0


def test_a_refund_beyond_what_was_received_is_recorded_flagged_and_not_counted(
    client, admin_client, django_capture_on_commit_callbacks
):
    order, payment = paid_order(price="9.53")
    sandbox_refunds.refund_in_dashboard(payment.provider_payment_ref, amount=300)
    dashboard = sandbox_event("refund.created")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, dashboard).json()["outcome"] == "processed"
    # Signed by the USD account: a refund of 95.30 on the 9.53 payment.
    excessive = json.loads(json.dumps(dashboard))
    excessive["id"] = "evt_" + secrets.token_hex(12)
    excessive["created"] = int(time.time())
    excessive["data"]["object"].update(id="re_test_excessive", amount=9530)

    with django_capture_on_commit_callbacks(execute=True):
        answer = post_event(client, excessive)

    assert (answer.status_code, answer.json()["outcome"]) == (200, "processed")
    excess = Refund.objects.get(provider_ref="re_test_excessive")
    assert (excess.status, excess.amount) == (Refund.Status.SUCCEEDED, 9530)  # as Stripe said
    assert "$88.77 beyond what was received is not counted" in excess.attention_note
    # Counted: never more than the payment received.
    assert (refunded(payment), refundable(payment)) == (953, 0)
    settlement = order_settlement(order)
    assert settlement.refunded == 953
    assert settlement.words == (
        "Refunded ($9.53); $88.77 reported refunded beyond what was paid (flagged, not counted)"
    )
    # One notice, for the dashboard's refund; none for the one beyond.
    assert list(OrderMail.objects.filter(kind="refund").values_list("key", flat=True)) == [
        dashboard["data"]["object"]["id"]
    ]
    # The merchant sees it: in the refunds list (and its filter), and on the payment's page.
    listing = admin_client.get("/admin/payments/refund/?flagged=yes").content.decode()
    page = admin_client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()
    for html in (listing, page):
        assert "re_test_excessive" in html and "⚠" in html and "not counted" in html
    assert dashboard["data"]["object"]["id"] not in listing
