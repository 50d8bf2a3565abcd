"""What the payment layer remembers about Stripe."""

from django.db import models


class StripeObjectRef(models.Model):
    """A Stripe object made for one of our rows on one account: created once, then reused.

    Coupons and tax rates cannot be changed in place at Stripe, so a row is keyed by a
    fingerprint of the parameters it was created with: editing the Discount or Tax changes the
    fingerprint and the next checkout creates (and remembers) a new Stripe object.
    """

    class Kind(models.TextChoices):
        COUPON = "coupon", "Coupon"
        TAX_RATE = "tax_rate", "Tax rate"

    # The account's publishable key: public, and distinct for each account and mode.
    account = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    local_key = models.CharField(max_length=64, help_text='Our row, e.g. "discount:5".')
    fingerprint = models.CharField(max_length=64)
    stripe_id = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "local_key", "fingerprint"],
                name="stripe_object_ref_once_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.local_key} → {self.stripe_id}"


class Payment(models.Model):
    """One attempt to take money for something we sell: a Checkout Session (or PaymentIntent).

    `status` follows the provider; `fulfilled_at` says when what was bought was marked paid
    (exactly once); `flag` is a note for the merchant when a payment needs a person (an amount
    that does not match, a second payment for an order already paid).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    provider = models.CharField(max_length=20, default="stripe")
    account = models.CharField(max_length=3, help_text="Currency of the Stripe account.")
    livemode = models.BooleanField(default=False)
    reference = models.CharField(max_length=64, db_index=True, help_text='e.g. "order-5"')
    # NULL, not "", when unknown: unique constraints must ignore missing ids.
    checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    amount = models.BigIntegerField(help_text="Minor units of the currency.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    flag = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.checkout_session_id or self.payment_intent_id} ({self.status})"


class WebhookEvent(models.Model):
    """Every webhook delivery that reached us, recorded before it is acted on.

    A signed event is stored once per account and event id (the database refuses a second row),
    so a duplicate delivery is acknowledged and does nothing. A delivery whose processing failed
    keeps its row as `failed` and leaves the id free, so Stripe's retry is processed afresh.
    """

    class Status(models.TextChoices):
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"

    account = models.CharField(max_length=3)
    event_id = models.CharField(max_length=255, blank=True)
    type = models.CharField(max_length=100, blank=True)
    signature_valid = models.BooleanField()
    status = models.CharField(max_length=10, choices=Status.choices)
    duplicates = models.PositiveIntegerField(default=0)
    payload = models.TextField(blank=True)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "event_id"],
                condition=models.Q(signature_valid=True) & ~models.Q(status="failed"),
                name="webhook_event_once_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.event_id or '(unsigned)'} {self.type} {self.status}"
