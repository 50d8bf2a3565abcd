"""The pages a provider returns the buyer to: how the payment stands (running the same
once-only fulfilment as the provider's notification), or the cancel page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from payments.errors import PaymentError
from payments.services import payment_confirm, rail_methods
from payments.values import Method
from storefront.buyer.order_pages import SESSION_CART
from storefront.models import Item, Order, OrderMail
from storefront.plumbing.throttle import limit_return_pages
from storefront.shop.access import accessible_order, remember


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
