"""The sandbox's records in the admin, read-only: what the back office links to instead of the
Stripe dashboard when a payment was made in the sandbox."""

import json

from django.contrib import admin
from django.utils.html import format_html

from payments.admin import ReadOnlyAdmin
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest


def _pretty(value) -> str:
    return format_html(
        '<pre style="white-space: pre-wrap; overflow-wrap: anywhere; margin: 0">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False),
    )


@admin.register(SandboxObject)
class SandboxObjectAdmin(ReadOnlyAdmin):
    list_display = ["id", "object", "account", "created"]
    list_filter = ["object", "account"]
    search_fields = ["id"]
    fields = ["id", "object", "account", "created", "pretty_data", "pretty_private"]
    readonly_fields = fields

    @admin.display(description="data (as the API returns it)")
    def pretty_data(self, obj: SandboxObject) -> str:
        return _pretty(obj.data)

    @admin.display(description="private (what the API does not return)")
    def pretty_private(self, obj: SandboxObject) -> str:
        # Even the sandbox's fake webhook secret is not for the screen.
        return _pretty({k: "(hidden)" if "secret" in k else v for k, v in obj.private.items()})


@admin.register(SandboxRequest)
class SandboxRequestAdmin(ReadOnlyAdmin):
    list_display = ["created", "method", "path", "status_code", "account", "replayed"]
    list_filter = ["method", "status_code", "replayed", "account"]
    search_fields = ["path", "request_id", "=idempotency_key"]
