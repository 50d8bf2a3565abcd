"""`manage.py sandbox_dispute`: the buyer's bank disputes a sandbox payment, then rules on it.

    python manage.py sandbox_dispute open pi_...   # a fraudulent chargeback of the whole payment
    python manage.py sandbox_dispute open pi_... --inquiry   # an inquiry first (no money moves)
    python manage.py sandbox_dispute escalate dp_...   # the inquiry becomes a chargeback
    python manage.py sandbox_dispute lose dp_...   # the bank rules for the buyer
    python manage.py sandbox_dispute win dp_...    # the bank rules for the merchant
    python manage.py sandbox_dispute appeal dp_... # a lost dispute can be appealed

Each sends the dispute's `charge.dispute.*` events to the account's endpoint on the shop at
SHOP_URL (`--origin` names another), as every sandbox command finds the shop
(payments.shop_address), and waits for them to be delivered (they are only recorded with
`STRIPE_SANDBOX_WEBHOOKS=off`, or for a payment made through Django's test client: send them
with `sandbox_events resend evt_... --origin http://127.0.0.1:8000`). A dispute still needing a
response is ruled on as if the test-mode evidence (`winning_evidence` or `losing_evidence`) had
been submitted, so it passes `under_review` first, as at Stripe; an inquiry's ruling closes it
(`warning_closed`); `win` and `lose` on an appeal rule on the appeal.
"""

import threading

from django.core.management.base import BaseCommand, CommandError

from payments.shop_address import shop_origin
from payments.stripe.sandbox import events
from payments.stripe.sandbox.dispute_bank import (
    DisputeError,
    dispute_appeal_open,
    dispute_decide,
    dispute_escalate,
    dispute_open,
)
from payments.stripe.sandbox.models import SandboxObject

# How long to wait for the events' delivery (retries included) before leaving it to the log.
DELIVERY_WAIT_SECONDS = events.DELIVERY_DEADLINE_SECONDS + 2


class Command(BaseCommand):
    help = (
        "Open a dispute (or an inquiry) on a paid Stripe sandbox payment, escalate an inquiry, "
        "decide a dispute (win or lose), or open its appeal."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--origin",
            default=None,
            help=f"The shop to send the events to (default: SHOP_URL, now {shop_origin()}).",
        )
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        opening = actions.add_parser("open", help="Dispute a paid PaymentIntent as fraudulent.")
        opening.add_argument("intent_id", help="The PaymentIntent's id (pi_...).")
        opening.add_argument(
            "--inquiry",
            action="store_true",
            help="Open an inquiry (warning_needs_response: no money moves) instead.",
        )
        for name, text in (
            ("win", "The bank (or, on appeal, the network) rules for the merchant: won."),
            ("lose", "The bank (or, on appeal, the network) rules for the buyer: lost."),
            ("escalate", "The bank turns an inquiry into a chargeback (needs_response)."),
            ("appeal", "A lost dispute can be appealed (appeal_needs_response)."),
        ):
            action = actions.add_parser(name, help=text)
            action.add_argument("dispute_id", help="The dispute's id (dp_...).")

    def handle(self, *args, **options) -> None:
        action = options["action"]
        origin = options["origin"] or shop_origin()
        try:
            if action == "open":
                before = []
                dispute = dispute_open(
                    options["intent_id"], inquiry=options["inquiry"], origin=origin
                )
            else:
                found = SandboxObject.objects.filter(id=options["dispute_id"], object="dispute")
                before = found[0].private.get("events", []) if found else []
                act = {
                    "win": lambda i: dispute_decide(i, won=True, origin=origin),
                    "lose": lambda i: dispute_decide(i, won=False, origin=origin),
                    "escalate": lambda i: dispute_escalate(i, origin=origin),
                    "appeal": lambda i: dispute_appeal_open(i, origin=origin),
                }[action]
                dispute = act(options["dispute_id"])
        except DisputeError as exc:
            raise CommandError(str(exc)) from exc
        data = dispute.data
        self.stdout.write(
            f"{dispute.id}: {data['status']} ({data['reason']}, {data['amount']} "
            f"{data['currency']} minor units, payment {data['payment_intent']})"
        )
        made = [i for i in dispute.private.get("events", []) if i not in before]
        self._report_events(made)

    def _report_events(self, ids: list[str]) -> None:
        """Wait for these events' delivery threads (this process's own), then say how it went."""
        names = {f"sandbox-webhook-{event_id}" for event_id in ids}
        for thread in threading.enumerate():
            if thread.name in names:
                thread.join(DELIVERY_WAIT_SECONDS)
        for event in SandboxObject.objects.filter(id__in=ids, object="event").order_by(
            "created", "id"
        ):
            self.stdout.write(f"  {event.id} {event.data['type']}: {events.delivery_state(event)}")
