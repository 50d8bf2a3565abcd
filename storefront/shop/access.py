"""Who may see and pay an order: the browser that made it, whoever holds its share key, staff.

What a buyer's browser is to remember of its orders is kept in two signed cookies, not in a
`django_session` row (every new browser's first click would otherwise INSERT one); each holds
order ids only, and an order's key never changes, so a signed id is as good as what it was
given for:
- `orders`: the orders this browser made or paid (`remember`), and for each item it bought now
  (`/buy/<item>`, `/item/<item>/pay/`) the order it last made for it (`buy_now_remember`), so a
  second click pays that order again rather than making another;
- `shared_orders`: the orders whose share link (`/order/<id>/?key=...`) it opened. Showing a
  share link is only a read, its key checked on each request; the page's response carries the
  proof, so the next request (Pay, a change of quantity) needs no key in the URL.
`OrderCookiesMiddleware` writes them on the response of a request that changed them. The
session keeps the admin's login and the basket being filled (storefront.buyer.order_pages); the
orders an earlier release listed in a session (`order_ids`) are still its browser's.
"""

import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from storefront.models import Order

# Cookie: the orders this browser made or paid, and its buy-now order of each item (signed).
ORDERS_COOKIE = "orders"
ORDERS_SALT = "storefront.shop.access.orders"
ORDERS_KEPT = 50
BUY_NOW_KEPT = 20
# Cookie: the orders whose share key this browser presented (signed; ids only).
SHARED_COOKIE = "shared_orders"
SHARED_SALT = "storefront.access.shared-orders"
SHARED_KEPT = 20
# Session key, read only: the orders an earlier release remembered in the session.
SESSION_ORDERS = "order_ids"


@dataclass
class BrowserOrders:
    """What the `orders` cookie says (empty for a new browser), changed in this request or not."""

    made: list[int] = field(default_factory=list)
    buy_now: dict[str, int] = field(default_factory=dict)  # item id -> that item's order id
    changed: bool = False

    @classmethod
    def from_cookie(cls, value: str | None) -> "BrowserOrders":
        if not value:
            return cls()
        try:
            data = signing.loads(value, salt=ORDERS_SALT, max_age=settings.SESSION_COOKIE_AGE)
            made = [pk for pk in data["made"] if isinstance(pk, int)]
            buy_now = {str(item): pk for item, pk in data["buy_now"].items() if isinstance(pk, int)}
        except (signing.BadSignature, KeyError, TypeError, AttributeError):
            return cls()
        return cls(made, buy_now)

    def cookie_value(self) -> str:
        return signing.dumps(
            {"made": self.made, "buy_now": self.buy_now}, salt=ORDERS_SALT, compress=True
        )


def _django_request(request) -> HttpRequest:
    """Django's request under a DRF view's (the middleware sees Django's)."""
    return getattr(request, "_request", request)


def browser_orders(request) -> BrowserOrders:
    """This browser's `orders` cookie, read once per request."""
    request = _django_request(request)
    found = request.__dict__.get("_browser_orders")
    if found is None:
        found = BrowserOrders.from_cookie(request.COOKIES.get(ORDERS_COOKIE))
        request._browser_orders = found
    return found


def remember(request, order_id: int) -> None:
    """Let this browser see `order_id` from now on (the response's `orders` cookie)."""
    orders = browser_orders(request)
    orders.made = [*(pk for pk in orders.made if pk != order_id), order_id][-ORDERS_KEPT:]
    orders.changed = True


def buy_now_remember(request, item_id: int, order_id: int) -> None:
    """Remember `order_id` as this browser's order to buy `item_id` now (the last few items)."""
    remember(request, order_id)
    orders = browser_orders(request)
    kept = [(item, pk) for item, pk in orders.buy_now.items() if item != str(item_id)]
    orders.buy_now = {**dict(kept[-(BUY_NOW_KEPT - 1) :]), str(item_id): order_id}


def buy_now_order(request, item_id: int) -> Order | None:
    """The order this browser last made to buy `item_id` now, if it may still see it."""
    order_id = browser_orders(request).buy_now.get(str(item_id))
    return accessible_order(request, order_id) if order_id is not None else None


def _shared(request) -> list[int]:
    try:
        value = request.get_signed_cookie(
            SHARED_COOKIE, default="", salt=SHARED_SALT, max_age=settings.SESSION_COOKIE_AGE
        )
    except signing.BadSignature:
        return []
    return [int(pk) for pk in value.split(",") if pk.isdecimal()]


def accessible_order(request, order_id: int) -> Order | None:
    """The order if this browser made it, holds its share key, or is staff; else None.

    A right key in `?key=` is remembered by the response's signed cookie (`shared_orders`),
    never in the session.
    """
    order = Order.objects.select_related("discount").filter(pk=order_id).first()
    if order is None:
        return None
    if (
        order.pk in browser_orders(request).made
        or order.pk in _shared(request)
        or order.pk in request.session.get(SESSION_ORDERS, [])
        or request.user.is_staff
    ):
        return order
    key = request.GET.get("key", "")
    if key and secrets.compare_digest(key.encode(), order.access_key.encode()):
        _django_request(request)._shared_order_id = order.pk
        return order
    return None


def _cookie_flags() -> dict:
    return {
        "max_age": settings.SESSION_COOKIE_AGE,
        "secure": settings.SESSION_COOKIE_SECURE,
        "httponly": True,
        "samesite": "Lax",  # sent as Stripe's page sends the buyer back
    }


class OrderCookiesMiddleware:
    """Write `orders` and `shared_orders` on the response of a request that changed them; a
    response that read `orders` varies by cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        orders = request.__dict__.get("_browser_orders")
        if orders is not None:
            patch_vary_headers(response, ("Cookie",))
            if orders.changed:
                response.set_cookie(ORDERS_COOKIE, orders.cookie_value(), **_cookie_flags())
        shared = request.__dict__.get("_shared_order_id")
        if shared is not None:
            kept = [pk for pk in _shared(request) if pk != shared][-(SHARED_KEPT - 1) :]
            response.set_signed_cookie(
                SHARED_COOKIE,
                ",".join(str(pk) for pk in [*kept, shared]),
                salt=SHARED_SALT,
                **_cookie_flags(),
            )
        return response
