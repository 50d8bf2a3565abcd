"""The back office: the admin of the catalogue, orders (read-only once paid), discounts and taxes,
put on the admin site by `register`. Each resource has its module: catalogue_admin (items,
discounts, taxes), order_admin (an order's page and the order list, exported to CSV),
order_lines_admin (an order's lines), currency_menus (the currencies a menu offers).
"""

from django.contrib import admin

from storefront.backoffice.catalogue_admin import DiscountAdmin, ItemAdmin, TaxAdmin
from storefront.backoffice.order_admin import OrderAdmin
from storefront.models import Discount, Item, Order, Tax


def register(site: admin.AdminSite) -> None:
    """Put the shop's models on `site`: called once by storefront.apps when the apps are ready
    (Django's autodiscovery looks for storefront/admin.py, which the back office is not)."""
    site.register(Item, ItemAdmin)
    site.register(Order, OrderAdmin)
    site.register(Discount, DiscountAdmin)
    site.register(Tax, TaxAdmin)
