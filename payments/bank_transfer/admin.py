"""Organisations, bank operations and the ledger in the admin, read-only. Conflicting
redeliveries and rejected deliveries are the core's notifications (Webhook events, filtered by
rail "bank_transfer")."""

from django.contrib import admin

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, from_minor_units
from payments.admin import ReadOnlyAdmin
from payments.bank_transfer.models import BankOperation, LedgerEntry, Organisation


def _money(amount: int, currency: str) -> str:
    try:
        return format_money(from_minor_units(amount, currency), currency)
    except CurrencyError:
        return f"{amount} {currency} (minor units)"


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["inn", "name", "balance_display", "created"]
    search_fields = ["=inn", "name"]
    readonly_fields = ["balance_display"]

    @admin.display(description="balance", ordering="balance")
    def balance_display(self, obj: Organisation) -> str:
        return _money(obj.balance, obj.currency)


@admin.register(BankOperation)
class BankOperationAdmin(ReadOnlyAdmin):
    list_display = [
        "document_number",
        "operation_id",
        "organisation",
        "amount_display",
        "received_at",
    ]
    list_filter = ["received_at"]
    search_fields = ["=operation_id", "document_number", "=organisation__inn"]
    list_select_related = ["organisation"]

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj: BankOperation) -> str:
        return _money(obj.amount, obj.currency)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created", "organisation", "operation", "payment", "balance_before", "delta",
        "balance_after",
    ]  # fmt: skip
    search_fields = ["=organisation__inn", "organisation__name"]
    list_filter = ["created"]
    list_select_related = ["organisation", "operation", "payment"]
