"""The sandbox's records in the admin, read-only: what the back office links to instead of the
Stripe dashboard when a payment was made in the sandbox. Its actions play the buyer's bank:
dispute a paid PaymentIntent, then rule on the dispute (as `manage.py sandbox_dispute` does)."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from payments.admin import ReadOnlyAdmin
from payments.stripe.sandbox.dispute_bank import DisputeError, dispute_decide, dispute_open
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest


def _pretty(value) -> str:
    return format_html(
        '<pre class="sandbox-json">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False),
    )


@admin.register(SandboxObject)
class SandboxObjectAdmin(ReadOnlyAdmin):
    list_display = ["id", "object", "account", "created"]
    list_filter = ["object", "account"]
    search_fields = ["id"]
    fields = ["id", "object", "account", "created", "pretty_data", "pretty_private"]
    readonly_fields = fields
    actions = ["open_dispute", "win_dispute", "lose_dispute"]

    class Media:
        # A stylesheet, not a style attribute: the pages' Content-Security-Policy allows no
        # inline style.
        css = {"all": ["sandbox/admin.css"]}

    def _each(self, request, queryset, kind: str, act, verb: str) -> None:
        for obj in queryset:
            if obj.object != kind:
                self.message_user(
                    request, f"Skipped {obj.id}: a {obj.object}, not a {kind}.", messages.WARNING
                )
                continue
            try:
                dispute = act(obj.id)
            except DisputeError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request, f"Dispute {dispute.id} {verb}: {dispute.data['status']}."
                )

    @admin.action(description="Dispute the selected paid PaymentIntents (as fraudulent)")
    def open_dispute(self, request, queryset) -> None:
        self._each(request, queryset, "payment_intent", dispute_open, "opened")

    @admin.action(description="Decide the selected disputes: won")
    def win_dispute(self, request, queryset) -> None:
        self._each(request, queryset, "dispute", lambda i: dispute_decide(i, won=True), "decided")

    @admin.action(description="Decide the selected disputes: lost")
    def lose_dispute(self, request, queryset) -> None:
        self._each(request, queryset, "dispute", lambda i: dispute_decide(i, won=False), "decided")

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
