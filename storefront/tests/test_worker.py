"""Receipts sent by a real `celery worker` (the Procfile's line) on Redis and PostgreSQL: a
worker killed in the middle of a send, or stopped by a deploy, costs the buyer no receipt and
never a second one (see storefront.tests.worker_tools)."""

import signal

import pytest
from django.test import Client

from payments.stripe.tests.checkout_tools import checkout_paid
from payments.tests.concurrency import POSTGRES_ONLY
from storefront.models import Order, OrderMail
from storefront.shop.orders import order_set_email
from storefront.tests.factories import make_item, make_order
from storefront.tests.worker_tools import (
    app_env,
    celery_worker,
    redis_or_skip,
    smtp_sink,
    tasks_to_redis,
    wait_until,
)

pytestmark = POSTGRES_ONLY

# Short limits so that a dead worker's task comes back within seconds: Redis hands an
# unacknowledged task to another worker after the visibility timeout, and a claim is taken
# over once older than the task time limit (+5 s). Production's are an hour and 2 minutes.
TIME_LIMIT = 6
VISIBILITY_TIMEOUT = 12


@pytest.fixture
def sink():
    with smtp_sink() as server:
        yield server


@pytest.fixture
def worker_env(tmp_path, sink):
    redis_or_skip()
    return app_env(
        tmp_path,
        EMAIL_URL=sink.email_url,
        DEFAULT_FROM_EMAIL="Storefront <shop@example.com>",
        CELERY_WORKER_CONCURRENCY="1",
        CELERY_TASK_TIME_LIMIT=str(TIME_LIMIT),
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
    )


def buy(email: str, *, request_id: str) -> Order:
    """An order paid in the sandbox's Checkout, the buyer back on the return page (which
    queues the receipt once the payment commits)."""
    order = make_order((make_item(price="19.99", currency="USD"), 1))
    order_set_email(order=order, email=email)
    session_id = checkout_paid(order, email="")
    response = Client().get(
        f"/payment/stripe/return/?session_id={session_id}&currency=usd",
        HTTP_X_REQUEST_ID=request_id,
    )
    assert response.status_code == 200
    return order


def receipt_of(order: Order) -> OrderMail:
    return OrderMail.objects.get(order=order, kind=OrderMail.Kind.RECEIPT)


def test_a_worker_killed_while_sending_is_replaced_and_the_buyer_gets_one_receipt(
    tmp_path, sink, worker_env
):
    sink.stall_next(3600)  # the first delivery hangs until its sender is gone
    with celery_worker(worker_env, tmp_path) as first:
        with tasks_to_redis():
            order = buy("ada@example.com", request_id="req-kill-1")
        assert sink.stalled.wait(timeout=30), first.output()
        assert receipt_of(order).status == OrderMail.Status.SENDING
        first.signal(signal.SIGKILL)  # the whole dyno, main process and pool alike
        first.wait()
    assert sink.accepted == []

    with celery_worker(worker_env, tmp_path) as second:
        sent = wait_until(
            lambda: receipt_of(order).status == OrderMail.Status.SENT,
            timeout=VISIBILITY_TIMEOUT + TIME_LIMIT + 40,
            what=f"the receipt sent by the new worker:\n{second.output()}",
        )
        assert sent
        receipt = receipt_of(order)
        # The row says "sent" a moment before the worker logs it, and the worker is killed when
        # this block ends: read its log once the line is there.
        lines = wait_until(
            lambda: [r for r in second.records() if f"order mail {receipt.pk} " in r["message"]],
            timeout=30,
            what=f"the new worker's log line about order mail {receipt.pk}:\n{second.output()}",
        )

    assert (receipt.status, receipt.attempts) == ("sent", 2)
    (delivered,) = sink.to("ada@example.com")
    assert delivered["X-Order-Mail"] == str(receipt.pk)
    assert "receipt for your order" in delivered["Subject"]
    # The new worker's lines about it carry the id of the request that queued it.
    assert [(r["message"].split(")")[-1].strip(), r["request_id"]) for r in lines] == [
        ("sent", "req-kill-1")
    ]


def test_a_worker_stopped_by_sigterm_finishes_its_send_and_leaves_the_rest_queued(
    tmp_path, sink, worker_env
):
    """SIGTERM to the worker's main process (docker stop, a deploy): a warm shutdown."""
    sink.stall_next(2)  # a slow mail server: the first send takes 2 s
    with celery_worker(worker_env, tmp_path) as first:
        with tasks_to_redis():
            ada = buy("ada@example.com", request_id="req-term-1")
            bob = buy("bob@example.com", request_id="req-term-2")
        assert sink.stalled.wait(timeout=30), first.output()
        first.signal(signal.SIGTERM, group=False)
        assert first.wait() == 0, first.output()
        assert "Warm shutdown" in first.output()

    # The send under way was finished, not cut off; the other task waits in Redis.
    statuses = {receipt_of(ada).status, receipt_of(bob).status}
    assert statuses == {OrderMail.Status.SENT, OrderMail.Status.PENDING}
    assert len(sink.accepted) == 1

    with celery_worker(worker_env, tmp_path) as second:
        wait_until(
            lambda: {receipt_of(ada).status, receipt_of(bob).status} == {OrderMail.Status.SENT},
            timeout=30,
            what=f"both receipts sent:\n{second.output()}",
        )

    assert [len(sink.to("ada@example.com")), len(sink.to("bob@example.com"))] == [1, 1]
    assert receipt_of(ada).attempts == receipt_of(bob).attempts == 1


def test_a_dyno_stopped_by_sigterm_requeues_the_send_it_could_not_finish(
    tmp_path, sink, worker_env
):
    """SIGTERM to every process of the worker (Heroku stopping a dyno): the pool process
    sending dies with it, the main process puts its task back in the queue at once, and the
    next worker sends the receipt, once, when the dead sender's claim has lapsed."""
    sink.stall_next(3600)
    with celery_worker(worker_env, tmp_path) as first:
        with tasks_to_redis():
            order = buy("ada@example.com", request_id="req-dyno-1")
        assert sink.stalled.wait(timeout=30), first.output()
        first.signal(signal.SIGTERM)
        assert first.wait() == 0, first.output()
    assert "WorkerLostError" in first.output()
    assert (receipt_of(order).status, sink.accepted) == (OrderMail.Status.SENDING, [])

    with celery_worker(worker_env, tmp_path) as second:
        wait_until(
            lambda: receipt_of(order).status == OrderMail.Status.SENT,
            timeout=TIME_LIMIT + 40,
            what=f"the receipt sent by the new worker:\n{second.output()}",
        )

    assert len(sink.to("ada@example.com")) == 1
    assert receipt_of(order).attempts == 2
