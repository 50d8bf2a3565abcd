"""`manage.py payments_reconcile`: orders paid while the webhooks were lost end up paid, once,
whatever the number of runs; an account that cannot be reached fails the run, not the others."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from payments.models import Payment, ReceivedNotification, ReconcileRun
from payments.redeliveries import duplicates_counted
from payments.stripe.accounts import account_for
from payments.stripe.sandbox.client import sandbox_outage
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.sandbox_tools import session_object
from payments.stripe.tests.reconcile_tools import order_paid_at_stripe, order_started
from storefront.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def webhooks_lost(settings):
    """The sandbox records its events and never sends them: every webhook is lost."""
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


def reconcile(*args) -> str:
    out = io.StringIO()
    call_command("payments_reconcile", *args, stdout=out)
    return out.getvalue()


def status(order: Order) -> str:
    order.refresh_from_db()
    return order.status


def test_orders_paid_while_webhooks_were_lost_are_paid_once_however_often_it_runs():
    usd, _ = order_paid_at_stripe("USD")
    eur, _ = order_paid_at_stripe("EUR", price="24.00")
    assert (status(usd), status(eur)) == (Order.Status.OPEN, Order.Status.OPEN)
    events = SandboxObject.objects.filter(object="event")

    first = reconcile()

    assert (status(usd), status(eur)) == (Order.Status.PAID, Order.Status.PAID)
    assert sorted(ReceivedNotification.objects.values_list("event_id", flat=True)) == sorted(
        events.values_list("id", flat=True)
    )  # one record per event (a payment_intent.succeeded and a completed session each)
    assert "stripe USD account (sandbox): 2 notification(s) found: 2 processed now" in first
    assert "stripe EUR account (sandbox): 2 notification(s) found: 2 processed now" in first
    assert "checkout.session.completed" in first and "processed" in first

    second = reconcile()

    assert "2 notification(s) found: 0 processed now, 2 already received, 0 failed" in second
    assert second.count("already received") == 2  # both Stripe accounts
    assert ReceivedNotification.objects.count() == 4
    assert {duplicates_counted(record) for record in ReceivedNotification.objects.all()} == {1}
    fulfilled = Payment.objects.filter(fulfilled_at__isnull=False)
    assert sorted(fulfilled.values_list("reference", flat=True)) == sorted(
        [f"order-{usd.pk}", f"order-{eur.pk}"]
    )
    assert ReconcileRun.objects.filter(rail="stripe", ok=True).count() == 4


def test_an_account_that_cannot_be_reached_fails_the_run_and_the_other_is_reconciled():
    usd, _ = order_paid_at_stripe("USD")
    eur, _ = order_paid_at_stripe("EUR", price="24.00")
    out = io.StringIO()

    with (
        sandbox_outage(secret_keys=(account_for("EUR").secret_key,)),
        pytest.raises(CommandError, match="1 account\\(s\\) could not be reached: stripe EUR"),
    ):
        call_command("payments_reconcile", stdout=out)

    assert (status(usd), status(eur)) == (Order.Status.PAID, Order.Status.OPEN)
    assert "stripe EUR account (sandbox): could not be reached: We could not reach" in (
        out.getvalue()
    )
    failed = ReconcileRun.objects.get(ok=False)
    assert failed.account == account_for("EUR").identity
    assert "could not be reached" in failed.report
    # Once it answers again, the next run catches up.
    reconcile("--account", "EUR")
    assert status(eur) == Order.Status.PAID


def test_account_keeps_to_one_account_and_names_nothing_else():
    usd, _ = order_paid_at_stripe("USD")
    eur, _ = order_paid_at_stripe("EUR", price="24.00")

    out = reconcile("--account", "eur")

    assert "EUR account" in out and "USD account" not in out
    assert (status(usd), status(eur)) == (Order.Status.OPEN, Order.Status.PAID)
    with pytest.raises(CommandError, match="No payment account matches 'JPY'"):
        reconcile("--account", "JPY")


def test_rails_with_nothing_to_list_say_so():
    out = reconcile()

    assert "bank_transfer Bank account" in out
    assert "nothing to ask" in out


def test_a_checkout_left_to_expire_is_closed_and_its_order_can_be_cancelled():
    order, session_id = order_started("USD")
    row = session_object(session_id)
    row.data["expires_at"] = int(timezone.now().timestamp()) - 60  # Stripe's clock has run
    row.save()
    Order.objects.filter(pk=order.pk).update(updated=timezone.now() - timedelta(days=3))

    out = reconcile("--expire-orders-after", "2d")

    assert "checkout.session.expired" in out
    assert Payment.objects.get().status == Payment.Status.EXPIRED
    assert "1 open order(s) untouched" in out
    assert status(order) == Order.Status.CANCELLED


def test_orders_are_not_expired_when_an_account_could_not_be_asked():
    order, _ = order_paid_at_stripe("USD")
    Order.objects.filter(pk=order.pk).update(updated=timezone.now() - timedelta(days=3))

    with sandbox_outage(), pytest.raises(CommandError):
        out = io.StringIO()
        call_command("payments_reconcile", "--expire-orders-after", "2d", stdout=out)

    assert "Orders not expired" in out.getvalue()
    assert status(order) == Order.Status.OPEN


@pytest.mark.parametrize("value", ["3", "3w", "0d", "-1d", "d"])
def test_since_takes_minutes_hours_or_days(value):
    with pytest.raises(CommandError, match="--since"):
        reconcile("--since", value)


def test_since_limits_the_window():
    order_paid_at_stripe("USD")
    for event in SandboxObject.objects.filter(object="event"):
        event.data["created"] -= 2 * 3600
        event.save()

    out = reconcile("--since", "90m", "--account", "USD")

    assert "0 notification(s) found" in out
    # The payment itself was started within the window: asked about directly, and moved.
    assert "pending -> succeeded" in out
