from django.contrib import admin

from storefront.models import Discount, Item, Order, OrderItem, Tax


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["name", "price", "price_currency"]
    list_filter = ["price_currency"]
    search_fields = ["name", "description"]


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    autocomplete_fields = ["item"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "currency", "status", "discount", "created", "paid_at"]
    list_filter = ["status", "currency", "created"]
    list_select_related = ["discount"]
    filter_horizontal = ["taxes"]
    readonly_fields = ["access_key", "created", "updated", "paid_at"]
    inlines = [OrderItemInline]


@admin.register(Discount)
class DiscountAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "percent_off", "amount_off", "duration", "active"]
    list_filter = ["active", "duration"]
    search_fields = ["name", "code"]


@admin.register(Tax)
class TaxAdmin(admin.ModelAdmin):
    list_display = ["display_name", "percentage", "inclusive", "jurisdiction", "currency"]
    list_filter = ["inclusive", "currency", "applies_to_new_orders"]
