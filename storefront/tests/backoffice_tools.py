"""Test helpers for the back office: orders paid the way buyers pay them, PDFs read back."""

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from payments.models import Payment
from payments.services import payment_confirm
from payments.stripe.sandbox.cards import Card
from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
from payments.values import Method
from storefront.models import Order
from storefront.services import order_payment_start

CARD = Card(number="4242424242424242", exp_month=12, exp_year=2040, cvc="123")


def pay_order(order: Order) -> Payment:
    """Pay `order` in one sandbox checkout, as a buyer would, and confirm it as the success page
    does; returns the payment (the order is refreshed: paid)."""
    start = order_payment_start(
        order=order,
        rail="stripe",
        method=Method.REDIRECT,
        return_url="http://testserver/payment/stripe/return/",
        cancel_url="http://testserver/cancel/",
    )
    checkout_session_pay(session_id=start.provider_ref, card=CARD, email="buyer@example.com")
    query = {"session_id": start.provider_ref, "currency": order.currency.lower()}
    _, payment = payment_confirm(rail="stripe", query=query)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID, payment.flag
    return payment


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
