"""Catalogue, item and order pages, `/buy/...` and the pages Checkout returns the buyer to."""

import secrets

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from payments.stripe.accounts import account_for
from payments.errors import PaymentError
from payments.services import checkout_confirm, payment_intent_confirm
from storefront.forms import AddToOrderForm, DiscountCodeForm, LineQuantityForm, first_error
from storefront.invoices import invoice_response
from storefront.models import Item, Order
from storefront.pricing import order_totals
from storefront.services import (
    OrderError,
    item_checkout_start,
    order_add_item,
    order_apply_discount_code,
    order_checkout_start,
    order_payment_intent_start,
    order_remove_line,
    order_set_quantity,
    taxes_for_new_orders,
)

REAL_STRIPE_JS = "https://js.stripe.com/v3/"
# Session keys: the order being filled, and every order this browser may see and pay.
SESSION_CART = "cart_order_id"
SESSION_ORDERS = "order_ids"


def _payment_context(currency: str) -> dict:
    """What a page with a pay button needs: the account's publishable key and its Stripe.js,
    and which flow the main button uses (the other stays offered as a link)."""
    try:
        account = account_for(currency)
    except PaymentError as exc:
        return {"payments_unavailable": exc.message}
    return {
        "publishable_key": account.publishable_key,
        "stripe_js_url": static("sandbox/stripe.js") if account.sandbox else REAL_STRIPE_JS,
        "payment_flow": settings.SHOP_PAYMENT_FLOW,
    }


def _remember(request: HttpRequest, order_id: int) -> None:
    known = [pk for pk in request.session.get(SESSION_ORDERS, []) if pk != order_id]
    request.session[SESSION_ORDERS] = [*known, order_id][-50:]


