"""What the Stripe rail remembers of its own objects at Stripe."""

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

    # The account's identity, as on Payment.account: its publishable key.
    account = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    local_key = models.CharField(max_length=64, help_text='Our row, e.g. "discount:5".')
    fingerprint = models.CharField(max_length=64)
    stripe_id = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Made by the payments app before the Stripe rail was an app of its own.
        db_table = "payments_stripeobjectref"
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "local_key", "fingerprint"],
                name="stripe_object_ref_once_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.local_key} → {self.stripe_id}"
