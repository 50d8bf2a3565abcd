"""The one module of the shop that talks to Stripe (the `stripe` library).

Everything Stripe-specific stops here: callers pass plain parameters and get our own small
values (`CheckoutSession`) or our own exception (`PaymentError`). `stripe.*` errors never leave
this module.

Each Stripe account (one per currency) gets its own `stripe.StripeClient`, built from that
account's secret key. The global `stripe.api_key` is never set: with several accounts and
threaded workers a global key would race and send one currency's payment to another account.

A sandbox account gets the same `StripeClient`, with the sandbox's HTTP client underneath in
place of `requests`: the request encoding, idempotency keys, retries and error parsing are the
library's own in both cases, so what the tests exercise is what runs against Stripe.
"""

import json
import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.templatetags.static import static

from payments.errors import NotificationRejected, PaymentError
from payments.signatures import SignatureInvalid, signature_verify
from payments.stripe.accounts import StripeAccount
from sitewide.timing import provider_timed

logger = logging.getLogger(__name__)

UNREACHABLE_MESSAGE = "We could not reach the payment provider. Please try again in a minute."
REFUSED_MESSAGE = "The payment provider could not process this request. Please try again later."


@dataclass(frozen=True)
class CheckoutSession:
    """What the shop needs to know of a Stripe Checkout Session."""

    id: str
    url: str | None
    status: str | None  # "open", "complete" or "expired"
    payment_status: str  # "paid", "unpaid" or "no_payment_required"
    amount_total: int | None  # minor units
    currency: str | None  # upper-case
    client_reference_id: str | None = None
    payment_intent: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None  # when an open session stops taking payment
    # The buyer's address as Checkout collected it (`customer_details.email`), once paid.
    customer_email: str = ""

    @property
    def is_paid(self) -> bool:
        return self.payment_status in ("paid", "no_payment_required")

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any]) -> "CheckoutSession":
        payment_intent = data.get("payment_intent")
        if isinstance(payment_intent, Mapping):  # expanded
            payment_intent = payment_intent.get("id")
        currency = data.get("currency")
        return cls(
            id=data["id"],
            url=data.get("url"),
            status=data.get("status"),
            payment_status=data.get("payment_status") or "unpaid",
            amount_total=data.get("amount_total"),
            currency=currency.upper() if currency else None,
            client_reference_id=data.get("client_reference_id"),
            payment_intent=payment_intent,
            metadata=dict(data.get("metadata") or {}),
            expires_at=(
                datetime.fromtimestamp(data["expires_at"], tz=UTC)
                if isinstance(data.get("expires_at"), int)
                else None
            ),
            customer_email=(data.get("customer_details") or {}).get("email") or "",
        )


@dataclass(frozen=True)
class PaymentIntent:
    """What the shop needs to know of a Stripe PaymentIntent."""

    id: str
    status: str  # requires_payment_method, requires_action, processing, succeeded, canceled...
    amount: int  # minor units
    currency: str  # upper-case
    client_secret: str | None = field(default=None, repr=False)
    metadata: Mapping[str, str] = field(default_factory=dict)
    last_error: str | None = None  # the decline message a buyer may read
    # Where the buyer's receipt goes: `receipt_email`, else the address on the latest charge's
    # billing details when that charge is expanded (the Payment Element may collect it).
    payer_email: str = ""

    @property
    def is_paid(self) -> bool:
        return self.status == "succeeded"

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any]) -> "PaymentIntent":
        error = data.get("last_payment_error") or {}
        return cls(
            id=data["id"],
            status=data.get("status") or "",
            amount=data.get("amount") or 0,
            currency=(data.get("currency") or "").upper(),
            client_secret=data.get("client_secret"),
            metadata=dict(data.get("metadata") or {}),
            last_error=error.get("message"),
            payer_email=data.get("receipt_email") or _charge_email(data.get("latest_charge")),
        )


def _charge_email(charge: Any) -> str:
    """The billing e-mail of an expanded charge ("" for a bare id or none)."""
    if not isinstance(charge, Mapping):
        return ""
    return (charge.get("billing_details") or {}).get("email") or ""


@dataclass(frozen=True)
class Refund:
    """What the shop needs to know of a Stripe Refund."""

    id: str
    status: str  # pending, requires_action, succeeded, failed or canceled
    amount: int  # minor units
    currency: str  # upper-case
    payment_intent: str | None = None
    charge: str | None = None
    reason: str | None = None  # duplicate, fraudulent, requested_by_customer...
    metadata: Mapping[str, str] = field(default_factory=dict)
    failure_reason: str | None = None  # when it failed: expired_or_canceled_card...

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any]) -> "Refund":
        def ref(value: Any) -> str | None:  # an id, or an expanded object's id
            return value.get("id") if isinstance(value, Mapping) else value

        return cls(
            id=data["id"],
            status=data.get("status") or "",
            amount=data.get("amount") or 0,
            currency=(data.get("currency") or "").upper(),
            payment_intent=ref(data.get("payment_intent")),
            charge=ref(data.get("charge")),
            reason=data.get("reason"),
            metadata=dict(data.get("metadata") or {}),
            failure_reason=data.get("failure_reason"),
        )


