"""Recovering what notifications missed, per account of every rail (`manage.py payments_reconcile`).

A webhook can be lost: the site was down longer than the provider retries, an endpoint or its
secret was misconfigured, a deploy answered 500s. For each account of each rail this asks the
provider two things and lets the core's once-only bookkeeping do the rest:

1. what it sent (or tried to send) since `since` (`Rail.missed_notifications`): each goes
   through `records.notification_receive` exactly as if it had arrived by webhook, so one
   already received is a duplicate (counted, nothing done), one whose processing fails is
   recorded as failed (and tried afresh next time), and none is ever processed twice;
2. how each payment of the account still pending stands (`Rail.payment_state`), for those
   started within the window or whose provider page has expired: moved by `records.payment_apply`,
   as the return page would have moved it.

Each pass over an account is a `ReconcileRun` (what was found and done, whether the provider
could be asked). An account whose provider cannot be reached is reported and its run is not
`ok`; the other accounts are reconciled all the same. A rail without a way to list what it
sent (the banks here have no such API) is asked only about pending payments, if it can be;
one with neither says so ("nothing to ask").
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from payments import redeliveries
from payments.errors import NotificationConflict, PaymentError
from payments.models import Payment, ReconcileRun
from payments.rails import Rail, all_rails
from payments.records import notification_receive, payment_apply

logger = logging.getLogger(__name__)

# A provider error at or above this status means it could not be asked (unreachable, 5xx);
# below it, it answered about one thing (a payment it does not know): noted, and on we go.
UNREACHABLE_STATUS = 500


@dataclass
class AccountReport:
    """What reconciling one account of one rail found and did, for the operator."""

    rail: str
    account: str
    label: str
    ok: bool = True
    lists: bool = True  # whether the rail's provider lists what it sent (missed_notifications)
    asks: bool = True  # whether it can be asked how a payment stands (payment_state)
    found: int = 0
    processed: int = 0
    duplicates: int = 0
    failed: int = 0
    payments_checked: int = 0
    payments_moved: int = 0
    error: str = ""
    actions: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One line: what was found and done, or why nothing could be."""
        if not (self.lists or self.asks):
            return "nothing to ask: its provider has no API to list what it sent or to ask"
        found = (
            f"{self.found} notification(s) found: {self.processed} processed now, "
            f"{self.duplicates} already received, {self.failed} failed"
            if self.lists
            else "no list of notifications to ask"
        )
        checked = (
            f"{self.payments_checked} pending payment(s) checked, {self.payments_moved} moved"
            if self.asks
            else "payments cannot be asked about"
        )
        if not self.ok:
            return f"could not be reached: {self.error} ({found}; {checked})"
        return f"{found}; {checked}"


def _overrides(rail: Rail, method: str) -> bool:
    """Whether `rail` does `method` at all (the base class's says "not supported")."""
    return getattr(type(rail), method) is not getattr(Rail, method)


def _matches(rail: Rail, account: str, wanted: str | None) -> bool:
    if wanted is None:
        return True
    names = {rail.name, account, *rail.account_codes(account)}
    return wanted.casefold() in {name.casefold() for name in names}


def _receive_missed(rail: Rail, report: AccountReport, since: datetime) -> None:
    for notification, payload in rail.missed_notifications(account=report.account, since=since):
        report.found += 1
        what = f"{notification.type} {notification.event_id}"
        try:
            # The database decides, never the cache: this is how events missed are found
            # again (after an outage, or a database restored from a backup, which the cache
            # may remember past).
            record, duplicate = notification_receive(
                notification, payload=payload, cached=redeliveries.Counted.NO_ANSWER
            )
        except NotificationConflict as exc:
            report.failed += 1
            report.actions.append(f"{what}: conflict: {exc.message}")
            continue
        except Exception as exc:  # as a webhook's 500: recorded, tried afresh next run
            logger.exception("reconcile: %s on %s failed", what, report.label)
            report.failed += 1
            report.actions.append(f"{what}: failed: {exc!r}"[:500])
            continue
        if duplicate:
            report.duplicates += 1
            continue
        report.processed += 1
        note = f" ({record.error})" if record.error else ""
        report.actions.append(f"{what}: {record.status}{note}")


def _check_pending(rail: Rail, report: AccountReport, since: datetime) -> None:
    now = timezone.now()
    pending = Payment.objects.filter(
        rail=rail.name, account=report.account, status=Payment.Status.PENDING
    ).filter(Q(created__gte=since) | Q(expires_at__lte=now))
    for payment in pending.order_by("created", "pk"):
        report.payments_checked += 1
        try:
            moved = payment_apply(rail.payment_state(payment))
        except PaymentError as exc:
            if exc.status >= UNREACHABLE_STATUS:
                raise
            report.actions.append(
                f"payment {payment.provider_ref} ({payment.reference}): {exc.message}"
            )
            continue
        if moved.status != Payment.Status.PENDING:
            report.payments_moved += 1
            report.actions.append(
                f"payment {payment.provider_ref} ({payment.reference}): pending -> {moved.status}"
            )


def account_reconcile(rail: Rail, account: str, *, since: datetime) -> AccountReport:
    """Reconcile one account of `rail` since `since`, recording the pass as a ReconcileRun."""
    report = AccountReport(rail=rail.name, account=account, label=rail.account_label(account))
    run = ReconcileRun.objects.create(rail=rail.name, account=account, started_at=timezone.now())
    report.lists = _overrides(rail, "missed_notifications")
    report.asks = _overrides(rail, "payment_state")
    try:
        if report.lists:
            _receive_missed(rail, report, since)
        if report.asks:
            _check_pending(rail, report, since)
    except PaymentError as exc:
        logger.warning("reconcile: %s %s could not be reached: %s", rail.name, account, exc)
        report.ok = False
        report.error = exc.message
    run.finished_at = timezone.now()
    run.ok = report.ok
    run.found = report.found
    run.processed = report.processed
    run.duplicates = report.duplicates
    run.payments_checked = report.payments_checked
    run.payments_moved = report.payments_moved
    run.report = "\n".join([report.summary, *report.actions])
    run.save()
    return report


def payments_reconcile(
    *, since: datetime, account_filter: str | None = None
) -> list[AccountReport]:
    """Reconcile every account of every rail (or those `account_filter` names: a rail, an
    account's identity, or a short name such as a currency code) since `since`."""
    return [
        account_reconcile(rail, account, since=since)
        for rail in all_rails().values()
        for account in rail.accounts()
        if _matches(rail, account, account_filter)
    ]
