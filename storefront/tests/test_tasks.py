"""The shop's tasks as a worker runs them (retries, a claim still held, a dead sender's claim),
the stranded-mail sweep, the other periodic jobs, `manage.py periodic_tasks_run`, and a task's
log lines carrying the request id. Eager mode (no broker) is what the rest of the suite runs."""

import io
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from smtplib import SMTPServerDisconnected
from types import SimpleNamespace

import pytest
from celery.exceptions import Retry
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from payments.stripe.tests.checkout_tools import checkout_paid
from storefront.documents.mail import MAX_ATTEMPTS
from storefront.models import Order, OrderMail
from storefront.plumbing.logging import (
    current_request_id,
    task_request_id_bind,
    task_request_id_unbind,
)
from storefront.shop.orders import order_set_email
from storefront.tasks import (
    mail_claim_lease,
    order_mail_send_task,
    order_mails_resend_task,
    orders_expire_task,
    sessions_clear_task,
)
from storefront.tests.factories import make_item, make_order
from storefront.tests.task_tools import tasks_queued
from storefront.tests.worker_tools import free_port, tasks_to_redis

pytestmark = pytest.mark.django_db


def owed(**fields) -> OrderMail:
    order = make_order((make_item(price="19.99", currency="USD"), 1))
    order_set_email(order=order, email="ada@example.com")
    mail_row = OrderMail.objects.create(order=order, kind="receipt", to="ada@example.com")
    if fields:
        OrderMail.objects.filter(pk=mail_row.pk).update(**fields)
        mail_row.refresh_from_db()
    return mail_row


def run_as_worker(mail_row: OrderMail, *, retries: int = 0):
    """Run the send task as a worker would (not eagerly), its retries queued, not run."""
    task = order_mail_send_task
    task.push_request(
        id="task-1",
        args=(),
        kwargs={"mail_id": mail_row.pk},
        retries=retries,
        is_eager=False,
        called_directly=False,
    )
    try:
        return task.run(mail_id=mail_row.pk)
    finally:
        task.pop_request()


def countdown_of(queued: dict) -> float:
    eta = datetime.fromisoformat(queued["headers"]["eta"])
    return (eta - datetime.now(UTC)).total_seconds()


def failing_send(self, messages):
    raise SMTPServerDisconnected("Connection unexpectedly closed")


def test_a_send_the_mail_server_dropped_is_tried_again_later(monkeypatch):
    receipt = owed()
    monkeypatch.setattr(EmailBackend, "send_messages", failing_send)

    with tasks_queued() as queued, pytest.raises(Retry):
        run_as_worker(receipt)

    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == ("pending", 1)
    assert "Connection unexpectedly closed" in receipt.error
    (again,) = queued
    assert again["task"] == order_mail_send_task.name
    assert again["kwargs"] == {"mail_id": receipt.pk}
    assert again["headers"]["retries"] == 1
    assert 0 < countdown_of(again) <= 31  # the first backoff: up to 30 s

    monkeypatch.undo()
    assert run_as_worker(receipt, retries=1) == "sent"
    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_a_send_that_keeps_failing_is_given_up_after_the_last_attempt(monkeypatch):
    receipt = owed(attempts=MAX_ATTEMPTS - 1)
    monkeypatch.setattr(EmailBackend, "send_messages", failing_send)

    with tasks_queued() as queued:
        assert run_as_worker(receipt, retries=MAX_ATTEMPTS - 1) == "gave up"

    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == ("failed", MAX_ATTEMPTS)
    assert queued == []


def test_a_redelivered_task_waits_while_the_claim_may_still_be_its_senders():
    """A worker lost mid-send has its task delivered again at once (reject_on_worker_lost):
    the claim is then too recent to tell a dead sender from a slow one."""
    claimed = timezone.now() - timedelta(seconds=3)
    receipt = owed(status="sending", attempts=1, claimed_at=claimed)

    with tasks_queued() as queued, pytest.raises(Retry):
        run_as_worker(receipt)

    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == ("sending", 1)
    assert mail.outbox == []
    (later,) = queued
    expected = (claimed + mail_claim_lease() - timezone.now()).total_seconds()
    assert abs(countdown_of(later) - expected) < 3


def test_a_claim_older_than_the_task_time_limit_is_a_dead_senders_and_is_taken_over():
    claimed = timezone.now() - mail_claim_lease() - timedelta(seconds=1)
    receipt = owed(status="sending", attempts=1, claimed_at=claimed)

    assert run_as_worker(receipt) == "sent"

    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == ("sent", 2)
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_a_mail_already_sent_is_not_sent_again():
    receipt = owed(status="sent", attempts=1, sent_at=timezone.now())

    assert run_as_worker(receipt) == "done"
    assert order_mail_send_task.delay(mail_id=receipt.pk).get() == "done"
    assert mail.outbox == []


