"""The admin of what the shop sells and charges: items, discounts and taxes. Saving what the shop's
pages show makes the kept pages out of date; a discount's or tax's figures are locked once a paid
order used them; each shows what the rails made of it at their providers.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from currencies.formatting import format_money
from payments.services import provider_objects
from storefront.backoffice.currency_menus import OfferedCurrencies
from storefront.models import Discount, Item, Order, Tax
from storefront.plumbing.page_cache import shop_pages_changed


class ShownOnShopPages(admin.ModelAdmin):
    """Rows the catalogue and the item pages show: saving or deleting one here makes every kept
    page out of date once it commits (storefront.plumbing.page_cache)."""

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        shop_pages_changed()

    def delete_model(self, request: HttpRequest, obj) -> None:
        super().delete_model(request, obj)
        shop_pages_changed()

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        super().delete_queryset(request, queryset)
        shop_pages_changed()


class ItemAdmin(ShownOnShopPages, OfferedCurrencies):
    list_display = ["name", "price_display", "price_currency"]
    list_filter = [("price_currency", admin.AllValuesFieldListFilter)]
    search_fields = ["name", "description"]

    @admin.display(description="price", ordering="price")
    def price_display(self, obj: Item) -> str:
        return format_money(obj.price.amount, obj.currency)


class PricingLockedOncePaid(OfferedCurrencies):
    """A discount or tax that a paid order used keeps the figures it was charged with.

    Totals are computed from the order's discount and taxes, so changing a rate would change
    what paid orders, their invoices and exports say was charged. Its name and whether it is
    offered can still change; for another rate, make a new one.
    """

    pricing_fields: list[str] = []

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.orders.filter(status=Order.Status.PAID).exists():
            fields += self.pricing_fields
        return fields


def _provider_objects_html(local_key: str) -> str:
    """What the payment rails made at their providers for one of our rows, with links."""
    rows = [
        (obj.account_label, obj.kind, obj.url or "", obj.provider_id)
        for obj in provider_objects(local_key)
    ]
    if not rows:
        return "None yet: made on first use (or by manage.py stripe_sync)."
    body = format_html_join("", '<tr><td>{}</td><td>{}</td><td><a href="{}">{}</a></td></tr>', rows)
    return format_html("<table><tbody>{}</tbody></table>", body)


class DiscountAdmin(PricingLockedOncePaid):
    list_display = ["name", "code", "percent_off", "amount_off", "duration", "active"]
    list_filter = ["active", "duration"]
    search_fields = ["name", "code"]
    readonly_fields = ["stripe_objects"]
    pricing_fields = ["percent_off", "amount_off", "duration", "duration_in_months"]

    @admin.display(description="Stripe coupons")
    def stripe_objects(self, obj: Discount) -> str:
        return _provider_objects_html(f"discount:{obj.pk}") if obj.pk else "-"


class TaxAdmin(ShownOnShopPages, PricingLockedOncePaid):
    list_display = ["display_name", "percentage", "inclusive", "jurisdiction", "currency"]
    list_filter = ["inclusive", "currency", "applies_to_new_orders"]
    search_fields = ["display_name", "jurisdiction"]
    readonly_fields = ["stripe_objects"]
    pricing_fields = ["percentage", "inclusive"]

    @admin.display(description="Stripe tax rates")
    def stripe_objects(self, obj: Tax) -> str:
        return _provider_objects_html(f"tax:{obj.pk}") if obj.pk else "-"
