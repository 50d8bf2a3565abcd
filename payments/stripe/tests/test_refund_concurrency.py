"""Two clerks refunding one payment at the same moment can never together give back more than
it took: real threads against PostgreSQL (see payments.tests.concurrency)."""

from collections import Counter
from dataclasses import dataclass

import pytest

from payments.errors import PaymentError
from payments.models import Refund
from payments.refunds import refund_request, refunded
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest
from payments.tests.concurrency import POSTGRES_ONLY, run_at_once
from storefront.tests.factories import make_item, make_order

pytestmark = POSTGRES_ONLY


@pytest.fixture(autouse=True)
def no_delivery(settings):
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


@dataclass
class Outcome:
    """A refund_request's outcome, as run_at_once counts them: 200, or the PaymentError's."""

    status_code: int


def refund_in_thread(payment, amount):
    def call(client):
        try:
            refund_request(payment=payment, amount=amount)
        except PaymentError as exc:
            return Outcome(exc.status)
        return Outcome(200)

    return call


def test_two_refunds_that_together_exceed_the_payment_one_is_refused(pay_order):
    payment = pay_order(make_order((make_item(price="20.00", currency="USD"), 1)))

    statuses = run_at_once([refund_in_thread(payment, 1200)] * 2)

    assert Counter(statuses) == {200: 1, 422: 1}
    refund = Refund.objects.get()
    assert (refund.status, refund.amount) == (Refund.Status.SUCCEEDED, 1200)
    assert refunded(payment) == 1200
    # Only one request reached Stripe; its charge agrees.
    assert SandboxRequest.objects.filter(path="/v1/refunds").count() == 1
    charge = SandboxObject.objects.get(object="charge")
    assert charge.data["amount_refunded"] == 1200


def test_many_small_refunds_at_once_stop_at_what_was_paid(pay_order):
    payment = pay_order(make_order((make_item(price="20.00", currency="USD"), 1)))

    statuses = run_at_once([refund_in_thread(payment, 300)] * 10)

    assert Counter(statuses) == {200: 6, 422: 4}
    assert refunded(payment) == 1800
    charge = SandboxObject.objects.get(object="charge")
    assert charge.data["amount_refunded"] == 1800


def test_concurrent_events_about_one_refund_record_it_once_count_it_once_and_tell_once(
    client,
):
    """refund.created (pending) and refund.updated (succeeded) of one dashboard refund, each
    delivered under its own event id by 20 threads at once (a provider retrying, reconcile
    replaying): one row, counted once, one notice to the buyer, one signal."""
    import json
    import secrets
    import threading

    from django.core import mail

    from payments.signals import refund_succeeded
    from payments.stripe.sandbox import refunds as sandbox_refunds
    from payments.stripe.sandbox.cards import CARD_REFUND_PENDING, Card
    from payments.stripe.tests.checkout_tools import order_paid
    from payments.stripe.tests.webhook_tools import post_event
    from storefront.models import OrderMail

    order = make_order((make_item(price="20.00", currency="USD"), 1))
    card = Card(number=CARD_REFUND_PENDING, exp_month=12, exp_year=2040, cvc="123")
    payment = order_paid(order, card=card)
    made = sandbox_refunds.refund_in_dashboard(payment.provider_payment_ref, amount=1500)
    sandbox_refunds.refund_settle(made.id)
    news = {
        row.data["type"]: row.data
        for row in SandboxObject.objects.filter(
            object="event", data__type__in=["refund.created", "refund.updated"]
        )
    }
    assert news["refund.created"]["data"]["object"]["status"] == "pending"
    assert news["refund.updated"]["data"]["object"]["status"] == "succeeded"

    def delivery(event):
        copy = {**json.loads(json.dumps(event)), "id": "evt_" + secrets.token_hex(12)}
        return lambda client: post_event(client, copy)

    announced = []
    lock = threading.Lock()

    def receiver(sender, refund, **kwargs):
        with lock:
            announced.append(refund.pk)

    refund_succeeded.connect(receiver)
    mail.outbox.clear()
    try:
        statuses = run_at_once(
            [delivery(news["refund.created"]) for _ in range(10)]
            + [delivery(news["refund.updated"]) for _ in range(10)]
        )
    finally:
        refund_succeeded.disconnect(receiver)

    assert Counter(statuses) == {200: 20}
    refund = Refund.objects.get()
    assert (refund.provider_ref, refund.status, refund.amount) == (made.id, "succeeded", 1500)
    assert refunded(payment) == 1500
    assert announced == [refund.pk]
    assert OrderMail.objects.filter(order=order, kind="refund").count() == 1
    notices = [m for m in mail.outbox if "a refund on your order" in m.subject]
    assert len(notices) <= 1
