"""PDF invoices of orders, drawn with ReportLab (pure Python: no system libraries to install).

The figures are `storefront.pricing`'s, the ones Checkout charged, formatted like the shop's
pages (`currencies.formatting.format_money`). The text is set in Bitstream Vera, which ships
inside ReportLab and is embedded (subset) in the file: unlike the PDF's built-in Helvetica it has
"−", "ł" and the like, and the file looks the same in every viewer. A currency symbol Vera lacks
(₹, ₩, ...) is written as the ISO code instead ("INR 1,500.00").
"""

import io
import re
from html import escape
from pathlib import Path

import reportlab
from babel.numbers import format_currency
from django.conf import settings
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpResponse
from django.utils import dateformat, timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from currencies.formatting import currency_symbol, format_money
from currencies.minor_units import from_minor_units, to_minor_units
from payments.models import Payment
from payments.services import payment_instructions, refunds_for
from storefront.exports import paying_payments
from storefront.models import Order, OrderItem, Tax
from storefront.pricing import order_totals
from storefront.settlement import order_settlement

FONT = "InvoiceSans"
FONT_BOLD = "InvoiceSans-Bold"
_FONT_FILES = {FONT: "Vera.ttf", FONT_BOLD: "VeraBd.ttf"}
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#BBBBBB")


def fonts_register() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(reportlab.__file__).parent / "fonts"
    for name, filename in _FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / filename)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


def _printable(text: str) -> bool:
    """Whether the invoice font has a glyph for every character of `text`."""
    glyphs = pdfmetrics.getFont(FONT).face.charToGlyph
    return all(ord(char) in glyphs for char in text)


def invoice_money(minor: int, currency: str) -> str:
    """`€57.00`, `$51.42`, `¥1,500`; the ISO code where the font has no symbol for it, in the
    same place (`2 500,00 RUB`: the font has no `₽`)."""
    amount = from_minor_units(minor, currency)
    text = format_money(amount, currency)
    if _printable(text):
        return text
    symbol, code = currency_symbol(currency), currency.upper()
    # A code is a word: set apart from the digits it stands before ("INR 1,500.00").
    with_code = re.sub(rf"{re.escape(symbol)}(?=\d)", f"{code}\u00a0", text).replace(symbol, code)
    if _printable(with_code):
        return with_code
    return format_currency(
        amount, currency.upper(), "¤¤\u00a0#,##0.00", locale="en_US", currency_digits=True
    )


def document_date(value) -> str:
    return dateformat.format(timezone.localtime(value), "j F Y")


def seller() -> tuple[str, list[str]]:
    """The shop's name and address lines (settings SHOP_NAME and SHOP_ADDRESS)."""
    name = settings.SHOP_NAME or "Storefront"
    address = settings.SHOP_ADDRESS
    lines = address.splitlines() if isinstance(address, str) else list(address)
    return name, [line.strip() for line in lines if line.strip()]


def tax_label(tax: Tax) -> str:
    """`VAT 19% (included)`, `Sales tax 8.875% (added)`."""
    kind = "included" if tax.inclusive else "added"
    return f"{tax.display_name} {tax.percentage.normalize():f}% ({kind})"


def payment_status(order: Order, payment: Payment | None) -> str:
    if order.status == Order.Status.PAID:
        when = f" on {document_date(order.paid_at)}" if order.paid_at else ""
        reference = ""
        if payment is not None:
            reference = f" (payment {payment.provider_id})"
        return f"Paid{when}{reference}."
    if order.status == Order.Status.CANCELLED:
        return "Cancelled: not paid."
    return "Not paid yet."


def document_styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=13)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=11, textColor=GREY),
        "seller": ParagraphStyle(
            "seller", parent=base, fontName=FONT_BOLD, fontSize=14, leading=18
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontName=FONT_BOLD, fontSize=20, leading=24, alignment=TA_RIGHT
        ),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "cell": ParagraphStyle("cell", parent=base, leading=12),
    }


def document_header(title: str, facts: list[str], styles: dict[str, ParagraphStyle]) -> Table:
    """The seller's name and address on the left; the title and `facts` (markup) on the right."""
    name, address = seller()
    header = Table(
        [
            [
                [Paragraph(escape(name), styles["seller"])]
                + [Paragraph(escape(line), styles["base"]) for line in address],
                [Paragraph(title, styles["title"]), Spacer(1, 2 * mm)]
                + [Paragraph(fact, styles["right"]) for fact in facts],
            ]
        ],
        colWidths=["55%", "45%"],
    )
    header.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return header


