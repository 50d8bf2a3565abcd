"""Catalogue, item page, `/buy/{id}` and the pages Checkout returns the buyer to."""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from payments.accounts import account_for
from payments.errors import PaymentError
from payments.services import checkout_status
from storefront.models import Item
from storefront.services import item_checkout_start

logger = logging.getLogger(__name__)

REAL_STRIPE_JS = "https://js.stripe.com/v3/"


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/catalogue.html", {"items": Item.objects.all()})


@require_GET
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(Item, pk=item_id)
    context = {"item": item, "payments_unavailable": None}
    try:
        account = account_for(item.currency)
    except PaymentError as exc:
        context["payments_unavailable"] = exc.message
    else:
        context["publishable_key"] = account.publishable_key
        context["stripe_js_url"] = (
            static("sandbox/stripe.js") if account.sandbox else REAL_STRIPE_JS
        )
    return render(request, "storefront/item_detail.html", context)


@never_cache
@require_GET
def buy_item(request: HttpRequest, item_id: str) -> JsonResponse:
    """Create a Checkout Session for one item and answer `{"id": "cs_...", "url": "..."}`."""
    item = Item.objects.filter(pk=int(item_id)).first() if item_id.isdigit() else None
    if item is None:
        return JsonResponse({"error": "There is no such item."}, status=404)
    success_url = (
        request.build_absolute_uri(reverse("storefront:success"))
        # Stripe fills in {CHECKOUT_SESSION_ID}; the currency says which account to ask.
        + f"?session_id={{CHECKOUT_SESSION_ID}}&currency={item.currency.lower()}"
    )
    cancel_url = request.build_absolute_uri(reverse("storefront:cancel")) + f"?item={item.pk}"
    try:
        session = item_checkout_start(item=item, success_url=success_url, cancel_url=cancel_url)
    except PaymentError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    return JsonResponse({"id": session.id, "url": session.url})


@never_cache
@require_GET
def checkout_success(request: HttpRequest) -> HttpResponse:
    """Say how the payment stands, as Stripe (not the query string) tells it."""
    session_id = request.GET.get("session_id", "")
    currency = request.GET.get("currency", "")
    if not session_id.startswith("cs_") or not currency.isalpha():
        return render(
            request,
            "storefront/success.html",
            {"problem": "This link does not point to a payment."},
            status=400,
        )
    try:
        session = checkout_status(currency=currency, session_id=session_id)
    except PaymentError as exc:
        return render(
            request, "storefront/success.html", {"problem": exc.message}, status=exc.status
        )
    item = None
    item_id = session.metadata.get("item_id", "")
    if item_id.isdigit():
        item = Item.objects.filter(pk=int(item_id)).first()
    return render(request, "storefront/success.html", {"session": session, "item": item})


@require_GET
def checkout_cancel(request: HttpRequest) -> HttpResponse:
    item_id = request.GET.get("item", "")
    item = Item.objects.filter(pk=int(item_id)).first() if item_id.isdigit() else None
    return render(request, "storefront/cancel.html", {"item": item})
