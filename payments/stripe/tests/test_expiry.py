"""Checkouts that expire: CHECKOUT_EXPIRES_MINUTES becomes the session's `expires_at`; a page is
handed out again until shortly before it; an expired session closes its payment (by its
webhook) and the order can then be cancelled."""

import time
from datetime import timedelta

import pytest
from django.core.checks import Error
from django.utils import timezone

from payments.models import Payment
from payments.records import REUSE_MARGIN
from payments.stripe.checks import check_checkout_expiry
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.sandbox_tools import requests_of, session_object
from payments.stripe.tests.reconcile_tools import order_started
from payments.stripe.tests.webhook_tools import post_event
from storefront.models import Order
from storefront.shop.orders import orders_expire

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def webhooks_off(settings):
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


def sent_expires_at() -> int:
    return int(requests_of("USD").get(path="/v1/checkout/sessions").params["expires_at"])


# At either of Stripe's bounds (30 minutes, 24 hours), a minute inside them.
@pytest.mark.parametrize(("minutes", "lifetime"), [(30, 31 * 60), (45, 45 * 60), (1440, 1439 * 60)])
def test_the_session_expires_when_the_setting_says_and_stripe_takes_it(settings, minutes, lifetime):
    settings.CHECKOUT_EXPIRES_MINUTES = minutes

    before = int(time.time())  # the shop counts in whole seconds
    _, session_id = order_started("USD")
    after = time.time()

    expires_at = sent_expires_at()
    assert before + lifetime <= expires_at <= after + lifetime
    assert session_object(session_id).data["expires_at"] == expires_at
    payment = Payment.objects.get()
    assert payment.expires_at.timestamp() == expires_at


@pytest.mark.parametrize(
    ("minutes", "refused"), [(29, True), (30, False), (1440, False), (1441, True)]
)
def test_a_system_check_refuses_a_lifetime_stripe_would_refuse(settings, minutes, refused):
    settings.CHECKOUT_EXPIRES_MINUTES = minutes

    problems = check_checkout_expiry()

    assert bool(problems) is refused
    if refused:
        (problem,) = problems
        assert isinstance(problem, Error) and problem.id == "payments.E005"
        assert "30 to 1440" in problem.msg


def test_asking_again_reuses_the_open_session_until_it_nears_expiry(client):
    from storefront.tests.factories import make_item

    item = make_item(currency="USD")
    first = client.get(f"/buy/{item.pk}").json()["id"]
    Payment.objects.update(expires_at=timezone.now() + REUSE_MARGIN + timedelta(minutes=2))

    assert client.get(f"/buy/{item.pk}").json()["id"] == first  # still time to pay: reused

    Payment.objects.update(expires_at=timezone.now() + REUSE_MARGIN - timedelta(seconds=30))
    assert client.get(f"/buy/{item.pk}").json()["id"] != first  # too close: a fresh one


def test_an_expired_session_closes_its_payment_by_webhook_and_the_order_can_be_cancelled(
    client, usd
):
    order, session_id = order_started("USD")
    row = session_object(session_id)
    row.data["expires_at"] = int(time.time()) - 1  # Stripe's clock has passed it
    row.save()
    Order.objects.filter(pk=order.pk).update(updated=timezone.now() - timedelta(days=3))
    assert orders_expire(untouched_for=timedelta(days=2)) == 0  # its page is "open": kept

    usd.v1.coupons.create({"percent_off": 5, "duration": "once"})  # any request of the account
    (event,) = SandboxObject.objects.filter(object="event", data__type="checkout.session.expired")
    response = post_event(client, event.data)

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.EXPIRED
    assert orders_expire(untouched_for=timedelta(days=2)) == 1
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
