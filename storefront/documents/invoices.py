"""PDF invoices of orders, drawn with ReportLab (pure Python: no system libraries to install).

The figures are `storefront.shop.pricing`'s, what the order is charged, formatted like the shop's
pages (`currencies.formatting.format_money`). Every receipt carries the invoice, so it is drawn
straight onto the canvas (`storefront.documents.pdf_pages`), in the documents' font, Bitstream
Vera, embedded; a currency symbol Vera lacks (₹, ₩, ...) is written as the ISO code instead
("INR 1,500.00"). The seller's header, the styles and `pdf_build` here are also the credit
notes' (`storefront.documents.credit_notes`, laid out by ReportLab's platypus).
"""

import io
import re
from html import escape

from babel.numbers import format_currency
from django.conf import settings
from django.http import HttpResponse
from django.utils import dateformat, timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from currencies.formatting import currency_symbol, format_money
from currencies.minor_units import from_minor_units, to_minor_units
from payments.services import paying_payment_refunded, payment_instructions, refunds_for
from storefront.documents.pdf_pages import (
    FONT,
    FONT_BOLD,
    GREY,
    RULE,
    Pages,
    Span,
    fonts_register,
    wrapped,
)
from storefront.documents.pdf_pages import printable as _printable
from storefront.models import Order, OrderLine, Tax
from storefront.shop.pricing import Totals, order_totals
from storefront.shop.settlement import order_settlement

__all__ = ["FONT", "FONT_BOLD", "fonts_register"]  # the credit notes' too


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


def payment_status(order: Order, payment) -> str:
    """What the invoice says of the payment: `payment` is the one that paid it, or None."""
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


# The invoice's type, in points, as its platypus layout had it: size, leading.
BASE = (9.5, 13)
SMALL = (8.5, 11)
CELL = 9.5
CELL_LEADING = 12  # a wrapped item name's lines
PAD = 3  # above and below a table cell's text
SIDE = 6  # left and right of it (none at the table's outer edges)


def _refunds(order: Order) -> tuple[list, int]:
    """A paid order's succeeded refunds, oldest first, and what remains paid after them."""
    refunds = [r for r in refunds_for(order.payment_reference) if r.status == r.Status.SUCCEEDED]
    if not refunds:
        return [], 0
    balance = order_settlement(order).balance
    return sorted(refunds, key=lambda r: r.pk), max(0, balance.received - balance.refunded)


def order_invoice_pdf(
    *,
    order: Order,
    lines: list[OrderLine] | None = None,
    taxes: list[Tax] | None = None,
    totals: Totals | None = None,
) -> bytes:
    """The invoice of `order` as a PDF: seller, order number and dates, lines, discount, each
    tax, total in the order's currency, and how the payment stands. `lines` (each with its
    item), `taxes` and their `totals`, where the caller holds them (a receipt), are not read
    or computed again.

    An order that is not paid gets a pro-forma invoice, which says so.
    """
    if lines is None:
        lines = list(OrderLine.objects.filter(order=order).select_related("item"))
    if taxes is None:
        taxes = list(order.taxes.all())
    totals = totals or order_totals(order, lines=lines, taxes=taxes)
    paid = order.status == Order.Status.PAID
    payment, refunded = paying_payment_refunded(order.payment_reference) if paid else (None, False)
    refunds, remaining = _refunds(order) if refunded else ([], 0)
    currency = order.currency

    def money(minor: int) -> str:
        return invoice_money(minor, currency)

    title = "Invoice" if paid else "Pro-forma invoice"
    pages = Pages(
        title=f"{title}, order #{order.pk}", author=seller()[0], subject=f"Order #{order.pk}"
    )
    facts = [
        [Span("Order number: "), Span(str(order.pk), bold=True)],
        [Span(f"Order date: {document_date(order.created)}")],
    ]
    if paid and order.paid_at:
        facts.append([Span(f"Paid: {document_date(order.paid_at)}")])
    if order.email:
        facts.append([Span(f"Bill to: {order.email}")])
    _header(pages, title, facts)
    pages.y -= 12 * mm
    table_header = _lines_table(pages, lines, totals, currency)
    summary = [("Subtotal", money(totals.subtotal))]
    if order.discount is not None:
        summary.append((f"Discount: {order.discount.name}", f"−{money(totals.discount)}"))
    tax_amounts = totals.tax_by_key()
    for tax in taxes:
        summary.append((tax_label(tax), money(tax_amounts.get(tax.pk, 0))))
    _summary(pages, summary, ("Total", money(totals.total)), table_header)
    pages.y -= 8 * mm
    _paragraph(pages, [Span("Payment:", bold=True), Span(payment_status(order, payment))])
    if refunds:
        _refund_rows(pages, refunds, remaining, money)
    pages.y -= 2 * mm
    _paragraph(pages, [Span(f"All amounts in {currency}.")], type_=SMALL, color=GREY)
    if not paid:
        _paragraph(
            pages,
            [Span("This is not a receipt: nothing has been paid.")],
            type_=SMALL,
            color=GREY,
        )
        _how_to_pay(pages, order)
    return pages.pdf()


