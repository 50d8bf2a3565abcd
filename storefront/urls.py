from django.contrib import admin
from django.urls import include, path

from storefront import views

shop_patterns = (
    [
        path("", views.catalogue, name="catalogue"),
        path("item/<int:item_id>", views.item_detail, name="item"),
        path("buy/<str:item_id>", views.buy_item, name="buy"),
        path("success/", views.checkout_success, name="success"),
        path("cancel/", views.checkout_cancel, name="cancel"),
    ],
    "storefront",
)

urlpatterns = [
    path("", include(shop_patterns)),
    path("sandbox/", include("payments.sandbox.urls")),
    path("admin/", admin.site.urls),
]
