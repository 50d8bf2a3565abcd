"""Paying an order by bank transfer: the pay page's bank details and reference, an order paid
by a transfer quoting it (once, through the core), one short of the total left open with a
reason; and Stripe not offering to take the bank's currency."""

import re

import pytest

from payments.bank_transfer.models import BankOperation, LedgerEntry, Organisation
from payments.bank_transfer.tests.bank_tools import INN, PAYEE, post, transfer
from payments.models import Payment
from payments.signals import payment_succeeded
from payments.values import Method
from storefront.models import Order
from storefront.tests.factories import make_discount, make_item, make_order

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


def test_buying_a_bank_transfer_item_on_a_providers_page_is_a_409_naming_its_page(client):
    """Issue 26: `GET /buy/<id>` of the RUB item said 503 "not available"; it is paid on its
    page, by bank transfer, and nothing is made for it here."""
    item = make_item(price="10.00", currency="RUB")

    response = client.get(f"/buy/{item.pk}")

    assert response.status_code == 409
    assert "Bank transfer" in response.json()["error"]
    assert response.json()["url"] == f"http://testserver{item.get_absolute_url()}"
    assert not Order.objects.exists()


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
    assert (payment.status, payment.amount_received, payment.attention_note) == (
        "succeeded",
        145000,
        "",
    )
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
    assert "short of 145000" in payment.attention_note
    assert Organisation.objects.get().balance == 100000

    # The rest arrives, quoting the reference again: now the balance covers it.
    post(client, transfer(amount=45000, document_number=f"INV-{order.pk} (rest)"))

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Payment.objects.get().attention_note == ""
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
    from storefront.documents.invoices import order_invoice_pdf
    from storefront.tests.backoffice_tools import pdf_text

    text = pdf_text(order_invoice_pdf(order=order))

    assert "How to pay" in text
    for label, value in [("Account number", PAYEE["account"]), ("BIC", PAYEE["bic"])]:
        assert label in text and value in text
    assert f"INV-{order.pk}" in text


def test_the_invoice_of_an_order_in_another_currency_has_no_bank_details():
    from storefront.documents.invoices import order_invoice_pdf
    from storefront.tests.backoffice_tools import pdf_text

    usd = make_order((make_item(price="19.99", currency="USD"), 1))

    text = pdf_text(order_invoice_pdf(order=usd))

    assert "How to pay" not in text and "Account number" not in text


# --- A reference stands for one amount (issue 19, defect 1) ----------------------------------


def shop_order(client, *items) -> Order:
    """An order put together through the shop's own URLs, as a buyer does."""
    for item in items:
        assert client.post("/order/add/", {"item": item.pk, "quantity": 1}).status_code == 302
    return Order.objects.get(pk=client.session["cart_order_id"])


def shown_reference(response) -> str:
    assert response.status_code == 200, response.content
    return re.search(r'id="payment-reference">([^<]+)<', response.content.decode())[1]


def test_a_transfer_for_an_order_that_changed_after_its_reference_was_shown(client):
    """The issue's first scenario: the reference was shown for 2,500.00, the buyer added a line
    (5,000.00), the organisation paid 2,500.00 quoting it. Nothing is debited, the order stays
    payable, and its pay page shows a new reference for the new total."""
    order = shop_order(client, make_item(price="2500.00", currency="RUB"))
    first = shown_reference(client.get(f"/order/{order.pk}/pay/?rail=bank_transfer"))
    assert first == f"INV-{order.pk}"

    shop_order(client, make_item(price="2500.00", currency="RUB"))  # now 5,000.00
    response = post(client, transfer(amount=250000, document_number=f"PAY-1 {first}"))

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    organisation = Organisation.objects.get(inn=INN)
    assert organisation.balance == 250000  # credited, not debited
    assert list(LedgerEntry.objects.values_list("delta", flat=True)) == [250000]
    closed = Payment.objects.get(provider_ref=first)
    assert closed.status == Payment.Status.EXPIRED
    assert f"order #{order.pk} changed" in closed.attention_note
    operation = organisation.operations.get()
    assert first in operation.attention_note and "stays on the balance" in operation.attention_note

    # The pay page is not a 409: it shows a new reference, for the new total.
    page = client.get(f"/order/{order.pk}/pay/?rail=bank_transfer")
    second = shown_reference(page)
    assert second == f"INV-{order.pk}-2"
    shown_amount = re.search(r"Transfer <strong>([^<]+)</strong>", page.content.decode())[1]
    assert re.sub(r"\D", "", shown_amount) == "500000"  # 5,000.00, however the locale spaces it
    pending = Payment.objects.get(status=Payment.Status.PENDING)
    assert (pending.provider_ref, pending.amount_expected) == (second, 500000)

    # The rest arrives quoting the new reference: the balance now covers the order.
    post(client, transfer(amount=250000, document_number=f"PAY-2 {second}"))

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    organisation.refresh_from_db()
    assert organisation.balance == 0
    paid = Payment.objects.get(provider_ref=second)
    assert (paid.status, paid.amount_received, paid.attention_note) == ("succeeded", 500000, "")
    assert list(LedgerEntry.objects.filter(delta__lt=0).values_list("delta", "payment")) == [
        (-500000, paid.pk)
    ]