def _header(pages: Pages, title: str, facts: list[list[Span]]) -> None:
    """The seller's name and address on the left; the title and `facts` on the right."""
    name, address = seller()
    top = pages.y - PAD
    pages.y = top
    for line in wrapped(name, size=14, width=pages.width * 0.55, bold=True):
        pages.line([Span(line, bold=True)], x=pages.left, size=14, leading=18)
    for line in address:
        pages.line([Span(line)], x=pages.left, size=BASE[0], leading=BASE[1])
    left_end, pages.y = pages.y, top
    pages.line([Span(title, bold=True)], x=pages.right, size=20, leading=24, align="right")
    pages.y -= 2 * mm
    for fact in facts:
        pages.line(fact, x=pages.right, size=BASE[0], leading=BASE[1], align="right")
    pages.y = min(left_end, pages.y) - PAD


def _columns(pages: Pages) -> list[tuple[float, float]]:
    """The lines table's columns (46%, 24%, 15%, 15%): where each one's text starts and
    ends."""
    edges = [pages.left]
    for share in (0.46, 0.24, 0.15, 0.15):
        edges.append(edges[-1] + pages.width * share)
    return [
        (edges[n] + (0 if n == 0 else SIDE), edges[n + 1] - (0 if n == 3 else SIDE))
        for n in range(4)
    ]


def _row(pages: Pages, cells: list[str], *, bold=False, wrap_first=False) -> None:
    """One row of the lines table: the first cell left (wrapped to its column), the others
    right-aligned; the cursor moved below it."""
    columns = _columns(pages)
    first = (
        wrapped(cells[0], size=CELL, width=columns[0][1] - columns[0][0], bold=bold)
        if wrap_first
        else [cells[0]]
    )
    leading = CELL_LEADING if wrap_first else CELL * 1.2
    baseline = pages.y - PAD - CELL
    for number, line in enumerate(first):
        y = baseline - number * leading
        pages.text_at(line, x=columns[0][0], y=y, size=CELL, bold=bold)
    for (_, end), text in zip(columns[1:], cells[1:], strict=True):
        pages.text_at(text, x=end, y=baseline, size=CELL, bold=bold, right=True)
    pages.y -= len(first) * leading + 2 * PAD


def _lines_table(pages: Pages, lines: list[OrderLine], totals: Totals, currency: str):
    """Item, quantity, unit price and amount, a line each, under a header row repeated at the
    top of every page the table runs onto; returns what draws that header row."""

    def header() -> None:
        _row(pages, ["Item", "Quantity", "Unit price", "Amount"], bold=True)
        pages.rule(pages.left, pages.right, pages.y, width=0.8)

    header()
    for line, priced in zip(lines, totals.lines, strict=True):
        start, end = _columns(pages)[0]
        name_lines = wrapped(line.item.name, size=CELL, width=end - start)
        if not pages.fits(len(name_lines) * CELL_LEADING + 2 * PAD):
            pages.page_new()
            header()
        unit = invoice_money(to_minor_units(line.unit_price.amount, currency), currency)
        _row(
            pages,
            [line.item.name, str(line.quantity), unit, invoice_money(priced.subtotal, currency)],
            wrap_first=True,
        )
        pages.rule(pages.left, pages.right, pages.y, width=0.3, color=RULE)
    return header


