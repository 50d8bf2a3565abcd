"""Where a merchant looks at a Stripe payment: the dashboard of the account and mode that took
it, or, for a sandbox payment, the sandbox's record of it in this admin (never Stripe, which
has never heard of it)."""

from urllib.parse import quote, urlencode

from django.apps import apps
from django.contrib.admin.utils import quote as admin_quote
from django.urls import reverse

from payments.stripe.accounts import is_sandbox_identity
from payments.values import Link

STRIPE_DASHBOARD = "https://dashboard.stripe.com/"
# Dashboard pages by the kind of object; any other id is found through the dashboard's search.
_DASHBOARD_PAGES = {
    "payment_intent": "payments",
    "event": "events",
    "coupon": "coupons",
    "tax_rate": "tax-rates",
}
_KIND_BY_PREFIX = {"pi_": "payment_intent", "evt_": "event", "txr_": "tax_rate"}
SANDBOX_APP = "payments.stripe.sandbox"


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


def sandbox_record_url(object_id: str) -> str | None:
    """The sandbox's admin page of `object_id`, or None where the sandbox is not installed."""
    if not apps.is_installed(SANDBOX_APP):
        return None
    # The admin's own quoting: a Stripe id like "txr_3B..." must not read as "txr;...".
    return reverse("admin:sandbox_sandboxobject_change", args=[admin_quote(object_id)])


def sandbox_search_url(object_id: str) -> str | None:
    if not apps.is_installed(SANDBOX_APP):
        return None
    return reverse("admin:sandbox_sandboxobject_changelist") + "?" + urlencode({"q": object_id})


def payment_links(payment) -> list[Link]:
    """Where to look at a Stripe `Payment`.

    A sandbox payment (made on a sandbox account, whatever the account is now) links to the
    sandbox's records of its session and PaymentIntent; a real one to the PaymentIntent's page
    in the dashboard of its mode, or a search for the Checkout Session before it is paid.
    """
    ids = [i for i in (payment.provider_ref, payment.provider_payment_ref) if i]
    if is_sandbox_identity(payment.account):
        found = [(stripe_id, sandbox_record_url(stripe_id)) for stripe_id in ids]
        return [
            Link(f"Sandbox record of {stripe_id}", url, external=False)
            for stripe_id, url in found
            if url
        ]
    mode = "live" if payment.livemode else "test"
    where = f"Stripe dashboard ({payment.currency} account, {mode} mode)"
    if payment.provider_id.startswith("pi_"):
        url = stripe_dashboard_url(payment.provider_id, livemode=payment.livemode)
        return [Link(f"{payment.provider_id} in the {where}", url)]
    url = stripe_dashboard_url(payment.provider_ref, livemode=payment.livemode)
    return [Link(f"Find {payment.provider_ref} in the {where}", url)]


def object_ref_url(ref) -> str | None:
    """Where a remembered coupon or tax rate lives: the sandbox's record, or the dashboard."""
    if is_sandbox_identity(ref.account):
        # The sandbox keeps coupons under account-scoped keys: find the id by search.
        return sandbox_search_url(ref.stripe_id)
    return stripe_dashboard_url(
        ref.stripe_id, livemode=ref.account.startswith("pk_live_"), kind=ref.kind
    )
