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


# --- Where a refund can be made, and why not (issue 26) ----------------------------------------


def order_page(client, order) -> str:
    return client.get(reverse("admin:storefront_order_change", args=[order.pk])).content.decode()


@pytest.fixture
def rub_paid(settings):
    """A RUB order of the demo's tea caddy, paid by bank transfer (the sandbox bank)."""
    from storefront.tests.backoffice_tools import order_paid_by_bank_transfer
    from storefront.tests.factories import make_item, make_order

    order = make_order((make_item(price="2500.00", currency="RUB"), 1))
    payment = order_paid_by_bank_transfer(order)
    assert order.status == Order.Status.PAID
    return order, payment


def test_a_bank_transfer_order_has_no_refund_button_and_says_why(admin_client, rub_paid):
    order, payment = rub_paid

    page = order_page(admin_client, order)
    form = admin_client.get(refund_url(order)).content.decode()
    response = post_refund(admin_client, order, payment, "10.00")

    assert 'id="refund-link"' not in page
    assert "Bank transfer payments cannot be refunded from here" in page
    assert "Bank transfer payments cannot be refunded from here" in form
    assert 'id="refund-form"' not in form
    assert "Refunded" not in response.content.decode()
    assert not Refund.objects.exists()


def test_a_paid_stripe_order_has_the_refund_button(admin_client, paid):
    order, _ = paid

    page = order_page(admin_client, order)

    assert 'id="refund-link"' in page and 'id="refund-unavailable"' not in page


def test_money_lost_in_a_dispute_is_not_offered_and_stripe_is_not_asked(admin_client, pay_order):
    from storefront.tests.backoffice_tools import order_paid_then_dispute_lost
    from storefront.tests.factories import make_item, make_order

    order = make_order((make_item(price="21.76", currency="USD"), 1))
    payment = order_paid_then_dispute_lost(order)

    page = order_page(admin_client, order)
    form = admin_client.get(refund_url(order)).content.decode()
    response = post_refund(admin_client, order, payment, "21.76")

    assert 'id="refund-link"' not in page
    assert "$21.76 lost in a dispute" in page
    assert "$21.76 left" not in form and "$21.76 lost in a dispute" in form
    assert "Refunded" not in response.content.decode()
    assert not refund_requests().exists()
    assert not Refund.objects.exists()


def test_what_a_dispute_took_is_subtracted_from_what_is_left(paid):
    from payments.disputes import dispute_apply
    from payments.refunds import refund_room
    from payments.services import refund_options
    from payments.values import DisputeState, DisputeStatus

    order, payment = paid  # $51.42

    def dispute(ref: str, status: DisputeStatus, amount: int) -> None:
        dispute_apply(
            DisputeState(
                rail="stripe",
                account=payment.account,
                livemode=False,
                provider_ref=ref,
                payment_provider_id=payment.provider_payment_ref,
                status=status,
                amount=amount,
                currency="USD",
            )
        )

    dispute("du_inquiry", DisputeStatus.INQUIRY_NEEDS_RESPONSE, 5142)  # takes nothing yet
    assert refund_room(payment).remaining == 5142
    dispute("du_lost", DisputeStatus.LOST, 1000)
    dispute("du_open", DisputeStatus.UNDER_REVIEW, 2000)
    dispute("du_won", DisputeStatus.WON, 142)  # given back to the merchant: refundable

    (offer,) = refund_options(order.payment_reference).refundable
    assert offer.remaining == 2142
    assert "$10.00 was lost in a dispute" in offer.note
    assert "$20.00 is held by a chargeback still being decided" in offer.note


def test_the_refunds_table_shows_each_refunds_note(admin_client, paid):
    order, payment = paid
    post_refund(admin_client, order, payment, "5.00", note="Mug arrived chipped")

    page = order_page(admin_client, order)

    table = page[page.index('id="order-refunds"') :]
    assert "Requested by the customer" in table and "Mug arrived chipped" in table


def test_a_payment_its_rail_refunds_only_in_full_takes_no_partial_amount(
    admin_client, paid, monkeypatch
):
    from payments.stripe.rail import StripeRail

    monkeypatch.setattr(StripeRail, "partial_refund_supported", lambda self, payment: False)
    order, payment = paid

    form = admin_client.get(refund_url(order)).content.decode()
    partial = post_refund(admin_client, order, payment, "10.00")

    assert "in full only" in form
    assert "This payment is refunded only in full: $51.42." in partial.content.decode()
    assert not refund_requests().exists()
    whole = post_refund(admin_client, order, payment, "51.42")
    assert f"Refunded $51.42 of Order #{order.pk}." in whole.content.decode()


def test_the_core_refuses_a_refund_the_rail_does_not_support_for_that_payment(paid, monkeypatch):
    from payments.errors import PaymentError
    from payments.refunds import refund_request
    from payments.stripe.rail import StripeRail

    monkeypatch.setattr(StripeRail, "refund_supported", lambda self, payment: False)
    _, payment = paid

    with pytest.raises(PaymentError) as refused:
        refund_request(payment=payment, amount=100)

    assert refused.value.status == 409
    assert not refund_requests().exists()
