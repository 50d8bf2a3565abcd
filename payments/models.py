"""What the payment layer remembers, whatever the rail: payments and notifications."""

from django.db import models


class Payment(models.Model):
    """One attempt to take money for something we sell, on one rail and one account.

    A rail records it when it starts the payment; only a notification or a confirmation from
    the same rail and account moves it. `status` follows the provider; `fulfilled_at` says when
    what was bought was marked paid (exactly once); `flag` is a note for the merchant when a
    payment needs a person (an amount that does not match, a second payment for an order
    already paid).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    rail = models.CharField(max_length=20, help_text='The rail that started it, e.g. "stripe".')
    account = models.CharField(
        max_length=255,
        help_text="The rail's account that took it (for Stripe: the account's publishable key).",
    )
    livemode = models.BooleanField(default=False)
    reference = models.CharField(
        max_length=64, db_index=True, help_text='What it pays for, e.g. "order-5".'
    )
    provider_ref = models.CharField(
        max_length=255, help_text="The provider's id of this payment (a Checkout Session's)."
    )
    # NULL, not "", when unknown: the unique constraint must ignore missing ids.
    provider_payment_ref = models.CharField(  # noqa: DJ001 (see above)
        max_length=255,
        null=True,
        blank=True,
        help_text="The provider's id of the money movement, where it differs (a PaymentIntent).",
    )
    currency = models.CharField(max_length=3)
    amount_expected = models.BigIntegerField(help_text="Minor units, as the payment was started.")
    amount_received = models.BigIntegerField(
        null=True, blank=True, help_text="Minor units the provider says it took."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Where the buyer pays, for a rail that sends them away, and until when that page takes
    # payment: while both hold, starting the same payable again sends the buyer back there.
    pay_url = models.CharField(max_length=2000, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    flag = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rail", "provider_ref"], name="payment_provider_ref_once_per_rail"
            ),
            models.UniqueConstraint(
                fields=["rail", "provider_payment_ref"],
                name="payment_provider_payment_ref_once_per_rail",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_ref} ({self.status})"

    @property
    def provider_id(self) -> str:
        """The id a merchant searches for at the provider: the money movement's, if known."""
        return self.provider_payment_ref or self.provider_ref


class WebhookEvent(models.Model):
    """Every notification that reached us, recorded before it is acted on.

    An authentic notification is stored once per rail, account and event id (the database
    refuses a second row), so a duplicate delivery is acknowledged and does nothing. A delivery
    whose processing failed keeps its row as `failed` and leaves the id free, so the provider's
    retry is processed afresh; one that reuses an event id to say something else is kept as
    `conflict`, for the merchant, and changes nothing.
    """

    class Status(models.TextChoices):
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"
        CONFLICT = "conflict", "Conflict"  # an event id seen before, saying something else

    rail = models.CharField(max_length=20)
    account = models.CharField(max_length=255)
    event_id = models.CharField(max_length=255, blank=True)
    type = models.CharField(max_length=100, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
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
                fields=["rail", "account", "event_id"],
                condition=models.Q(signature_valid=True)
                & ~models.Q(status__in=["failed", "conflict"]),
                name="webhook_event_once_per_rail_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rail} {self.event_id or '(unsigned)'} {self.type} {self.status}"
