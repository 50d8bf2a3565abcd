"""`manage.py load_demo`: load fixtures/demo.json into an empty shop, and only then."""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from storefront.models import Item, Order
from storefront.plumbing.page_cache import shop_pages_changed


class Command(BaseCommand):
    help = "Load the demo catalogue and orders (fixtures/demo.json) unless the shop has items."

    def handle(self, *args, **options) -> None:
        count = Item.objects.count()
        if count:
            self.stdout.write(f"The shop already has {count} items: demo data not loaded again.")
            return
        call_command("loaddata", "demo", verbosity=0)
        shop_pages_changed()
        # The fixture's dates are fixed; its open orders (the share links the docs hand out)
        # are touched today, or the first expiry run would cancel them as long abandoned.
        Order.objects.filter(status=Order.Status.OPEN).update(updated=timezone.now())
        self.stdout.write(self.style.SUCCESS("Loaded the demo catalogue and orders."))
