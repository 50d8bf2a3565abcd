"""The buyer's pages: the catalogue, an item, an order, paying on the provider's page (the JSON
answers of `/buy/...`, on DRF: `ItemPayJsonView`, `OrderPayJsonView`) or on ours
(`item_pay_redirect` makes the order and redirects to `order_pay_form`, which renders the
rail's form), and the pages a provider returns the buyer to."""

import secrets

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response

from currencies.minor_units import to_minor_units
from payments.errors import PaymentError
from payments.services import (
    default_rail,
    pay_options,
    payment_confirm,
    rail_methods,
    rails_accepting,
)
from payments.values import Method
from sitewide.api import error_responses
from sitewide.api_errors import error_body
from storefront.documents.invoices import invoice_response
from storefront.models import Item, Order, OrderMail
from storefront.plumbing.page_cache import page_render, shop_page
from storefront.plumbing.throttle import (
    PaymentStartThrottle,
    ShopApiView,
    limit_payment_starts,
    limit_return_pages,
    refusal,
)
from storefront.shop import orders
from storefront.shop.access import accessible_order, buy_now_order, buy_now_remember, remember
from storefront.shop.catalogue import catalogue_page
from storefront.shop.forms import (
    AddToOrderForm,
    DiscountCodeForm,
    LineQuantityForm,
    ReceiptEmailForm,
    first_error,
)
from storefront.shop.order_payment import (
    item_payment_prepare,
    item_payment_start,
    order_payment_start,
)
from storefront.shop.orders import (
    OrderError,
    order_add_item,
    order_apply_discount_code,
    order_remove_discount,
    order_remove_line,
    order_set_email,
    order_set_quantity,
    taxes_for_new_orders,
)
from storefront.shop.pricing import order_totals

# Session key: the order being filled (what else a browser remembers of its orders is in
# storefront.shop.access's signed cookies).
SESSION_CART = "cart_order_id"


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


def _return_urls(request: HttpRequest, rail: str, cancel_query: str) -> dict[str, str]:
    """Where a provider sends the buyer back: our return page for `rail`, or the cancel page."""
    return {
        "return_url": request.build_absolute_uri(reverse("storefront:payment_return", args=[rail])),
        "cancel_url": request.build_absolute_uri(reverse("storefront:cancel")) + cancel_query,
    }


def _chosen_rail(request: HttpRequest, currency: str, method: Method) -> str:
    """`?rail=` if the page's button named one, else the first rail that pays this way."""
    return request.GET.get("rail") or default_rail(currency=currency, method=method)


def _chosen_options(request: HttpRequest) -> dict[str, str]:
    """What else the button's query says (a rail's own options, e.g. a number of parts): passed
    through unread; the chosen rail validates them."""
    return {name: value for name, value in request.GET.items() if name not in {"rail", "key"}}


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


class PaymentStartSerializer(serializers.Serializer):
    """Where to send the buyer: the provider's page of this payment."""

    id = serializers.CharField(
        help_text="The provider's reference of the payment (Stripe: the Checkout Session, cs_...)."
    )
    url = serializers.URLField(help_text="The provider's page to send the buyer to.")


class BuyQuerySerializer(serializers.Serializer):
    """What `/buy/...` reads of its query itself; a rail's own options (`parts`) pass through
    to the rail, which validates them."""

    rail = serializers.SlugField(
        required=False,
        max_length=50,
        help_text="The payment rail (`stripe`, `payparts`); by default the first that takes "
        "the currency on a provider's page.",
    )


_BUY_PARAMETERS = [
    BuyQuerySerializer,
    OpenApiParameter(
        "parts",
        int,
        description="Pay in parts only: the number of parts (other rails ignore it).",
    ),
]
_BUY_ERRORS = {
    "e400": "`rail` is not a rail's name, or an option of the rail is not valid (e.g. a "
    "number of parts it does not offer): `fields` names it.",
    "e409": "It cannot be paid this way: the order is empty or no longer open, or this "
    "currency is paid on the shop's own page only (bank transfer): `url` is that page.",
    "e429": "Too many payment attempts from this address; `Retry-After` says when to retry.",
    "e502": "The payment provider failed or refused.",
    "e503": "The provider cannot be reached, or no account takes this currency.",
}


