"""`NotificationMiddleware`: a provider's notification is answered ahead of the middleware that
serve browsers, which do nothing for it but cost every delivery their time.

A notification (`POST /payments/webhooks/<rail>/<account>/`) comes from a provider's server:
it carries no cookie, is CSRF-exempt (its signature authenticates it), reads no session, user
or message, is no static file, and its answer is the same JSON every time. So it is answered
here, past what `settings.MIDDLEWARE` places before this (the client's address, the request id
and log line, the NUL guard, the HTTPS redirect and security headers, Permissions-Policy),
without WhiteNoise, sessions, CommonMiddleware, CSRF, authentication, messages, or Django's
full URL resolution; what those do that a notification's answer shows is done here: the Host
header is checked against ALLOWED_HOSTS (a 400 otherwise, as CommonMiddleware answers), and
the answer gets its Content-Length and the same Content-Security-Policy and X-Frame-Options
headers as every response, built once from the settings rather than per request. Any other
request, and any path the notification route does not match, goes the whole way.

Measured (bench.webhooks, docs/performance.md): this is what brings a duplicate delivery under
the cost of the trivial view behind the whole chain.
"""

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import Resolver404, resolve

from payments import views

#: Where notifications are posted (payments.urls, mounted at the site's root).
NOTIFICATION_PREFIX = "/payments/webhooks/"

_headers: dict[str, str] | None = None


def _answer_headers() -> dict[str, str]:
    """The headers CSPMiddleware and XFrameOptionsMiddleware give an answer no view has
    changed, from the settings (no nonce: the answer is JSON)."""
    global _headers
    if _headers is None:
        built = {
            HEADER: build_policy(),
            HEADER_REPORT_ONLY: build_policy(report_only=True),
            "X-Frame-Options": getattr(settings, "X_FRAME_OPTIONS", "DENY").upper(),
        }
        _headers = {name: value for name, value in built.items() if value}
    return _headers


@receiver(setting_changed)
def _forget_answer_headers(*, setting: str, **kwargs) -> None:
    global _headers
    if setting in (
        "CONTENT_SECURITY_POLICY",
        "CONTENT_SECURITY_POLICY_REPORT_ONLY",
        "X_FRAME_OPTIONS",
    ):
        _headers = None


class NotificationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or not request.path_info.startswith(NOTIFICATION_PREFIX):
            return self.get_response(request)
        try:
            match = resolve(request.path_info, urlconf="payments.urls")
        except Resolver404:
            return self.get_response(request)
        if match.func is not views.notification:
            return self.get_response(request)
        request.get_host()  # DisallowedHost (a 400) unless ALLOWED_HOSTS names it
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        for name, value in _answer_headers().items():
            response.headers.setdefault(name, value)
        if not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        return response
