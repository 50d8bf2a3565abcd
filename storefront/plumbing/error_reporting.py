"""A site that reports its own errors: Sentry when `SENTRY_DSN` is set, else mail to `ADMINS`.

`sentry_init` is called once, from settings, and only with a DSN: without one nothing is
sent anywhere and sentry-sdk is not even started. It reports what breaks in requests
(Django integration) and in background tasks (Celery integration, when Celery is installed),
never the buyer's personal data, share-link keys or cookies, and scrubs every string of an
event with the same rule the logs use (`storefront.plumbing.logging.redact`), so a Stripe secret in
an exception's message, a local variable or a breadcrumb reaches Sentry as `sk_live_[REDACTED]`.
"""

from collections.abc import Mapping
from typing import Any

from storefront.plumbing.logging import redact


def _scrubbed(value: Any, depth: int = 0) -> Any:
    """`value` with every string in it redacted (nested dicts and lists too, to a bound)."""
    if depth > 20:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {key: _scrubbed(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(item, depth + 1) for item in value]
    return value


def event_scrub(event: dict, hint: dict | None = None) -> dict:
    """sentry-sdk's `before_send` (and `before_send_transaction`, `before_breadcrumb`).

    A request's query string and cookies are dropped (share links carry an order's key in the
    query, as the request log knows), and every string left is redacted."""
    request = event.get("request")
    if isinstance(request, dict):
        request = {k: v for k, v in request.items() if k not in ("query_string", "cookies")}
        event = {**event, "request": request}
    return _scrubbed(event)


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    """Start sentry-sdk for this process (web or worker)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # No buyer's identity, address or request body: an error report needs none of them.
        data_collection={"user_info": False, "http_bodies": []},
        traces_sample_rate=traces_sample_rate,
        before_send=event_scrub,
        before_send_transaction=event_scrub,
        before_breadcrumb=event_scrub,
    )
