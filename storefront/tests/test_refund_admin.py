"""Refunding from the order's admin page: through the account that took the payment, never
more than remains, only for staff allowed to, and said in words."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from payments.models import Refund
from payments.stripe.sandbox.models import SandboxRequest
from storefront.models import Order
from storefront.tests.backoffice_tools import demo_with_usd_order_paid

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(pay_order):
    """The demo's USD order ($51.42), paid in the sandbox; returns (order, payment)."""
    return demo_with_usd_order_paid(pay_order)


def refund_url(order: Order) -> str:
    return reverse("admin:storefront_order_refund", args=[order.pk])


def post_refund(client, order, payment, amount: str, **extra):
    data = {"payment": payment.pk, "amount": amount, "reason": "requested_by_customer"}
    return client.post(refund_url(order), {**data, **extra}, follow=True)


def refund_requests():
    return SandboxRequest.objects.filter(method="POST", path="/v1/refunds")


def test_a_partial_refund_goes_to_the_account_that_took_the_payment(admin_client, paid):
    order, payment = paid

    response = post_refund(admin_client, order, payment, "10.00", note="chipped mug")

    assert f"Refunded $10.00 of Order #{order.pk}." in response.content.decode()
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.note) == (1000, "succeeded", "chipped mug")
    assert refund.requested_by.username == "admin"
    (request,) = refund_requests()
    assert (
        request.account
        == SandboxRequest.objects.filter(path="/v1/checkout/sessions").first().account
    )  # the USD account, which took the payment
    assert request.params["amount"] == "1000"
    assert request.idempotency_key == refund.request_key


def test_more_than_remains_is_refused_and_nothing_is_asked_of_stripe(admin_client, paid):
    order, payment = paid
    post_refund(admin_client, order, payment, "50.00")

    response = post_refund(admin_client, order, payment, "1.43")

    assert "At most $1.42 is left to refund" in response.content.decode()
    assert refund_requests().count() == 1
    assert Refund.objects.count() == 1


def test_an_amount_with_more_decimals_than_the_currency_is_refused(admin_client, paid):
    order, payment = paid

    response = post_refund(admin_client, order, payment, "1.005")

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not refund_requests().exists()


def test_an_unpaid_order_has_nothing_to_refund(admin_client, paid):
    other = Order.objects.get(pk=2)

    response = admin_client.get(refund_url(other))

    assert 'id="nothing-to-refund"' in response.content.decode()


def test_staff_without_the_refund_permission_are_refused(client, paid):
    order, payment = paid
    clerk = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(clerk)

    page = client.get(reverse("admin:storefront_order_change", args=[order.pk]))
    response = post_refund(client, order, payment, "1.00")

    assert page.status_code == 200 and 'id="refund-link"' not in page.content.decode()
    assert response.status_code == 403
    assert not Refund.objects.exists()


def test_a_refund_stripe_refuses_is_recorded_as_failed_and_said(admin_client, paid, monkeypatch):
    from payments.errors import PaymentError
    from payments.stripe.rail import StripeRail

    def refuse(self, **kwargs):
        raise PaymentError("The charge was already refunded.", status=502)

    monkeypatch.setattr(StripeRail, "refund", refuse)
    order, payment = paid

    response = post_refund(admin_client, order, payment, "5.00")

    assert "The refund was not made: The charge was already refunded." in response.content.decode()
    assert Refund.objects.get().status == "failed"
