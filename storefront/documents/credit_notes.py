"""A refund's credit note as a PDF: the document that cancels part or all of an invoice.

It names the order and invoice it corrects, the payment refunded, the amount given back (as a
negative amount, in the order's currency), the reason, and what remains paid after it.
"""

from html import escape

from django.http import HttpResponse
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from payments.services import refund_of
from storefront.documents.invoices import (
    FONT,
    FONT_BOLD,
    document_date,
    document_header,
    document_styles,
    fonts_register,
    invoice_money,
    pdf_build,
    pdf_response,
)
from storefront.models import Order


def credit_note_number(order: Order, refund) -> str:
    """`CN-5-12`: the order's number and the refund's, stable and unique."""
    return f"CN-{order.pk}-{refund.pk}"


def credit_note_pdf(*, order: Order, refund) -> bytes:
    """The credit note of `refund` (a succeeded refund of one of `order`'s payments)."""
    fonts_register()
    styles = document_styles()
    currency = refund.currency
    number = credit_note_number(order, refund)
    facts = [
        f"Credit note: <b>{number}</b>",
        f"Date: {document_date(refund.succeeded_at or refund.created)}",
        f"For invoice of order number: <b>{order.pk}</b>",
    ]
    payment = refund.payment
    rows = [
        ["Description", "Amount"],
        [
            Paragraph(
                escape(f"Refund of payment {payment.provider_id} for order #{order.pk}"),
                styles["cell"],
            ),
            f"−{invoice_money(refund.amount, currency)}",
        ],
    ]
    table = Table(rows, colWidths=[None, 35 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9.5),
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 9.5),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    reason = refund.get_reason_display() if refund.reason else (refund.note or "Not given")
    story = [
        document_header("Credit note", facts, styles),
        Spacer(1, 12 * mm),
        table,
        Spacer(1, 8 * mm),
        Paragraph(f"<b>Reason:</b> {escape(reason)}", styles["base"]),
        Spacer(1, 2 * mm),
        Paragraph(
            f"<b>Originally paid:</b> {invoice_money(payment.amount_received or 0, currency)}",
            styles["base"],
        ),
        Spacer(1, 2 * mm),
        Paragraph(
            f"The amount is given back to the means of payment used, in {escape(currency)}.",
            styles["small"],
        ),
    ]
    return pdf_build(story, title=f"Credit note {number}", subject=f"Order #{order.pk}")


def credit_note_response(order: Order, refund_id: int) -> HttpResponse | None:
    """The credit note of `order`'s refund `refund_id` as a PDF, or None if it has none."""
    refund = refund_of(order.payment_reference, refund_id)
    if refund is None:
        return None
    content = credit_note_pdf(order=order, refund=refund)
    return pdf_response(content, f"credit-note-{credit_note_number(order, refund)}.pdf")
