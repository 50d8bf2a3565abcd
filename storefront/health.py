"""`/healthz`: is this process up and can it reach its database?

Platforms probe it (Render's `healthCheckPath`, Docker's HEALTHCHECK, a load balancer) over
plain HTTP and often with a Host header of their own (an internal address), so it is answered
by `HealthCheckMiddleware` ahead of CommonMiddleware's ALLOWED_HOSTS check, and it is exempt
from the HTTPS redirect (`SECURE_REDIRECT_EXEMPT`). The answer names nothing but the error's
class: no host, no message, no traceback.
"""

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

HEALTH_PATH = "/healthz"

logger = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 `{"status": "ok", "database": "ok"}`, or 503 naming the database error's class."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        # The operator gets the message in the log; the probe gets the class name only.
        logger.error("health check: database unreachable: %s: %s", type(exc).__name__, exc)
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


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
