"""A delivery the database picks as a deadlock's victim (InnoDB does, among deliveries of one
event racing its first delivery's transaction) is received again, not answered 500: the
provider is told once, the order is paid once, and no failure is recorded for a delivery that
went through. Other database errors still fail as before. The deadlocks are the drivers' own
errors, raised where the real ones arise."""

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client

from payments import records
from payments.models import Payment, ReceivedNotification
from payments.redeliveries import duplicates_counted
from payments.stripe.tests.webhook_tools import event_for, paid_session, post_event
from payments.tests.concurrency import (
    innodb_deadlock,
    lock_wait_timeout,
    postgres_deadlock,
    recorded_pauses,
)
from storefront.models import Order
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db(transaction=True)


def failing_first(monkeypatch, name: str, errors: list[OperationalError]) -> list[int]:
    """Make `records.<name>` raise each of `errors` on its first calls, then run as it is."""
    real = getattr(records, name)
    calls = []

    def patched(*args, **kwargs):
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return real(*args, **kwargs)

    monkeypatch.setattr(records, name, patched)
    return calls


@pytest.fixture
def paid():
    return paid_session(Client(), make_item(price="19.99", currency="USD"))


@pytest.mark.parametrize("deadlock", [innodb_deadlock, postgres_deadlock])
def test_a_first_delivery_rolled_back_by_a_deadlock_is_received_again_and_pays_once(
    paid, monkeypatch, deadlock
):
    calls = failing_first(monkeypatch, "_act_on", [deadlock()])
    pauses = recorded_pauses(monkeypatch)

    response = post_event(Client(), event_for(paid))

    assert response.status_code == 200 and response.json()["outcome"] == "processed"
    assert len(calls) == 2
    assert len(pauses) == 1  # before it was received again (sitewide.transactions.deadlock_pause)
    assert Order.objects.get().status == Order.Status.PAID
    record = ReceivedNotification.objects.get()  # no row for the rolled-back attempt
    assert record.status == ReceivedNotification.Status.PROCESSED
    assert Payment.objects.get().status == "succeeded"


def test_a_redelivery_whose_count_deadlocks_is_counted_once(paid, monkeypatch):
    event = event_for(paid)
    assert post_event(Client(), event).status_code == 200
    cache.clear()  # the redelivery goes to the database, not the cache's fast path
    calls = failing_first(monkeypatch, "_counted_as_duplicate", [innodb_deadlock()])

    response = post_event(Client(), event)

    assert response.status_code == 200 and response.json()["outcome"] == "duplicate"
    assert len(calls) == 2
    record = ReceivedNotification.objects.get()
    assert (record.status, duplicates_counted(record)) == ("processed", 1)


def test_a_delivery_deadlocked_at_every_attempt_is_a_500_the_provider_retries(paid, monkeypatch):
    attempts = records.DEADLOCK_ATTEMPTS
    failing_first(monkeypatch, "_act_on", [innodb_deadlock() for _ in range(attempts)])

    response = post_event(Client(), event_for(paid))

    assert response.status_code == 500 and "retry" in response.json()["error"]
    failed = ReceivedNotification.objects.get()  # the last attempt's failure, recorded once
    assert failed.status == ReceivedNotification.Status.FAILED and "1213" in failed.error
    assert Order.objects.get().status == Order.Status.OPEN


def test_a_lock_wait_timeout_is_not_received_again(paid, monkeypatch):
    calls = failing_first(monkeypatch, "_act_on", [lock_wait_timeout()])

    response = post_event(Client(), event_for(paid))

    assert response.status_code == 500
    assert len(calls) == 1
    assert ReceivedNotification.objects.get().status == ReceivedNotification.Status.FAILED
