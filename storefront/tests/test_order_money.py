"""Where an order's money stands after it was paid: refunds and disputes in the admin's words,
on the invoice, on the credit note and in the CSV (refunds recorded as the payment layer
records them from the provider's word)."""

import pytest
from django.urls import reverse

from payments.disputes import dispute_apply
from payments.refunds import refund_apply
from payments.values import DisputeState, DisputeStatus, RefundState, RefundStatus
from storefront.backoffice.exports import HEADER, csv_rows
from storefront.models import Order
from storefront.shop.settlement import order_settlement
from storefront.tests.backoffice_tools import demo_with_usd_order_paid, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(pay_order):
    """The demo's USD order ($51.42), paid in the sandbox; returns (order, payment)."""
    return demo_with_usd_order_paid(pay_order)


def refunded(payment, amount: int, ref: str, status=RefundStatus.SUCCEEDED):
    """A refund of `payment` as the provider reports it (a dashboard refund's notification)."""
    return refund_apply(
        RefundState(
            rail=payment.rail,
            account=payment.account,
            livemode=payment.livemode,
            provider_ref=ref,
            payment_provider_id=payment.provider_id,
            status=status,
            amount=amount,
            currency=payment.currency,
            reason="requested_by_customer",
        )
    )


def disputed(payment, status: DisputeStatus):
    return dispute_apply(
        DisputeState(
            rail=payment.rail,
            account=payment.account,
            livemode=payment.livemode,
            provider_ref="dp_test_1",
            payment_provider_id=payment.provider_id,
            status=status,
            amount=payment.amount_received,
            currency=payment.currency,
            reason="fraudulent",
        )
    )


def test_the_order_says_paid_then_partly_refunded_then_refunded(paid):
    order, payment = paid
    assert order_settlement(order).words == "Paid"

    refunded(payment, 1000, "re_1")
    assert order_settlement(order).words == "Partly refunded ($10.00 of $51.42)"
    assert order_settlement(order).state == "partly_refunded"

    refunded(payment, 4142, "re_2")
    assert order_settlement(order).words == "Refunded ($51.42)"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID  # a record of what was sold: still paid


def test_a_failed_or_pending_refund_does_not_count(paid):
    order, payment = paid
    refunded(payment, 1000, "re_pending", status=RefundStatus.PENDING)
    refunded(payment, 2000, "re_failed", status=RefundStatus.FAILED)

    assert order_settlement(order).words == "Paid"


def test_a_lost_dispute_shows_on_the_order(paid):
    order, payment = paid
    disputed(payment, DisputeStatus.NEEDS_RESPONSE)
    assert order_settlement(order).words == "Paid; disputed (awaiting a response)"

    disputed(payment, DisputeStatus.LOST)
    assert order_settlement(order).words == "Paid; dispute lost ($51.42)"


def test_the_admin_order_page_and_list_show_refunds_with_credit_notes(admin_client, paid):
    order, payment = paid
    refund = refunded(payment, 1000, "re_1")

    page = admin_client.get(reverse("admin:storefront_order_change", args=[order.pk]))
    listing = admin_client.get(reverse("admin:storefront_order_changelist"))

    html = page.content.decode()
    assert "Partly refunded ($10.00 of $51.42)" in html
    assert 'id="order-refunds"' in html and "re_1" in html and "at the provider" in html
    credit_note = reverse("admin:storefront_order_credit_note", args=[order.pk, refund.pk])
    assert credit_note in html
    assert "Partly refunded ($10.00 of $51.42)" in listing.content.decode()


def test_the_credit_note_names_the_order_the_payment_and_the_amount(admin_client, paid):
    order, payment = paid
    refund = refunded(payment, 1000, "re_1")

    response = admin_client.get(
        reverse("admin:storefront_order_credit_note", args=[order.pk, refund.pk])
    )

    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Credit note" in text and f"CN-{order.pk}-{refund.pk}" in text
    assert "−$10.00" in text and payment.provider_id in text
    assert "Requested by the customer" in text and "$51.42" in text


def test_no_credit_note_for_another_orders_refund_or_a_failed_one(admin_client, paid, pay_order):
    order, payment = paid
    failed = refunded(payment, 1000, "re_failed", status=RefundStatus.FAILED)
    other = Order.objects.get(pk=2)

    for order_id, refund_id in ((order.pk, failed.pk), (other.pk, failed.pk), (order.pk, 999)):
        url = reverse("admin:storefront_order_credit_note", args=[order_id, refund_id])
        assert admin_client.get(url).status_code == 404


def test_the_invoice_lists_refunds_and_what_remains_paid(admin_client, paid):
    order, payment = paid
    refunded(payment, 1000, "re_1")

    response = admin_client.get(reverse("admin:storefront_order_invoice", args=[order.pk]))

    text = pdf_text(response.content)
    assert "Refunded on" in text and "−$10.00" in text
    assert "Paid, less refunds" in text and "$41.42" in text


def test_the_csv_says_how_much_was_refunded_and_the_state(paid):
    order, payment = paid
    refunded(payment, 4142, "re_1")
    refunded(payment, 1000, "re_2")

    rows = list(csv_rows(Order.objects.filter(pk=order.pk)))

    assert {row[HEADER.index("refunded")] for row in rows[1:]} == {"51.42"}
    assert {row[HEADER.index("state")] for row in rows[1:]} == {"refunded"}
