"""The rails migration carries payments and webhook events made before it over."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("payments", "0002_payment_webhookevent")]
AFTER = [("payments", "0003_rails"), ("payments_stripe", "0001_initial")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_0002():
    """The database as the last release left it; migrated to the newest state afterwards."""
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_payments_and_events_made_before_rails_are_carried_over(at_0002, settings):
    settings.STRIPE_ACCOUNTS = {
        "USD": {"secret_key": "sk_live_u", "publishable_key": "pk_live_u", "webhook_secret": ""},
        "EUR": {"secret_key": "", "publishable_key": "", "webhook_secret": ""},
    }
    OldPayment = at_0002.get_model("payments", "Payment")
    OldEvent = at_0002.get_model("payments", "WebhookEvent")
    OldRef = at_0002.get_model("payments", "StripeObjectRef")
    paid_checkout = OldPayment.objects.create(
        account="EUR", reference="order-1", checkout_session_id="cs_test_a",
        payment_intent_id="pi_a", amount=5700, currency="EUR", status="succeeded",
    )  # fmt: skip
    open_intent = OldPayment.objects.create(
        account="USD", livemode=True, reference="order-2", payment_intent_id="pi_b",
        amount=5142, currency="USD",
    )  # fmt: skip
    OldEvent.objects.create(
        account="EUR", event_id="evt_1", type="checkout.session.completed",
        signature_valid=True, status="processed",
    )  # fmt: skip
    OldEvent.objects.create(account="USD", signature_valid=False, status="rejected")
    OldRef.objects.create(
        account="pk_test_sandbox_eur", kind="coupon", local_key="discount:1",
        fingerprint="f", stripe_id="SAVE5",
    )  # fmt: skip

    apps = migrate(AFTER)

    Payment = apps.get_model("payments", "Payment")
    checkout = Payment.objects.get(pk=paid_checkout.pk)
    assert (checkout.rail, checkout.account) == ("stripe", "pk_test_sandbox_eur")
    assert (checkout.provider_ref, checkout.provider_payment_ref) == ("cs_test_a", "pi_a")
    assert (checkout.amount_expected, checkout.amount_received) == (5700, 5700)
    intent = Payment.objects.get(pk=open_intent.pk)
    assert (intent.account, intent.livemode) == ("pk_live_u", True)
    assert (intent.provider_ref, intent.provider_payment_ref) == ("pi_b", None)
    assert (intent.amount_expected, intent.amount_received) == (5142, None)
    ReceivedNotification = apps.get_model("payments", "WebhookEvent")
    assert sorted(ReceivedNotification.objects.values_list("rail", "account", "event_id")) == [
        ("stripe", "pk_live_u", ""),
        ("stripe", "pk_test_sandbox_eur", "evt_1"),
    ]
    ref = apps.get_model("payments_stripe", "StripeObjectRef").objects.get()
    assert (ref.account, ref.stripe_id) == ("pk_test_sandbox_eur", "SAVE5")