def _accessible_order(request: HttpRequest, order_id: int) -> Order | None:
    """The order if this browser made it, holds its share key, or is staff; else None."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return None
    if order.pk in request.session.get(SESSION_ORDERS, []) or request.user.is_staff:
        return order
    key = request.GET.get("key", "")
    if key and secrets.compare_digest(key.encode(), order.access_key.encode()):
        _remember(request, order.pk)
        return order
    return None


def _no_such_order(request: HttpRequest) -> HttpResponse:
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


def _checkout_urls(request: HttpRequest, currency: str, cancel_query: str) -> dict[str, str]:
    return {
        # Stripe fills in {CHECKOUT_SESSION_ID}; the currency says which account to ask.
        "success_url": request.build_absolute_uri(reverse("storefront:success"))
        + f"?session_id={{CHECKOUT_SESSION_ID}}&currency={currency.lower()}",
        "cancel_url": request.build_absolute_uri(reverse("storefront:cancel")) + cancel_query,
    }


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/catalogue.html", {"items": Item.objects.all()})


@require_GET
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(Item, pk=item_id)
    return render(
        request,
        "storefront/item_detail.html",
        {
            "item": item,
            "taxes": taxes_for_new_orders(currency=item.currency),
            **_payment_context(item.currency),
        },
    )


@never_cache
@require_GET
def buy_item(request: HttpRequest, item_id: str) -> JsonResponse:
    """Create a Checkout Session for one item and answer `{"id": "cs_...", "url": "..."}`."""
    item = Item.objects.filter(pk=int(item_id)).first() if item_id.isdecimal() else None
    if item is None:
        return JsonResponse({"error": "There is no such item."}, status=404)
    urls = _checkout_urls(request, item.currency, f"?item={item.pk}")
    try:
        session = item_checkout_start(item=item, **urls)
    except OrderError as exc:
        return JsonResponse({"error": exc.message}, status=409)
    except PaymentError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    if order_id := session.metadata.get("order_id"):
        _remember(request, int(order_id))
    return JsonResponse({"id": session.id, "url": session.url})


@never_cache
@require_GET
def buy_order(request: HttpRequest, order_id: str) -> JsonResponse:
    """One Checkout Session for a whole order: `{"id": "cs_...", "url": "..."}`."""
    order = _accessible_order(request, int(order_id)) if order_id.isdecimal() else None
    if order is None:
        return JsonResponse({"error": "There is no such order."}, status=404)
    urls = _checkout_urls(request, order.currency, f"?order={order.pk}")
    try:
        session = order_checkout_start(order=order, **urls)
    except OrderError as exc:
        return JsonResponse({"error": exc.message}, status=409)
    except PaymentError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    return JsonResponse({"id": session.id, "url": session.url})


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
    try:
        order = order_add_item(order=_cart(request), item=item, quantity=quantity)
    except OrderError as exc:
        messages.error(request, exc.message)
        return _back(request, item.get_absolute_url())
    request.session[SESSION_CART] = order.pk
    _remember(request, order.pk)
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
    order = _accessible_order(request, order_id)
    if order is None:
        return _no_such_order(request)
    return _render_order(request, order)


def _render_order(request: HttpRequest, order: Order) -> HttpResponse:
    lines = list(order.lines.select_related("item"))
    totals = order_totals(order)
    taxes = list(order.taxes.all())
    tax_amounts = totals.tax_by_key()
    context = {
        "order": order,
        "lines": list(zip(lines, totals.lines, strict=True)),
        "totals": totals,
        "tax_rows": [(tax, tax_amounts.get(tax.pk, 0)) for tax in taxes],
    }
    if order.is_open and lines:
        context.update(_payment_context(order.currency))
    return render(request, "storefront/order_detail.html", context)


@require_POST
def order_line(request: HttpRequest, order_id: int, line_id: int) -> HttpResponse:
    order = _accessible_order(request, order_id)
    if order is None:
        return _no_such_order(request)
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
    order = _accessible_order(request, order_id)
    if order is None:
        return _no_such_order(request)
    form = DiscountCodeForm(request.POST)
    try:
        if not form.is_valid():
            raise OrderError(first_error(form))
        discount = order_apply_discount_code(order=order, code=form.cleaned_data["code"])
        messages.success(request, f"{discount.name} applied.")
    except OrderError as exc:
        messages.error(request, exc.message)
    return redirect(order)


def _returned_from_payment(
    request: HttpRequest, template: str, *, param: str, prefix: str, confirm, name: str
) -> HttpResponse:
    """A page the buyer comes back to from Stripe: say how the payment stands, from Stripe.

    `confirm(currency, ident)` asks Stripe about `?<param>=<ident>&currency=...` and fulfils
    it if paid (the same once-only fulfilment as the webhook's).
    """
    ident = request.GET.get(param, "")
    currency = request.GET.get("currency", "")
    if not ident.startswith(prefix) or not currency.isalpha():
        return render(
            request, template, {"problem": "This link does not point to a payment."}, status=400
        )
    try:
        paid_for, payment = confirm(currency, ident)
    except PaymentError as exc:
        return render(request, template, {"problem": exc.message}, status=exc.status)
    order_id = paid_for.metadata.get("order_id", "")
    order = Order.objects.filter(pk=int(order_id)).first() if order_id.isdecimal() else None
    if order is not None:
        _remember(request, order.pk)
        if request.session.get(SESSION_CART) == order.pk and not order.is_open:
            del request.session[SESSION_CART]
    return render(request, template, {name: paid_for, "payment": payment, "order": order})


@never_cache
@require_GET
def checkout_success(request: HttpRequest) -> HttpResponse:
    """Where Checkout sends the buyer after paying."""
    return _returned_from_payment(
        request,
        "storefront/success.html",
        param="session_id",
        prefix="cs_",
        confirm=lambda currency, ident: checkout_confirm(currency=currency, session_id=ident),
        name="session",
    )


@require_GET
def checkout_cancel(request: HttpRequest) -> HttpResponse:
    item_id = request.GET.get("item", "")
    item = Item.objects.filter(pk=int(item_id)).first() if item_id.isdecimal() else None
    order_id = request.GET.get("order", "")
    order = _accessible_order(request, int(order_id)) if order_id.isdecimal() else None
    return render(request, "storefront/cancel.html", {"item": item, "order": order})


@never_cache
@require_GET
def item_pay(request: HttpRequest, item_id: int) -> HttpResponse:
    """Pay for one item on our own page: a one-line order, then its pay page."""
    item = get_object_or_404(Item, pk=item_id)
    try:
        order = order_add_item(order=None, item=item, quantity=1)
    except OrderError as exc:
        messages.error(request, exc.message)
        return redirect(item)
    _remember(request, order.pk)
    return redirect("storefront:order_pay", order_id=order.pk)


@never_cache
@require_GET
def order_pay(request: HttpRequest, order_id: int) -> HttpResponse:
    """The Payment Element on our own page, for the order's total."""
    order = _accessible_order(request, order_id)
    if order is None:
        return _no_such_order(request)
    if not order.is_open:
        messages.info(request, f"Order #{order.pk} is {order.get_status_display().lower()}.")
        return redirect(order)
    try:
        intent = order_payment_intent_start(order=order)
    except OrderError as exc:
        messages.error(request, exc.message)
        return redirect(order)
    except PaymentError as exc:
        return render(
            request,
            "storefront/order_pay.html",
            {"order": order, "problem": exc.message},
            status=exc.status,
        )
    return_url = (
        request.build_absolute_uri(reverse("storefront:payment_return"))
        + f"?currency={order.currency.lower()}"
    )
    return render(
        request,
        "storefront/order_pay.html",
        {
            "order": order,
            "totals": order_totals(order),
            "client_secret": intent.client_secret,
            "return_url": return_url,
            **_payment_context(order.currency),
        },
    )


@never_cache
@require_GET
def payment_return(request: HttpRequest) -> HttpResponse:
    """Where Stripe.js sends the buyer after confirmPayment."""
    return _returned_from_payment(
        request,
        "storefront/payment_return.html",
        param="payment_intent",
        prefix="pi_",
        confirm=lambda currency, ident: payment_intent_confirm(currency=currency, intent_id=ident),
        name="intent",
    )


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
