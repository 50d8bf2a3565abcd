"""An order's pages: the basket being filled (`/order/`), an order's page and what its forms
change (lines, discount code, receipt address, emptying it), and a paid order's PDF invoice."""

import secrets

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from payments.services import pay_options
from payments.values import Method
from storefront.documents.invoices import invoice_response
from storefront.models import Item, Order
from storefront.plumbing.throttle import refusal
from storefront.shop import orders
from storefront.shop.access import accessible_order, remember
from storefront.shop.forms import (
    AddToOrderForm,
    DiscountCodeForm,
    LineQuantityForm,
    ReceiptEmailForm,
    first_error,
)
from storefront.shop.orders import (
    OrderError,
    order_add_item,
    order_apply_discount_code,
    order_remove_discount,
    order_remove_line,
    order_set_email,
    order_set_quantity,
)
from storefront.shop.pricing import order_totals

# Session key: the order being filled (what else a browser remembers of its orders is in
# storefront.shop.access's signed cookies).
SESSION_CART = "cart_order_id"


def no_such_order(request: HttpRequest) -> HttpResponse:
    """The same answer for an order that does not exist and one this browser may not see."""
    return render(request, "404.html", {"message": "There is no such order."}, status=404)


def _cart(request: HttpRequest) -> Order | None:
    order_id = request.session.get(SESSION_CART)
    if order_id is None:
        return None
    return Order.objects.filter(pk=order_id, status=Order.Status.OPEN).first()


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


@require_POST
def order_add(request: HttpRequest) -> HttpResponse:
    form = AddToOrderForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _back(request, reverse("storefront:catalogue"))
    item = Item.objects.filter(pk=form.cleaned_data["item"]).first()
    if item is None:
        messages.error(request, "There is no such item.")
        return _back(request, reverse("storefront:catalogue"))
    quantity = form.cleaned_data["quantity"]
    order = _cart(request)
    # A new order (no open one in this session) counts against the client's limit: fresh
    # sessions must not make orders (and session rows) without end.
    if order is None and (refused := refusal(request, scope="order-create")) is not None:
        return refused
    try:
        order = order_add_item(order=order, item=item, quantity=quantity)
    except OrderError as exc:
        messages.error(request, exc.message)
        return _back(request, item.get_absolute_url())
    request.session[SESSION_CART] = order.pk
    remember(request, order.pk)
    messages.success(request, f"Added {quantity} × {item.name} to your order.")
    return redirect("storefront:cart")


@never_cache
@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    order = _cart(request)
    if order is None:
        return render(request, "storefront/order_detail.html", {"order": None})
    return _render_order(request, order)


@never_cache
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = accessible_order(request, order_id)
    if order is None:
        return no_such_order(request)
    return _render_order(request, order)


def order_lines_context(order: Order) -> dict:
    """What `storefront/_order_lines.html` shows: the lines, discount, taxes and total."""
    lines = list(order.lines.select_related("item"))
    taxes = list(order.taxes.all())
    totals = order_totals(order, lines=lines, taxes=taxes)
    tax_amounts = totals.tax_by_key()
    return {
        "order": order,
        "lines": list(zip(lines, totals.lines, strict=True)),
        "totals": totals,
        "tax_rows": [(tax, tax_amounts.get(tax.pk, 0)) for tax in taxes],
    }


def _render_order(request: HttpRequest, order: Order) -> HttpResponse:
    context = order_lines_context(order)
    totals = context["totals"]
    if order.is_open and context["lines"]:
        context["pay_options"] = pay_options(
            currency=order.currency,
            amount=totals.total,
            urls={
                Method.REDIRECT: reverse("storefront:order_pay_json", args=[order.pk]),
                Method.ON_PAGE: reverse("storefront:order_pay_form", args=[order.pk]),
            },
        )
    return render(request, "storefront/order_detail.html", context)


@require_POST
def order_line(request: HttpRequest, order_id: int, line_id: int) -> HttpResponse:
    order = accessible_order(request, order_id)
    if order is None:
        return no_such_order(request)
    try:
        if request.POST.get("action") == "remove":
            order_remove_line(order=order, line_id=line_id)
            messages.success(request, "Removed.")
        else:
            form = LineQuantityForm(request.POST)
            if not form.is_valid():
                raise OrderError(first_error(form))
            order_set_quantity(order=order, line_id=line_id, quantity=form.cleaned_data["quantity"])
            messages.success(request, "Quantity updated.")
    except OrderError as exc:
        messages.error(request, exc.message)
    return redirect(order)


@require_POST
def order_discount(request: HttpRequest, order_id: int) -> HttpResponse:
    order = accessible_order(request, order_id)
    if order is None:
        return no_such_order(request)
    try:
        if request.POST.get("action") == "remove":
            removed = order_remove_discount(order=order)
            messages.success(request, f"{removed.name} removed.")
        else:
            form = DiscountCodeForm(request.POST)
            if not form.is_valid():
                raise OrderError(first_error(form))
            discount = order_apply_discount_code(order=order, code=form.cleaned_data["code"])
            messages.success(request, f"{discount.name} applied.")
    except OrderError as exc:
        messages.error(request, exc.message)
    return redirect(order)


@require_POST
def order_email(request: HttpRequest, order_id: int) -> HttpResponse:
    """Where the receipt of an open order goes (optional; the provider may ask too)."""
    order = accessible_order(request, order_id)
    if order is None:
        return no_such_order(request)
    form = ReceiptEmailForm(request.POST)
    try:
        if not form.is_valid():
            raise OrderError(first_error(form))
        order = order_set_email(order=order, email=form.cleaned_data["email"])
    except OrderError as exc:
        messages.error(request, exc.message)
    else:
        if order.email:
            messages.success(request, f"Your receipt will be e-mailed to {order.email}.")
        else:
            messages.success(request, "No receipt will be e-mailed.")
    return _back(request, order.get_absolute_url())


@require_POST
def order_empty(request: HttpRequest, order_id: int) -> HttpResponse:
    """Empty an open order: every line removed."""
    order = accessible_order(request, order_id)
    if order is None:
        return no_such_order(request)
    try:
        orders.order_empty(order=order)
        messages.success(request, "Your order is empty now.")
    except OrderError as exc:
        messages.error(request, exc.message)
    return redirect(order)


@never_cache
@require_GET
def order_invoice(request: HttpRequest, order_id: int) -> HttpResponse:
    """The PDF invoice of a paid order, for whoever holds the order's key (the link the success
    page gives the buyer). Without the right key it does not exist, whoever asks."""
    order = Order.objects.filter(pk=order_id).first()
    key = request.GET.get("key", "")
    if (
        order is None
        or not key
        or not secrets.compare_digest(key.encode(), order.access_key.encode())
    ):
        return render(request, "404.html", {"message": "There is no such invoice."}, status=404)
    if order.status != Order.Status.PAID:
        message = f"Order #{order.pk} is not paid, so it has no invoice yet."
        return render(request, "404.html", {"message": message}, status=404)
    return invoice_response(order)
