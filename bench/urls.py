"""The shop's URLconf plus `/bench/ok`, the floor every page is compared with."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from storefront.urls import urlpatterns as shop_urlpatterns


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("bench/ok", ok), *shop_urlpatterns]
