"""`GET /api/organizations/<inn>/balance/`: an organisation's balance, for the back office
and for the merchant's own systems.

Not public: a staff session (the admin's login), or `Authorization: Bearer <BANK_API_TOKEN>`
compared in constant time. No credentials or a wrong token: 401; a signed-in non-staff user:
403. An INN we have never been paid from: 404.
"""

import secrets

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from payments.bank_transfer.models import Organisation


def _bearer_ok(request: HttpRequest) -> bool | None:
    """True/False for a bearer token that is/is not BANK_API_TOKEN; None when none was sent."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    expected = settings.BANK_API_TOKEN
    return bool(expected) and secrets.compare_digest(token.strip().encode(), expected.encode())


def _refused(message: str, status: int) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@never_cache
@require_GET
def organisation_balance(request: HttpRequest, inn: str) -> JsonResponse:
    bearer = _bearer_ok(request)
    if bearer is False:
        return _refused("The token is not valid.", 401)
    if bearer is None:
        if not request.user.is_authenticated:
            return _refused("Sign in as staff or send Authorization: Bearer <token>.", 401)
        if not request.user.is_staff:
            return _refused("Only staff may see balances.", 403)
    organisation = Organisation.objects.filter(inn=inn).first()
    if organisation is None:
        return JsonResponse({"error": f"No organisation with INN {inn}."}, status=404)
    return JsonResponse(
        {
            "inn": organisation.inn,
            "balance": organisation.balance,
            "currency": organisation.currency,
        }
    )
