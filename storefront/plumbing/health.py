"""`/healthz`: is this process up, can it reach its database, does the shared cache answer?

Platforms probe it (Render's `healthCheckPath`, Docker's HEALTHCHECK, a load balancer) over
plain HTTP and often with a Host header of their own (an internal address), so it is answered
by `HealthCheckMiddleware` ahead of CommonMiddleware's ALLOWED_HOSTS check, and it is exempt
from the HTTPS redirect (`SECURE_REDIRECT_EXEMPT`). The answer names nothing but the error's
class: no host, no message, no traceback.

Without its database the shop can do nothing: 503, and the platform stops sending it traffic.
Without the cache (Redis, with REDIS_URL) it still sells: the throttle lets requests through,
so the answer stays 200 and says `"cache": "degraded"` (logged at most once a minute).
"""

import logging
import threading
import time

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

HEALTH_PATH = "/healthz"

logger = logging.getLogger(__name__)

CACHE_PROBE_KEY = "healthz:probe"
# Platforms probe every few seconds: a cache that stays down is logged once a minute.
CACHE_LOG_EVERY_SECONDS = 60
_cache_logged_at = -CACHE_LOG_EVERY_SECONDS
_cache_log_lock = threading.Lock()


def cache_state() -> str:
    """How the cache answers: "ok", or "degraded" when it does not."""
    global _cache_logged_at
    try:
        cache.get(CACHE_PROBE_KEY)
    except Exception as exc:
        with _cache_log_lock:
            now = time.monotonic()
            due = now - _cache_logged_at >= CACHE_LOG_EVERY_SECONDS
            if due:
                _cache_logged_at = now
        if due:
            logger.warning(
                "health check: cache unreachable (the shop keeps selling): %s: %s",
                type(exc).__name__,
                exc,
            )
        return "degraded"
    return "ok"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 `{"status": "ok", "database": "ok", "cache": "ok"}` (`"degraded"` twice when the cache
    does not answer), or 503 naming the database error's class."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        # The operator gets the message in the log; the probe gets the class name only.
        logger.error("health check: database unreachable: %s: %s", type(exc).__name__, exc)
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    cache_answer = cache_state()
    status = "ok" if cache_answer == "ok" else "degraded"
    return JsonResponse({"status": status, "database": "ok", "cache": cache_answer})


class HealthCheckMiddleware:
    """Answer GET/HEAD `/healthz` before the host check; every other request passes through.

    The response contains no URL built from the Host header, so an unlisted host is harmless
    here, while a platform probe with an internal Host would otherwise get a 400.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