def pdf_build(story: list, *, title: str, subject: str) -> bytes:
    """`story` laid out on A4 pages with the shop's margins, as PDF bytes."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=seller()[0],
        subject=subject,
        initialFontName=FONT,  # else every page names Helvetica, unused but listed
    )
    document.build(story)
    return buffer.getvalue()


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    """A PDF shown in the browser (saved as `filename`), kept out of shared caches."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    # Links to it carry a key: keep the document out of shared caches and search engines.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _refund_lines(order: Order, styles: dict[str, ParagraphStyle]) -> list:
    """A paid invoice's refunds, each on a line, and what remains paid; nothing if none."""
    refunds = [r for r in refunds_for(order.payment_reference) if r.status == r.Status.SUCCEEDED]
    if not refunds:
        return []
    balance = order_settlement(order).balance
    rows = [
        [
            f"Refunded on {document_date(refund.succeeded_at or refund.created)}",
            f"−{invoice_money(refund.amount, order.currency)}",
        ]
        for refund in sorted(refunds, key=lambda r: r.pk)
    ]
    remaining = max(0, balance.received - balance.refunded)
    rows.append(["Paid, less refunds", invoice_money(remaining, order.currency)])
    table = Table(rows, colWidths=[None, 35 * mm], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9.5),
                ("FONT", (0, -1), (-1, -1), FONT_BOLD, 9.5),
                ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
                ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
            ]
        )
    )
    note = "Each refund has its own credit note."
    return [Spacer(1, 4 * mm), table, Spacer(1, 1 * mm), Paragraph(note, styles["small"])]


def order_invoice_pdf(*, order: Order) -> bytes:
    """The invoice of `order` as a PDF: seller, order number and dates, lines, discount, each
    tax, total in the order's currency, and how the payment stands.

    An order that is not paid gets a pro-forma invoice, which says so.
    """
    fonts_register()
    styles = document_styles()
    currency = order.currency
    # Lines and taxes read once, so the lines printed are the lines priced.
    prefetch_related_objects(
        [order], Prefetch("lines", queryset=OrderItem.objects.select_related("item")), "taxes"
    )
    lines = list(order.lines.all())
    taxes = list(order.taxes.all())
    totals = order_totals(order)
    tax_amounts = totals.tax_by_key()
    payment = paying_payments([order]).get(order.pk)
    paid = order.status == Order.Status.PAID

    def money(minor: int) -> str:
        return invoice_money(minor, currency)

    title = "Invoice" if paid else "Pro-forma invoice"
    facts = [f"Order number: <b>{order.pk}</b>", f"Order date: {document_date(order.created)}"]
    if paid and order.paid_at:
        facts.append(f"Paid: {document_date(order.paid_at)}")
    if order.email:
        facts.append(f"Bill to: {escape(order.email)}")
    header = document_header(title, facts, styles)

    rows = [["Item", "Quantity", "Unit price", "Amount"]]
    for line, priced in zip(lines, totals.lines, strict=True):
        rows.append(
            [
                Paragraph(escape(line.item.name), styles["cell"]),
                str(line.quantity),
                money(to_minor_units(line.unit_price.amount, currency)),
                money(priced.subtotal),
            ]
        )
    first_summary = len(rows)
    summary = [["Subtotal", money(totals.subtotal)]]
    if order.discount is not None:
        summary.append([f"Discount: {order.discount.name}", f"−{money(totals.discount)}"])
    for tax in taxes:
        summary.append([tax_label(tax), money(tax_amounts.get(tax.pk, 0))])
    summary.append(["Total", money(totals.total)])
    rows += [["", label, "", amount] for label, amount in summary]
    last = len(rows) - 1

    table = Table(rows, colWidths=["46%", "24%", "15%", "15%"], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9.5),
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 9.5),
                # Flush with the seller's name and the title above.
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, first_summary - 1), 0.3, RULE),
                ("ALIGN", (1, 0), (-1, first_summary - 1), "RIGHT"),
                ("ALIGN", (-1, first_summary), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                *[("SPAN", (1, row), (2, row)) for row in range(first_summary, last + 1)],
                ("TOPPADDING", (0, first_summary), (-1, first_summary), 8),
                ("LINEABOVE", (1, last), (-1, last), 0.8, colors.black),
                ("FONT", (1, last), (-1, last), FONT_BOLD, 11),
                ("TOPPADDING", (0, last), (-1, last), 6),
            ]
        )
    )

    story = [
        header,
        Spacer(1, 12 * mm),
        table,
        Spacer(1, 8 * mm),
        Paragraph(f"<b>Payment:</b> {escape(payment_status(order, payment))}", styles["base"]),
        *(_refund_lines(order, styles) if paid else []),
        Spacer(1, 2 * mm),
        Paragraph(f"All amounts in {escape(currency)}.", styles["small"]),
    ]
    if not paid:
        story.append(Paragraph("This is not a receipt: nothing has been paid.", styles["small"]))
        story += _how_to_pay(order, styles)

    return pdf_build(story, title=f"{title}, order #{order.pk}", subject=f"Order #{order.pk}")


def _how_to_pay(order: Order, styles: dict[str, ParagraphStyle]) -> list:
    """The payment instructions of the rails that print some (a bank's details and the
    reference to quote), as a small table; nothing where none does."""
    lines = payment_instructions(reference=order.payment_reference, currency=order.currency)
    if not lines:
        return []
    rows = [
        [Paragraph(escape(label), styles["small"]), Paragraph(escape(value), styles["base"])]
        for label, value in lines
    ]
    table = Table(rows, colWidths=[45 * mm, None], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    title = Paragraph("<b>How to pay</b>", styles["base"])
    return [Spacer(1, 6 * mm), title, Spacer(1, 2 * mm), table]


def invoice_response(order: Order) -> HttpResponse:
    """The invoice as a PDF shown in the browser (saved as `invoice-order-<id>.pdf`)."""
    return pdf_response(order_invoice_pdf(order=order), f"invoice-order-{order.pk}.pdf")
