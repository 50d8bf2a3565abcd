"""`manage.py orders_expire`: cancel open orders nobody has touched for a while."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from storefront.shop.orders import orders_expire


class Command(BaseCommand):
    help = (
        "Cancel open orders untouched for --days (default 2): abandoned baskets and buy-now "
        "clicks. Orders with a payment page still open at a provider are kept. Run it daily "
        "from the platform's scheduler."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=float, default=2.0)

    def handle(self, *args, days: float, **options) -> None:
        cancelled = orders_expire(untouched_for=timedelta(days=days))
        self.stdout.write(f"{cancelled} open order(s) untouched for {days:g} days cancelled.")
