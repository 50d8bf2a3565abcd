"""Webhook events in the sandbox: recorded like Stripe's Events, sent signed like Stripe sends them.

What happens to a Checkout Session (paid: `checkout.session.completed`; expired:
`checkout.session.expired`), or to a PaymentIntent (`payment_intent.succeeded`,
`payment_intent.payment_failed`), becomes an Event (`evt_...`, shaped like Stripe's own
example: `id`, `object`, `api_version`, `created`, `data.object` = a snapshot of the object,
`livemode`, `pending_webhooks`, `request`, `type`), kept as a `SandboxObject(object="event")` of
the account and readable through the API (`GET /v1/events/{id}`, `retrieve_event`).

The modules where things happen make the events (`checkout_sessions` on expiry,
`hosted_checkout` on payment, `payment_confirmation` for PaymentIntents) by calling
`event_create` or `checkout_session_event` with the object as it now is; this module knows
nothing of them (it imports only `objects` and `models`).

Each event is then POSTed to the account's webhook endpoint: the shop's own
`payments:notification` URL of the Stripe rail (`/payments/webhooks/stripe/<currency>/`) on
the origin the session's return URLs point at, with Stripe's headers and a `Stripe-Signature`
made with the account's webhook secret (`whsec_sandbox_<currency>` for a sandbox key), freshly
timestamped for every attempt.

Delivery, like Stripe's (compressed in time): an answer in 2xx delivers the event
(`pending_webhooks` becomes 0); anything else (another status, a refused connection, a timeout
after `DELIVERY_TIMEOUT_SECONDS`, a redirect: Stripe does not follow them) is retried after
each of `RETRY_DELAYS` (0.5 s, 1 s, 2 s), all within `DELIVERY_DEADLINE_SECONDS` (10 s), then
given up (Stripe keeps retrying for days; a sandbox need not). Every attempt is recorded in the
event's `private["deliveries"]` (when, the URL, the status code or the error, the start of the
answer); giving up in `private["gave_up_at"]`. The webhook secret never enters the event's
`data` and is never logged.

The mode is the setting `STRIPE_SANDBOX_WEBHOOKS`, read each time an event is created:

- `"thread"` (the default): once the transaction that created the event commits
  (`transaction.on_commit`; a rolled-back payment sends nothing), a daemon thread delivers it,
  retries included. This is how `make run` and the live-server browser tests work: the shop's
  own server receives the event, verifies it and acts on it, as it would Stripe's.
- `"off"`: the event is only recorded, undelivered (`pending_webhooks: 1`). For unit tests,
  which post their own events to the endpoint, or call `deliver` themselves.

Either way, an event for a session made through Django's test client (return URLs on
`http://testserver`, where nothing listens) is only recorded.

A developer can list events and send one again (`python manage.py sandbox_events list`,
`... resend evt_...`, `... curl evt_...`).
"""

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.db import connections, transaction
from django.urls import NoReverseMatch, reverse

from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import (
    API_VERSION,
    RETRIEVE,
    Response,
    get_object,
    new_id,
    parse_params,
)

logger = logging.getLogger(__name__)

MODES = ("thread", "off")
DEFAULT_MODE = "thread"
DELIVERY_TIMEOUT_SECONDS = 5  # for one attempt
# All attempts of one delivery, back-off included, fit in this (the thread mode's worst case).
DELIVERY_DEADLINE_SECONDS = 10
MINIMUM_ATTEMPT_SECONDS = 0.1
# Waits before the second, third and fourth attempts; then the sandbox gives up. Read at call
# time, so a test can shorten them.
RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0)
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
CONTENT_TYPE = "application/json; charset=utf-8"
# Where the shop's endpoint lives if its URL is not registered (yet): the documented path.
WEBHOOK_PATH_FALLBACK = "/payments/webhooks/stripe/{currency}/"
TEST_CLIENT_HOST = "testserver"
# How much of an endpoint's answer an attempt keeps: enough to see why it refused.
RESPONSE_KEEP_CHARS = 500


class EventError(Exception):
    """An event the sandbox cannot find or cannot send."""


