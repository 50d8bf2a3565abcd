from django.contrib import admin

from payments.models import Payment, StripeObjectRef, WebhookEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened at Stripe: to read, never to edit by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "reference", "account", "amount", "currency", "status", "flag"]
    list_filter = ["status", "account", "created"]
    search_fields = ["checkout_session_id", "payment_intent_id", "reference"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "account", "signature_valid", "status", "duplicates"]
    list_filter = ["status", "signature_valid", "account", "type"]
    search_fields = ["event_id", "payload"]


@admin.register(StripeObjectRef)
class StripeObjectRefAdmin(ReadOnlyAdmin):
    list_display = ["local_key", "kind", "stripe_id", "account", "created"]
    list_filter = ["kind"]
