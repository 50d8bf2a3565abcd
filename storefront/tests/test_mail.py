"""Receipts and refund notices: one per paid order (and per refund), with the invoice attached,
never without an address, never lost when sending fails, never sent twice by the resender."""

import re
from datetime import timedelta
from io import StringIO
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.utils import timezone

from payments.refunds import refund_apply
from payments.services import payment_confirm
from payments.stripe.tests.checkout_tools import checkout_paid, order_paid
from payments.values import RefundState, RefundStatus
from storefront.documents.mail import MAX_ATTEMPTS
from storefront.management.commands.order_mail_send import duration
from storefront.models import Order, OrderMail
from storefront.plumbing.checks import check_email
from storefront.shop.orders import order_set_email
from storefront.tasks import order_mail_send_task
from storefront.tests.backoffice_tools import pdf_text
from storefront.tests.factories import make_discount, make_item, make_order, make_tax
from storefront.tests.task_tools import tasks_queued

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shop(settings):
    settings.SHOP_NAME = "Kraft & Linen"
    settings.SHOP_URL = "https://shop.example.com"


@pytest.fixture
def order():
    """2 × $19.99 − 10 %, 8.875 % sales tax on top: $39.17."""
    return make_order(
        (make_item(name="Field Notes Notebook", price="19.99"), 2),
        discount=make_discount(name="Welcome", percent_off="10"),
        taxes=(make_tax(display_name="Sales tax", percentage="8.875"),),
    )


def pay(order: Order, *, email: str = ""):
    """Pay `order` in a sandbox Checkout (typing `email` there), then come back as the buyer
    does; return the payment."""
    payment = order_paid(order, email=email)
    assert order.status == Order.Status.PAID, payment.attention_note
    return payment


def failing_send(self, messages):
    raise SMTPServerDisconnected("Connection unexpectedly closed")