class EventNotFound(EventError, LookupError):
    """No event of that id in the sandbox."""


class EventUndeliverable(EventError):
    """The event has no endpoint or no secret to sign it with (a session without return URLs)."""


@dataclass(frozen=True)
class Endpoint:
    """An account's webhook endpoint: the shop's origin and the account's (lower-case) currency.

    The URL is resolved when it is used (`url`), so it follows the shop's URLconf.
    """

    origin: str  # "http://127.0.0.1:8000"
    currency: str  # "usd"

    @property
    def url(self) -> str:
        return self.origin + webhook_path(self.currency)

    @property
    def on_test_client(self) -> bool:
        """On Django's test client's made-up host (`http://testserver`), where nothing listens."""
        return urlsplit(self.origin).hostname == TEST_CLIENT_HOST


def webhook_path(currency: str) -> str:
    """The path of the shop's webhook endpoint for an account's currency."""
    currency = currency.lower()
    try:
        return reverse("payments:notification", kwargs={"rail": "stripe", "account": currency})
    except NoReverseMatch:
        return WEBHOOK_PATH_FALLBACK.format(currency=currency)


def endpoint_for(origin: str | None, currency: str) -> Endpoint | None:
    """The endpoint on `origin` (`scheme://host[:port]`), or None when it is not a web origin."""
    try:
        parts = urlsplit(origin or "")
    except ValueError:  # "http://[::1": not a URL at all
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return Endpoint(origin=f"{parts.scheme}://{parts.netloc}", currency=currency.lower())


def session_endpoint(session: SandboxObject) -> Endpoint | None:
    """Where a Checkout Session's events go: the origin of its success (or cancel) URL."""
    currency = session.private.get("webhook_currency") or session.data["currency"]
    for name in ("success_url", "cancel_url"):
        url = session.data.get(name)
        if url:
            return endpoint_for(url, currency)
    return None


def mode() -> str:
    value = settings.STRIPE_SANDBOX_WEBHOOKS
    if value not in MODES:
        logger.warning(
            "STRIPE_SANDBOX_WEBHOOKS=%r is not one of %s: sandbox events are not delivered",
            value,
            MODES,
        )
        return "off"
    return value


# --- Events -------------------------------------------------------------------------------


