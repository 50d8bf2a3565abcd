"""Paying an order by bank transfer: the pay page's bank details and reference, an order paid
by a transfer quoting it (once, through the core), one short of the total left open with a
reason; and Stripe not offering to take the bank's currency."""

import pytest

from payments.bank_transfer.models import LedgerEntry, Organisation
from payments.bank_transfer.tests.bank_tools import INN, PAYEE, post, transfer
from payments.models import Payment
from payments.signals import payment_succeeded
from payments.values import Method
from storefront.models import Order
from storefront.tests.factories import make_item, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    return make_order((make_item(price="1450.00", currency="RUB"), 1))  # 145000 kopecks


def pay_page(client, order):
    session = client.session
    session["order_ids"] = [order.pk]
    session.save()
    return client.get(f"/order/{order.pk}/pay/?rail=bank_transfer")


@pytest.fixture
def succeeded():
    sent = []

    def receiver(sender, payment, **kwargs):
        sent.append(payment.pk)

    payment_succeeded.connect(receiver)
    yield sent
    payment_succeeded.disconnect(receiver)


def test_the_order_page_offers_a_bank_transfer_and_no_card(client, order):
    session = client.session
    session["order_ids"] = [order.pk]
    session.save()

    page = client.get(f"/order/{order.pk}/").content.decode()

    assert "Pay by bank transfer" in page
    assert f"/order/{order.pk}/pay/?rail=bank_transfer" in page
    assert "buy-button" not in page  # Stripe's


def test_stripe_does_not_offer_to_take_the_bank_currency(client):
    from payments.services import pay_options

    rub = pay_options(currency="RUB", urls={Method.ON_PAGE: "/pay/", Method.REDIRECT: "/buy/"})
    usd = pay_options(currency="USD", urls={Method.ON_PAGE: "/pay/", Method.REDIRECT: "/buy/"})
    item = make_item(price="10.00", currency="RUB")

    assert [option.rail for option in rub] == ["bank_transfer"]
    assert [option.rail for option in usd] == ["stripe"]
    page = client.get(f"/item/{item.pk}").content.decode()
    assert "buy-button" not in page
    assert "Stripe" not in page


def test_the_pay_page_shows_the_payee_details_and_the_reference(client, order, settings):
    response = pay_page(client, order)
    page = response.content.decode()

    assert response.status_code == 200
    for value in PAYEE.values():
        assert value in page
    assert f"INV-{order.pk}" in page
    payment = Payment.objects.get()
    assert (payment.rail, payment.provider_ref, payment.account) == (
        "bank_transfer",
        f"INV-{order.pk}",
        PAYEE["account"],
    )
    assert (payment.amount_expected, payment.currency, payment.status) == (145000, "RUB", "pending")


def test_a_second_visit_reuses_the_pending_payment(client, order):
    pay_page(client, order)
    pay_page(client, order)

    assert Payment.objects.count() == 1


def test_a_transfer_quoting_the_reference_pays_the_order_once(
    client, order, succeeded, django_capture_on_commit_callbacks
):
    pay_page(client, order)
    body = transfer(amount=150000, document_number=f"PAY-330 for invoice inv-{order.pk}")

    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, body)
        again = post(client, body)

    assert (first.status_code, again.status_code) == (200, 200)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_received, payment.flag) == ("succeeded", 145000, "")
    assert payment.fulfilled_at is not None
    assert succeeded == [payment.pk]
    assert Organisation.objects.get(inn=INN).balance == 5000
    rows = list(LedgerEntry.objects.values_list("delta", "balance_after", "payment"))
    assert rows == [(150000, 150000, None), (-145000, 5000, payment.pk)]


def test_a_transfer_short_of_the_total_leaves_the_order_open_and_says_why(client, order):
    pay_page(client, order)

    response = post(client, transfer(amount=100000, document_number=f"INV-{order.pk}"))

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    payment = Payment.objects.get()
    assert payment.status == "pending"
    assert "short of 145000" in payment.flag
    assert Organisation.objects.get().balance == 100000

    # The rest arrives, quoting the reference again: now the balance covers it.
    post(client, transfer(amount=45000, document_number=f"INV-{order.pk} (rest)"))

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Payment.objects.get().flag == ""
    assert Organisation.objects.get().balance == 0


def test_a_transfer_quoting_another_reference_only_credits(client, order):
    pay_page(client, order)

    post(client, transfer(document_number=f"INV-{order.pk}0"))

    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert Organisation.objects.get().balance == 145000


def test_the_invoice_of_an_unpaid_order_in_roubles_says_where_to_transfer_and_what_to_quote(
    order,
):
    from storefront.invoices import order_invoice_pdf
    from storefront.tests.backoffice_tools import pdf_text

    text = pdf_text(order_invoice_pdf(order=order))

    assert "How to pay" in text
    for label, value in [("Account number", PAYEE["account"]), ("BIC", PAYEE["bic"])]:
        assert label in text and value in text
    assert f"INV-{order.pk}" in text


def test_the_invoice_of_an_order_in_another_currency_has_no_bank_details():
    from storefront.invoices import order_invoice_pdf
    from storefront.tests.backoffice_tools import pdf_text

    usd = make_order((make_item(price="19.99", currency="USD"), 1))

    text = pdf_text(order_invoice_pdf(order=usd))

    assert "How to pay" not in text and "Account number" not in text
