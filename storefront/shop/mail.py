"""The e-mails the shop owes its buyers, written down once in the transaction that made them due
(the order paid, a refund made): an `OrderMail` row, the promise. Once that transaction commits,
`mail_owed` says so; storefront.tasks queues the sending, which storefront.documents.mail does
(the receipt carries the invoice)."""

from functools import partial, update_wrapper

from django.db import connection, transaction
from django.dispatch import Signal

from storefront.models import OrderMail

#: Sent after the transaction that made an e-mail due commits, with `mail_id`: it can be sent.
mail_owed = Signal()


def mail_due(*, order_id: int, to: str, kind: str, key: str = "") -> OrderMail | None:
    """Write down, once, that the buyer of order `order_id` is owed a `kind` e-mail at `to`
    (none without an address), and queue its sending once the caller's transaction commits.

    One statement, with no savepoint: an INSERT that, where the unique constraint finds the
    e-mail owed already, leaves that row as it is (ON CONFLICT / ON DUPLICATE KEY, an update
    of nothing) and returns it. Queuing its sending again is harmless: a send claims the row
    first, and finds a sent one sent.
    """
    if not to:
        return None
    target = connection.features.supports_update_conflicts_with_target
    (mail,) = OrderMail.objects.bulk_create(
        [OrderMail(order_id=order_id, kind=kind, key=key, to=to)],
        update_conflicts=True,
        unique_fields=["order", "kind", "key"] if target else None,
        update_fields=["key"],  # changes nothing: the row stays as it was
    )
    if mail.pk is None:  # MySQL returns no id from an INSERT ... ON DUPLICATE KEY UPDATE
        mail = OrderMail.objects.get(order_id=order_id, kind=kind, key=key)
    # robust: the paying request (a webhook, the return page) must not fail for a mail server
    # or a broker that does not answer; the row stays pending for the stranded-mail sweep.
    # (Named like the function: Django's robust hook logs a failure by the callable's
    # __qualname__, which a bare partial lacks, and would raise instead.)
    send_soon = update_wrapper(partial(mail_send_soon, mail_id=mail.pk), mail_send_soon)
    transaction.on_commit(send_soon, robust=True)
    return mail


def mail_send_soon(*, mail_id: int) -> None:
    """Say that one owed e-mail can be sent now (`mail_owed`): storefront.tasks queues its
    sending, so the domain never imports the task that sends it."""
    mail_owed.send(sender=OrderMail, mail_id=mail_id)
