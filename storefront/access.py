"""Who may see and pay an order: the browser that made it, whoever holds its share key, staff.

A browser remembers the orders it made or paid in its session. A share link
(`/order/<id>/?key=...`) is only read: showing it must not write anything to the database
(every visitor without a cookie would otherwise add a session row). The page's response
carries the proof instead, a signed cookie naming the orders whose key this browser presented,
so its next request (Pay, a change of quantity) needs no key in the URL. The order's key never
changes, so a signed id is as good as the key it was given for.
"""

import secrets
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from storefront.models import Order

# Session key: every order this browser made or paid.
SESSION_ORDERS = "order_ids"
# Cookie: the orders whose share key this browser presented (signed; ids only).
SHARED_COOKIE = "shared_orders"
SHARED_SALT = "storefront.access.shared-orders"
SHARED_KEPT = 20


def remember(request: HttpRequest, order_id: int) -> None:
    """Let this browser see `order_id` from now on (a write: for requests that change things)."""
    known = [pk for pk in request.session.get(SESSION_ORDERS, []) if pk != order_id]
    request.session[SESSION_ORDERS] = [*known, order_id][-50:]


def _shared(request: HttpRequest) -> list[int]:
    try:
        value = request.get_signed_cookie(
            SHARED_COOKIE, default="", salt=SHARED_SALT, max_age=settings.SESSION_COOKIE_AGE
        )
    except signing.BadSignature:
        return []
    return [int(pk) for pk in value.split(",") if pk.isdecimal()]


def accessible_order(request: HttpRequest, order_id: int) -> Order | None:
    """The order if this browser made it, holds its share key, or is staff; else None.

    A right key in `?key=` is remembered by the response's signed cookie (`shares_orders`),
    never in the session.
    """
    order = Order.objects.select_related("discount").filter(pk=order_id).first()
    if order is None:
        return None
    if (
        order.pk in request.session.get(SESSION_ORDERS, [])
        or order.pk in _shared(request)
        or request.user.is_staff
    ):
        return order
    key = request.GET.get("key", "")
    if key and secrets.compare_digest(key.encode(), order.access_key.encode()):
        request.shared_order_id = order.pk
        return order
    return None


def shares_orders(view: Callable) -> Callable:
    """Have `view`'s response remember an order opened by its share key (a signed cookie)."""

    @wraps(view)
    def remembering(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        order_id = getattr(request, "shared_order_id", None)
        if order_id is not None:
            kept = [pk for pk in _shared(request) if pk != order_id][-(SHARED_KEPT - 1) :]
            response.set_signed_cookie(
                SHARED_COOKIE,
                ",".join(str(pk) for pk in [*kept, order_id]),
                salt=SHARED_SALT,
                max_age=settings.SESSION_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    return remembering
