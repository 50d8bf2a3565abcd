"""`manage.py sandbox_refund`: a refund made in the sandbox's "dashboard", not by the shop.

    python manage.py sandbox_refund pi_... [--amount 500] [--reason requested_by_customer]
    python manage.py sandbox_refund re_...     # settle now a test card's refund that settles later

The first refunds a sandbox payment (its PaymentIntent `pi_...` or Charge `ch_...`) on the
account that took it, as the merchant would in Stripe's dashboard: all that remains unless
`--amount` (minor units) says otherwise, with no idempotency key and no metadata of the shop's,
so the shop learns of it only from the signed `refund.created` and `charge.refunded` events
sent to its endpoint. Over-refunds are refused as the API refuses them.

The second settles a refund of 4000 0000 0000 5126 (it fails) or 4000 0000 0000 7726 (it
succeeds) without waiting for "later".
"""

from django.core.management.base import BaseCommand, CommandError

from payments.stripe.sandbox import refunds
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import ApiError


class Command(BaseCommand):
    help = "Refund a sandbox payment as if in Stripe's dashboard, or settle a refund now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("id", help="pi_... or ch_... to refund; re_... to settle now.")
        parser.add_argument(
            "--amount", type=int, help="Minor units to refund (default: all that remains)."
        )
        parser.add_argument("--reason", choices=refunds.REASONS, help="Stripe's reason.")

    def handle(self, *args, **options) -> None:
        target = options["id"]
        try:
            if target.startswith("re_"):
                if not SandboxObject.objects.filter(id=target, object="refund").exists():
                    raise CommandError(f"No sandbox refund {target!r}.")
                refund = refunds.refund_settle(target)
            else:
                refund = refunds.refund_in_dashboard(
                    target, amount=options["amount"], reason=options["reason"]
                )
        except ApiError as exc:
            raise CommandError(str(exc)) from exc
        except LookupError as exc:
            raise CommandError(str(exc.args[0])) from exc
        data = refund.data
        self.stdout.write(
            f"{data['id']} {data['status']}: {data['amount']} {data['currency']} of "
            f"{data['payment_intent'] or data['charge']}"
        )