def _summary(pages: Pages, rows: list[tuple[str, str]], total: tuple[str, str], header):
    """Subtotal, discount, taxes and, under a rule, the total: labels from the second
    column, amounts at the right edge (under the table's `header` on a page of their own)."""
    label_x = _columns(pages)[1][0]
    for number, (label, amount) in enumerate(rows):
        top = 8 if number == 0 else PAD
        if not pages.fits(top + CELL * 1.2 + PAD):
            pages.page_new()
            header()
        baseline = pages.y - top - CELL
        pages.text_at(label, x=label_x, y=baseline, size=CELL)
        pages.text_at(amount, x=pages.right, y=baseline, size=CELL, right=True)
        pages.y -= top + CELL * 1.2 + PAD
    if not pages.fits(6 + 11 * 1.2 + PAD):
        pages.page_new()
        header()
    pages.rule(label_x - SIDE, pages.right, pages.y, width=0.8)
    baseline = pages.y - 6 - 11
    pages.text_at(total[0], x=label_x, y=baseline, size=11, bold=True)
    pages.text_at(total[1], x=pages.right, y=baseline, size=11, bold=True, right=True)
    pages.y -= 6 + 11 * 1.2 + PAD


def _paragraph(pages: Pages, spans: list[Span], *, type_=BASE, color=colors.black) -> None:
    """`spans` (a bold lead-in, then text) wrapped to the page's width."""
    size, leading = type_
    lead = [span for span in spans if span.bold]
    rest = " ".join(span.text for span in spans if not span.bold)
    lead_width = sum(pages.canvas.stringWidth(span.text + " ", span.font, size) for span in lead)
    lines = wrapped(rest, size=size, width=pages.width, first=pages.width - lead_width)
    if not pages.fits(len(lines) * leading):
        pages.page_new()
    for number, line in enumerate(lines):
        if number == 0 and lead:
            first = [Span(span.text + " ", bold=True) for span in lead] + [Span(line)]
        else:
            first = [Span(line)]
        pages.line(first, x=pages.left, size=size, leading=leading, color=color)


def _refund_rows(pages: Pages, refunds: list, remaining: int, money) -> None:
    """A paid invoice's refunds, each on a line, and what remains paid, at the right."""
    rows = [
        (
            f"Refunded on {document_date(refund.succeeded_at or refund.created)}",
            f"−{money(refund.amount)}",
        )
        for refund in refunds
    ]
    rows.append(("Paid, less refunds", money(remaining)))
    size = CELL
    label_width = max(
        pages.canvas.stringWidth(label, FONT_BOLD if n == len(rows) - 1 else FONT, size)
        for n, (label, _) in enumerate(rows)
    )
    amount_column = 35 * mm
    label_x = pages.right - amount_column - label_width - 2 * SIDE + SIDE
    pages.y -= 4 * mm
    for number, (label, amount) in enumerate(rows):
        last = number == len(rows) - 1
        if not pages.fits(size * 1.2 + 2 * PAD):
            pages.page_new()
        if last:
            pages.rule(label_x - SIDE, pages.right, pages.y, width=0.5)
        baseline = pages.y - PAD - size
        pages.text_at(label, x=label_x, y=baseline, size=size, bold=last)
        pages.text_at(amount, x=pages.right, y=baseline, size=size, bold=last, right=True)
        pages.y -= size * 1.2 + 2 * PAD
    pages.y -= 1 * mm
    _paragraph(pages, [Span("Each refund has its own credit note.")], type_=SMALL, color=GREY)


def _how_to_pay(pages: Pages, order: Order) -> None:
    """The payment instructions of the rails that print some (a bank's details and the
    reference to quote), label and value a row each; nothing where none does."""
    lines = payment_instructions(reference=order.payment_reference, currency=order.currency)
    if not lines:
        return
    pages.y -= 6 * mm
    _paragraph(pages, [Span("How to pay", bold=True)])
    pages.y -= 2 * mm
    label_x = pages.left + SIDE
    value_x = pages.left + 45 * mm + SIDE
    value_width = pages.right - value_x - SIDE
    for label, value in lines:
        labels = wrapped(label, size=SMALL[0], width=45 * mm - 2 * SIDE)
        values = wrapped(value, size=BASE[0], width=value_width)
        height = max(len(labels) * SMALL[1], len(values) * BASE[1]) + 2 * PAD
        if not pages.fits(height):
            pages.page_new()
        top = pages.y - PAD
        pages.y = top
        for line in labels:
            pages.line([Span(line)], x=label_x, size=SMALL[0], leading=SMALL[1], color=GREY)
        pages.y = top
        for line in values:
            pages.line([Span(line)], x=value_x, size=BASE[0], leading=BASE[1])
        pages.y = top - height + PAD


def invoice_response(order: Order) -> HttpResponse:
    """The invoice as a PDF shown in the browser (saved as `invoice-order-<id>.pdf`)."""
    return pdf_response(order_invoice_pdf(order=order), f"invoice-order-{order.pk}.pdf")
