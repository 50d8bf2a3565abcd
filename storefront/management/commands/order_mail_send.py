"""`manage.py order_mail_send`: send the buyers' e-mails that are still owed."""

import re
from argparse import ArgumentTypeError
from datetime import timedelta

from django.core.management.base import BaseCommand

from storefront.documents.mail import mails_send_pending

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration(text: str) -> timedelta:
    """`15m`, `900s`, `2h`, `1d`; a bare number is minutes."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if match is None:
        raise ArgumentTypeError(f"{text!r} is not a duration like 15m, 900s, 2h or 1d.")
    return timedelta(**{_UNITS[match.group(2) or "m"]: int(match.group(1))})


class Command(BaseCommand):
    help = (
        "Send every receipt and refund notice still pending (one whose sending failed, or "
        "never ran). With --stuck-after 15m, also those a crashed process left 'sending' that "
        "long: such a mail is sent again, so a buyer may get it twice if the crash came after "
        "the mail server took it. Run it every few minutes from the platform's scheduler."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--stuck-after",
            type=duration,
            default=None,
            help="Also take over mails left 'sending' for this long (e.g. 15m).",
        )

    def handle(self, *args, stuck_after: timedelta | None, **options) -> None:
        counts = mails_send_pending(stuck_after=stuck_after)
        self.stdout.write(
            f"{counts['sent']} e-mail(s) sent, {counts['not_sent']} not sent (will be tried "
            f"again), {counts['gave_up']} given up."
        )
