"""E-mails the shop owes buyers about their orders (receipts, refund notices).

An e-mail is first written down (`storefront.shop.mail.mail_due`, an `OrderMail` row) inside
the transaction that made it due: the order paid, a refund made. That row is the promise;
sending follows after the commit, so a rolled-back payment sends nothing and a crash loses
nothing.

Sending is background work (`storefront.tasks.order_mail_send_task`, queued by
`storefront.tasks.mail_queue` once the paying transaction commits): the request that paid (a
provider's webhook, the buyer's return page) answers without waiting for the PDF invoice to be
drawn or a mail server to answer. With a broker (`REDIS_URL`) a worker process sends it;
without one (a laptop, tests) it runs right there, after the commit.

Sending claims the row first (pending -> sending, one conditional UPDATE), so two processes
never both send it; a send that raises puts it back to pending with the error (failed after
`MAX_ATTEMPTS`). A claim left `sending` by a process that died is taken over only once it is
older than the sender could have lived (`stuck_before`: the worker's task time limit, or the
operator's `--stuck-after`). `manage.py order_mail_send` sends whatever is still pending.
Taking over is the only case that can send twice: a process that died after the mail server
accepted the message but before the row said so; a buyer getting a receipt twice is better than
never.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from payments.services import refund_named
from storefront.documents.invoices import order_invoice_pdf
from storefront.models import Order, OrderLine, OrderMail
from storefront.shop.pricing import order_totals

logger = logging.getLogger(__name__)

# Tries before a mail is given up on (`failed`, shown in the order's admin page).
MAX_ATTEMPTS = 5
# Errors are kept for the merchant to read, not whole tracebacks.
ERROR_CHARS = 2000


class Delivery(StrEnum):
    """What one attempt at an owed e-mail came to."""

    SENT = "sent"  # sent, by this attempt
    FAILED = "failed"  # tried and failed: pending again, with the error
    GAVE_UP = "gave up"  # tried and failed for the last time
    BUSY = "busy"  # another sender's claim, too recent to take over
    DONE = "done"  # nothing to do: sent or given up before, or no such mail


@dataclass(frozen=True)
class MailAttempt:
    outcome: Delivery
    error: Exception | None = None
    # A claim being worked on elsewhere (BUSY): when it was made.
    claimed_at: datetime | None = None


def mail_attempt(*, mail_id: int, stuck_before: datetime | None = None) -> MailAttempt:
    """Send one owed e-mail if this call claims it, and say what came of it.

    Only a pending row is claimed, or, with `stuck_before`, one left `sending` since before
    then by a process that never finished. Whatever goes wrong while rendering or sending,
    the row goes back to pending with the error (failed after MAX_ATTEMPTS), never lost.
    """
    claimable = Q(status=OrderMail.Status.PENDING)
    if stuck_before is not None:
        claimable |= Q(status=OrderMail.Status.SENDING, claimed_at__lt=stuck_before)
    claimed_at = timezone.now()
    claimed = OrderMail.objects.filter(claimable, pk=mail_id, attempts__lt=MAX_ATTEMPTS).update(
        status=OrderMail.Status.SENDING, claimed_at=claimed_at, attempts=F("attempts") + 1
    )
    if not claimed:
        other = OrderMail.objects.filter(pk=mail_id).values("status", "claimed_at").first()
        if other and other["status"] == OrderMail.Status.SENDING:
            return MailAttempt(Delivery.BUSY, claimed_at=other["claimed_at"])
        return MailAttempt(Delivery.DONE)
    mail = OrderMail.objects.select_related("order__discount").get(pk=mail_id)
    try:
        message_for(mail).send()
    except Exception as exc:
        logger.exception("order mail %s (%s, order %s) not sent", mail.pk, mail.kind, mail.order_id)
        give_up = mail.attempts >= MAX_ATTEMPTS
        # Only our own claim is put back: a row taken over meanwhile belongs to its taker.
        OrderMail.objects.filter(
            pk=mail.pk, status=OrderMail.Status.SENDING, claimed_at=claimed_at
        ).update(
            status=OrderMail.Status.FAILED if give_up else OrderMail.Status.PENDING,
            error=f"{type(exc).__name__}: {exc}"[:ERROR_CHARS],
        )
        return MailAttempt(Delivery.GAVE_UP if give_up else Delivery.FAILED, error=exc)
    OrderMail.objects.filter(pk=mail.pk).update(
        status=OrderMail.Status.SENT, sent_at=timezone.now(), error=""
    )
    logger.info("order mail %s (%s, order %s) sent", mail.pk, mail.kind, mail.order_id)
    return MailAttempt(Delivery.SENT)


def mail_send(*, mail_id: int, stuck_before: datetime | None = None) -> bool:
    """Send one owed e-mail if this call claims it; return whether it was sent now."""
    return mail_attempt(mail_id=mail_id, stuck_before=stuck_before).outcome is Delivery.SENT


def _give_up_stuck(stuck_before: datetime) -> int:
    """Mark failed the mails left `sending` since before then after their last attempt."""
    return OrderMail.objects.filter(
        status=OrderMail.Status.SENDING,
        claimed_at__lt=stuck_before,
        attempts__gte=MAX_ATTEMPTS,
    ).update(status=OrderMail.Status.FAILED, error="Left unfinished after the last attempt.")


def mails_stranded(*, pending_for: timedelta, stuck_after: timedelta) -> list[int]:
    """The owed e-mails nothing is going to send: pending, untouched for `pending_for` (their
    queued task was lost: a broker down at commit, a worker that gave up retrying), or left
    `sending` for `stuck_after` (a sender that died); those past their last attempt are given
    up here."""
    now = timezone.now()
    _give_up_stuck(now - stuck_after)
    quiet = Q(claimed_at__lt=now - pending_for) | Q(
        claimed_at__isnull=True, created__lt=now - pending_for
    )
    stranded = (Q(status=OrderMail.Status.PENDING) & quiet) | Q(
        status=OrderMail.Status.SENDING, claimed_at__lt=now - stuck_after
    )
    return list(
        OrderMail.objects.filter(stranded, attempts__lt=MAX_ATTEMPTS)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def mails_send_pending(*, stuck_after: timedelta | None = None) -> dict[str, int]:
    """Send every pending e-mail (and, with `stuck_after`, those left `sending` that long);
    return how many were sent, not sent, and given up."""
    stuck_before = timezone.now() - stuck_after if stuck_after is not None else None
    counts = {"sent": 0, "not_sent": 0, "gave_up": 0}
    if stuck_before is not None:
        # Left sending after their last attempt: nothing more will be tried.
        counts["gave_up"] = _give_up_stuck(stuck_before)
    due = Q(status=OrderMail.Status.PENDING)
    if stuck_before is not None:
        due |= Q(status=OrderMail.Status.SENDING, claimed_at__lt=stuck_before)
    ids = list(OrderMail.objects.filter(due).order_by("pk").values_list("pk", flat=True))
    for mail_id in ids:
        if mail_send(mail_id=mail_id, stuck_before=stuck_before):
            counts["sent"] += 1
        elif OrderMail.objects.filter(pk=mail_id, status=OrderMail.Status.FAILED).exists():
            counts["gave_up"] += 1
        else:
            counts["not_sent"] += 1
    return counts


def shop_link(path: str) -> str:
    """An absolute link to a page of the shop (SHOP_URL), for e-mails: they have no request."""
    return settings.SHOP_URL.rstrip("/") + path


def order_links(order: Order) -> dict[str, str]:
    """The buyer's links to the order's page and its invoice (both carry the order's key)."""
    query = f"?key={quote(order.access_key)}"
    return {
        "order_url": shop_link(reverse("storefront:order", args=[order.pk]) + query),
        "invoice_url": shop_link(reverse("storefront:order_invoice", args=[order.pk]) + query),
    }


def _refund_for(mail: OrderMail):
    """The refund a notice is about: by our request key or the provider's id, on this order."""
    refund = refund_named(mail.order.payment_reference, mail.key)
    if refund is None:
        raise LookupError(f"No refund {mail.key} on order #{mail.order_id}.")
    return refund


def message_for(mail: OrderMail) -> EmailMultiAlternatives:
    """The e-mail `mail` stands for, ready to send: text, HTML where there is one, and the
    invoice PDF attached to a receipt."""
    order = mail.order
    # Lines and taxes read once (two plain queries), for the text, the HTML and the invoice.
    lines = list(OrderLine.objects.filter(order=order).select_related("item"))
    taxes = list(order.taxes.all())
    totals = order_totals(order, lines=lines, taxes=taxes)
    context = {
        "order": order,
        "shop_name": settings.SHOP_NAME,
        "lines": lines,
        "totals": totals,
        **order_links(order),
    }
    if mail.kind == OrderMail.Kind.REFUND:
        refund = _refund_for(mail)
        context["refund"] = refund
        subject = f"{settings.SHOP_NAME}: a refund on your order #{order.pk}"
        template = "storefront/mail/refund"
    else:
        subject = f"{settings.SHOP_NAME}: receipt for your order #{order.pk}"
        template = "storefront/mail/receipt"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[mail.to],
        headers={"X-Order-Mail": str(mail.pk)},
    )
    if mail.kind == OrderMail.Kind.RECEIPT:
        message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
        invoice = order_invoice_pdf(order=order, lines=lines, taxes=taxes, totals=totals)
        message.attach(f"invoice-order-{order.pk}.pdf", invoice, "application/pdf")
    return message
