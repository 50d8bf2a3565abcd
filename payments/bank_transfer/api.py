"""`GET /api/organizations/<inn>/balance/`: an organisation's balance, for the back office
and for the merchant's own systems.

Not public: `Authorization: Bearer <BANK_API_TOKEN>` compared in constant time, or a session
of a user the admin would show organisations to: the admin's own rule, asked of the admin
(active staff with the `payments_bank_transfer.view_organisation` permission, or its change
permission; a superuser has both). No credentials or a wrong token: 401; a signed-in user the
admin refuses: 403. An INN we have never been paid from: 404.
"""

import secrets

from django.conf import settings
from django.contrib import admin
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


def _admin_would_show_organisations(request: HttpRequest) -> bool:
    """Whether the admin lets this session's user see organisations (and so their balances)."""
    model_admin = admin.site.get_model_admin(Organisation)
    return admin.site.has_permission(request) and model_admin.has_view_permission(request)


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
        if not _admin_would_show_organisations(request):
            return _refused("You may not see organisations' balances.", 403)
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