def _on_page_only(request, currency: str, page_url: str) -> Response | None:
    """409 pointing to our own page when no provider's page takes `currency` and our page
    does (the bank-transfer currency): what is true, instead of "not available"."""
    if request.GET.get("rail") or rails_accepting(currency=currency, method=Method.REDIRECT):
        return None
    on_page = rails_accepting(currency=currency, method=Method.ON_PAGE)
    if not on_page:
        return None
    url = request.build_absolute_uri(page_url)
    message = (
        f"Payments in {currency} are made on the shop's page ({' or '.join(on_page)}), not on "
        f"a provider's page: {url}"
    )
    return Response({**error_body(message), "url": url}, status=409)


@method_decorator(never_cache, name="dispatch")
class ItemPayJsonView(ShopApiView):
    """`GET /buy/<id>`: start paying for one item on the provider's page."""

    authentication_classes = [SessionAuthentication]
    throttle_classes = [PaymentStartThrottle]

    def perform_authentication(self, request):
        """Lazily: the session's user is read only if an earlier order needs it."""

    @extend_schema(
        operation_id="buy_item",
        tags=["payments"],
        summary="Start paying for one item",
        description="Makes (or reuses, for the same browser) a one-line order of the item and "
        "starts its payment on the provider's page: send the buyer to `url`. Also answered "
        "as `/buy/{item_id}` (no trailing slash), as first published.",
        parameters=_BUY_PARAMETERS,
        responses={
            200: PaymentStartSerializer,
            **error_responses(e404="There is no such item.", **_BUY_ERRORS),
        },
    )
    def get(self, request, item_id: str) -> Response:
        BuyQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        item = Item.objects.filter(pk=int(item_id)).first() if item_id.isdecimal() else None
        if item is None:
            return Response(error_body("There is no such item."), status=404)
        earlier = buy_now_order(request, item.pk)
        try:
            rail = _chosen_rail(request, item.currency, Method.REDIRECT)
            order, start = item_payment_start(
                item=item,
                rail=rail,
                method=Method.REDIRECT,
                options=_chosen_options(request),
                earlier=earlier,
                **_return_urls(request, rail, f"?item={item.pk}"),
            )
        except OrderError as exc:
            return Response(error_body(exc.message), status=409)
        except PaymentError as exc:
            on_page = _on_page_only(request, item.currency, item.get_absolute_url())
            return on_page or Response(error_body(exc.message), status=exc.status)
        buy_now_remember(request, item.pk, order.pk)
        return Response({"id": start.provider_ref, "url": start.redirect_url})


@method_decorator(never_cache, name="dispatch")
class OrderPayJsonView(ShopApiView):
    """`GET /buy/order/<id>`: start paying for a whole order on the provider's page."""

    authentication_classes = [SessionAuthentication]
    throttle_classes = [PaymentStartThrottle]

    def perform_authentication(self, request):
        """Lazily, as for ItemPayJsonView."""

    @extend_schema(
        operation_id="buy_order",
        tags=["payments"],
        summary="Start paying for an order",
        description="Starts paying the order on the provider's page: send the buyer to `url`. "
        "Only the browser that made the order (its signed cookie), one that opened its share link "
        "(`?key=`), or staff may pay it; to anyone else it does not exist. Also answered "
        "without the trailing slash.",
        parameters=[
            *_BUY_PARAMETERS,
            OpenApiParameter("key", str, description="The order's share key (its share link)."),
        ],
        responses={
            200: PaymentStartSerializer,
            **error_responses(
                e404="There is no such order (or this browser may not see it).", **_BUY_ERRORS
            ),
        },
    )
    def get(self, request, order_id: str) -> Response:
        BuyQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        order = accessible_order(request, int(order_id)) if order_id.isdecimal() else None
        if order is None:
            return Response(error_body("There is no such order."), status=404)
        try:
            rail = _chosen_rail(request, order.currency, Method.REDIRECT)
            start = order_payment_start(
                order=order,
                rail=rail,
                method=Method.REDIRECT,
                options=_chosen_options(request),
                **_return_urls(request, rail, f"?order={order.pk}"),
            )
        except OrderError as exc:
            return Response(error_body(exc.message), status=409)
        except PaymentError as exc:
            on_page = _on_page_only(request, order.currency, order.get_absolute_url())
            return on_page or Response(error_body(exc.message), status=exc.status)
        return Response({"id": start.provider_ref, "url": start.redirect_url})


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
        return _no_such_order(request)
    return _render_order(request, order)


