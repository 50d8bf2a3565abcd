"""The tables an order's admin page shows of what happened after it was placed: its payments,
refunds (with credit notes), disputes and the e-mails owed to its buyer, each a small read-only
HTML table with an id the tests and a person's eye can find."""

from collections.abc import Iterable, Sequence

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from currencies.formatting import format_money
from currencies.minor_units import from_minor_units
from payments.services import disputes_for, payment_links, payments_for, refunds_for
from storefront.models import Order

# A column: its header, and the class of its cells ("amount": no wrapping; "id": wraps anywhere).
Column = tuple[str, str]


def _money(minor: int, currency: str) -> str:
    return format_money(from_minor_units(minor, currency), currency)


def _amount(payment) -> str:
    """What a payment took (what it asked for, until the provider says)."""
    received = payment.amount_received
    return _money(payment.amount_expected if received is None else received, payment.currency)


def _links(payment) -> str:
    """Where to see `payment` at its provider: a dashboard in a tab of its own, a sandbox's
    record here."""
    links = payment_links(payment)
    if not links:
        return "-"
    return format_html_join(
        "",
        '<div><a href="{}"{}>{}</a></div>',
        (
            (link.url, ' target="_blank" rel="noopener"' if link.external else "", link.label)
            for link in links
        ),
    )


def _when(value) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "-"


def record_table(name: str, columns: Sequence[Column], rows: Iterable[Sequence]) -> str:
    """`rows` as `<table id="order-<name>">` under `columns`' headers (cells escaped unless
    already safe HTML). Each cell carries its header as `data-label`, which a phone's layout
    shows beside the value when the rows are stacked (static/css/admin/order.css)."""
    cells = "".join(
        format_html('<td class="{}" data-label="{}">', css, header)
        + "{}</td>"  # the cell's own value, escaped by format_html_join below
        for header, css in columns
    )
    body = format_html_join("", f"<tr>{cells}</tr>", rows)
    head = format_html_join("", "<th>{}</th>", ((header,) for header, _ in columns))
    return format_html(
        '<table class="order-{} order-records" id="order-{}">'
        "<thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        name,
        name,
        head,
        body,
    )


def payments_table(order: Order) -> str:
    rows = [
        (
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:payments_payment_change", args=[payment.pk]),
                payment.provider_ref,
            ),
            payment.get_status_display(),
            _amount(payment),
            payment.attention_note,
            _links(payment),
        )
        for payment in payments_for(order.payment_reference)
    ]
    if not rows:
        return "No payment started."
    columns = [("payment", "id"), ("status", ""), ("amount", "amount"), ("note", "")]
    return record_table("payments", [*columns, ("where to see it", "id")], rows)


def refunds_table(order: Order) -> str:
    rows = [
        (
            _when(refund.created),
            _money(refund.amount, refund.currency),
            refund.get_status_display(),
            refund.get_reason_display() if refund.reason else "-",
            refund.note or "-",
            refund.requested_by or "at the provider",
            refund.provider_ref or "-",
            format_html(
                '<a href="{}">Credit note (PDF)</a>',
                reverse("admin:storefront_order_credit_note", args=[order.pk, refund.pk]),
            )
            if refund.status == refund.Status.SUCCEEDED
            else refund.message or "",
        )
        for refund in refunds_for(order.payment_reference)
    ]
    if not rows:
        return "None."
    columns = [("when", ""), ("amount", "amount"), ("status", ""), ("reason", ""), ("note", "note")]
    return record_table("refunds", [*columns, ("by", ""), ("provider id", "id"), ("", "")], rows)


def disputes_table(order: Order) -> str:
    rows = [
        (
            _money(dispute.amount, dispute.currency),
            dispute.reason or "-",
            dispute.get_status_display(),
            _when(dispute.evidence_due_by) if dispute.needs_response else "-",
            dispute.provider_ref,
        )
        for dispute in disputes_for(order.payment_reference)
    ]
    if not rows:
        return "None."
    columns = [("amount", "amount"), ("reason", ""), ("status", ""), ("respond by", "")]
    return record_table("disputes", [*columns, ("provider id", "id")], rows)


def mails_table(order: Order) -> str:
    rows = [
        (
            mail.get_kind_display(),
            mail.to,
            mail.get_status_display(),
            mail.attempts,
            _when(mail.sent_at),
            mail.error or "",
        )
        for mail in order.mails.order_by("created", "pk")
    ]
    if not rows:
        return "None." if order.email else "None: the buyer gave no e-mail address."
    columns = [("e-mail", ""), ("to", "address"), ("status", ""), ("attempts", ""), ("sent", "")]
    return record_table("mails", [*columns, ("last error", "note")], rows)
