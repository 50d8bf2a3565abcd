"""`manage.py stripe_sync`: make every coupon and tax rate ahead of the first checkout."""

from django.core.management.base import BaseCommand, CommandError

from payments.errors import PaymentError
from storefront.models import Discount, Tax
from storefront.shop.order_payment import payment_rails_prepare


class Command(BaseCommand):
    help = (
        "Push all active Discounts (as coupons) and all Taxes (as tax rates) to the Stripe "
        "account of every currency the shop sells in, so checkouts need one Stripe call."
    )

    def handle(self, *args, **options) -> None:
        if not (Discount.objects.filter(active=True).exists() or Tax.objects.exists()):
            self.stdout.write("There are no active discounts and no taxes: nothing to make.")
            return
        try:
            report = payment_rails_prepare()
        except PaymentError as exc:
            raise CommandError(f"Stripe could not be reached or refused: {exc.message}") from exc
        if not report:
            # Discounts and taxes to push, and nowhere to push them: say why, and fail.
            raise CommandError(
                "Nothing was made: no Stripe account is available. Set STRIPE_<CUR>_SECRET_KEY "
                "and STRIPE_<CUR>_PUBLISHABLE_KEY for each currency, or allow the offline "
                "sandbox (DEBUG=1 or STRIPE_SANDBOX=1)."
            )
        for line in report:
            self.stdout.write(line)
        created = sum(line.endswith("(created)") for line in report)
        self.stdout.write(
            self.style.SUCCESS(f"{created} created, {len(report) - created} already there.")
        )
