"""The periodic reconcile as celery beat queues it: one run at a time. A second run that starts
while one is going says it skipped and asks the provider nothing; on two real workers sharing
Redis, two runs queued at once ask about each pending payment once."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from payments.models import ReconcileRun
from payments.stripe.sandbox.models import SandboxRequest
from payments.stripe.tests.checkout_tools import checkout_opened
from payments.tasks import RECONCILE_LOCK, held_alone, payments_reconcile_task
from payments.tests.concurrency import POSTGRES_ONLY
from storefront.celery import app
from storefront.tests.factories import make_item, make_order
from storefront.tests.worker_tools import (
    app_env,
    beat_period,
    celery_worker,
    redis_or_skip,
    tasks_to_redis,
    wait_until,
)


def session_asks() -> int:
    """How many times the sandbox was asked how a Checkout Session stands."""
    return SandboxRequest.objects.filter(
        method="GET", path__startswith="/v1/checkout/sessions/cs_"
    ).count()


@pytest.mark.django_db
def test_a_run_while_another_is_going_skips_and_says_so(caplog):
    checkout_opened(make_order((make_item(price="19.99", currency="USD"), 1)))
    asked_before = session_asks()

    with held_alone(RECONCILE_LOCK, expires=60) as first, caplog.at_level(logging.INFO):
        assert first
        with held_alone(RECONCILE_LOCK, expires=60) as second:
            assert not second
        skipped = payments_reconcile_task.delay(since_hours=24).get()

    assert skipped == {"skipped": 1}
    assert "payments reconcile skipped: another run is still going" in caplog.text
    assert ReconcileRun.objects.count() == 0
    assert session_asks() == asked_before

    # The lock is free again once the run holding it is over: the next run does the work.
    done = payments_reconcile_task.delay(since_hours=24).get()
    assert done["skipped"] == 0 and done["accounts"] == ReconcileRun.objects.count() > 0
    assert session_asks() == asked_before + 1


def test_beat_queues_reconcile_hourly_and_no_backlog():
    entry = settings.CELERY_BEAT_SCHEDULE["payments-reconcile"]

    assert entry["task"] == payments_reconcile_task.name
    assert beat_period(entry["schedule"], datetime.now(UTC)) == timedelta(hours=1)
    assert timedelta(seconds=entry["options"]["expires"]) <= timedelta(hours=1)
    assert payments_reconcile_task.time_limit < settings.CELERY_VISIBILITY_TIMEOUT


# As many pending payments as make a run last long enough for the second to find it going.
PENDING = 40


@POSTGRES_ONLY[0]
@POSTGRES_ONLY[1]
def test_two_beat_runs_at_once_on_real_workers_ask_about_each_pending_payment_once(tmp_path):
    redis_or_skip()
    for _ in range(PENDING):
        checkout_opened(make_order((make_item(price="19.99", currency="USD"), 1)))
    asked_before = session_asks()
    entry = settings.CELERY_BEAT_SCHEDULE["payments-reconcile"]
    env = app_env(tmp_path, CELERY_WORKER_CONCURRENCY="2")

    with celery_worker(env, tmp_path) as worker:
        with tasks_to_redis():
            for _ in range(2):  # as beat sends an entry that is due
                app.send_task(entry["task"], kwargs=entry["kwargs"], **entry["options"])
        wait_until(
            lambda: worker.output().count(" succeeded in ") >= 2,
            timeout=60,
            what=f"both runs over:\n{worker.output()}",
        )
        messages = [record["message"] for record in worker.records()]

    assert sum("payments reconcile skipped" in m for m in messages) == 1, messages
    # One pass: one run per account, each pending payment asked about once.
    runs = ReconcileRun.objects.all()
    assert len({(run.rail, run.account) for run in runs}) == len(runs) > 0
    assert sum(run.payments_checked for run in runs) == PENDING
    assert session_asks() - asked_before == PENDING
