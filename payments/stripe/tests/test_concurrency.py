"""Exactly-once fulfilment under real concurrency: threads against PostgreSQL (see
payments.tests.concurrency)."""

import random
import threading
from collections import Counter

import pytest
from django.test import Client

from payments.models import Payment, ReceivedNotification
from payments.redeliveries import duplicates_counted
from payments.signals import payment_succeeded
from payments.stripe.tests.webhook_tools import event_for, paid_session, post_event
from payments.tests.concurrency import POSTGRES_ONLY, run_at_once
from storefront.models import Order
from storefront.tests.factories import make_item

pytestmark = POSTGRES_ONLY


@pytest.fixture
def succeeded_signals():
    sent = []
    lock = threading.Lock()

    def receiver(sender, payment, **kwargs):
        with lock:
            sent.append(payment.pk)

    payment_succeeded.connect(receiver)
    yield sent
    payment_succeeded.disconnect(receiver)


@pytest.fixture
def paid():
    item = make_item(price="19.99", currency="USD")
    return paid_session(Client(), item)


def test_fifty_simultaneous_deliveries_of_one_event_fulfil_once(paid, succeeded_signals):
    event = event_for(paid)

    statuses = run_at_once([lambda client: post_event(client, event)] * 50)

    assert Counter(statuses) == {200: 50}
    assert Order.objects.get().status == Order.Status.PAID
    payment = Payment.objects.get()
    assert payment.status == "succeeded" and payment.fulfilled_at and not payment.attention_note
    assert succeeded_signals == [payment.pk]
    record = ReceivedNotification.objects.get()
    assert (record.status, duplicates_counted(record)) == ("processed", 49)


def test_two_events_and_the_success_page_racing_fulfil_once(paid, succeeded_signals):
    completed = event_for(paid, "checkout.session.completed")
    async_succeeded = event_for(paid, "checkout.session.async_payment_succeeded")
    success_url = f"/success/?session_id={paid['id']}&currency=usd"
    calls = (
        [lambda client: post_event(client, completed)] * 13
        + [lambda client: post_event(client, async_succeeded)] * 12
        + [lambda client: client.get(success_url)] * 25
    )
    random.Random(4).shuffle(calls)

    statuses = run_at_once(calls)

    assert Counter(statuses) == {200: 50}
    assert Order.objects.get().status == Order.Status.PAID
    payment = Payment.objects.get()
    assert payment.status == "succeeded" and payment.fulfilled_at and not payment.attention_note
    assert succeeded_signals == [payment.pk]
    records = ReceivedNotification.objects.order_by("event_id")
    assert sorted((r.event_id, duplicates_counted(r)) for r in records) == sorted(
        [(completed["id"], 12), (async_succeeded["id"], 11)]
    )


def test_checkout_and_payment_element_racing_for_one_order_pay_it_once(succeeded_signals):
    from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
    from payments.stripe.sandbox.models import SandboxObject
    from payments.stripe.sandbox.tests.sandbox_tools import session_object
    from payments.stripe.tests.webhook_tools import CARD

    client = Client()
    item = make_item(price="24.00", currency="EUR")
    client.get(f"/item/{item.pk}/pay/", follow=True)  # a one-line order and its PaymentIntent
    order = Order.objects.get()
    intent_obj = SandboxObject.objects.get(object="payment_intent")
    intent_obj.data.update(status="succeeded", amount_received=2400)
    intent_obj.save()
    session_id = client.get(f"/buy/order/{order.pk}").json()["id"]
    checkout_session_pay(session_id=session_id, card=CARD, email="")
    by_intent = event_for(intent_obj.data, "payment_intent.succeeded")
    by_checkout = event_for(session_object(session_id).data)
    calls = [lambda c: post_event(c, by_intent, "eur")] * 25 + [
        lambda c: post_event(c, by_checkout, "eur")
    ] * 25
    random.Random(5).shuffle(calls)

    statuses = run_at_once(calls)

    assert Counter(statuses) == {200: 50}
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    payments = list(Payment.objects.filter(status="succeeded"))
    assert len(payments) == 2
    fulfilled = [p for p in payments if p.fulfilled_at]
    flagged = [p for p in payments if p.attention_note]
    assert len(fulfilled) == 1 and len(flagged) == 1
    assert "already paid: refund this payment" in flagged[0].attention_note
    assert sorted(succeeded_signals) == sorted(p.pk for p in payments)