REAL_STRIPE_JS = "https://js.stripe.com/v3/"
# Where a sandbox account's requests "go": a name that cannot resolve, read only by the log.
SANDBOX_API_BASE = "https://stripe-sandbox.invalid"


def stripe_js_url(account: StripeAccount) -> str:
    """Where a page of ours loads Stripe.js from for `account`: Stripe's, or the sandbox's stub."""
    if account.sandbox:
        # Today's Stripe.js, or the one from before 2025 with redirectToCheckout: the stub
        # can be either, so both ways of reaching Checkout stay tested.
        return f"{static('sandbox/stripe.js')}?version={settings.STRIPE_SANDBOX_JS_VERSION}"
    return REAL_STRIPE_JS


_clients: dict[tuple, stripe.StripeClient] = {}
_clients_lock = threading.Lock()


def _new_http_client(account: StripeAccount) -> stripe.HTTPClient:
    if account.sandbox:
        from payments.stripe.sandbox.client import SandboxHTTPClient

        return SandboxHTTPClient()
    return stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT)


def _base_addresses(account: StripeAccount) -> dict[str, str] | None:
    """Where an account's API requests go: Stripe's own unless `STRIPE_API_BASE` names another
    base (Stripe's mock server, a recording proxy, a regional endpoint). The library logs
    every request's URL, so a sandbox account says so rather than name api.stripe.com, which
    it never reaches."""
    if account.sandbox:
        return {"api": SANDBOX_API_BASE}
    if settings.STRIPE_API_BASE:
        return {"api": settings.STRIPE_API_BASE}
    return None


def client_for(account: StripeAccount) -> stripe.StripeClient:
    """Return the (cached, thread-safe) StripeClient of one account.

    Retries are explicit: a StripeClient does not retry unless told to. Retried POSTs reuse
    their idempotency key, so a retry never charges twice.
    """
    cache_key = (
        account,
        settings.STRIPE_TIMEOUT,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        settings.STRIPE_API_BASE,
    )
    with _clients_lock:
        client = _clients.get(cache_key)
        if client is None:
            client = stripe.StripeClient(
                account.secret_key,
                http_client=_new_http_client(account),
                max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
                base_addresses=_base_addresses(account),
            )
            _clients[cache_key] = client
        return client


@contextmanager
def _stripe_call(account: StripeAccount, action: str, *, explain: bool = False) -> Iterator[None]:
    """Turn any Stripe failure into a PaymentError, logging what an operator needs (no keys).

    `explain` passes Stripe's own words for a refused request on (for the merchant, who can
    act on "Charge ... has already been refunded"; a buyer gets the generic message).
    The time it takes counts as the provider's in `Server-Timing` (sitewide.timing).
    """
    try:
        with provider_timed():
            yield
    except stripe.APIConnectionError as exc:
        logger.warning("stripe %s on %s account: unreachable (%s)", action, account.currency, exc)
        raise PaymentError(UNREACHABLE_MESSAGE, status=503) from exc
    except stripe.InvalidRequestError as exc:
        logger.warning(
            "stripe %s on %s account refused: %s %s (request_id=%s)",
            action,
            account.currency,
            exc.code,
            exc.user_message,
            exc.request_id,
        )
        if exc.code == "resource_missing":
            raise PaymentError(
                "We could not find this payment.", status=404, request_id=exc.request_id
            ) from exc
        message = f"Stripe refused: {exc.user_message or exc.code}" if explain else REFUSED_MESSAGE
        raise PaymentError(message, status=502, request_id=exc.request_id) from exc
    except stripe.StripeError as exc:
        logger.error(
            "stripe %s on %s account failed: %s %s (http_status=%s request_id=%s)",
            action,
            account.currency,
            type(exc).__name__,
            exc.user_message,
            exc.http_status,
            exc.request_id,
        )
        raise PaymentError(REFUSED_MESSAGE, status=502, request_id=exc.request_id) from exc


def checkout_session_create(
    account: StripeAccount, *, params: dict[str, Any], idempotency_key: str
) -> CheckoutSession:
    """Create a Checkout Session on `account`'s Stripe account."""
    with _stripe_call(account, "checkout.sessions.create"):
        session = client_for(account).v1.checkout.sessions.create(
            params, {"idempotency_key": idempotency_key}
        )
    return CheckoutSession.from_stripe(session.to_dict())


def checkout_session_retrieve(account: StripeAccount, session_id: str) -> CheckoutSession:
    """Fetch a Checkout Session from `account`'s Stripe account (404 PaymentError if unknown)."""
    with _stripe_call(account, "checkout.sessions.retrieve"):
        session = client_for(account).v1.checkout.sessions.retrieve(session_id)
    return CheckoutSession.from_stripe(session.to_dict())


