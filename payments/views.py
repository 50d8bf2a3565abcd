"""Notifications from providers: one endpoint per rail and account, authenticated by the rail,
recorded and acted on by the core."""

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import redeliveries
from payments.errors import NotificationRejected, PaymentError
from payments.rails import rail_named
from payments.records import notification_receive, notification_reject

logger = logging.getLogger(__name__)


@csrf_exempt  # A provider cannot send a CSRF token; its signature is what authenticates it.
@require_POST
def notification(request: HttpRequest, rail: str, account: str) -> JsonResponse:
    try:
        found = rail_named(rail)
        # A redelivery of a notification recorded before is counted on what identifies it,
        # once authenticated (no query; payments.redeliveries); only others are read in full.
        known = found.notification_identify(request=request, account=account)
        cached = None if known is None else redeliveries.counted(known)
        if cached is redeliveries.Counted.YES:
            return _answer(known.event_id, "duplicate")
        read = found.notification_read(request=request, account=account)
    except NotificationRejected as exc:
        notification_reject(
            rail=rail, account=exc.account or account, payload=request.body, reason=exc.message
        )
        fields = {"fields": exc.fields} if exc.fields else {}
        return JsonResponse(
            {"error": f"Webhook rejected: {exc.message}", **fields}, status=exc.status
        )
    except PaymentError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    try:
        record, duplicate = notification_receive(
            read, payload=request.body.decode("utf-8"), cached=cached
        )
    except PaymentError as exc:  # a conflicting redelivery: recorded, nothing changed
        return JsonResponse({"error": exc.message}, status=exc.status)
    except Exception:
        logger.exception("%s notification %s on %s failed", rail, read.event_id, read.account)
        return JsonResponse({"error": "The event could not be processed; retry."}, status=500)
    return _answer(read.event_id, "duplicate" if duplicate else record.status)


def _answer(event_id: str, outcome: str) -> JsonResponse:
    return JsonResponse({"received": True, "event": event_id, "outcome": outcome})
