"""How often one client may start a payment: past the limit, a clear 429 instead of another
order, payment and provider call (anyone could otherwise script /buy/{id}, even from another
site, and spend the shop's Stripe rate limit).

A client is its address as the platform's router saw it: the last entry of X-Forwarded-For,
which Heroku's and Render's routers append (earlier entries are whatever the client sent), or
REMOTE_ADDR without a router. Counts live in Django's cache, per window of
`SHOP_START_WINDOW_SECONDS`; with the default local-memory cache each worker process counts
on its own, so a site's limit is at most the setting times its workers.
"""

import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

MESSAGE = "Too many payment attempts from your address. Please wait a minute and try again."


def client_address(request: HttpRequest) -> str:
    forwarded = request.headers.get("X-Forwarded-For", "")
    return forwarded.rsplit(",", 1)[-1].strip() or request.META.get("REMOTE_ADDR", "")


def over_limit(request: HttpRequest, *, scope: str) -> bool:
    """Count one more call of `scope` by this client; whether it is past the limit."""
    window = settings.SHOP_START_WINDOW_SECONDS
    key = f"throttle:{scope}:{client_address(request)}:{int(time.time()) // window}"
    if cache.add(key, 1, timeout=window):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: a new window
        cache.add(key, 1, timeout=window)
        return False
    return count > settings.SHOP_START_LIMIT


def limit_payment_starts(view: Callable) -> Callable:
    """Answer 429 (JSON for the /buy/ endpoints, a page otherwise) past the limit."""

    @wraps(view)
    def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if over_limit(request, scope="payment-start"):
            headers = {"Retry-After": str(settings.SHOP_START_WINDOW_SECONDS)}
            if request.path.startswith("/buy/"):
                return JsonResponse({"error": MESSAGE}, status=429, headers=headers)
            response = render(request, "429.html", {"message": MESSAGE}, status=429)
            response["Retry-After"] = headers["Retry-After"]
            return response
        return view(request, *args, **kwargs)

    return limited
