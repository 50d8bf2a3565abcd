"""Payment records and notifications in the admin, read-only, each payment with a link to
where it lives at its rail's provider (or in a sandbox)."""

from django.contrib import admin
from django.utils.html import format_html_join

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, from_minor_units
from payments.errors import PaymentError
from payments.models import Payment, WebhookEvent
from payments.rails import rail_named
from payments.values import Link


def payment_links(payment: Payment) -> list[Link]:
    try:
        return rail_named(payment.rail).admin_links(payment)
    except PaymentError:  # a rail this site no longer runs
        return []


def payment_links_html(payment: Payment) -> str:
    links = payment_links(payment)
    if not links:
        return "-"
    # A provider's dashboard opens in a tab of its own; a sandbox's records are pages here.
    return format_html_join(
        "",
        '<div><a href="{}"{}>{}</a></div>',
        (
            (link.url, ' target="_blank" rel="noopener"' if link.external else "", link.label)
            for link in links
        ),
    )


def payment_amount(payment: Payment) -> str:
    received = payment.amount_received
    amount = payment.amount_expected if received is None else received
    try:
        return format_money(from_minor_units(amount, payment.currency), payment.currency)
    except CurrencyError:
        return f"{amount} {payment.currency} (minor units)"


def account_label(rail: str, account: str) -> str:
    try:
        return rail_named(rail).account_label(account)
    except PaymentError:
        return account


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened at a provider: to read, never to edit by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "reference",
        "rail",
        "account_display",
        "amount_display",
        "status",
        "links",
        "flag",
    ]
    list_filter = ["status", "rail", "livemode", "created"]
    search_fields = ["=provider_ref", "=provider_payment_ref", "reference"]
    readonly_fields = ["account_display", "amount_display", "links"]

    @admin.display(description="account", ordering="account")
    def account_display(self, obj: Payment) -> str:
        return account_label(obj.rail, obj.account)

    @admin.display(description="amount", ordering="amount_expected")
    def amount_display(self, obj: Payment) -> str:
        return payment_amount(obj)

    @admin.display(description="where to see it")
    def links(self, obj: Payment) -> str:
        return payment_links_html(obj)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "rail", "account_display", "signature_valid", "status"]
    list_filter = ["status", "signature_valid", "rail", "type"]
    # The payload holds the event's object: a search for a session id finds its events.
    search_fields = ["event_id", "payload"]

    @admin.display(description="account", ordering="account")
    def account_display(self, obj: WebhookEvent) -> str:
        return account_label(obj.rail, obj.account)
