"""How often one client may do what costs the shop: past a limit, a clear 429 instead of
another order, payment, provider call or row (anyone could otherwise script /buy/{id}, even
from another site, and spend the shop's Stripe rate limit or grow its database).

Each scope has its own limit per window of `SHOP_START_WINDOW_SECONDS`:
- "payment-start": /buy/..., the pay pages (`SHOP_START_LIMIT`);
- "payment-return": the pages a provider sends the buyer back to (`SHOP_RETURN_LIMIT`);
- "order-create": a new order from `POST /order/add/` (`SHOP_ORDER_LIMIT`).

A client is `REMOTE_ADDR`, which storefront.plumbing.client_address has set to the client's address
as the deployment's own proxies saw it (never what the client wrote in X-Forwarded-For); an IPv6
client is its /64, the block one connection is usually handed.

The count slides: a window is counted in `SLOTS` slots, and a call is let through only while
the calls let through in the current slot and the `SLOTS` before it (a span at least a window
long) stay within the limit, so no window-length span ever holds more than the limit, however
the calls fall about a slot's edge. Refused calls are not counted (a refused call's count is
taken back at once). A call counts itself first and reads the other slots after, the slot
after its own included: of any calls let through, the last to count itself has then seen all
the others, even those of processes whose clocks have already moved to the next slot, so
concurrent calls never let more than the limit through. Counts live in Django's
cache (Redis in production, shared by every process; per process with the local-memory
default) and use only its atomic `add`, `incr` and `decr`, or on the shop's Redis cache one
script that counts and reads at once (one round trip). When the cache cannot be reached,
the shop keeps selling: calls go through, the cache is asked again only after a few seconds,
and a warning is logged at most once a minute.
"""

import contextlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.views import APIView

from storefront.plumbing import shared_cache

logger = logging.getLogger(__name__)

# Slots per window: a refused client waits at most a window and one slot (5 s of a minute).
SLOTS = 12


@dataclass(frozen=True)
class Scope:
    limit_setting: str
    message: str


SCOPES = {
    "payment-start": Scope(
        "SHOP_START_LIMIT",
        "Too many payment attempts from your address. Please wait a minute and try again.",
    ),
    "payment-return": Scope(
        "SHOP_RETURN_LIMIT",
        "Too many payment pages opened from your address. Please wait a minute and try again.",
    ),
    "order-create": Scope(
        "SHOP_ORDER_LIMIT",
        "Too many new orders from your address. Please wait a minute and try again.",
    ),
}
MESSAGE = SCOPES["payment-start"].message


def _now() -> float:
    """Wall-clock time: slots are shared by every process, so never a monotonic clock."""
    return time.time()


def client_bucket(request: HttpRequest) -> str:
    """Whom a call counts against: the client's IPv4 address, or its IPv6 /64."""
    address = request.META.get("REMOTE_ADDR", "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class CacheOutage(shared_cache.CacheOutage):
    """The throttle's memory of the cache failing (storefront.plumbing.shared_cache): while it
    lasts, calls are let through uncounted."""

    def __init__(self) -> None:
        super().__init__(
            logger, "throttle: the cache cannot be reached (%s); calls are let through uncounted"
        )


cache_outage = CacheOutage()


def _count_one_more(key: str, *, timeout: int) -> int:
    """Add one to the counter `key` (made if missing); the count after it. It is incremented
    first: on Redis a counter present (the usual case) then costs no failed `add`."""
    with contextlib.suppress(ValueError):  # not there yet, or expired
        return cache.incr(key)
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # gone between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


def _count_and_read(key: str, others: list[str], *, timeout: int) -> tuple[int, dict]:
    """Count one more call in `key`, then read the counts `others`: in one round trip where the
    cache can (the shop's Redis cache, storefront.plumbing.redis_cache), else two."""
    one_trip = getattr(cache, "count_and_read", None)
    if one_trip is not None:
        return one_trip(key, others, timeout=timeout)
    counted = _count_one_more(key, timeout=timeout)
    return counted, cache.get_many(others)


def _uncount(key: str) -> None:
    with contextlib.suppress(ValueError):  # already expired: nothing to take back
        cache.decr(key)


def wait_needed(request: HttpRequest, *, scope: str) -> int:
    """Count one more call of `scope` by this client: 0 while it is within the limit, else
    (the call not counted) how many seconds until one would be let through again."""
    if cache_outage.ongoing():
        return 0
    limit = getattr(settings, SCOPES[scope].limit_setting)
    window = max(settings.SHOP_START_WINDOW_SECONDS, 1)
    slot_seconds = window / SLOTS
    now = _now()
    current = int(now // slot_seconds)
    prefix = f"throttle:{scope}:{client_bucket(request)}:"
    slots = range(current - SLOTS, current + 1)
    try:
        # Read after counting, the next slot included (see the module's docstring).
        counted, others = _count_and_read(
            f"{prefix}{current}",
            [f"{prefix}{slot}" for slot in (*slots[:-1], current + 1)],
            timeout=math.ceil(window) + 2,
        )
        if counted + sum(others.values()) <= limit:
            return 0
        _uncount(f"{prefix}{current}")
    except Exception as exc:  # the cache is down: keep selling
        cache_outage.happened(exc)
        return 0
    counts = [others.get(f"{prefix}{slot}", 0) for slot in slots[:-1]] + [
        counted - 1 + others.get(f"{prefix}{current + 1}", 0)
    ]
    # One more call fits once the oldest slots holding this many calls have slid out.
    must_leave = sum(counts) + 1 - limit
    for slot, count in zip(slots, counts, strict=True):
        must_leave -= count
        if must_leave <= 0:
            return max(1, math.ceil((slot + SLOTS + 1) * slot_seconds - now))
    return math.ceil(window + slot_seconds)


def refusal(request: HttpRequest, *, scope: str) -> HttpResponse | None:
    """Count one more call of `scope` by this client: None while within the limit, else the
    429 to answer (JSON for the /buy/ endpoints, a page otherwise), with Retry-After."""
    wait = wait_needed(request, scope=scope)
    if not wait:
        return None
    message = SCOPES[scope].message
    if request.path.startswith("/buy/"):
        response = JsonResponse({"error": message}, status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(wait)
    return response


def limited(scope: str) -> Callable[[Callable], Callable]:
    """A view decorator: every call of the view counts in `scope`; past the limit, a 429."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def view_limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            refused = refusal(request, scope=scope)
            if refused is not None:
                return refused
            return view(request, *args, **kwargs)

        return view_limited

    return decorate


limit_payment_starts = limited("payment-start")
limit_return_pages = limited("payment-return")


class SharedCacheThrottle:
    """The sliding count above (the shared cache) as a DRF throttle; `scope` is one of `SCOPES`.
    Subclass it with the scope set."""

    scope = "payment-start"

    def __init__(self) -> None:
        self._wait = 0

    def allow_request(self, request, view) -> bool:
        self._wait = wait_needed(request, scope=self.scope)
        return not self._wait

    def wait(self) -> int:
        return self._wait


class PaymentStartThrottle(SharedCacheThrottle):
    scope = "payment-start"


class ShopApiView(APIView):
    """An API view whose throttle refusal says the scope's sentence, with Retry-After."""

    def throttled(self, request, wait):
        scopes = {getattr(cls, "scope", None) for cls in self.throttle_classes}
        scope = next((name for name in scopes if name in SCOPES), None)
        message = SCOPES[scope].message if scope else None
        raise exceptions.Throttled(wait=wait, detail=message)
