"""`manage.py load_demo`: load fixtures/demo.json into an empty shop, and only then."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from storefront.models import Item


class Command(BaseCommand):
    help = "Load the demo catalogue and orders (fixtures/demo.json) unless the shop has items."

    def handle(self, *args, **options) -> None:
        count = Item.objects.count()
        if count:
            self.stdout.write(f"The shop already has {count} items: demo data not loaded again.")
            return
        call_command("loaddata", "demo", verbosity=0)
        self.stdout.write(self.style.SUCCESS("Loaded the demo catalogue and orders."))
