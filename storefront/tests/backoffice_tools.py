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