def payment_intent_create(
    account: StripeAccount, *, params: dict[str, Any], idempotency_key: str
) -> PaymentIntent:
    """Create a PaymentIntent on `account`'s Stripe account."""
    with _stripe_call(account, "payment_intents.create"):
        intent = client_for(account).v1.payment_intents.create(
            params, {"idempotency_key": idempotency_key}
        )
    return PaymentIntent.from_stripe(intent.to_dict())


def payment_intent_retrieve(account: StripeAccount, intent_id: str) -> PaymentIntent:
    """Fetch a PaymentIntent from `account`'s Stripe account (404 PaymentError if unknown)."""
    with _stripe_call(account, "payment_intents.retrieve"):
        intent = client_for(account).v1.payment_intents.retrieve(intent_id)
    return PaymentIntent.from_stripe(intent.to_dict())


def charge_payment_intent(account: StripeAccount, charge_id: str) -> str | None:
    """The PaymentIntent a Charge on `account` belongs to (None for a Charge made without one):
    how a dispute that names only its Charge is traced to our payment."""
    with _stripe_call(account, "charges.retrieve"):
        charge = client_for(account).v1.charges.retrieve(charge_id)
    intent = charge.to_dict().get("payment_intent")
    return intent.get("id") if isinstance(intent, Mapping) else intent


def refund_create(
    account: StripeAccount, *, params: dict[str, Any], idempotency_key: str
) -> Refund:
    """Refund (part of) a payment on `account`, the account that took it. A refusal's
    PaymentError carries Stripe's reason ("... greater than unrefunded amount on charge")."""
    with _stripe_call(account, "refunds.create", explain=True):
        refund = client_for(account).v1.refunds.create(params, {"idempotency_key": idempotency_key})
    return Refund.from_stripe(refund.to_dict())


def refund_retrieve(account: StripeAccount, refund_id: str) -> Refund:
    """Fetch a Refund from `account` (404 PaymentError if unknown): how it stands now."""
    with _stripe_call(account, "refunds.retrieve"):
        refund = client_for(account).v1.refunds.retrieve(refund_id)
    return Refund.from_stripe(refund.to_dict())


def checkout_session_of_intent(account: StripeAccount, intent_id: str) -> str | None:
    """The id of the Checkout Session on `account` that made PaymentIntent `intent_id`, if
    one did: how an event naming only a PaymentIntent (a dispute) finds a Checkout payment
    whose own `checkout.session.completed` has not reached us yet."""
    with _stripe_call(account, "checkout.sessions.list"):
        found = client_for(account).v1.checkout.sessions.list(
            {"payment_intent": intent_id, "limit": 1}
        )
    return found.data[0].id if found.data else None


def events_list(account: StripeAccount, *, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every event of `account` that List Events answers for `params` (Stripe's own filters:
    `created`, `delivery_success`, `type`...), newest first, page after page (the library's
    `auto_paging_iter`, with `starting_after`). Raises PaymentError, also part-way through."""
    with _stripe_call(account, "events.list"):
        for event in client_for(account).v1.events.list(params).auto_paging_iter():
            yield event.to_dict()


def stripe_object_create(
    account: StripeAccount, *, kind: str, params: dict[str, Any], idempotency_key: str
) -> str:
    """Create a coupon or a tax rate on `account` and return its Stripe id."""
    client = client_for(account)
    service = {"coupon": client.v1.coupons, "tax_rate": client.v1.tax_rates}[kind]
    with _stripe_call(account, f"{kind}.create"):
        created = service.create(params, {"idempotency_key": idempotency_key})
    return created.id


def webhook_signature_verify(account: StripeAccount, *, payload: bytes, header: str | None) -> None:
    """Check a webhook delivery's `Stripe-Signature` with the account's secret, over the raw
    bytes, before anything parses them (`webhook_event_parse` then reads the event).

    The check is the core's one verifier (`payments.signatures`), which the bank rail uses too.
    Raises NotificationRejected (with the reason) for a missing or malformed header, a signature
    made with another secret or over another body, or a timestamp outside five minutes either way.
    """
    try:
        signature_verify(payload=payload, header=header, secret=account.webhook_secret)
    except SignatureInvalid as exc:
        raise NotificationRejected(exc.message, account=account.identity) from exc


def webhook_event_parse(account: StripeAccount, *, payload: bytes) -> dict[str, Any]:
    """The event a delivery's body holds, once its signature held (`webhook_signature_verify`).
    Raises NotificationRejected for a body that is not a JSON event."""
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotificationRejected("The body is not UTF-8 text.", account=account.identity) from exc
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise NotificationRejected("The body is not JSON.", account=account.identity) from exc
    if not (isinstance(event, dict) and event.get("object") == "event" and event.get("id")):
        raise NotificationRejected("The body is not a Stripe event.", account=account.identity)
    return event
