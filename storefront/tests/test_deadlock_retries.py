"""A buyer's change the database picks as a deadlock's victim is made again, not answered 500
(sitewide.transactions.atomic_retried): once, with nothing of the rolled-back attempt kept.
Other database errors still fail as before, and inside a caller's transaction the deadlock
reaches the caller, the only one who can start again. The deadlocks are the drivers' own
errors raised inside the shop's transaction, and, on PostgreSQL and MariaDB, real ones."""

import logging
import threading

import pytest
from django.db import OperationalError, connections, transaction
from django.db.models import F
from django.urls import reverse

from payments.tests.concurrency import (
    SERVER_DATABASE_ONLY,
    innodb_deadlock,
    lock_wait_timeout,
    postgres_deadlock,
    recorded_pauses,
)
from sitewide.transactions import DEADLOCK_ATTEMPTS, DEADLOCK_PAUSE, atomic_retried
from storefront.models import Order, OrderLine
from storefront.shop import orders
from storefront.tests.factories import make_item, make_order

pytestmark = pytest.mark.django_db(transaction=True)


def failing_after_first_orders(monkeypatch, errors: list[OperationalError]) -> list[int]:
    """Make the shop's `order_create` make its order and then raise each of `errors`, one a
    call, before running as it is: the order row is written and must be rolled back."""
    real = orders.order_create
    calls = []

    def patched(**kwargs):
        made = real(**kwargs)
        calls.append(made.pk)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return made

    monkeypatch.setattr(orders, "order_create", patched)
    return calls


@pytest.mark.parametrize("deadlock", [innodb_deadlock, postgres_deadlock])
def test_add_to_order_chosen_as_a_deadlock_victim_is_made_again_once(client, monkeypatch, deadlock):
    item = make_item(name="Notebook", price="19.99", currency="USD")
    calls = failing_after_first_orders(monkeypatch, [deadlock()])

    response = client.post(reverse("storefront:order_add"), {"item": item.pk, "quantity": 2})

    assert response.status_code == 302
    assert len(calls) == 2
    order = Order.objects.get()  # the first attempt's order was rolled back
    assert order.pk == calls[1]
    assert [(line.item_id, line.quantity) for line in order.lines.all()] == [(item.pk, 2)]
    page = client.get(reverse("storefront:cart")).content.decode()
    assert "Added 2 × Notebook to your order." in page


def test_a_deadlock_on_every_attempt_fails_after_the_last_with_nothing_kept(monkeypatch):
    item = make_item(price="19.99", currency="USD")
    calls = failing_after_first_orders(
        monkeypatch, [innodb_deadlock() for _ in range(DEADLOCK_ATTEMPTS)]
    )

    with pytest.raises(OperationalError, match="Deadlock"):
        orders.order_add_item(order=None, item=item, quantity=1)

    assert len(calls) == DEADLOCK_ATTEMPTS
    assert not Order.objects.exists()


def test_a_victim_pauses_before_it_runs_again_longer_each_time(monkeypatch):
    """The other transaction of the cycle gets to finish first (see deadlock_pause)."""
    item = make_item(price="19.99", currency="USD")
    calls = failing_after_first_orders(monkeypatch, [innodb_deadlock(), postgres_deadlock()])
    pauses = recorded_pauses(monkeypatch)

    orders.order_add_item(order=None, item=item, quantity=1)

    assert len(calls) == 3
    assert len(pauses) == 2  # after each rolled-back run, none after the one that landed
    first, second = (pause / DEADLOCK_PAUSE for pause in pauses)
    assert 0.5 <= first <= 1.5 and 1.0 <= second <= 3.0


def test_a_lock_wait_timeout_is_not_made_again(monkeypatch):
    item = make_item(price="19.99", currency="USD")
    calls = failing_after_first_orders(monkeypatch, [lock_wait_timeout()])

    with pytest.raises(OperationalError, match="Lock wait timeout"):
        orders.order_add_item(order=None, item=item, quantity=1)

    assert len(calls) == 1
    assert not Order.objects.exists()


def test_inside_a_callers_transaction_the_deadlock_reaches_the_caller(monkeypatch):
    item = make_item(price="19.99", currency="USD")
    calls = failing_after_first_orders(monkeypatch, [innodb_deadlock()])

    with pytest.raises(OperationalError, match="Deadlock"), transaction.atomic():
        orders.order_add_item(order=None, item=item, quantity=1)

    assert len(calls) == 1
    assert not Order.objects.exists()


@SERVER_DATABASE_ONLY[1]  # skipped, saying so, on SQLite (one writer at a time: no deadlock)
def test_two_changes_locking_in_opposite_orders_both_land(caplog):
    """Two transactions each lock one line and then the other's: the database finds the cycle
    and rolls one back; run again, it waits for the other and lands too."""
    caplog.set_level(logging.INFO, logger="sitewide.transactions")
    order = make_order((make_item(price="1.00"), 1), (make_item(price="2.00"), 1))
    first, second = order.lines.order_by("pk")
    together = threading.Barrier(2)
    attempts = {"forward": 0, "backward": 0}
    failures = []

    @atomic_retried
    def bump_both(name: str, lines: tuple[OrderLine, OrderLine]) -> None:
        attempts[name] += 1
        OrderLine.objects.filter(pk=lines[0].pk).update(quantity=F("quantity") + 1)
        if attempts[name] == 1:
            together.wait(timeout=30)  # both hold their first line's lock
        OrderLine.objects.filter(pk=lines[1].pk).update(quantity=F("quantity") + 1)

    def run(name, lines):
        try:
            bump_both(name, lines)
        except Exception as exc:  # a failure is a result: the assertion below shows it
            failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=("forward", (first, second))),
        threading.Thread(target=run, args=("backward", (second, first))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert list(order.lines.order_by("pk").values_list("quantity", flat=True)) == [3, 3]
    # The database rolled one back, and it was made again after its pause. As a rule the
    # other has finished by then ([1, 2]); one stalled past the pause meets the victim's new
    # run and is a victim in its turn ([2, 2], as a full test pass saw before there was a
    # pause). Either way every rolled-back run was made again, and said so in the log.
    assert max(attempts.values()) >= 2
    retried = [r for r in caplog.records if "a deadlock's victim" in r.getMessage()]
    assert len(retried) == sum(attempts.values()) - 2