def _order_lines_context(order: Order) -> dict:
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
    context = _order_lines_context(order)
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
    order = accessible_order(request, order_id)
    if order is None:
        return _no_such_order(request)
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
        return _no_such_order(request)
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
        return _no_such_order(request)
    try:
        orders.order_empty(order=order)
        messages.success(request, "Your order is empty now.")
    except OrderError as exc:
        messages.error(request, exc.message)
    return redirect(order)


@never_cache
@require_GET
@limit_return_pages
def payment_return(request: HttpRequest, rail: str) -> HttpResponse:
    """Where a provider sends the buyer back: say how the payment stands, as the provider says.

    The same once-only fulfilment as the notification's runs here, so whichever comes first
    marks the order paid.
    """
    template = "storefront/payment_result.html"
    try:
        state, payment = payment_confirm(rail=rail, query=request.GET)
    except PaymentError as exc:
        return render(request, template, {"problem": exc.message}, status=exc.status)
    order = Order.for_payment_reference(payment.reference)
    if order is not None:
        remember(request, order.pk)
        if request.session.get(SESSION_CART) == order.pk and not order.is_open:
            del request.session[SESSION_CART]
    # Trying again reopens the form on our page where this rail has one, else the order's page
    # with every way of paying it (a redirect rail, like PrivatBank's, has no form of ours).
    retry_on_page = Method.ON_PAGE in rail_methods(payment.rail)
    # What the page may say of the receipt: where it went, only once it is owed.
    receipt = order.mails.filter(kind=OrderMail.Kind.RECEIPT).first() if order else None
    context = {
        "state": state,
        "payment": payment,
        "order": order,
        "retry_on_page": retry_on_page,
        "receipt": receipt,
    }
    return render(request, template, context)


@require_GET
def checkout_cancel(request: HttpRequest) -> HttpResponse:
    item_id = request.GET.get("item", "")
    item = Item.objects.filter(pk=int(item_id)).first() if item_id.isdecimal() else None
    order_id = request.GET.get("order", "")
    order = accessible_order(request, int(order_id)) if order_id.isdecimal() else None
    return render(request, "storefront/cancel.html", {"item": item, "order": order})


@never_cache
@require_GET
@limit_payment_starts
def item_pay_redirect(request: HttpRequest, item_id: int) -> HttpResponse:
    """Pay for one item on our own page: its one-line order, then that order's pay page.

    The order this browser made for the item before is used again while it is still just
    this item (reloading makes no order and no payment); a new one has its payment started
    here, so a provider that refuses leaves no order behind.
    """
    item = get_object_or_404(Item, pk=item_id)
    try:
        rail = _chosen_rail(request, item.currency, Method.ON_PAGE)
        order = item_payment_prepare(
            item=item,
            rail=rail,
            method=Method.ON_PAGE,
            earlier=buy_now_order(request, item.pk),
            **_return_urls(request, rail, f"?item={item.pk}"),
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
        return _no_such_order(request)
    if not order.is_open:
        messages.info(request, f"Order #{order.pk} is {order.get_status_display().lower()}.")
        return redirect(order)
    template = "storefront/order_pay_form.html"
    try:
        rail = _chosen_rail(request, order.currency, Method.ON_PAGE)
        start = order_payment_start(
            order=order,
            rail=rail,
            method=Method.ON_PAGE,
            **_return_urls(request, rail, f"?order={order.pk}"),
        )
    except OrderError as exc:
        messages.error(request, exc.message)
        return redirect(order)
    except PaymentError as exc:
        return render(
            request, template, {"order": order, "problem": exc.message}, status=exc.status
        )
    return render(request, template, {**_order_lines_context(order), "start": start})


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
