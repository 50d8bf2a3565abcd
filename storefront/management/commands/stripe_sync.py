"""`manage.py stripe_sync`: make every coupon and tax rate ahead of the first checkout."""

from django.core.management.base import BaseCommand, CommandError

from payments.errors import PaymentError
from storefront.services import payment_rails_prepare


class Command(BaseCommand):
    help = (
        "Push all active Discounts (as coupons) and all Taxes (as tax rates) to the Stripe "
        "account of every currency the shop sells in, so checkouts need one Stripe call."
    )

    def handle(self, *args, **options) -> None:
        try:
            report = payment_rails_prepare()
        except PaymentError as exc:
            raise CommandError(f"Stripe could not be reached or refused: {exc.message}") from exc
        for line in report:
            self.stdout.write(line)
        created = sum(line.endswith("(created)") for line in report)
        self.stdout.write(
            self.style.SUCCESS(f"{created} created, {len(report) - created} already there.")
        )
