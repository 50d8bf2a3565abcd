"""Payment records and notifications in the admin, read-only, each payment with a link to
where it lives at its rail's provider (or in a sandbox)."""

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, from_minor_units
from payments import redeliveries
from payments.admin_accounts import accounts_view
from payments.errors import PaymentError
from payments.models import Dispute, Payment, ReceivedNotification, ReconcileRun, Refund, rail_words
from payments.rails import rail_named
from payments.services import payment_links
from payments.values import DISPUTE_NEEDS_RESPONSE, DISPUTE_OPEN


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


def minor_amount(amount: int, currency: str) -> str:
    """`1999, "USD"` -> "$19.99": an amount in minor units, written in its currency."""
    try:
        return format_money(from_minor_units(amount, currency), currency)
    except CurrencyError:
        return f"{amount} {currency} (minor units)"


def payment_amount(payment: Payment) -> str:
    received = payment.amount_received
    amount = payment.amount_expected if received is None else received
    return minor_amount(amount, payment.currency)


OPEN_DISPUTE = list(DISPUTE_OPEN)
NEEDS_RESPONSE = list(DISPUTE_NEEDS_RESPONSE)
# What each status that does not wait for the merchant means for them.
DISPUTE_MEANS = {
    Dispute.Status.INQUIRY_UNDER_REVIEW: "Inquiry answered: the bank is deciding",
    Dispute.Status.INQUIRY_CLOSED: "Inquiry closed (escalated, if a chargeback followed)",
    Dispute.Status.UNDER_REVIEW: "Open: the bank is deciding",
    Dispute.Status.APPEAL_UNDER_REVIEW: "Under appeal: the card network is deciding",
    Dispute.Status.WON: "Closed: won",
    Dispute.Status.LOST: "Closed: lost",
    Dispute.Status.PREVENTED: "Closed: prevented before a chargeback",
}
RESPOND_TO = {
    Dispute.Status.INQUIRY_NEEDS_RESPONSE: "Inquiry: respond",
    Dispute.Status.NEEDS_RESPONSE: "Respond",
    Dispute.Status.APPEAL_NEEDS_RESPONSE: "Appeal: respond",
}


def dispute_flag(dispute: Dispute) -> str:
    """What a merchant must know of a dispute at a glance: whether it waits for them, and by
    when; otherwise who decides, or how it ended."""
    if dispute.status in RESPOND_TO:
        due = (
            f" by {date_format(dispute.evidence_due_by, 'DATE_FORMAT')}"
            if dispute.evidence_due_by
            else ""
        )
        return format_html(
            '<strong class="needs-merchant">⚠ {}{}</strong>', RESPOND_TO[dispute.status], due
        )
    means = DISPUTE_MEANS.get(dispute.status, "Closed")
    if dispute.appealed and dispute.status in (Dispute.Status.WON, Dispute.Status.LOST):
        means += " on appeal"
    return means


def list_time(value) -> str:
    """A time in a list's column, short: "2026-12-02 19:45" (local time)."""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "-"


def payment_link(payment: Payment) -> str:
    """The payment in words, linked to its page."""
    url = reverse("admin:payments_payment_change", args=[payment.pk])
    return format_html('<a href="{}">{}</a>', url, payment)


def account_label(rail: str, account: str) -> str:
    try:
        return rail_named(rail).account_label(account)
    except PaymentError:
        return account


def refund_flag(refund: Refund) -> str:
    """What the merchant must look at on a refund ("-" when nothing)."""
    if not refund.attention_note:
        return "-"
    return format_html('<strong class="needs-merchant">⚠ {}</strong>', refund.attention_note)


