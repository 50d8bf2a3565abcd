"""The e-mails the shop owes its buyers, written down once in the transaction that
made them due; storefront.documents.mail composes and sends them."""

import logging
from functools import partial, update_wrapper

from django.db import connection, transaction
from kombu.exceptions import OperationalError

from storefront.models import OrderMail

logger = logging.getLogger(__name__)


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
    """Queue the sending of one owed e-mail (a worker sends it; without a broker, now).

    A broker that does not answer (Redis down) is logged, not raised: the e-mail stays owed,
    and the stranded-mail sweep queues it again once Redis is back.
    """
    from storefront.tasks import order_mail_send_task

    try:
        order_mail_send_task.delay(mail_id=mail_id)
    except OperationalError as exc:  # kombu's: the broker could not be reached
        logger.warning(
            "order mail %s not queued, the broker cannot be reached (%s): the stranded-mail "
            "sweep will queue it",
            mail_id,
            type(exc).__name__,
        )
