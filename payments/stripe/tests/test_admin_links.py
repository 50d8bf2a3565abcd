"""The Stripe rail in the back office: each payment links to the dashboard of the account and
mode that took it, or to the sandbox's record; coupons and tax rates are shown per account."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from payments.models import Payment
from payments.stripe.links import sandbox_record_url
from payments.stripe.models import StripeObjectRef
from payments.stripe.sandbox.models import SandboxObject
from storefront.tests.backoffice_tools import demo_with_usd_order_paid, hrefs
from storefront.tests.factories import make_discount, make_tax

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(pay_order):
    """The demo catalogue, with the USD order paid in the sandbox."""
    return demo_with_usd_order_paid(pay_order)


def real_keys(settings, currency: str, mode: str) -> None:
    """Give `currency` a real Stripe account's keys (nothing here calls Stripe)."""
    settings.STRIPE_ACCOUNTS = {
        **settings.STRIPE_ACCOUNTS,
        currency: {
            "secret_key": f"sk_{mode}_{currency.lower()}",
            "publishable_key": f"pk_{mode}_{currency.lower()}",
            "webhook_secret": f"whsec_{currency.lower()}",
        },
    }


def stripe_payment(**fields) -> Payment:
    fields.setdefault("rail", "stripe")
    fields.setdefault("account", "pk_test_usd")
    fields.setdefault("reference", "order-1")
    return Payment.objects.create(amount_expected=5142, currency="USD", **fields)


def test_a_test_mode_payment_links_to_the_test_dashboard(admin_client, settings, demo):
    real_keys(settings, "USD", "test")
    payment = stripe_payment(
        provider_ref="cs_test_real", provider_payment_ref="pi_3TestMode", livemode=False
    )

    for url in [
        reverse("admin:payments_payment_change", args=[payment.pk]),
        reverse("admin:storefront_order_change", args=[1]),
        reverse("admin:payments_payment_changelist"),
    ]:
        html = admin_client.get(url).content.decode()
        assert "https://dashboard.stripe.com/test/payments/pi_3TestMode" in hrefs(html), url


def test_a_live_payment_links_to_the_live_dashboard(admin_client, settings, demo):
    real_keys(settings, "USD", "live")
    payment = stripe_payment(
        account="pk_live_usd",
        provider_ref="cs_live_real",
        provider_payment_ref="pi_3LiveMode",
        livemode=True,
    )

    html = admin_client.get(
        reverse("admin:payments_payment_change", args=[payment.pk])
    ).content.decode()

    assert "https://dashboard.stripe.com/payments/pi_3LiveMode" in hrefs(html)
    assert not any("/test/" in href for href in hrefs(html) if "dashboard.stripe" in href)


def test_an_unpaid_session_without_payment_intent_is_found_by_search(admin_client, settings):
    real_keys(settings, "USD", "test")
    payment = stripe_payment(provider_ref="cs_test_pending")

    html = admin_client.get(
        reverse("admin:payments_payment_change", args=[payment.pk])
    ).content.decode()

    assert "https://dashboard.stripe.com/test/search?query=cs_test_pending" in hrefs(html)


def test_a_sandbox_payment_links_to_the_sandbox_record_never_to_stripe(admin_client, demo):
    usd, payment = demo
    assert SandboxObject.objects.filter(pk=payment.provider_payment_ref).exists()

    order_page = admin_client.get(
        reverse("admin:storefront_order_change", args=[usd.pk])
    ).content.decode()
    payment_page = admin_client.get(
        reverse("admin:payments_payment_change", args=[payment.pk])
    ).content.decode()

    for html in (order_page, payment_page):
        assert "dashboard.stripe.com" not in html
        for stripe_id in (payment.provider_ref, payment.provider_payment_ref):
            record = sandbox_record_url(stripe_id)
            assert record in hrefs(html)
    record = admin_client.get(sandbox_record_url(payment.provider_ref))
    assert record.status_code == 200
    assert "&quot;payment_status&quot;: &quot;paid&quot;" in record.content.decode()


def test_a_sandbox_payment_stays_a_sandbox_one_after_real_keys_arrive(admin_client, settings, demo):
    _, payment = demo
    real_keys(settings, "USD", "live")

    html = admin_client.get(
        reverse("admin:payments_payment_change", args=[payment.pk])
    ).content.decode()

    assert "dashboard.stripe.com" not in html
    assert sandbox_record_url(payment.provider_payment_ref) in html


def test_discounts_and_taxes_show_their_stripe_ids_per_account(admin_client, settings):
    discount = make_discount(name="Ten", percent_off="10")
    tax = make_tax(display_name="VAT", percentage="19", inclusive=True)
    call_command("stripe_sync")
    StripeObjectRef.objects.create(
        account="pk_live_usd", kind="coupon", local_key=f"discount:{discount.pk}",
        fingerprint="f", stripe_id="SUMMER10",
    )  # fmt: skip
    real_keys(settings, "USD", "live")

    discount_page = admin_client.get(
        reverse("admin:storefront_discount_change", args=[discount.pk])
    ).content.decode()
    tax_page = admin_client.get(
        reverse("admin:storefront_tax_change", args=[tax.pk])
    ).content.decode()

    assert "EUR account (sandbox)" in discount_page
    assert "USD account (live)" in discount_page
    assert "https://dashboard.stripe.com/coupons/SUMMER10" in hrefs(discount_page)
    sandbox_rate = StripeObjectRef.objects.get(local_key=f"tax:{tax.pk}", account__contains="eur")
    assert sandbox_rate.stripe_id.startswith("txr_") and sandbox_rate.stripe_id in tax_page
    # Read-only: the field is shown, not a form input.
    assert 'name="stripe_objects"' not in tax_page


def test_a_stripe_id_that_looks_like_an_admin_escape_opens_its_record(admin_client):
    # The admin reads "_3B" in a URL as ";": links must quote ids the admin's way.
    SandboxObject.objects.create(id="txr_3BT8_5Fx", account="acct_1", object="tax_rate", data={})

    response = admin_client.get(sandbox_record_url("txr_3BT8_5Fx"))

    assert response.status_code == 200
    assert "txr_3BT8_5Fx" in response.content.decode()