def test_the_sweep_queues_what_nothing_else_will_send_and_gives_up_the_spent():
    now = timezone.now()
    lost = owed(created=now - timedelta(minutes=11))  # its task never came
    failed_long_ago = owed(attempts=2, claimed_at=now - timedelta(minutes=11))
    owed()  # just owed: its own task is on the way
    owed(attempts=1, claimed_at=now - timedelta(minutes=1))  # waiting for its retry
    dead_sender = owed(status="sending", attempts=1, claimed_at=now - timedelta(minutes=3))
    owed(status="sending", attempts=1, claimed_at=now - timedelta(seconds=10))  # being sent
    spent = owed(status="sending", attempts=MAX_ATTEMPTS, claimed_at=now - timedelta(minutes=3))

    with tasks_queued() as queued:
        assert order_mails_resend_task.apply().get() == 3

    assert sorted(q["kwargs"]["mail_id"] for q in queued) == sorted(
        [lost.pk, failed_long_ago.pk, dead_sender.pk]
    )
    spent.refresh_from_db()
    assert spent.status == "failed"


def test_without_a_broker_the_sweep_sends_them_there_and_then():
    lost = owed(created=timezone.now() - timedelta(minutes=11))

    assert order_mails_resend_task.delay().get() == 1

    lost.refresh_from_db()
    assert lost.status == "sent"
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_orders_untouched_for_days_are_cancelled_and_expired_sessions_cleared():
    stale = make_order((make_item(price="5.00", currency="USD"), 1))
    fresh = make_order((make_item(price="5.00", currency="USD"), 1))
    Order.objects.filter(pk=stale.pk).update(updated=timezone.now() - timedelta(days=3))
    old_session = SessionStore()
    old_session["x"] = 1
    old_session.set_expiry(-60)
    old_session.save()
    live_session = SessionStore()
    live_session["x"] = 1
    live_session.save()

    assert orders_expire_task.delay(untouched_days=2).get() == 1
    sessions_clear_task.delay().get()

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == (Order.Status.CANCELLED, Order.Status.OPEN)
    assert list(Session.objects.values_list("session_key", flat=True)) == [live_session.session_key]


def test_periodic_tasks_run_runs_each_of_beats_jobs_once():
    """`make run` has no beat: this command is its periodic work."""
    stale = make_order((make_item(price="5.00", currency="USD"), 1))
    Order.objects.filter(pk=stale.pk).update(updated=timezone.now() - timedelta(days=3))
    out = StringIO()

    call_command("periodic_tasks_run", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "payments-reconcile",
        "payments-redeliveries-fold",
        "orders-expire",
        "order-mails-resend",
        "sessions-clear",
    ]
    assert "'skipped': 0" in lines[0] and lines[2] == "orders-expire: 1"
    stale.refresh_from_db()
    assert stale.status == Order.Status.CANCELLED

    only = StringIO()
    call_command("periodic_tasks_run", "--only", "order-mails-resend", stdout=only)
    assert only.getvalue() == "order-mails-resend: 0\n"


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_payment_goes_through_and_the_receipt_stays_owed(client, caplog):
    order = make_order((make_item(price="19.99", currency="USD"), 1))
    order_set_email(order=order, email="ada@example.com")
    session_id = checkout_paid(order, email="")
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"

    started = time.monotonic()
    with tasks_to_redis(nothing_there), caplog.at_level(logging.WARNING):
        response = client.get(f"/payment/stripe/return/?session_id={session_id}&currency=usd")
    took = time.monotonic() - started

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    receipt = OrderMail.objects.get(order=order)
    assert (receipt.status, receipt.attempts) == ("pending", 0)  # for the sweep, later
    assert f"order mail {receipt.pk} not queued, the broker cannot be reached" in caplog.text
    assert took < 15
    assert mail.outbox == []


# --- The request id on a task's lines -----------------------------------------------------------


@pytest.fixture
def console_log():
    """What the configured console handler writes (one JSON object a line, as in production)."""
    from storefront.plumbing.logging import JsonLineFormatter

    (console,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    previous_stream, previous_formatter = console.setStream(stream), console.formatter
    console.setFormatter(JsonLineFormatter())
    try:
        yield stream
    finally:
        console.setStream(previous_stream)
        console.setFormatter(previous_formatter)


@pytest.mark.django_db(transaction=True)  # the paying transaction commits inside the request
def test_without_a_broker_the_task_logs_with_the_paying_requests_id(console_log):
    order = make_order((make_item(price="19.99", currency="USD"), 1))
    order_set_email(order=order, email="ada@example.com")
    session_id = checkout_paid(order, email="")

    Client().get(
        f"/payment/stripe/return/?session_id={session_id}&currency=usd",
        HTTP_X_REQUEST_ID="req-eager-1",
    )

    records = [json.loads(line) for line in console_log.getvalue().splitlines()]
    (sent,) = [r for r in records if r["message"].endswith(") sent")]
    assert sent["logger"] == "storefront.documents.mail" and sent["request_id"] == "req-eager-1"


def test_a_worker_puts_the_queuing_requests_id_on_the_tasks_lines_and_takes_it_off_after():
    request = SimpleNamespace(is_eager=False, shop_request_id="req-42")

    task_request_id_bind(request)
    during = current_request_id()
    task_request_id_unbind(request)

    assert (during, current_request_id()) == ("req-42", "-")
    for header in (None, "two words", "x" * 200):
        forged = SimpleNamespace(is_eager=False, shop_request_id=header)
        task_request_id_bind(forged)
        assert current_request_id() == "-"
        task_request_id_unbind(forged)
