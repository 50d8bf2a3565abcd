"""Paying on the shop's own page: `item_pay_redirect` makes an item's one-line order and
redirects to `order_pay_form`, which renders the chosen rail's form (Stripe: the Payment
Element)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from payments.errors import PaymentError
from payments.values import Method
from storefront.buyer.order_pages import no_such_order, order_lines_context
from storefront.buyer.paying import chosen_rail, return_urls
from storefront.plumbing.throttle import limit_payment_starts
from storefront.shop.access import accessible_order, buy_now_order, buy_now_remember
from storefront.shop.catalogue import item_for_sale
from storefront.shop.order_payment import item_payment_prepare, order_payment_start
from storefront.shop.orders import OrderError


@never_cache
@require_GET
@limit_payment_starts
def item_pay_redirect(request: HttpRequest, item_id: int) -> HttpResponse:
    """Pay for one item on our own page: its one-line order, then that order's pay page.

    The order this browser made for the item before is used again while it is still just
    this item (reloading makes no order and no payment); a new one has its payment started
    here, so a provider that refuses leaves no order behind.
    """
    item = item_for_sale(item_id)
    if item is None:
        raise Http404("There is no such item.")
    try:
        rail = chosen_rail(request, item.currency, Method.ON_PAGE)
        order = item_payment_prepare(
            item=item,
            rail=rail,
            method=Method.ON_PAGE,
            earlier=buy_now_order(request, item.pk),
            **return_urls(request, rail, f"?item={item.pk}"),
        )
    except OrderError as exc:
        messages.error(request, exc.message)
        return redirect(item)
    except PaymentError as exc:
        return render(
            request, "storefront/payment_result.html", {"problem": exc.message}, status=exc.status
        )
    buy_now_remember(request, item.pk, order.pk)
    pay_url = reverse("storefront:order_pay_form", args=[order.pk])
    if rail := request.GET.get("rail"):
        pay_url += f"?rail={rail}"
    return redirect(pay_url)


@never_cache
@require_GET
@limit_payment_starts
def order_pay_form(request: HttpRequest, order_id: int) -> HttpResponse:
    """Pay for an order on our own page, with the rail's own form (Stripe: the Payment Element)."""
    order = accessible_order(request, order_id)
    if order is None:
        return no_such_order(request)
    if not order.is_open:
        messages.info(request, f"Order #{order.pk} is {order.get_status_display().lower()}.")
        return redirect(order)
    template = "storefront/order_pay_form.html"
    try:
        rail = chosen_rail(request, order.currency, Method.ON_PAGE)
        start = order_payment_start(
            order=order,
            rail=rail,
            method=Method.ON_PAGE,
            **return_urls(request, rail, f"?order={order.pk}"),
        )
    except OrderError as exc:
        messages.error(request, exc.message)
        return redirect(order)
    except PaymentError as exc:
        return render(
            request, template, {"order": order, "problem": exc.message}, status=exc.status
        )
    return render(request, template, {**order_lines_context(order), "start": start})
