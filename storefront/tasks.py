"""The shop's background work: Celery tasks (storefront.celery; docs/operations.md, "Processes").

Every task here may be delivered more than once (tasks are acknowledged when they finish, so a
worker killed mid-task has its task handed to another), and the row it works on makes the
second delivery harmless: an e-mail's `OrderMail` claim, an order's status.

- `order_mail_send_task` sends one owed e-mail; `mail_queue` queues it when
  `storefront.shop.mail.mail_owed` says the paying transaction committed (connected when the
  app is ready: storefront.apps).
- Periodic, queued by celery beat (`settings.CELERY_BEAT_SCHEDULE`), or once each by
  `manage.py periodic_tasks_run`: `order_mails_resend_task` (the stranded-mail sweep),
  `orders_expire_task`, `sessions_clear_task`; reconcile is `payments.tasks`.
"""

import logging
import math
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from kombu.exceptions import OperationalError

from storefront.documents.mail import MAX_ATTEMPTS, Delivery, mail_attempt, mails_stranded
from storefront.shop.orders import orders_expire

logger = logging.getLogger(__name__)

# Seconds past the task time limit before a claim is a dead sender's: the pool kills a task at
# its limit, and this covers the timer's lag.
CLAIM_MARGIN_SECONDS = 5
# A failed send is tried again after about 30 s, 60 s, 120 s, ..., at most 5 minutes.
RETRY_BACKOFF_SECONDS = 30
RETRY_BACKOFF_MAX_SECONDS = 300
# A pending e-mail untouched this long has lost its task (a broker down at commit time, a
# worker that stopped retrying): the sweep queues another. Longer than any retry waits.
STRANDED_AFTER = timedelta(minutes=10)
# Errors worth trying again soon: the mail server refused, dropped or timed out (smtplib's
# errors and socket errors are OSErrors), or the send outlasted its soft time limit.
RETRIED_ERRORS = (OSError, SoftTimeLimitExceeded)


def mail_claim_lease() -> timedelta:
    """How long a claim on an e-mail stays its sender's: past the task time limit, the worker
    process that made it has been killed, and the claim may be taken over."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + CLAIM_MARGIN_SECONDS)


@shared_task(bind=True, max_retries=2 * MAX_ATTEMPTS)
def order_mail_send_task(self, *, mail_id: int) -> str:
    """Send one owed e-mail, once, however often this task is delivered.

    The `OrderMail` claim is the guard: a second delivery finds the mail sent and does nothing,
    or finds it claimed by a sender that may still be working and waits until that claim's
    lease is over (the sender finished, or was killed and its claim is taken over). A send the
    mail server refused or dropped is tried again with backoff, up to MAX_ATTEMPTS in all.
    Run eagerly (no broker) there is no later: what failed stays pending for
    `manage.py order_mail_send`.
    """
    lease = mail_claim_lease()
    attempt = mail_attempt(mail_id=mail_id, stuck_before=timezone.now() - lease)
    if self.request.is_eager:
        return attempt.outcome.value
    if attempt.outcome is Delivery.BUSY:
        wait = (attempt.claimed_at + lease - timezone.now()).total_seconds()
        raise self.retry(countdown=max(1, math.ceil(wait)))
    if attempt.outcome is Delivery.FAILED and isinstance(attempt.error, RETRIED_ERRORS):
        backoff = get_exponential_backoff_interval(
            RETRY_BACKOFF_SECONDS,
            self.request.retries,
            RETRY_BACKOFF_MAX_SECONDS,
            full_jitter=True,
        )
        raise self.retry(exc=attempt.error, countdown=max(1, backoff))
    return attempt.outcome.value


def mail_queue(*, mail_id: int, **kwargs) -> None:
    """Queue the sending of one owed e-mail (a worker sends it; without a broker, now).

    A broker that does not answer (Redis down) is logged, not raised: the e-mail stays owed,
    and the stranded-mail sweep queues it again once Redis is back.
    """
    try:
        order_mail_send_task.delay(mail_id=mail_id)
    except OperationalError as exc:  # kombu's: the broker could not be reached
        logger.warning(
            "order mail %s not queued, the broker cannot be reached (%s): the stranded-mail "
            "sweep will queue it",
            mail_id,
            type(exc).__name__,
        )


@shared_task
def order_mails_resend_task() -> int:
    """Queue a send for each owed e-mail nothing else will send (the periodic form of
    `manage.py order_mail_send --stuck-after`); return how many."""
    stranded = mails_stranded(pending_for=STRANDED_AFTER, stuck_after=mail_claim_lease())
    for mail_id in stranded:
        order_mail_send_task.delay(mail_id=mail_id)
    if stranded:
        logger.info("stranded e-mails queued again: %s", len(stranded))
    return len(stranded)


@shared_task
def orders_expire_task(*, untouched_days: float = 2) -> int:
    """Cancel open orders untouched that long (`manage.py orders_expire`)."""
    cancelled = orders_expire(untouched_for=timedelta(days=untouched_days))
    logger.info("%s open order(s) untouched for %g days cancelled", cancelled, untouched_days)
    return cancelled


@shared_task
def sessions_clear_task() -> None:
    """Delete expired sessions (Django's `clearsessions`)."""
    call_command("clearsessions")
