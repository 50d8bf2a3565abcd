"""Organisations, bank operations and the ledger in the admin, read-only. Conflicting
redeliveries and rejected deliveries are the core's notifications (Webhook events, filtered by
rail "bank_transfer").

What needs a person is flagged: an organisation or an operation whose INN fails its check
digits, an operation whose money stayed on the balance although it quoted a payment, or that
the balance bound kept from being credited. The "Flagged" filter lists them."""

from django.contrib import admin

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, from_minor_units
from payments.admin import ReadOnlyAdmin, list_time
from payments.bank_transfer.models import BankOperation, LedgerEntry, Organisation


def _money(amount: int, currency: str) -> str:
    try:
        return format_money(from_minor_units(amount, currency), currency)
    except CurrencyError:
        return f"{amount} {currency} (minor units)"


class FlaggedFilter(admin.SimpleListFilter):
    """Rows with a note for the merchant, or without one."""

    title = "flagged"
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", "Flagged for review"), ("no", "Not flagged")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(attention_note="")
        if self.value() == "no":
            return queryset.filter(attention_note="")
        return queryset


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["inn", "name", "balance_display", "attention_note", "created"]
    list_filter = [FlaggedFilter]
    search_fields = ["=inn", "name"]
    readonly_fields = ["balance_display", "attention_note"]

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
        "credited",
        "attention_note",
        "received_at",
    ]
    list_filter = [FlaggedFilter, "credited", "received_at"]
    search_fields = ["=operation_id", "document_number", "=organisation__inn"]
    list_select_related = ["organisation"]

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj: BankOperation) -> str:
        return _money(obj.amount, obj.currency)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "made",
        "organisation",
        "operation",
        "payment",
        "balance_before_display",
        "delta_display",
        "balance_after_display",
    ]
    search_fields = ["=organisation__inn", "organisation__name"]
    list_filter = ["created"]
    list_select_related = ["organisation", "operation", "payment"]

    @admin.display(description="created", ordering="created")
    def made(self, obj: LedgerEntry) -> str:
        return list_time(obj.created)

    # The balance in the organisation's currency, as the merchant reads money everywhere else.
    @admin.display(description="balance before", ordering="balance_before")
    def balance_before_display(self, obj: LedgerEntry) -> str:
        return _money(obj.balance_before, obj.organisation.currency)

    @admin.display(description="change", ordering="delta")
    def delta_display(self, obj: LedgerEntry) -> str:
        sign = "+" if obj.delta > 0 else ""
        return sign + _money(obj.delta, obj.organisation.currency)

    @admin.display(description="balance after", ordering="balance_after")
    def balance_after_display(self, obj: LedgerEntry) -> str:
        return _money(obj.balance_after, obj.organisation.currency)
