"""Where a sandbox dispute's events go, and emitting them: to the endpoint its payment's events
went to (its Charge's, its own, or its Checkout Session's), or, for a command naming a shop
(`manage.py sandbox_dispute`), that shop's endpoint of the same account.
"""

from typing import Any
from urllib.parse import urlsplit

from payments.stripe.sandbox import events
from payments.stripe.sandbox.models import SandboxObject


def endpoint_data(endpoint: events.Endpoint | None) -> dict | None:
    return {"origin": endpoint.origin, "currency": endpoint.currency} if endpoint else None


def destination(intent: SandboxObject) -> tuple[str | None, events.Endpoint | None]:
    """Where the payment's events went: its Charge's endpoint, its own, or its session's."""
    charge_id = intent.data.get("latest_charge")
    charge = SandboxObject.objects.filter(
        id=charge_id or "", account=intent.account, object="charge"
    ).first()
    if charge is not None and charge.private.get("endpoint"):
        return charge.private.get("webhook_secret"), events.Endpoint(**charge.private["endpoint"])
    return_url = intent.private.get("return_url")
    if return_url:
        parts = urlsplit(return_url)
        return intent.private.get("webhook_secret"), events.endpoint_for(
            f"{parts.scheme}://{parts.netloc}", intent.data["currency"]
        )
    session = SandboxObject.objects.filter(
        object="checkout.session", account=intent.account, data__payment_intent=intent.id
    ).first()
    if session is not None:
        return session.private.get("webhook_secret"), events.session_endpoint(session)
    return None, None


def sent_to(endpoint: events.Endpoint | None, origin: str | None) -> events.Endpoint | None:
    """The same account's endpoint on `origin` (the shop a command names), else `endpoint`.

    A payment made through Django's test client keeps its made-up endpoint, where nothing
    listens: its events are only recorded, as its payment's were.
    """
    if origin is None or endpoint is None or endpoint.on_test_client:
        return endpoint
    return events.endpoint_for(origin, endpoint.currency) or endpoint


def send_to(dispute: SandboxObject, origin: str | None) -> None:
    """Send this dispute's events from now on to `origin`'s endpoint (see `sent_to`)."""
    endpoint = dispute.private.get("endpoint")
    moved = sent_to(events.Endpoint(**endpoint) if endpoint else None, origin)
    if moved is not None and endpoint_data(moved) != endpoint:
        dispute.private["endpoint"] = endpoint_data(moved)
        dispute.save(update_fields=["private"])


def emit(
    dispute: SandboxObject, type: str, previous: dict[str, Any] | None = None
) -> SandboxObject:
    endpoint = dispute.private.get("endpoint")
    event = events.event_create(
        account=dispute.account,
        type=type,
        obj=dispute.data,
        secret=dispute.private.get("webhook_secret"),
        endpoint=events.Endpoint(**endpoint) if endpoint else None,
    )
    if previous:
        # Stripe's `*.updated` events say what changed; delivery reads the row after commit.
        event.data["data"]["previous_attributes"] = previous
        event.save(update_fields=["data"])
    dispute.private.setdefault("events", []).append(event.id)
    return event