class RefundFlaggedFilter(admin.SimpleListFilter):
    title = "flagged"
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", "Flagged for the merchant")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(attention_note="")
        return queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened at a provider: to read, never to edit by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """A payment's records from its provider (refunds, disputes) on its page, read-only."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="amount")
    def amount_display(self, obj) -> str:
        return minor_amount(obj.amount, obj.currency)


class DisputedFilter(admin.SimpleListFilter):
    title = "disputes"
    parameter_name = "disputed"

    def lookups(self, request, model_admin):
        return [("open", "Open dispute"), ("any", "Ever disputed")]

    def queryset(self, request, queryset):
        disputes = Dispute.objects.filter(payment=OuterRef("pk"))
        if self.value() == "open":
            return queryset.filter(Exists(disputes.filter(status__in=OPEN_DISPUTE)))
        if self.value() == "any":
            return queryset.filter(Exists(disputes))
        return queryset


class DisputeInline(ReadOnlyInline):
    """A payment's disputes (they follow the provider)."""

    model = Dispute
    fields = [
        "provider_ref",
        "amount_display",
        "reason",
        "status",
        "evidence_due_by",
        "attention_note",
    ]
    readonly_fields = fields

    @admin.display(description="needs")
    def attention_note(self, obj: Dispute) -> str:
        return dispute_flag(obj)


class RefundInline(ReadOnlyInline):
    """A payment's refunds (made from the order's page, or at the provider)."""

    model = Refund
    fields = [
        "created",
        "amount_display",
        "status",
        "reason",
        "note",
        "requested_by",
        "provider_ref",
        "flag_display",
    ]
    readonly_fields = fields

    @admin.display(description="attention note")
    def flag_display(self, obj: Refund) -> str:
        return refund_flag(obj)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    # What a merchant looks for, in a width a 1,280 px screen shows whole: the payment in
    # words ("Order 12 · $13.61 · Stripe"), its amount, status, rail, account and date, and
    # where to see it at the provider. The provider's ids are searchable here.
    list_display = [
        "__str__",
        "amount_display",
        "status",
        "rail_display",
        "account_display",
        "started",
        "dispute_display",
        "links",
        "attention_note",
    ]
    list_filter = [DisputedFilter, "status", "rail", "livemode", "created"]
    inlines = [RefundInline, DisputeInline]
    search_fields = ["=provider_ref", "=provider_payment_ref", "reference"]
    readonly_fields = ["account_display", "amount_display", "links"]

    @admin.display(description="account", ordering="account")
    def account_display(self, obj: Payment) -> str:
        return account_label(obj.rail, obj.account)

    @admin.display(description="rail", ordering="rail")
    def rail_display(self, obj: Payment) -> str:
        return rail_words(obj.rail)

    @admin.display(description="started", ordering="created")
    def started(self, obj: Payment) -> str:
        return list_time(obj.created)

    @admin.display(description="amount", ordering="amount_expected")
    def amount_display(self, obj: Payment) -> str:
        return payment_amount(obj)

    @admin.display(description="where to see it")
    def links(self, obj: Payment) -> str:
        return payment_links_html(obj)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("disputes")

    @admin.display(description="dispute")
    def dispute_display(self, obj: Payment) -> str:
        # Each of them, newest first: an inquiry that escalated shows beside its chargeback.
        disputes = list(obj.disputes.all())
        if not disputes:
            return "-"
        return format_html_join(
            "", "<div>{}</div>", ((dispute_flag(dispute),) for dispute in disputes)
        )

    def changelist_view(self, request, extra_context=None):
        # The payments list is where a merchant looks first: say what waits for them.
        waiting = Dispute.objects.filter(status__in=NEEDS_RESPONSE).count()
        if waiting:
            url = (
                reverse("admin:payments_dispute_changelist")
                + "?status__in="
                + ",".join(NEEDS_RESPONSE)
            )
            self.message_user(
                request,
                format_html(
                    '{} dispute{} need{} a response: <a href="{}">see them</a>.',
                    waiting,
                    "" if waiting == 1 else "s",
                    "s" if waiting == 1 else "",
                    url,
                ),
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """Every refund, whichever way it was made: from an order's page (`requested_by`) or in
    the provider's dashboard (learnt from its notification)."""

    list_display = [
        "made",
        "payment_display",
        "amount_display",
        "status",
        "reason",
        "note",
        "requested_by",
        "provider_ref",
        "flag_display",
    ]
    list_display_links = ["made"]
    list_filter = [RefundFlaggedFilter, "status", "reason", "created"]
    list_select_related = ["payment", "requested_by"]
    search_fields = ["=provider_ref", "=payment__provider_payment_ref", "payment__reference"]

    @admin.display(description="refund", ordering="created")
    def made(self, obj: Refund) -> str:
        return list_time(obj.created)

    @admin.display(description="payment", ordering="payment__reference")
    def payment_display(self, obj: Refund) -> str:
        return payment_link(obj.payment)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj: Refund) -> str:
        return minor_amount(obj.amount, obj.currency)

    @admin.display(description="attention note")
    def flag_display(self, obj: Refund) -> str:
        return refund_flag(obj)


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    """Disputes (chargebacks) as the providers report them: answered at the provider (its
    dashboard, or the sandbox), followed here."""

    list_display = [
        "provider_ref",
        "payment_display",
        "account_display",
        "amount_display",
        "reason",
        "status",
        "respond_by",
        "attention_note",
    ]
    list_filter = ["status", "created"]
    search_fields = ["=provider_ref", "payment__reference", "=payment__provider_ref"]
    fields = [
        "provider_ref",
        "payment_display",
        "account_display",
        "amount_display",
        "reason",
        "status",
        "evidence_due_by",
        "attention_note",
        "appealed",
        "links",
        "observed_at",
        "created",
        "updated",
    ]
    readonly_fields = fields
    list_select_related = ["payment"]

    @admin.display(description="payment", ordering="payment__reference")
    def payment_display(self, obj: Dispute) -> str:
        return payment_link(obj.payment)

    @admin.display(description="respond by", ordering="evidence_due_by")
    def respond_by(self, obj: Dispute) -> str:
        return list_time(obj.evidence_due_by) if obj.needs_response else "-"

    @admin.display(description="account")
    def account_display(self, obj: Dispute) -> str:
        return account_label(obj.payment.rail, obj.payment.account)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj: Dispute) -> str:
        return minor_amount(obj.amount, obj.currency)

    @admin.display(description="needs")
    def attention_note(self, obj: Dispute) -> str:
        return dispute_flag(obj)

    @admin.display(description="where to answer it")
    def links(self, obj: Dispute) -> str:
        return payment_links_html(obj.payment)


