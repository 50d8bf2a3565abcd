"""Payment records in the admin, read-only, each with a link to where it lives: the Stripe
dashboard of the account that took it (test or live), or the sandbox's record of it."""

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.contrib import admin
from django.contrib.admin.utils import quote as admin_quote
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils.html import format_html_join

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, from_minor_units
from payments.stripe.accounts import SANDBOX_KEY_PREFIXES, account_for
from payments.errors import PaymentError
from payments.models import Payment, StripeObjectRef, WebhookEvent
from payments.stripe.sandbox.models import SandboxObject

STRIPE_DASHBOARD = "https://dashboard.stripe.com/"
# Dashboard pages by the kind of object; any other id is found through the dashboard's search.
_DASHBOARD_PAGES = {
    "payment_intent": "payments",
    "event": "events",
    "coupon": "coupons",
    "tax_rate": "tax-rates",
}
_KIND_BY_PREFIX = {"pi_": "payment_intent", "evt_": "event", "txr_": "tax_rate"}


@dataclass(frozen=True)
class StripeLink:
    label: str
    url: str


def stripe_dashboard_url(stripe_id: str, *, livemode: bool, kind: str | None = None) -> str:
    """The page of `stripe_id` in the Stripe dashboard: `/test/...` for test-mode objects.

    PaymentIntents, events, coupons and tax rates have pages of their own
    (`https://dashboard.stripe.com/test/payments/pi_...`); anything else, a Checkout Session
    for instance, opens the dashboard's search for its id. The merchant must be signed in to
    the account that holds the object (one account per currency here).
    """
    if kind is None:
        kind = next(
            (k for prefix, k in _KIND_BY_PREFIX.items() if stripe_id.startswith(prefix)), ""
        )
    base = STRIPE_DASHBOARD + ("" if livemode else "test/")
    if page := _DASHBOARD_PAGES.get(kind):
        return f"{base}{page}/{quote(stripe_id, safe='')}"
    return f"{base}search?query={quote(stripe_id, safe='')}"


def sandbox_record_url(object_id: str) -> str:
    # The admin's own quoting: a Stripe id like "txr_3B..." must not read as "txr;...".
    return reverse("admin:sandbox_sandboxobject_change", args=[admin_quote(object_id)])


def account_is_sandbox(currency: str) -> bool:
    """Whether the shop's account for `currency` is the offline sandbox now."""
    try:
        return account_for(currency).sandbox
    except PaymentError:
        return False


def with_sandbox_flags(payments: QuerySet) -> QuerySet:
    """Annotate whether each payment's ids are sandbox objects (one query for a whole list)."""
    return payments.annotate(
        session_in_sandbox=Exists(SandboxObject.objects.filter(pk=OuterRef("checkout_session_id"))),
        intent_in_sandbox=Exists(SandboxObject.objects.filter(pk=OuterRef("payment_intent_id"))),
    )


def _sandbox_ids(payment: Payment) -> set[str]:
    if hasattr(payment, "session_in_sandbox"):
        flagged = [
            (payment.checkout_session_id, payment.session_in_sandbox),
            (payment.payment_intent_id, payment.intent_in_sandbox),
        ]
        return {stripe_id for stripe_id, flag in flagged if stripe_id and flag}
    ids = [i for i in (payment.checkout_session_id, payment.payment_intent_id) if i]
    return set(SandboxObject.objects.filter(pk__in=ids).values_list("pk", flat=True))


def payment_links(payment: Payment) -> tuple[bool, list[StripeLink]]:
    """Return (whether the payment was made in the sandbox, where to look at it).

    A payment is a sandbox one when the sandbox holds its session or PaymentIntent, or when the
    account of its currency is the sandbox: then the links go to the sandbox's records in this
    admin, never to Stripe, which has never heard of them. Otherwise the PaymentIntent's page
    in the dashboard of the right mode, or a search for the Checkout Session before it is paid.
    """
    recorded = _sandbox_ids(payment)
    if recorded or account_is_sandbox(payment.account):
        return True, [
            StripeLink(f"Sandbox record of {stripe_id}", sandbox_record_url(stripe_id))
            for stripe_id in (payment.checkout_session_id, payment.payment_intent_id)
            if stripe_id in recorded
        ]
    mode = "live" if payment.livemode else "test"
    where = f"Stripe dashboard ({payment.account} account, {mode} mode)"
    if payment.payment_intent_id:
        url = stripe_dashboard_url(payment.payment_intent_id, livemode=payment.livemode)
        return False, [StripeLink(f"{payment.payment_intent_id} in the {where}", url)]
    if payment.checkout_session_id:
        url = stripe_dashboard_url(payment.checkout_session_id, livemode=payment.livemode)
        return False, [StripeLink(f"Find {payment.checkout_session_id} in the {where}", url)]
    return False, []


def payment_links_html(payment: Payment) -> str:
    sandbox, links = payment_links(payment)
    if not links:
        return "In the sandbox (no record left)" if sandbox else "-"
    # The dashboard opens in a tab of its own; the sandbox's records are pages of this admin.
    template = (
        '<div><a href="{}">{}</a></div>'
        if sandbox
        else '<div><a href="{}" target="_blank" rel="noopener">{}</a></div>'
    )
    return format_html_join("", template, ((link.url, link.label) for link in links))


def payment_amount(payment: Payment) -> str:
    try:
        return format_money(from_minor_units(payment.amount, payment.currency), payment.currency)
    except CurrencyError:
        return f"{payment.amount} {payment.currency} (minor units)"


def stripe_object_url(ref: StripeObjectRef) -> str:
    """Where a remembered coupon or tax rate lives: the sandbox's record, or the dashboard."""
    if ref.account.startswith(SANDBOX_KEY_PREFIXES["publishable_key"]):
        # The sandbox keeps coupons under account-scoped keys: find the id by search.
        changelist = reverse("admin:sandbox_sandboxobject_changelist")
        return f"{changelist}?{urlencode({'q': ref.stripe_id})}"
    return stripe_dashboard_url(
        ref.stripe_id, livemode=ref.account.startswith("pk_live_"), kind=ref.kind
    )


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
    list_display = ["__str__", "reference", "account", "amount_display", "status", "stripe", "flag"]
    list_filter = ["status", "account", "livemode", "created"]
    search_fields = ["checkout_session_id", "payment_intent_id", "reference"]
    readonly_fields = ["amount_display", "stripe"]

    def get_queryset(self, request):
        return with_sandbox_flags(super().get_queryset(request))

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj: Payment) -> str:
        return payment_amount(obj)

    @admin.display(description="Stripe")
    def stripe(self, obj: Payment) -> str:
        return payment_links_html(obj)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "account", "signature_valid", "status", "duplicates"]
    list_filter = ["status", "signature_valid", "account", "type"]
    # The payload holds the event's object: a search for a session id finds its events.
    search_fields = ["event_id", "payload"]


@admin.register(StripeObjectRef)
class StripeObjectRefAdmin(ReadOnlyAdmin):
    list_display = ["local_key", "kind", "stripe_id", "account", "created"]
    list_filter = ["kind"]
    search_fields = ["=stripe_id", "=local_key"]
