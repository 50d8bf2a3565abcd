"""Redeliveries of a recorded notification, counted in the cache (payments.redeliveries): the
merchant still sees every delivery on the event's admin page, a redelivery writes nothing to
the database, and nothing the cache says can lose an authentic event."""

import json
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments import records
from payments.models import ReceivedNotification
from payments.redeliveries import REMEMBERED_FOR, duplicates_counted, redeliveries_fold
from payments.stripe.tests.webhook_tools import event_for, paid_session, post_event
from payments.tasks import notification_redeliveries_fold_task
from payments.tests.concurrency import SERVER_DATABASE_ONLY, run_at_once
from storefront.models import Order
from storefront.tests.factories import make_item
from storefront.tests.worker_tools import TEST_REDIS_URL, free_port, redis_or_skip

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["memory", "redis"])
def shared_cache(request, settings):
    """The cache as `make run` has it (this process's memory) and as production has it (Redis,
    shared by every process)."""
    if request.param == "redis":
        redis_or_skip()
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": TEST_REDIS_URL,
            }
        }
    return request.param


@pytest.fixture
def paid_event():
    return event_for(paid_session(Client(), make_item(price="19.99", currency="USD")))


def deliveries_shown(admin_client, record: ReceivedNotification) -> int:
    """The deliveries the event's admin page shows."""
    page = admin_client.get(reverse("admin:payments_receivednotification_change", args=[record.pk]))
    found = re.search(
        r'field-deliveries.*?<div class="readonly">(\d+)</div>', page.content.decode(), re.S
    )
    assert found, page.content.decode()
    return int(found[1])


def first_delivery(client, event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event)
    assert response.json()["outcome"] == "processed"
    return ReceivedNotification.objects.get(event_id=event["id"])


def test_n_redeliveries_show_n_plus_one_deliveries_on_the_events_admin_page(
    client, admin_client, shared_cache, paid_event, django_capture_on_commit_callbacks
):
    record = first_delivery(client, paid_event, django_capture_on_commit_callbacks)

    answers = [post_event(client, paid_event).json()["outcome"] for _ in range(5)]

    assert answers == ["duplicate"] * 5
    assert deliveries_shown(admin_client, record) == 6
    # Folded into the row (beat's task, every few minutes): the page says the same.
    assert notification_redeliveries_fold_task.delay().get() == {"skipped": 0, "moved": 5}
    record.refresh_from_db()
    assert record.duplicates == 5
    assert deliveries_shown(admin_client, record) == 6
    assert post_event(client, paid_event).json()["outcome"] == "duplicate"
    assert deliveries_shown(admin_client, record) == 7
    assert Order.objects.get().status == Order.Status.PAID


@pytest.mark.django_db(transaction=True)
def test_a_delivery_whose_first_attempt_rolled_back_is_recorded_on_retry(
    client, paid_event, monkeypatch
):
    """The cache learns of an event only once its row has committed: a delivery that failed
    (rolled back, answered 500) leaves nothing there, so Stripe's retry is processed."""
    real_apply = records.payment_apply

    def broken_apply(state):
        real_apply(state)
        raise RuntimeError("the database went away mid-way")

    monkeypatch.setattr(records, "payment_apply", broken_apply)
    failed = post_event(client, paid_event)
    monkeypatch.setattr(records, "payment_apply", real_apply)

    retried = post_event(client, paid_event)
    again = post_event(client, paid_event)

    assert failed.status_code == 500
    assert Order.objects.get().status == Order.Status.PAID
    assert (retried.json()["outcome"], again.json()["outcome"]) == ("processed", "duplicate")
    statuses = Counter(ReceivedNotification.objects.values_list("status", flat=True))
    assert statuses == {"failed": 1, "processed": 1}
    assert duplicates_counted(ReceivedNotification.objects.get(status="processed")) == 1


def test_a_redelivery_with_a_bad_signature_is_refused_and_counts_nothing(
    client, paid_event, django_capture_on_commit_callbacks
):
    record = first_delivery(client, paid_event, django_capture_on_commit_callbacks)

    forged = post_event(client, paid_event, secret="whsec_not_the_accounts")

    assert forged.status_code == 400
    assert duplicates_counted(record) == 0
    assert ReceivedNotification.objects.filter(status="rejected").count() == 1


def test_an_event_written_in_another_key_order_is_still_known(
    client, paid_event, django_capture_on_commit_callbacks
):
    """The event's id is read without parsing where the body begins with it, as Stripe writes
    every event; any other body is parsed first, and is known all the same."""
    record = first_delivery(client, paid_event, django_capture_on_commit_callbacks)
    reordered = json.dumps({"object": "event", **paid_event})
    assert not reordered.startswith('{"id"')

    answer = post_event(client, paid_event, body=reordered)

    assert answer.json()["outcome"] == "duplicate"
    assert (record.duplicates, duplicates_counted(record)) == (0, 1)


def test_a_cache_that_does_not_answer_counts_on_the_row(
    client, settings, paid_event, django_capture_on_commit_callbacks
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    record = first_delivery(client, paid_event, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        answers = [post_event(client, paid_event).json()["outcome"] for _ in range(2)]

    assert answers == ["duplicate", "duplicate"]
    record.refresh_from_db()
    assert (record.duplicates, duplicates_counted(record)) == (2, 2)


def test_an_event_older_than_a_day_is_counted_on_its_row_and_its_entry_retired(
    client, paid_event, django_capture_on_commit_callbacks
):
    record = first_delivery(client, paid_event, django_capture_on_commit_callbacks)
    post_event(client, paid_event)  # counted in the cache
    ReceivedNotification.objects.filter(pk=record.pk).update(
        received_at=timezone.now() - REMEMBERED_FOR - timedelta(minutes=1)
    )

    assert redeliveries_fold() == 1  # moved, and the entry retired: the event is old now
    record.refresh_from_db()
    assert (record.duplicates, duplicates_counted(record)) == (1, 1)
    with django_capture_on_commit_callbacks(execute=True):
        late = post_event(client, paid_event)  # counted on the row: the cache is not told
    again = post_event(client, paid_event)

    assert (late.json()["outcome"], again.json()["outcome"]) == ("duplicate", "duplicate")
    record.refresh_from_db()
    assert (record.duplicates, duplicates_counted(record)) == (3, 3)
    assert redeliveries_fold() == 0


@SERVER_DATABASE_ONLY[0]
@SERVER_DATABASE_ONLY[1]
def test_fifty_simultaneous_redeliveries_touch_no_row_and_are_all_counted(paid_event):
    client = Client()
    assert post_event(client, paid_event).json()["outcome"] == "processed"

    statuses = run_at_once([lambda c: post_event(c, paid_event)] * 50)

    assert Counter(statuses) == {200: 50}
    record = ReceivedNotification.objects.get()
    assert (record.duplicates, duplicates_counted(record)) == (0, 50)
    assert redeliveries_fold() == 50
    record.refresh_from_db()
    assert (record.duplicates, duplicates_counted(record)) == (50, 50)
