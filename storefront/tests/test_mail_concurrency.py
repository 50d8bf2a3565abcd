"""One receipt per paid order under real concurrency: threads against PostgreSQL (see
payments.tests.concurrency)."""

import random
import threading
from collections import Counter
from io import StringIO

from django.core import mail
from django.core.management import call_command
from django.db import connections
from django.test import Client

from payments.stripe.tests.webhook_tools import event_for, paid_session, post_event
from payments.tests.concurrency import POSTGRES_ONLY, run_at_once
from storefront.documents.mail import mail_send
from storefront.models import Order, OrderMail
from storefront.tests.factories import make_item, make_order

pytestmark = POSTGRES_ONLY


def test_webhooks_and_success_pages_racing_send_one_receipt():
    paid = paid_session(Client(), make_item(price="19.99", currency="USD"))
    completed = event_for(paid, "checkout.session.completed")
    success_url = f"/success/?session_id={paid['id']}&currency=usd"
    calls = [lambda client: post_event(client, completed)] * 12 + [
        lambda client: client.get(success_url)
    ] * 12
    random.Random(14).shuffle(calls)

    statuses = run_at_once(calls)

    assert Counter(statuses) == {200: 24}
    order = Order.objects.get()
    assert (order.status, order.email) == (Order.Status.PAID, "buyer@example.com")
    receipt = OrderMail.objects.get()
    assert (receipt.kind, receipt.status, receipt.attempts) == ("receipt", "sent", 1)
    assert [m.to for m in mail.outbox] == [["buyer@example.com"]]


def test_two_senders_and_the_resender_at_once_send_a_pending_mail_once():
    order = make_order((make_item(price="19.99", currency="USD"), 1))
    # Owed but not yet sent (the paying process died right after its commit).
    owed = OrderMail.objects.create(order=order, kind="receipt", to="ada@example.com")
    barrier = threading.Barrier(6)
    errors = []

    def sender(send):
        try:
            barrier.wait(timeout=30)
            send()
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    sends = [lambda: mail_send(mail_id=owed.pk)] * 4 + [
        lambda: call_command("order_mail_send", stdout=StringIO())
    ] * 2
    threads = [threading.Thread(target=sender, args=(send,)) for send in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    owed.refresh_from_db()
    assert (owed.status, owed.attempts) == ("sent", 1)
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
