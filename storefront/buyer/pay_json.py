"""The JSON answers of `/buy/...` (DRF): start paying for one item (`ItemPayJsonView`) or a
whole order (`OrderPayJsonView`) on the provider's page, and say where to send the buyer."""

from collections.abc import Callable

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response

from payments.errors import PaymentError
from payments.services import rails_accepting
from payments.values import Method, PaymentStart
from sitewide.api import error_responses
from sitewide.api_errors import error_body
from storefront.buyer.paying import chosen_options, chosen_rail, return_urls
from storefront.plumbing.throttle import PaymentStartThrottle, ShopApiView
from storefront.shop.access import accessible_order, buy_now_order, buy_now_remember
from storefront.shop.catalogue import item_for_sale
from storefront.shop.order_payment import item_payment_start, order_payment_start
from storefront.shop.orders import OrderError


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


class _PayJsonView(ShopApiView):
    """What both `/buy/...` views do: start a payment on the provider's page of the rail the
    button chose, and answer where to send the buyer, or why not."""

    authentication_classes = [SessionAuthentication]
    throttle_classes = [PaymentStartThrottle]

    def perform_authentication(self, request):
        """Lazily: the session's user is read only if an earlier order needs it."""

    def started(
        self,
        request,
        *,
        currency: str,
        page_url: str,
        cancel_query: str,
        start: Callable[..., PaymentStart],
    ) -> Response:
        """`start(rail=..., method=..., options=..., return_url=..., cancel_url=...)` starts
        the payment; `page_url` is our own page of what is paid, named in the 409 when only our
        page takes `currency`."""
        try:
            rail = chosen_rail(request, currency, Method.REDIRECT)
            payment = start(
                rail=rail,
                method=Method.REDIRECT,
                options=chosen_options(request),
                **return_urls(request, rail, cancel_query),
            )
        except OrderError as exc:
            return Response(error_body(exc.message), status=409)
        except PaymentError as exc:
            on_page = _on_page_only(request, currency, page_url)
            return on_page or Response(error_body(exc.message), status=exc.status)
        return Response({"id": payment.provider_ref, "url": payment.redirect_url})


@method_decorator(never_cache, name="dispatch")
class ItemPayJsonView(_PayJsonView):
    """`GET /buy/<id>`: start paying for one item on the provider's page."""

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
        if request.query_params:  # no query (the Buy button's call): nothing to validate
            BuyQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        item = item_for_sale(int(item_id)) if item_id.isdecimal() else None
        if item is None:
            return Response(error_body("There is no such item."), status=404)
        earlier = buy_now_order(request, item.pk)

        def start(**how) -> PaymentStart:
            order, payment = item_payment_start(item=item, earlier=earlier, **how)
            buy_now_remember(request, item.pk, order.pk)
            return payment

        return self.started(
            request,
            currency=item.currency,
            page_url=item.get_absolute_url(),
            cancel_query=f"?item={item.pk}",
            start=start,
        )


@method_decorator(never_cache, name="dispatch")
class OrderPayJsonView(_PayJsonView):
    """`GET /buy/order/<id>`: start paying for a whole order on the provider's page."""

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
        return self.started(
            request,
            currency=order.currency,
            page_url=order.get_absolute_url(),
            cancel_query=f"?order={order.pk}",
            start=lambda **how: order_payment_start(order=order, **how),
        )
