"""The Stripe rail's side of reconcile, through the real `stripe` library and the sandbox: the
events an account sent (undelivered first, every page, each once) read as webhooks; how a
payment stands asked of the account that took it; and the admin's accounts page."""

import json

import pytest
from django.urls import reverse

from payments.errors import PaymentError
from payments.models import Payment, ReceivedNotification, ReconcileRun
from payments.rails import rail_named
from payments.services import payments_reconcile
from payments.stripe import reconcile
from payments.stripe.accounts import account_for
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.sandbox_tools import requests_of, session_object
from payments.stripe.tests.reconcile_tools import order_paid_at_stripe, order_started
from payments.values import ProviderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def webhooks_lost(settings):
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


@pytest.fixture
def stripe_rail():
    return rail_named("stripe")


def test_accounts_are_the_configured_accounts_by_identity(stripe_rail):
    assert stripe_rail.accounts() == [account_for("EUR").identity, account_for("USD").identity]
    assert stripe_rail.account_codes(account_for("EUR").identity) == ("EUR",)


def test_missed_notifications_lists_undelivered_events_first_then_the_window_each_once(
    stripe_rail, monkeypatch
):
    from django.utils import timezone

    order_paid_at_stripe("USD")
    order_paid_at_stripe("USD")
    events = list(SandboxObject.objects.filter(object="event").order_by("created", "id"))
    delivered = events[1]  # as if its webhook had arrived
    delivered.data["pending_webhooks"] = 0
    delivered.save()
    monkeypatch.setattr(reconcile, "PAGE_SIZE", 1)  # one event a page: paging must see all
    usd = account_for("USD")

    found = list(
        stripe_rail.missed_notifications(
            account=usd.identity, since=timezone.now() - timezone.timedelta(hours=1)
        )
    )

    ids = [notification.event_id for notification, _ in found]
    undelivered = [event.id for event in events if event.id != delivered.id]
    assert ids == [*undelivered, delivered.id]  # oldest first within each list
    notification, payload = found[-1]
    assert json.loads(payload) == delivered.data  # the body a webhook would have carried
    assert notification.account == usd.identity
    completed = [n for n, _ in found if n.type == "checkout.session.completed"]
    assert {n.state.status for n in completed} == {ProviderStatus.SUCCEEDED}
    # A page per event: three undelivered, then all four (the last page says has_more=false).
    assert requests_of("USD").filter(path="/v1/events").count() == 3 + 4


def test_payment_state_asks_the_account_that_took_it(stripe_rail, settings):
    _, session_id = order_paid_at_stripe("EUR", price="24.00")
    payment = Payment.objects.get(provider_ref=session_id)

    state = stripe_rail.payment_state(payment)

    assert (state.status, state.amount, state.currency) == (ProviderStatus.SUCCEEDED, 2400, "EUR")
    assert requests_of("EUR").filter(path=f"/v1/checkout/sessions/{session_id}").exists()
    # An account the shop no longer has keys for cannot be asked.
    settings.SHOP_CURRENCIES = ["USD"]
    with pytest.raises(PaymentError) as caught:
        stripe_rail.payment_state(payment)
    assert caught.value.status == 404


def test_an_expired_checkout_is_closed_by_the_pending_check_when_its_event_is_not_listed(
    stripe_rail, monkeypatch
):
    from django.utils import timezone

    order, session_id = order_started("USD")
    row = session_object(session_id)
    row.data["expires_at"] = int(timezone.now().timestamp()) - 60
    row.save()
    # Stripe's list lacks it (older than 30 days, say): asking about the payment still works.
    monkeypatch.setattr(reconcile, "missed_notifications", lambda account, since: iter(()))

    (usd,) = payments_reconcile(
        since=timezone.now() - timezone.timedelta(days=3), account_filter="USD"
    )

    assert (usd.payments_checked, usd.payments_moved) == (1, 1)
    assert Payment.objects.get().status == Payment.Status.EXPIRED
    assert f"payment {session_id} (order-{order.pk}): pending -> expired" in usd.actions


def test_the_accounts_admin_page_shows_last_event_failures_and_last_run(admin_client, client):
    from django.utils import timezone

    order_paid_at_stripe("USD")
    payments_reconcile(since=timezone.now() - timezone.timedelta(days=1))
    client.post(  # a forged delivery: refused, counted as a failure
        "/payments/webhooks/stripe/usd/",
        data="{}",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=forged",
    )
    last = ReceivedNotification.objects.filter(signature_valid=True).first()
    run = ReconcileRun.objects.get(account=account_for("USD").identity)

    index = admin_client.get(reverse("admin:payments_reconcilerun_changelist")).content.decode()
    page = admin_client.get(reverse("admin:payments_accounts"))

    assert reverse("admin:payments_accounts") in index
    assert page.status_code == 200
    html = page.content.decode()
    usd_row = html[html.index("USD account (sandbox)") :].split("</tr>")[0]
    assert last.event_id in usd_row and last.type in usd_row
    assert '<td class="failures"><a href=' in usd_row and ">1</a>" in usd_row
    assert reverse("admin:payments_reconcilerun_change", args=[run.pk]) in usd_row
    assert "ok, 2 found, 2 processed" in usd_row
    eur_row = html[html.index("EUR account (sandbox)") :].split("</tr>")[0]
    assert "none yet" in eur_row and '<td class="failures">0</td>' in eur_row
    assert "Bank account" in html  # every rail's accounts


def test_the_accounts_page_is_for_staff_only(client):
    page = client.get(reverse("admin:payments_accounts"))

    assert page.status_code == 302 and "/login/" in page["Location"]
