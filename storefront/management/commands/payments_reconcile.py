"""`manage.py payments_reconcile`: recover what webhooks missed, then (optionally) expire orders.

Run it from the platform's scheduler (hourly is plenty): it asks every account of every rail
what it sent since `--since` and applies it exactly as the webhooks would have, then checks
the payments still pending. The shop owns its orders, so the command lives here: with
`--expire-orders-after` it cancels the open orders untouched for that long afterwards, but
only when every account could be asked (an order paid at an unreachable account must not be
cancelled under its payment).
"""

import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments.services import payments_reconcile
from storefront.shop.orders import orders_expire

_DURATION = re.compile(r"(\d+)([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def duration(text: str) -> timedelta:
    """`90m`, `6h`, `3d` as a timedelta (argparse's type: a bad value is a usage error)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise ValueError(f"{text!r} is not a duration like 90m, 6h or 3d")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


duration.__name__ = "duration"  # what argparse names in its error message


class Command(BaseCommand):
    help = (
        "Ask every payment account what notifications it sent since --since (default 3d) and "
        "apply those we missed, once; check the payments still pending. Exits non-zero when an "
        "account could not be reached. Run it from the platform's scheduler."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--since",
            type=duration,
            default=timedelta(days=3),
            help="how far back to look: 90m, 6h, 3d (default 3d; Stripe keeps 30 days)",
        )
        parser.add_argument(
            "--account",
            default=None,
            help="only this account: a currency code (EUR), a rail (stripe) or an identity",
        )
        parser.add_argument(
            "--expire-orders-after",
            type=duration,
            default=None,
            help="then cancel open orders untouched this long (like orders_expire), e.g. 2d",
        )

    def handle(self, *args, since: timedelta, account: str | None, **options) -> None:
        reports = payments_reconcile(since=timezone.now() - since, account_filter=account)
        if not reports:
            if account is None:
                raise CommandError("No payment account is configured: nothing to reconcile.")
            raise CommandError(f"No payment account matches {account!r}.")
        for report in reports:
            self.stdout.write(f"{report.rail} {report.label}: {report.summary}")
            for action in report.actions:
                self.stdout.write(f"  {action}")
        unreachable = [report for report in reports if not report.ok]
        expire_after = options["expire_orders_after"]
        if expire_after is not None:
            if unreachable:
                self.stdout.write("Orders not expired: not every account could be asked.")
            else:
                cancelled = orders_expire(untouched_for=expire_after)
                self.stdout.write(
                    f"{cancelled} open order(s) untouched for {expire_after} cancelled."
                )
        if unreachable:
            names = ", ".join(f"{report.rail} {report.label}" for report in unreachable)
            raise CommandError(f"{len(unreachable)} account(s) could not be reached: {names}.")