def test_a_transfer_quoting_a_cancelled_orders_reference_only_credits(client):
    """The issue's second scenario: the order was cancelled (orders_expire) after its
    reference was shown; a transfer quoting it later debits nothing and asks for no refund."""
    from datetime import timedelta

    from storefront.shop.orders import orders_expire

    order = shop_order(client, make_item(price="1450.00", currency="RUB"))
    reference = shown_reference(client.get(f"/order/{order.pk}/pay/?rail=bank_transfer"))

    assert orders_expire(untouched_for=timedelta(0)) == 1
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.EXPIRED
    assert "cancelled" in payment.attention_note

    response = post(client, transfer(amount=145000, document_number=f"PAY-9 {reference}"))

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Organisation.objects.get().balance == 145000
    assert not LedgerEntry.objects.filter(delta__lt=0).exists()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.EXPIRED
    assert "refund" not in payment.attention_note
    assert "stays on the balance" in BankOperation.objects.get().attention_note


@pytest.fixture
def two_line_order(client):
    order = shop_order(
        client,
        make_item(price="1000.00", currency="RUB"),
        make_item(price="450.00", currency="RUB"),
    )
    make_discount(percent_off="10", code="TENOFF")
    return order


CHANGES = {
    "add a line": lambda client, order: client.post(
        "/order/add/", {"item": make_item(price="1.00", currency="RUB").pk, "quantity": 1}
    ),
    "set a quantity": lambda client, order: client.post(
        f"/order/{order.pk}/lines/{order.lines.first().pk}/", {"quantity": 2}
    ),
    "remove a line": lambda client, order: client.post(
        f"/order/{order.pk}/lines/{order.lines.first().pk}/", {"action": "remove"}
    ),
    "apply a discount code": lambda client, order: client.post(
        f"/order/{order.pk}/discount/", {"code": "TENOFF"}
    ),
    "empty it": lambda client, order: client.post(f"/order/{order.pk}/empty/"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_of_the_order_closes_its_pending_bank_payment(client, two_line_order, change):
    order = two_line_order
    reference = shown_reference(client.get(f"/order/{order.pk}/pay/?rail=bank_transfer"))

    assert CHANGES[change](client, order).status_code == 302

    assert Payment.objects.get(provider_ref=reference).status == Payment.Status.EXPIRED
    # A transfer of the old total quoting the old reference pays nothing.
    post(client, transfer(amount=145000, document_number=reference))
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert Organisation.objects.get().balance == 145000


def test_removing_the_discount_closes_the_pending_payment_too(client, two_line_order):
    order = two_line_order
    client.post(f"/order/{order.pk}/discount/", {"code": "TENOFF"})
    reference = shown_reference(client.get(f"/order/{order.pk}/pay/?rail=bank_transfer"))

    client.post(f"/order/{order.pk}/discount/", {"action": "remove"})

    assert Payment.objects.get(provider_ref=reference).status == Payment.Status.EXPIRED


def test_a_refused_change_leaves_the_pending_payment_open(client, order):
    session = client.session
    session["order_ids"] = [order.pk]
    session["cart_order_id"] = order.pk
    session.save()
    reference = shown_reference(client.get(f"/order/{order.pk}/pay/?rail=bank_transfer"))

    client.post(f"/order/{order.pk}/discount/", {"code": "NO-SUCH-CODE"})
    client.post("/order/add/", {"item": make_item(price="1.00", currency="USD").pk, "quantity": 1})

    assert Payment.objects.get(provider_ref=reference).status == Payment.Status.PENDING


def test_an_order_changed_behind_the_shops_back_is_not_paid_by_a_stale_reference(client, order):
    """A line edited where nothing closes the payment (by hand, in the database): fulfilment
    sees the order no longer costs what the payment stands for, so the debit is undone with
    it, and the payment is closed and flagged."""
    pay_page(client, order)
    order.lines.update(quantity=2)  # now 2,900.00

    post(client, transfer(amount=300000, document_number=f"INV-{order.pk}"))

    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert Organisation.objects.get().balance == 300000
    assert list(LedgerEntry.objects.values_list("delta", flat=True)) == [300000]
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.EXPIRED
    assert "nothing was debited" in payment.attention_note
    assert payment.fulfilled_at is None and payment.amount_received is None
    # Its pay page then gives a reference for what it costs now.
    assert shown_reference(pay_page(client, order)) == f"INV-{order.pk}-2"


def test_a_paid_orders_old_reference_quoted_again_only_credits(client, order):
    pay_page(client, order)
    post(client, transfer(amount=145000, document_number=f"INV-{order.pk}"))

    post(client, transfer(amount=145000, document_number=f"INV-{order.pk} again"))

    assert Organisation.objects.get().balance == 145000
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    latest = BankOperation.objects.order_by("-pk").first()
    assert "was paid already" in latest.attention_note


def test_a_reference_issued_before_references_had_numbers_is_still_read(client, order):
    """`INV-<order>` is the first reference of an order, as it was before there were more:
    a payment recorded under it is still paid by a transfer quoting it."""
    from payments.records import payment_record

    payment_record(
        rail="bank_transfer", account=PAYEE["account"], livemode=True,
        reference=f"order-{order.pk}", provider_ref=f"INV-{order.pk}", currency="RUB",
        amount=145000,
    )  # fmt: skip

    post(client, transfer(amount=145000, document_number=f"inv-{order.pk}"))

    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_the_invoice_quotes_the_pending_reference_for_the_current_total(client, order):
    from storefront.documents.invoices import order_invoice_pdf
    from storefront.tests.backoffice_tools import pdf_text

    pay_page(client, order)
    session = client.session
    session["cart_order_id"] = order.pk
    session.save()
    client.post("/order/add/", {"item": make_item(price="1.00", currency="RUB").pk, "quantity": 1})
    pay_page(client, order)

    text = pdf_text(order_invoice_pdf(order=order))

    assert f"INV-{order.pk}-2" in text
