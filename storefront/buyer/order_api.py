"""`GET /api/orders/<id>/`: how an order and its payments stand, for an integrator (an ERP, a
mobile client) as for the buyer's own page.

Who may read an order: a user's API token whose user has the `storefront.view_order`
permission (any order); otherwise those who may see it in the shop (storefront.shop.access: the
browser that made it, a holder of its share key `?key=`, staff). To anyone else it does not
exist (404), as on its page; a token that is not valid is 401, a token's user without the
permission 403 (and BANK_API_TOKEN, which reads balances only).
"""

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response

from payments.services import payment_statuses, payments_for
from sitewide.api import SITE_TOKEN, BearerTokenAuthentication, error_responses
from sitewide.api_errors import error_body
from storefront.models import Order
from storefront.plumbing.throttle import ShopApiView
from storefront.shop.access import accessible_order
from storefront.shop.pricing import order_totals

VIEW_PERMISSION = "storefront.view_order"


class OrderPaymentSerializer(serializers.Serializer):
    rail = serializers.CharField(help_text="The rail that took it: `stripe`, `bank_transfer`, ...")
    status = serializers.ChoiceField(payment_statuses(), help_text="As its provider says.")
    amount_expected = serializers.IntegerField(help_text="Minor units, as it was started.")
    amount_received = serializers.IntegerField(
        allow_null=True, help_text="Minor units the provider says it took; null until known."
    )
    created = serializers.DateTimeField()
    succeeded_at = serializers.DateTimeField(allow_null=True)


class OrderStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(
        Order.Status.choices, help_text="`paid` once a payment of its total succeeded."
    )
    currency = serializers.CharField()
    total = serializers.IntegerField(help_text="What it costs now, in minor units.")
    paid_at = serializers.DateTimeField(allow_null=True)
    payments = OrderPaymentSerializer(many=True, help_text="Every payment started, newest first.")


@method_decorator(never_cache, name="dispatch")
class OrderStateView(ShopApiView):
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]

    def perform_authentication(self, request):
        """Lazily: a buyer's session is read only where the order needs it."""

    @extend_schema(
        operation_id="order_state",
        tags=["payments"],
        summary="An order and its payments",
        description="Whether the order is open, paid or cancelled, what it costs, and each "
        "payment started for it. `Authorization: Bearer <token>` of a user with the "
        "`storefront.view_order` permission reads any order; without a token, the browser "
        "that made the order, a holder of its share key (`?key=`) or staff.",
        parameters=[
            OpenApiParameter("key", str, description="The order's share key (its share link)."),
        ],
        responses={
            200: OrderStateSerializer,
            **error_responses(
                e401="A token that is not valid.",
                e403="The token's user may not view orders.",
                e404="There is no such order (or the caller may not see it).",
            ),
        },
    )
    def get(self, request, order_id: str) -> Response:
        if not order_id.isdecimal():
            return Response(error_body("There is no such order."), status=404)
        user = request.user  # authenticates: a bad token is a 401 here
        if isinstance(request.successful_authenticator, BearerTokenAuthentication):
            if request.auth == SITE_TOKEN or not user.has_perm(VIEW_PERMISSION):
                raise exceptions.PermissionDenied("You may not see orders.")
            order = Order.objects.filter(pk=int(order_id)).first()
        else:
            order = accessible_order(request, int(order_id))
        if order is None:
            return Response(error_body("There is no such order."), status=404)
        payments = payments_for(order.payment_reference).order_by("-pk")
        state = {
            "id": order.pk,
            "status": order.status,
            "currency": order.currency,
            "total": order_totals(order).total,
            "paid_at": order.paid_at,
            "payments": list(payments),
        }
        return Response(OrderStateSerializer(state).data)
