"""The core's reconcile, on a rail of its own (LedgerRail): what the provider sent is applied
once, however many runs; pending payments are asked about; an account down is reported."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import Payment, ReceivedNotification, ReconcileRun
from payments.records import payment_record
from payments.services import payments_reconcile
from payments.tests.rails_for_tests import LedgerRail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def ledger(settings, monkeypatch):
    settings.PAYMENT_RAILS = [
        "payments.tests.rails_for_tests.LedgerRail",
        "payments.tests.rails_for_tests.MuteRail",
    ]
    monkeypatch.setattr(LedgerRail, "SENT", {})
    monkeypatch.setattr(LedgerRail, "STATES", {})
    monkeypatch.setattr(LedgerRail, "DOWN", set())
    monkeypatch.setattr(LedgerRail, "BREAKS", set())


def started(ref: str, *, account: str = "main", **fields) -> Payment:
    return payment_record(
        rail="ledger",
        account=account,
        livemode=False,
        reference=f"thing-{ref}",
        provider_ref=ref,
        currency="USD",
        amount=100,
        **fields,
    )


def run(**kwargs):
    reports = payments_reconcile(since=timezone.now() - timedelta(days=3), **kwargs)
    return {(report.rail, report.account): report for report in reports}


def test_after_a_database_restore_what_the_cache_remembers_is_applied_again(
    django_capture_on_commit_callbacks,
):
    """The cache may remember events a restored database no longer has (payments.redeliveries):
    reconcile, the way back after such a loss, asks the database only."""
    payment = started("p1")
    LedgerRail.SENT["main"] = [("e1", "p1")]
    with django_capture_on_commit_callbacks(execute=True):
        run()
    # The database as a backup from before e1 had it; the cache as it was.
    ReceivedNotification.objects.all().delete()
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        again = run()[("ledger", "main")]

    assert (again.found, again.processed, again.duplicates) == (1, 1, 0)
    assert ReceivedNotification.objects.get().status == "processed"
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED


def test_what_the_provider_sent_is_applied_once_and_then_counted_as_duplicates():
    started("p1")
    LedgerRail.SENT["main"] = [("e1", "p1"), ("e2", None)]

    first = run()[("ledger", "main")]

    assert (first.found, first.processed, first.duplicates, first.failed) == (2, 2, 0, 0)
    assert Payment.objects.get(provider_ref="p1").status == Payment.Status.SUCCEEDED
    assert sorted(ReceivedNotification.objects.values_list("event_id", "status")) == [
        ("e1", "processed"),
        ("e2", "ignored"),
    ]
    assert any(action.startswith("paid e1: processed") for action in first.actions)

    second = run()[("ledger", "main")]

    assert (second.found, second.processed, second.duplicates) == (2, 0, 2)
    assert second.actions == []
    assert ReceivedNotification.objects.count() == 2
    runs = ReconcileRun.objects.filter(rail="ledger", account="main").order_by("started_at")
    assert [(r.ok, r.found, r.processed, r.duplicates) for r in runs] == [
        (True, 2, 2, 0),
        (True, 2, 0, 2),
    ]
    assert runs[0].finished_at >= runs[0].started_at
    assert "2 notification(s) found" in runs[0].report


def test_a_notification_that_fails_is_counted_recorded_and_processed_next_time():
    started("p1")
    LedgerRail.SENT["main"] = [("e1", "p1"), ("e2", None)]
    LedgerRail.BREAKS.add("e1")

    report = run()[("ledger", "main")]

    assert (report.found, report.processed, report.failed) == (2, 1, 1)
    assert report.ok  # the provider answered; processing here failed
    assert "e1: failed: RuntimeError('e1 breaks')" in "\n".join(report.actions)
    assert (
        ReceivedNotification.objects.get(event_id="e1").status == ReceivedNotification.Status.FAILED
    )
    assert Payment.objects.get().status == Payment.Status.PENDING

    LedgerRail.BREAKS.clear()
    again = run()[("ledger", "main")]

    assert (again.processed, again.duplicates, again.failed) == (1, 1, 0)
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


def test_pending_payments_in_the_window_or_expired_are_asked_and_moved():
    started("recent")
    expired_page = started("old-expired", expires_at=timezone.now() - timedelta(minutes=1))
    Payment.objects.filter(pk=expired_page.pk).update(created=timezone.now() - timedelta(days=9))
    forgotten = started("old")
    Payment.objects.filter(pk=forgotten.pk).update(created=timezone.now() - timedelta(days=9))
    started("unknown")
    LedgerRail.STATES.update({"recent": "succeeded", "old-expired": "expired", "old": "succeeded"})

    report = run()[("ledger", "main")]

    assert (report.payments_checked, report.payments_moved) == (3, 2)
    statuses = dict(Payment.objects.values_list("provider_ref", "status"))
    assert statuses == {
        "recent": "succeeded",
        "old-expired": "expired",
        "old": "pending",  # outside the window, its page not known to have expired: not asked
        "unknown": "pending",
    }
    assert "payment recent (thing-recent): pending -> succeeded" in report.actions
    assert "payment unknown (thing-unknown): We could not find this payment." in report.actions


def test_an_account_that_cannot_be_reached_is_reported_and_the_others_are_done():
    started("p1")
    started("p2", account="spare")
    LedgerRail.SENT.update(main=[("e1", "p1")], spare=[("e2", "p2")])
    LedgerRail.DOWN.add("main")

    reports = run()

    down, up = reports[("ledger", "main")], reports[("ledger", "spare")]
    assert (down.ok, down.error) == (False, "The ledger is down.")
    assert down.summary.startswith("could not be reached: The ledger is down.")
    assert (up.ok, up.processed) == (True, 1)
    assert dict(ReconcileRun.objects.values_list("account", "ok")) == {
        "main": False,
        "spare": True,
        "only": True,
    }
    assert Payment.objects.get(provider_ref="p2").status == Payment.Status.SUCCEEDED
    assert Payment.objects.get(provider_ref="p1").status == Payment.Status.PENDING


def test_a_rail_with_nothing_to_ask_says_so():
    report = run()[("mute", "only")]

    assert report.ok and not (report.lists or report.asks)
    assert report.summary.startswith("nothing to ask")


@pytest.mark.parametrize(
    ("wanted", "found"),
    [
        ("ldg", {("ledger", "main")}),
        ("spare", {("ledger", "spare")}),
        ("LEDGER", {("ledger", "main"), ("ledger", "spare")}),
        ("mute", {("mute", "only")}),
        ("nothing", set()),
    ],
)
def test_the_filter_names_a_rail_an_identity_or_a_short_name(wanted, found):
    assert set(run(account_filter=wanted)) == found
