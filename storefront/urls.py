from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from storefront.buyer import (
    catalogue_pages,
    order_api,
    order_pages,
    pay_json,
    pay_pages,
    return_pages,
)
from storefront.plumbing import api_docs, health


def both_spellings(route: str, view, *, name: str) -> list:
    """`route/` (the site's style, and what `reverse` gives) and `route` as first published
    (`GET /item/{id}`, `GET /buy/{id}`): both answer, neither redirects (a script calling
    /buy/{id} gets its JSON, not a 301)."""
    return [path(f"{route}/", view, name=name), path(route, view)]


shop_patterns = (
    [
        path("", catalogue_pages.catalogue, name="catalogue"),
        *both_spellings("item/<int:item_id>", catalogue_pages.item_detail, name="item"),
        path("item/<int:item_id>/pay/", pay_pages.item_pay_redirect, name="item_pay_redirect"),
        *both_spellings(
            "buy/order/<str:order_id>", pay_json.OrderPayJsonView.as_view(), name="order_pay_json"
        ),
        *both_spellings(
            "buy/<str:item_id>", pay_json.ItemPayJsonView.as_view(), name="item_pay_json"
        ),
        path("order/", order_pages.cart, name="cart"),
        path("order/add/", order_pages.order_add, name="order_add"),
        path("order/<int:order_id>/", order_pages.order_detail, name="order"),
        path(
            "order/<int:order_id>/lines/<int:line_id>/", order_pages.order_line, name="order_line"
        ),
        path("order/<int:order_id>/discount/", order_pages.order_discount, name="order_discount"),
        path("order/<int:order_id>/empty/", order_pages.order_empty, name="order_empty"),
        path("order/<int:order_id>/email/", order_pages.order_email, name="order_email"),
        path("order/<int:order_id>/pay/", pay_pages.order_pay_form, name="order_pay_form"),
        path("order/<int:order_id>/invoice.pdf", order_pages.order_invoice, name="order_invoice"),
        path("payment/<slug:rail>/return/", return_pages.payment_return, name="payment_return"),
        # Return links made before there was more than one rail are Stripe's: Checkout's
        # success page and the Payment Element's return page, in sessions still open.
        path("success/", return_pages.payment_return, {"rail": "stripe"}, name="success"),
        path("payment/return/", return_pages.payment_return, {"rail": "stripe"}),
        path("cancel/", return_pages.checkout_cancel, name="cancel"),
    ],
    "storefront",
)

urlpatterns = [
    # Normally answered by storefront.plumbing.health.HealthCheckMiddleware before routing.
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (a JSON answer, say).
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg")),
    path("", include(shop_patterns)),
    path("", include("payments.urls")),
    path("api/orders/<str:order_id>/", order_api.OrderStateView.as_view(), name="api_order"),
    path("api/schema/", api_docs.SchemaView.as_view(), name="api_schema"),
    path("api/docs/", api_docs.DocsView.as_view(), name="api_docs"),
    path("admin/", admin.site.urls),
]
