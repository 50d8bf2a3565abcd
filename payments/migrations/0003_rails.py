"""Payments become rail-neutral.

- `Payment.provider` becomes `rail`; the Stripe ids become `provider_ref` (the Checkout Session
  or our PaymentIntent) and `provider_payment_ref` (a Checkout Session's PaymentIntent), unique
  per rail; `amount` becomes `amount_expected`, with `amount_received` beside it.
- `Payment.account` and `WebhookEvent.account` held a currency code; they now hold the Stripe
  account's identity, its publishable key, as `StripeObjectRef.account` always did. Rows made
  before are given the key configured for their currency when this migration runs, or the
  sandbox's key for that currency where none is (those payments can only have been made in the
  sandbox).
- `StripeObjectRef` moves to the Stripe rail's own app (`payments_stripe`), keeping its table.
"""

from django.conf import settings
from django.db import migrations, models

SANDBOX_PUBLISHABLE_PREFIX = "pk_test_sandbox_"


def _identity(code: str) -> str:
    keys = getattr(settings, "STRIPE_ACCOUNTS", {}).get(code.upper()) or {}
    return keys.get("publishable_key") or SANDBOX_PUBLISHABLE_PREFIX + code.lower()


def _code(identity: str, fallback: str) -> str:
    if identity.startswith(SANDBOX_PUBLISHABLE_PREFIX):
        return identity.removeprefix(SANDBOX_PUBLISHABLE_PREFIX).upper()[:3]
    for code, keys in getattr(settings, "STRIPE_ACCOUNTS", {}).items():
        if keys.get("publishable_key") == identity:
            return code
    return fallback.upper()[:3]


def forwards(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    WebhookEvent = apps.get_model("payments", "WebhookEvent")
    for payment in Payment.objects.all().iterator():
        payment.rail = payment.rail or "stripe"
        payment.account = _identity(payment.account)
        payment.provider_ref = payment.checkout_session_id or payment.payment_intent_id
        payment.provider_payment_ref = (
            payment.payment_intent_id if payment.checkout_session_id else None
        )
        if payment.status == "succeeded":
            payment.amount_received = payment.amount_expected
        payment.save(
            update_fields=[
                "rail", "account", "provider_ref", "provider_payment_ref", "amount_received"
            ]
        )
    for event in WebhookEvent.objects.all().iterator():
        event.account = _identity(event.account)
        event.save(update_fields=["account"])


def backwards(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    WebhookEvent = apps.get_model("payments", "WebhookEvent")
    for payment in Payment.objects.all().iterator():
        payment.account = _code(payment.account, payment.currency)
        if payment.provider_ref.startswith("cs_"):
            payment.checkout_session_id = payment.provider_ref
            payment.payment_intent_id = payment.provider_payment_ref
        else:
            payment.payment_intent_id = payment.provider_ref
        payment.save(update_fields=["account", "checkout_session_id", "payment_intent_id"])
    for event in WebhookEvent.objects.all().iterator():
        event.account = _code(event.account, "")
        event.save(update_fields=["account"])


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0002_payment_webhookevent"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="StripeObjectRef")],
        ),
        migrations.RemoveConstraint(
            model_name="webhookevent", name="webhook_event_once_per_account"
        ),
        migrations.RenameField(model_name="payment", old_name="provider", new_name="rail"),
        migrations.RenameField(model_name="payment", old_name="amount", new_name="amount_expected"),
        migrations.AlterField(
            model_name="payment",
            name="account",
            field=models.CharField(help_text="The rail's account that took it (for Stripe: the account's publishable key).", max_length=255),
        ),
        migrations.AlterField(
            model_name="payment",
            name="rail",
            field=models.CharField(help_text='The rail that started it, e.g. "stripe".', max_length=20),
        ),
        migrations.AlterField(
            model_name="payment",
            name="reference",
            field=models.CharField(db_index=True, help_text='What it pays for, e.g. "order-5".', max_length=64),
        ),
        migrations.AlterField(
            model_name="payment",
            name="amount_expected",
            field=models.BigIntegerField(help_text="Minor units, as the payment was started."),
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="account",
            field=models.CharField(max_length=255),
        ),
        migrations.AddField(
            model_name="webhookevent",
            name="rail",
            field=models.CharField(default="stripe", max_length=20),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="payment",
            name="provider_ref",
            field=models.CharField(max_length=255, null=True),
        ),
        migrations.AddField(
            model_name="payment",
            name="provider_payment_ref",
            field=models.CharField(blank=True, help_text="The provider's id of the money movement, where it differs (a PaymentIntent).", max_length=255, null=True),
        ),
        migrations.AddField(
            model_name="payment",
            name="amount_received",
            field=models.BigIntegerField(blank=True, help_text="Minor units the provider says it took.", null=True),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="payment", name="checkout_session_id"),
        migrations.RemoveField(model_name="payment", name="payment_intent_id"),
        migrations.AlterField(
            model_name="payment",
            name="provider_ref",
            field=models.CharField(help_text="The provider's id of this payment (a Checkout Session's).", max_length=255),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                fields=("rail", "provider_ref"), name="payment_provider_ref_once_per_rail"
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                fields=("rail", "provider_payment_ref"),
                name="payment_provider_payment_ref_once_per_rail",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("signature_valid", True), models.Q(("status", "failed"), _negated=True)),
                fields=("rail", "account", "event_id"),
                name="webhook_event_once_per_rail_account",
            ),
        ),
    ]
