"""What every JSON endpoint of the site shares, the shop's and the rails' (Django REST framework;
DESIGN.md, "The JSON API").

- One error shape: `{"error": "<a sentence>"}`, plus `"fields": {"<name>": ["<message>"]}` when
  the request's fields are wrong, whatever DRF or a view refuses (sitewide.api_errors, which
  also answers JSON whatever `Accept` says), described by `ErrorSerializer`.
- `error_responses`: the schema's entries for the errors an operation answers.
- `BearerTokenAuthentication`: a user's API token (`rest_framework.authtoken`) as
  `Authorization: Bearer <key>` (DRF's own `Token <key>` too).

The shop's base view, whose throttle refusal speaks the scope's words (`ShopApiView`), lives
with the throttle it reads, storefront.plumbing.throttle.
"""

import secrets

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.authentication import TokenAuthentication


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers."""

    error = serializers.CharField(help_text="What is wrong, in a sentence a person can read.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only when the request's fields are wrong: each one's messages, by name.",
    )
    url = serializers.URLField(
        required=False,
        help_text="Only where the request can be made elsewhere: that page (e.g. an item paid "
        "by bank transfer on its own page).",
    )


def error_responses(**described: str) -> dict[int, OpenApiResponse]:
    """`error_responses(e404="There is no such item.")`: the schema's error entries."""
    return {
        int(key.removeprefix("e")): OpenApiResponse(ErrorSerializer, description=text)
        for key, text in described.items()
    }


#: `request.auth` of a call made with BANK_API_TOKEN: no user, the site's own token (the balance
#: API's first way of authenticating, kept working); only the balance API lets it read.
SITE_TOKEN = "BANK_API_TOKEN"  # noqa: S105 (a marker naming the setting, not its value)


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <key>` (or DRF's own `Token <key>`): a user's API token, made in
    the admin or by `manage.py drf_create_token <username>`, or BANK_API_TOKEN where it is set
    (compared in constant time). What each may read is the view's permission's to say."""

    keyword = "Bearer"

    def authenticate(self, request):
        scheme, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() not in {"bearer", "token"}:
            return None
        key = key.strip()
        if not key or " " in key:
            raise exceptions.AuthenticationFailed("The token is not valid.")
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key):
        expected = settings.BANK_API_TOKEN
        if expected and secrets.compare_digest(key.encode(), expected.encode()):
            return None, SITE_TOKEN
        if len(key) > 40:  # a token's key is 40 hex digits: no query for anything else
            raise exceptions.AuthenticationFailed("The token is not valid.")
        try:
            return super().authenticate_credentials(key)
        except exceptions.AuthenticationFailed:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