def event_create(
    *,
    account: str,
    type: str,
    obj: dict[str, Any],
    secret: str | None,
    endpoint: Endpoint | None,
    previous_attributes: dict[str, Any] | None = None,
) -> SandboxObject:
    """Record an event about `obj` (a snapshot of it is taken now) and have it delivered.

    Call it inside the transaction that changed the object: delivery starts only after that
    transaction commits, and not at all if it rolls back. `secret` is the account's webhook
    secret (None, or no `endpoint`: recorded, never delivered). An `*.updated` event gives
    the changed fields' former values (`data.previous_attributes`), as Stripe's do.
    """
    event = {
        "id": new_id("evt_"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "data": {
            "object": json.loads(json.dumps(obj)),
            **({"previous_attributes": previous_attributes} if previous_attributes else {}),
        },
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
    }
    current_mode = mode()
    row = SandboxObject.objects.create(
        id=event["id"],
        account=account,
        object="event",
        data=event,
        private={
            "endpoint": (
                {"origin": endpoint.origin, "currency": endpoint.currency} if endpoint else None
            ),
            # The sandbox's own fake secret (`whsec_sandbox_usd`), kept to sign resends.
            "webhook_secret": secret,
            "mode": current_mode,
            "deliveries": [],
        },
    )
    if endpoint is None or not secret:
        logger.info("sandbox event %s (%s) has no webhook endpoint: not sent", row.id, type)
    elif endpoint.on_test_client:
        # A session made through the test client: no server to send to, and no reason to look
        # the name up on the network. `sandbox_events resend --origin` can still send it.
        logger.info("sandbox event %s (%s) is for %s: not sent", row.id, type, endpoint.origin)
    elif current_mode == "thread":
        transaction.on_commit(lambda: deliver_in_background(row.id), robust=True)
    return row


def checkout_session_event(session: SandboxObject, type: str) -> SandboxObject:
    """Record (and deliver) a `checkout.session.*` event about `session` as it is now."""
    return event_create(
        account=session.account,
        type=type,
        obj=session.data,
        secret=session.private.get("webhook_secret"),
        endpoint=session_endpoint(session),
    )


def checkout_payment_intent_event(
    session: SandboxObject, intent: SandboxObject, type: str
) -> SandboxObject:
    """Record (and deliver) a `payment_intent.*` event about the PaymentIntent that paid
    `session`: Stripe sends these for Checkout's PaymentIntents too, to the same endpoint."""
    return event_create(
        account=session.account,
        type=type,
        obj=intent.data,
        secret=session.private.get("webhook_secret"),
        endpoint=session_endpoint(session),
    )


def retrieve_event(account: str, params: dict[str, Any], event_id: str) -> Response:
    """`GET /v1/events/{id}`: the account's own events only, as at Stripe."""
    parse_params(RETRIEVE, params)
    return Response(200, get_object(account, "event", event_id).data)


def event_get(event_id: str) -> SandboxObject:
    event = SandboxObject.objects.filter(id=event_id, object="event").first()
    if event is None:
        raise EventNotFound(f"No such event: '{event_id}'")
    return event


def event_endpoint(event: SandboxObject, origin: str | None = None) -> Endpoint | None:
    """The endpoint the event was made for, or the same account's endpoint on another `origin`.

    Raises EventUndeliverable for an `origin` that is not `http(s)://host[:port]`.
    """
    stored = event.private.get("endpoint")
    if origin is None:
        return Endpoint(**stored) if stored else None
    currency = stored["currency"] if stored else event.data["data"]["object"].get("currency")
    endpoint = endpoint_for(origin, currency or "")
    if endpoint is None or not currency:
        raise EventUndeliverable(f"Cannot send event {event.id} to {origin!r}.")
    return endpoint


def event_body(event: SandboxObject) -> str:
    """The exact body Stripe would POST: the event as JSON (pretty-printed, as Stripe's is)."""
    return json.dumps(event.data, indent=2)


def signature_header(event: SandboxObject, body: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` over `body`, made now (or at `timestamp`) with the account's secret."""
    secret = event.private.get("webhook_secret")
    if not secret:
        raise EventUndeliverable(f"Event {event.id} has no webhook secret to sign it with.")
    return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)


def delivery_headers(signature: str) -> dict[str, str]:
    return {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        "Stripe-Signature": signature,
    }


# --- Delivery -----------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Stripe does not follow redirects: a 3xx is a failed attempt, like any other non-2xx."""

    def redirect_request(self, *args, **kwargs):
        return None


# Straight to the endpoint (the shop itself): no proxy from the environment, no redirects.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def _post(url: str, body: str, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """POST once; return (status code, start of the answer) or (None, the error)."""
    if urlsplit(url).scheme not in ("http", "https"):
        return None, f"not an http(s) URL: {url}"
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url, data=body.encode("utf-8"), headers=headers, method="POST"
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, _start_of(response)
    except urllib.error.HTTPError as exc:  # an answer, just not 2xx
        with exc:
            return exc.code, _start_of(exc)
    except (OSError, ValueError) as exc:  # URLError, refused, timed out, a malformed answer...
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return None, f"{type(reason).__name__}: {reason}"
    except Exception as exc:  # http.client.HTTPException and the like: still just a failure
        return None, f"{type(exc).__name__}: {exc}"


def _start_of(response) -> str:
    try:
        return response.read(RESPONSE_KEEP_CHARS).decode("utf-8", errors="replace")
    except Exception:  # the status is what counts; a body that breaks off changes nothing
        return ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def attempt(
    event_id: str,
    *,
    trigger: str = "automatic",
    origin: str | None = None,
    timeout: float = DELIVERY_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Send the event once, freshly signed; record the attempt; return it.

    `origin` sends it to the account's endpoint on another server than the one it was made for
    (`http://127.0.0.1:8001`). Raises EventNotFound for an unknown event, EventUndeliverable for
    one without an endpoint or a secret.
    """
    event = event_get(event_id)
    endpoint = event_endpoint(event, origin)
    if endpoint is None:
        raise EventUndeliverable(f"Event {event_id} has no webhook endpoint to send it to.")
    url = endpoint.url
    body = event_body(event)
    started = time.monotonic()
    status, detail = _post(url, body, delivery_headers(signature_header(event, body)), timeout)
    delivered = status is not None and 200 <= status < 300
    record = {
        "at": _now(),
        "trigger": trigger,
        "url": url,
        "status": status,
        "error": None if status is not None else detail,
        "response": detail if status is not None else None,
        "duration_ms": round((time.monotonic() - started) * 1000),
    }
    with transaction.atomic():
        row = SandboxObject.objects.select_for_update().get(id=event_id, object="event")
        row.private.setdefault("deliveries", []).append(record)
        if delivered:
            row.data["pending_webhooks"] = 0
            row.private.setdefault("delivered_at", record["at"])
        row.save(update_fields=["data", "private"])
    if delivered:
        logger.info(
            "sandbox event %s (%s) delivered to %s: %s", event_id, event.data["type"], url, status
        )
    else:
        logger.warning(
            "sandbox event %s (%s) not accepted by %s: %s",
            event_id,
            event.data["type"],
            url,
            status if status is not None else detail,
        )
    return record


def deliver(event_id: str) -> bool:
    """Deliver an event as Stripe does: retry with back-off until a 2xx, or give up.

    One attempt, then one more after each of `RETRY_DELAYS`, all within
    `DELIVERY_DEADLINE_SECONDS` (an attempt's timeout is cut to what is left; a retry that would
    start too late is not made). Returns whether the endpoint accepted the event. Runs
    synchronously (the thread mode runs it in a background thread).
    """
    deadline = time.monotonic() + DELIVERY_DEADLINE_SECONDS
    attempts = 0
    for delay in (0.0, *RETRY_DELAYS):
        if attempts:
            if time.monotonic() + delay + MINIMUM_ATTEMPT_SECONDS > deadline:
                break
            time.sleep(delay)
        attempts += 1
        record = attempt(
            event_id,
            trigger="automatic" if attempts == 1 else "retry",
            timeout=max(
                MINIMUM_ATTEMPT_SECONDS,
                min(DELIVERY_TIMEOUT_SECONDS, deadline - time.monotonic()),
            ),
        )
        if record["status"] is not None and 200 <= record["status"] < 300:
            return True
    with transaction.atomic():
        row = SandboxObject.objects.select_for_update().get(id=event_id, object="event")
        row.private["gave_up_at"] = _now()
        row.save(update_fields=["private"])
    logger.warning("sandbox event %s: gave up after %d attempts", event_id, attempts)
    return False


def deliver_in_background(event_id: str) -> threading.Thread:
    """Start delivering the event in a daemon thread (the "thread" mode); return the thread."""
    shared = {
        conn.alias: conn
        for conn in connections.all(initialized_only=True)
        if conn.vendor == "sqlite" and conn.is_in_memory_db() and conn.allow_thread_sharing
    }
    thread = threading.Thread(
        target=_deliver_logged,
        args=(event_id, shared),
        name=f"sandbox-webhook-{event_id}",
        daemon=True,
    )
    thread.start()
    return thread


def _deliver_logged(event_id: str, shared: dict) -> None:
    # A live-server test on in-memory SQLite shares its one connection with the server's
    # threads (Django's `connections_override`); the delivery uses it too, as they do: a
    # connection of its own would meet the server's table locks ("database table is locked").
    for alias, conn in shared.items():
        connections[alias] = conn
    try:
        deliver(event_id)
    except Exception:  # a thread's exception would go nowhere: say it in the log
        logger.exception("sandbox event %s: delivery failed", event_id)
    finally:
        connections.close_all()  # an in-memory SQLite connection ignores this, as it must


def delivery_state(event: SandboxObject) -> str:
    """One word for the event's delivery: delivered, pending, failed (given up) or unsent."""
    if event.data.get("pending_webhooks") == 0:
        return "delivered"
    if event.private.get("gave_up_at"):
        return "failed"
    if not event.private.get("deliveries"):
        return "unsent"
    return "pending"
