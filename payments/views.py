"""Stripe's webhooks: one endpoint per account, verified, recorded, then handed off."""

import logging

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments.stripe import client as gateway
from payments.stripe.accounts import account_for
from payments.errors import AccountUnavailable, WebhookRejected
from payments.models import WebhookEvent
from payments.services import webhook_receive
from payments.signals import webhook_rejected

logger = logging.getLogger(__name__)
# What a rejected delivery keeps of its body: enough to investigate, not a way to fill the disk.
REJECTED_PAYLOAD_LIMIT = 10_000


@csrf_exempt  # Stripe cannot send a CSRF token; the signature is what authenticates it.
@require_POST
def stripe_webhook(request: HttpRequest, currency: str) -> JsonResponse:
    try:
        account = account_for(currency)
    except AccountUnavailable:
        return JsonResponse({"error": f"No Stripe account for {currency.upper()}."}, status=404)
    payload = request.body
    try:
        event = gateway.webhook_event_verify(
            account, payload=payload, header=request.headers.get("Stripe-Signature")
        )
    except WebhookRejected as exc:
        _record_rejection(account.currency, payload, exc.message)
        return JsonResponse({"error": f"Webhook rejected: {exc.message}"}, status=400)
    try:
        record, duplicate = webhook_receive(
            account=account, event=event, payload=payload.decode("utf-8")
        )
    except Exception:
        logger.exception("webhook %s on %s account failed", event.get("id"), account.currency)
        return JsonResponse({"error": "The event could not be processed; retry."}, status=500)
    outcome = "duplicate" if duplicate else record.status
    return JsonResponse({"received": True, "event": record.event_id, "outcome": outcome})


def _record_rejection(account: str, payload: bytes, reason: str) -> None:
    logger.warning("webhook rejected on %s account: %s", account, reason)
    with transaction.atomic():
        record = WebhookEvent.objects.create(
            account=account,
            signature_valid=False,
            status=WebhookEvent.Status.REJECTED,
            payload=payload[:REJECTED_PAYLOAD_LIMIT].decode("utf-8", errors="replace"),
            error=reason,
        )
        transaction.on_commit(
            lambda: webhook_rejected.send(
                sender=WebhookEvent, account=account, reason=reason, record=record
            ),
            robust=True,
        )
