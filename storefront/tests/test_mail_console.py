"""The console e-mail backend (`make run`, no EMAIL_URL): each message printed, its attachments
named (file name, type, size) rather than printed as base64."""

import io
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from payments.stripe.tests.checkout_tools import order_paid
from storefront.documents.mail import message_for
from storefront.models import OrderMail
from storefront.plumbing.mail_console import EmailBackend
from storefront.tests.factories import make_item, make_order


def printed(message) -> str:
    stream = io.StringIO()
    EmailBackend(stream=stream).send_messages([message])
    return stream.getvalue()


def test_an_attachment_is_named_not_printed():
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 40  # 10,249 bytes, binary
    message = EmailMultiAlternatives(
        subject="Your receipt", body="Thank you for your order.", to=["buyer@example.com"]
    )
    message.attach_alternative("<p>Thank you for your order.</p>", "text/html")
    message.attach("invoice-order-7.pdf", pdf, "application/pdf")

    text = printed(message)

    assert "Subject: Your receipt" in text and "To: buyer@example.com" in text
    assert "Thank you for your order." in text and "<p>Thank you" in text
    assert "[attachment not printed: invoice-order-7.pdf, application/pdf, 10,249 bytes]" in text
    assert "JVBERi0" not in text  # "%PDF-" in base64: the file itself is not there
    assert len(text.splitlines()) < 40


@pytest.mark.django_db
def test_a_receipt_prints_in_a_few_lines_with_its_invoice_named():
    order = make_order((make_item(price="13.61"), 1))
    order.email = "buyer@example.com"
    order.save()
    order_paid(order)
    mail = OrderMail.objects.get(order=order, kind=OrderMail.Kind.RECEIPT)

    text = printed(message_for(mail))

    assert f"receipt for your order #{order.pk}" in text
    assert f"[attachment not printed: invoice-order-{order.pk}.pdf, application/pdf," in text
    assert len(text.splitlines()) < 120  # was some 600 lines of base64 more


def test_the_shop_without_email_url_uses_it():
    """Settings as `make run` reads them (no EMAIL_URL; pytest itself swaps in locmem)."""
    environment = {"DEBUG": "1", "PATH": "/usr/bin:/bin"}
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    answer = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**environment, "DJANGO_SETTINGS_MODULE": "storefront.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert answer.stdout.strip() == "storefront.plumbing.mail_console.EmailBackend"
