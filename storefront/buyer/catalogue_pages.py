"""The catalogue's pages and an item's page, both kept once rendered
(storefront.plumbing.page_cache)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET

from currencies.minor_units import to_minor_units
from payments.services import pay_options
from payments.values import Method
from storefront.models import Item
from storefront.plumbing.page_cache import page_render, shop_page
from storefront.shop.catalogue import catalogue_page
from storefront.shop.orders import taxes_for_new_orders


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    """One page of the catalogue (`?page=`, `?after=`, `?before=`): the same work per page
    however many items there are (storefront.shop.catalogue); a page past the numbered ones shows
    the last of them, a malformed number the first. Kept once rendered
    (storefront.plumbing.page_cache)."""
    query = {name: request.GET.get(name) for name in ("page", "after", "before")}

    def rendered() -> HttpResponse:
        page = catalogue_page(**query, size=settings.SHOP_CATALOGUE_PAGE_SIZE)
        context = {"items": page.items, "page": page}
        return page_render(request, "storefront/catalogue.html", context)

    return shop_page(request, ("catalogue", *query.values()), rendered)


@require_GET
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    """An item's page: kept once rendered (storefront.plumbing.page_cache)."""

    def rendered() -> HttpResponse:
        item = get_object_or_404(Item, pk=item_id)
        context = {
            "item": item,
            "taxes": taxes_for_new_orders(currency=item.currency),
            "pay_options": pay_options(
                currency=item.currency,
                amount=to_minor_units(item.price.amount, item.currency),
                urls={
                    Method.REDIRECT: reverse("storefront:item_pay_json", args=[item.pk]),
                    Method.ON_PAGE: reverse("storefront:item_pay_redirect", args=[item.pk]),
                },
            ),
        }
        return page_render(request, "storefront/item_detail.html", context)

    return shop_page(request, ("item", item_id), rendered)