def test_a_paid_order_gets_one_receipt_with_its_invoice(order, django_capture_on_commit_callbacks):
    order_set_email(order=order, email="ada@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(order)
    with django_capture_on_commit_callbacks(execute=True):
        payment_confirm(
            rail="stripe", query={"session_id": payment.provider_ref, "currency": "usd"}
        )

    assert len(mail.outbox) == 1
    receipt = mail.outbox[0]
    assert receipt.to == ["ada@example.com"]
    assert receipt.subject == f"Kraft & Linen: receipt for your order #{order.pk}"
    assert "1 × Field Notes Notebook" not in receipt.body  # it is 2 ×
    assert "2 × Field Notes Notebook" in receipt.body and "$19.99 each" in receipt.body
    assert "Total paid: $39.17" in receipt.body
    link = f"https://shop.example.com/order/{order.pk}/?key={order.access_key}"
    assert link in receipt.body
    html, mimetype = receipt.alternatives[0]
    assert mimetype == "text/html" and "$39.17" in html and "Kraft &amp; Linen" in html
    ((filename, content, mimetype),) = receipt.attachments
    assert (filename, mimetype) == (f"invoice-order-{order.pk}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert f"Order number: {order.pk}" in text and "Bill to: ada@example.com" in text
    sent = OrderMail.objects.get()
    assert (sent.kind, sent.status, sent.attempts, sent.to) == (
        "receipt",
        "sent",
        1,
        "ada@example.com",
    )
    assert sent.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_with_a_broker_the_paying_request_only_queues_the_receipt(order, client):
    """The return page that paid does not wait for the PDF and the mail server: the receipt is
    a task for the worker, queued once the payment committed, and the worker sends it once."""
    order_set_email(order=order, email="ada@example.com")
    session_id = checkout_paid(order, email="")

    with tasks_queued() as queued:
        response = client.get(
            f"/payment/stripe/return/?session_id={session_id}&currency=usd",
            HTTP_X_REQUEST_ID="req-paid-1",
        )

    assert response.status_code == 200
    receipt = OrderMail.objects.get(order=order)
    assert (receipt.status, receipt.attempts) == ("pending", 0)
    assert mail.outbox == []
    assert [(q["task"], q["kwargs"]) for q in queued] == [
        ("storefront.tasks.order_mail_send_task", {"mail_id": receipt.pk})
    ]
    assert queued[0]["headers"]["shop_request_id"] == "req-paid-1"

    order_mail_send_task.apply(kwargs=queued[0]["kwargs"])  # the worker's turn
    order_mail_send_task.apply(kwargs=queued[0]["kwargs"])  # delivered again: nothing more

    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == ("sent", 1)
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_the_address_typed_in_checkout_gets_the_receipt_when_the_shop_had_none(
    order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pay(order, email="payer@example.com")

    assert order.email == "payer@example.com"
    assert [m.to for m in mail.outbox] == [["payer@example.com"]]


def test_no_address_no_email(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)

    assert order.email == ""
    assert not OrderMail.objects.exists()
    assert mail.outbox == []


def test_a_failed_send_stays_pending_and_the_command_sends_it_once(
    order, django_capture_on_commit_callbacks, monkeypatch
):
    order_set_email(order=order, email="ada@example.com")
    with monkeypatch.context() as patch:
        patch.setattr(EmailBackend, "send_messages", failing_send)
        with django_capture_on_commit_callbacks(execute=True):
            pay(order)

    # The payment went through all the same; the promise of a receipt is kept.
    assert order.status == Order.Status.PAID
    assert mail.outbox == []
    owed = OrderMail.objects.get()
    assert (owed.status, owed.attempts) == ("pending", 1)
    assert "Connection unexpectedly closed" in owed.error

    out = StringIO()
    call_command("order_mail_send", stdout=out)
    assert "1 e-mail(s) sent" in out.getvalue()
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert mail.outbox[0].attachments[0][0] == f"invoice-order-{order.pk}.pdf"
    owed.refresh_from_db()
    assert (owed.status, owed.attempts, owed.error) == ("sent", 2, "")

    again = StringIO()
    call_command("order_mail_send", "--stuck-after", "0m", stdout=again)
    assert "0 e-mail(s) sent" in again.getvalue()
    assert len(mail.outbox) == 1


def test_a_mail_that_keeps_failing_is_given_up_and_shown_as_failed(
    order, django_capture_on_commit_callbacks, monkeypatch
):
    order_set_email(order=order, email="ada@example.com")
    monkeypatch.setattr(EmailBackend, "send_messages", failing_send)
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)

    for _ in range(MAX_ATTEMPTS + 2):
        call_command("order_mail_send", stdout=StringIO())

    owed = OrderMail.objects.get()
    assert (owed.status, owed.attempts) == ("failed", MAX_ATTEMPTS)
    assert "Connection unexpectedly closed" in owed.error


def test_a_mail_left_sending_by_a_crash_is_sent_only_when_told_to_take_it_over(
    order, django_capture_on_commit_callbacks
):
    order_set_email(order=order, email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=False):  # the process "crashed" on commit
        pay(order)
    owed = OrderMail.objects.get()
    now = timezone.now()
    OrderMail.objects.filter(pk=owed.pk).update(
        status="sending", attempts=1, claimed_at=now - timedelta(minutes=20)
    )

    call_command("order_mail_send", stdout=StringIO())
    assert mail.outbox == []  # it may be on its way: only an explicit take-over resends

    call_command("order_mail_send", "--stuck-after", "30m", stdout=StringIO())
    assert mail.outbox == []  # not stuck that long

    call_command("order_mail_send", "--stuck-after", "15m", stdout=StringIO())
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    owed.refresh_from_db()
    assert (owed.status, owed.attempts) == ("sent", 2)


def test_a_refund_sends_one_short_notice(order, django_capture_on_commit_callbacks):
    order_set_email(order=order, email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(order)
    state = RefundState(
        rail="stripe",
        account=payment.account,
        livemode=False,
        provider_ref="re_test_receiptnotice",
        payment_provider_id=payment.provider_payment_ref,
        status=RefundStatus.SUCCEEDED,
        amount=1000,
        currency="USD",
    )

    with django_capture_on_commit_callbacks(execute=True):
        refund_apply(state)
    with django_capture_on_commit_callbacks(execute=True):
        refund_apply(state)  # the same news again (a webhook after the answer)

    receipt, notice = mail.outbox
    assert "receipt" in receipt.subject
    assert notice.to == ["ada@example.com"]
    assert notice.subject == f"Kraft & Linen: a refund on your order #{order.pk}"
    assert "We have refunded $10.00 on your order" in notice.body
    assert "(of $39.17 paid)" in notice.body
    assert f"https://shop.example.com/order/{order.pk}/?key=" in notice.body
    assert notice.attachments == []
    assert OrderMail.objects.filter(kind="refund", status="sent").count() == 1


# --- The buyer's address on the order page ------------------------------------------------------


def test_the_buyer_gives_an_address_for_the_receipt_on_the_order_page(client, order):
    session = client.session
    session["order_ids"] = [order.pk]
    session.save()
    url = f"/order/{order.pk}/email/"

    page = client.get(f"/order/{order.pk}/").content.decode()
    assert "E-mail for your receipt" in page

    response = client.post(url, {"email": " ada@example.com "}, follow=True)
    assert "Your receipt will be e-mailed to ada@example.com." in response.content.decode()
    order.refresh_from_db()
    assert order.email == "ada@example.com"
    assert 'value="ada@example.com"' in response.content.decode()

    response = client.post(url, {"email": "ada@example"}, follow=True)
    assert "Enter a valid e-mail address" in response.content.decode()
    order.refresh_from_db()
    assert order.email == "ada@example.com"

    client.post(url, {"email": ""})
    order.refresh_from_db()
    assert order.email == ""


def test_nobody_else_sets_the_address_and_a_paid_order_keeps_its_own(client, order, pay_order):
    assert client.post(f"/order/{order.pk}/email/", {"email": "eve@example.com"}).status_code == 404

    pay_order(order)
    session = client.session
    session["order_ids"] = [order.pk]
    session.save()
    response = client.post(f"/order/{order.pk}/email/", {"email": "eve@example.com"}, follow=True)

    assert "can no longer change" in response.content.decode()
    order.refresh_from_db()
    assert order.email == "buyer@example.com"


def test_the_success_page_says_where_the_receipt_went_only_when_one_did(
    client, order, django_capture_on_commit_callbacks
):
    other = make_order((make_item(price="5.00"), 1))
    order_set_email(order=order, email="ada@example.com")
    pages = {}
    for paying in (order, other):
        session_id = checkout_paid(paying, email="")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.get(f"/payment/stripe/return/?session_id={session_id}&currency=usd")
        pages[paying.pk] = response.content.decode()

    # (In a test the send runs after the page; live, it has run by then: "We have e-mailed".)
    assert (
        'Your receipt is on its way to <strong id="receipt-to">ada@example.com<' in pages[order.pk]
    )
    assert "receipt" not in pages[other.pk].lower()


# --- Configuration -----------------------------------------------------------------------------


def test_a_production_site_without_a_mail_server_is_warned(settings):
    settings.DEBUG = False
    settings.TESTING = False
    settings.EMAIL_URL_SET = False
    settings.SHOP_URL = "http://127.0.0.1:8000"

    assert [w.id for w in check_email()] == ["storefront.W001", "storefront.W003"]

    settings.EMAIL_URL_SET = True
    settings.DEFAULT_FROM_EMAIL = "Storefront <shop@localhost>"
    settings.SHOP_URL = "https://shop.example.com"
    assert [w.id for w in check_email()] == ["storefront.W002"]

    settings.DEFAULT_FROM_EMAIL = "Storefront <shop@example.com>"
    assert check_email() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15m", timedelta(minutes=15)), ("900s", timedelta(seconds=900)), ("2h", timedelta(hours=2)),
     ("1d", timedelta(days=1)), ("20", timedelta(minutes=20))],
)  # fmt: skip
def test_stuck_after_reads_durations(text, expected):
    assert duration(text) == expected


def test_the_merchant_sees_the_buyers_address_and_each_mail_in_the_admin(
    admin_client, order, django_capture_on_commit_callbacks
):
    order_set_email(order=order, email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)

    page = admin_client.get(f"/admin/storefront/order/{order.pk}/change/").content.decode()
    listing = admin_client.get("/admin/storefront/order/?q=ada@example").content.decode()

    assert 'id="order-mails"' in page
    row = re.search(r'<table class="order-mails order-records".*?<tbody><tr>(.*?)</tr>', page, re.S)
    cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td.*?</td>", row.group(1))]
    assert cells[:4] == ["Order confirmation", "ada@example.com", "Sent", "1"]
    assert f"/admin/storefront/order/{order.pk}/change/" in listing and "ada@example.com" in listing
