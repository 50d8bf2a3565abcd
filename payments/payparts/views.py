"""The bank's fixed callback address, `/payments/payparts/callback/` (the `responseUrl` we send),
handed to the core's one notification view for the store in use: recorded, verified and acted
on there exactly as every rail's notifications are."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import views as core_views
from payments.errors import AccountUnavailable
from payments.payparts import NAME, config


@csrf_exempt  # The bank sends no CSRF token; the signature authenticates the callback.
@require_POST
def callback(request: HttpRequest) -> JsonResponse:
    try:
        store = config.store()
    except AccountUnavailable as exc:
        return JsonResponse({"error": exc.message}, status=404)
    return core_views.notification(request, rail=NAME, account=store.store_id)
