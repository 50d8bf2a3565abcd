from django.contrib import admin

from storefront.models import Item


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["name", "price", "price_currency"]
    list_filter = ["price_currency"]
    search_fields = ["name", "description"]
