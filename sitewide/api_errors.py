"""The JSON API's answers whatever a view does (read by DRF's settings, so importing no view):
JSON whatever `Accept` says, and every error in one shape, `{"error": "<a sentence>"}` plus
`"fields": {"<name>": ["<message>"]}` when the request's fields are wrong (see sitewide.api).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation

#: Where the JSON API answers: whatever refuses a request there answers in its error shape.
API_PATH_PREFIXES = ("/api/", "/buy/")


class AlwaysJson(BaseContentNegotiation):
    """The API's one renderer (JSON) and one parser for every request."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _sentence(detail) -> str:
    return str(detail[0] if isinstance(detail, list) and detail else detail)


def _field_messages(detail) -> dict[str, list[str]]:
    """DRF's nested detail as `{name: [message, ...]}`; a nested field is `outer.inner`."""
    messages: dict[str, list[str]] = {}
    for name, value in detail.items():
        if isinstance(value, dict):
            for inner, texts in _field_messages(value).items():
                messages[f"{name}.{inner}"] = texts
        else:
            items = value if isinstance(value, list) else [value]
            messages[str(name)] = [str(item) for item in items]
    return messages


def error_body(message: str, fields: dict[str, list[str]] | None = None) -> dict:
    """The API's error shape."""
    return {"error": message, **({"fields": fields} if fields else {})}


def api_exception_handler(exc, context):
    """DRF's handler (its statuses and headers: WWW-Authenticate, Retry-After), its bodies in
    the one error shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    # Imported here: DRF's settings import this module while rest_framework.views loads.
    from rest_framework.views import exception_handler

    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    if isinstance(detail, dict) and set(detail) != {"detail"}:
        fields = _field_messages(detail)
        summary = "; ".join(f"{name}: {texts[0]}" for name, texts in fields.items())
        response.data = error_body(f"Invalid request: {summary}", fields)
    elif isinstance(detail, dict):
        response.data = error_body(_sentence(detail["detail"]))
    else:
        response.data = error_body(_sentence(detail))
    return response
