"""Test helpers for the back office: PDFs read back and rendered (orders are paid with the root
conftest's `pay_order` fixture)."""

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from payments.models import Payment
from storefront.models import Order


def demo_with_usd_order_paid(pay_order) -> tuple[Order, Payment]:
    """The demo catalogue (two open orders), with the USD order then paid as a buyer pays."""
    call_command("load_demo")
    usd = Order.objects.get(pk=1)
    return usd, pay_order(usd)


def order_paid_then_dispute_lost(order) -> Payment:
    """Pay `order` with the sandbox's dispute card (Stripe opens a chargeback on it), then
    accept the chargeback (lost) and deliver its signed `charge.dispute.closed` event, as the
    shop hears of it; returns the payment."""
    from django.test import Client

    from payments.stripe.sandbox.cards import Card
    from payments.stripe.sandbox.dispute_bank import dispute_decide
    from payments.stripe.sandbox.models import SandboxObject
    from payments.stripe.tests.checkout_tools import order_paid
    from payments.stripe.tests.webhook_tools import post_event

    disputed_card = Card(number="4000000000000259", exp_month=12, exp_year=2040, cvc="123")
    payment = order_paid(order, card=disputed_card)
    dispute = SandboxObject.objects.filter(object="dispute").latest("created")
    assert dispute.data["payment_intent"] == payment.provider_payment_ref
    dispute_decide(dispute.id, won=False)
    closed = SandboxObject.objects.filter(object="event", data__type="charge.dispute.closed")
    answer = post_event(Client(), closed.latest("created").data, order.currency.lower())
    assert answer.status_code == 200, answer.content
    return payment


def order_paid_by_bank_transfer(order) -> Payment:
    """Pay `order` (in the bank's currency) as an organisation does: open its pay page, then
    the sandbox bank posts a signed transfer quoting its reference; returns the payment."""
    from django.test import Client

    from payments.bank_transfer.config import webhook_secret
    from payments.bank_transfer.sandbox import delivery_body
    from payments.bank_transfer.webhook import SIGNATURE_HEADER
    from payments.signatures import signature_header

    client = Client()
    session = client.session
    session["order_ids"] = [order.pk]
    session.save()
    assert client.get(f"/order/{order.pk}/pay/?rail=bank_transfer").status_code == 200
    payment = Payment.objects.get(reference=order.payment_reference, rail="bank_transfer")
    body = delivery_body(
        inn="7707083893", amount=payment.amount_expected, reference=payment.provider_ref
    )
    answer = client.generic(
        "POST",
        "/api/webhook/bank/",
        body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: signature_header(body, webhook_secret())},
    )
    assert answer.status_code == 200, answer.content
    payment.refresh_from_db()
    order.refresh_from_db()
    return payment


def hrefs(html: str) -> list[str]:
    """Every link target on a page."""
    return re.findall(r'href="([^"]+)"', html)


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, as a reader extracts it."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def require_pdftoppm() -> str:
    """The pdftoppm to render PDFs with; skips without it (fails when REQUIRE_BROWSER=1)."""
    found = shutil.which("pdftoppm")
    if found:
        return found
    message = "Rendering PDFs to PNG needs pdftoppm (Debian's poppler-utils), which is missing."
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} Install it with `apt-get install -y poppler-utils`.", pytrace=False)
    pytest.skip(f"{message} Install it with `apt-get install -y poppler-utils` to run this test.")


def render_first_page(data: bytes, target: Path) -> Path:
    """Render the first page of a PDF to `target` (a .png), at 100 dpi."""
    pdftoppm = require_pdftoppm()
    target.parent.mkdir(exist_ok=True)
    source = target.with_suffix(".pdf")
    source.write_bytes(data)
    subprocess.run(  # noqa: S603  (our own arguments, no shell)
        [
            pdftoppm,
            "-png",
            "-r",
            "100",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(target.with_suffix("")),
        ],
        check=True,
        timeout=60,
    )
    return target