@admin.register(ReceivedNotification)
class ReceivedNotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "event_id",
        "type",
        "rail",
        "account_display",
        "signature_valid",
        "status",
        "received",
    ]
    list_filter = ["status", "signature_valid", "rail", "type"]
    # The payload holds the event's object: a search for a session id finds its events.
    search_fields = ["event_id", "payload"]
    # `duplicates` lags what the cache has counted (payments.redeliveries): the page shows the
    # deliveries counted so far instead.
    fields = [
        "rail",
        "account",
        "event_id",
        "type",
        "fingerprint",
        "signature_valid",
        "status",
        "deliveries",
        "payload",
        "error",
        "processed_at",
    ]
    readonly_fields = ["deliveries"]

    @admin.display(description="deliveries")
    def deliveries(self, obj: ReceivedNotification) -> int:
        """The first delivery and every redelivery counted (for a rejected row: each refused
        delivery of its hour)."""
        return 1 + redeliveries.duplicates_counted(obj)

    @admin.display(description="account", ordering="account")
    def account_display(self, obj: ReceivedNotification) -> str:
        return account_label(obj.rail, obj.account)

    @admin.display(description="received", ordering="received_at")
    def received(self, obj: ReceivedNotification) -> str:
        return list_time(obj.received_at)


@admin.register(ReconcileRun)
class ReconcileRunAdmin(ReadOnlyAdmin):
    """Each pass of `payments_reconcile` over an account; its list links to the accounts page
    (`admin_accounts`: last event, recent failures and last run per account)."""

    list_display = [
        "started_at",
        "rail",
        "account_display",
        "ok",
        "found",
        "processed",
        "duplicates",
        "payments_checked",
        "payments_moved",
    ]
    list_filter = ["ok", "rail", "started_at"]

    @admin.display(description="account", ordering="account")
    def account_display(self, obj: ReconcileRun) -> str:
        return account_label(obj.rail, obj.account)

    def get_urls(self):
        accounts = path(
            "accounts/",
            self.admin_site.admin_view(lambda request: accounts_view(self, request)),
            name="payments_accounts",
        )
        return [accounts, *super().get_urls()]
