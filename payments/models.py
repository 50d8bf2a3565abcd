"""What the payment layer remembers, whatever the rail: payments, their refunds and disputes,
notifications, and each account's reconciliation runs."""

from django.conf import settings
from django.db import models

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, from_minor_units
from payments.rails import all_rails
from payments.values import DISPUTE_NEEDS_RESPONSE, DISPUTE_OPEN


def reference_words(reference: str) -> str:
    """`"order-12"` -> "Order 12": what a payment pays for, as a merchant reads it."""
    kind, _, ident = reference.partition("-")
    return f"{kind.capitalize()} {ident}" if kind and ident else reference


def rail_words(rail: str) -> str:
    """A rail's name as the merchant reads it ("Stripe"); its stored name if no longer run."""
    found = all_rails().get(rail)
    return found.verbose_name if found is not None else rail


def _money(amount: int, currency: str) -> str:
    try:
        return format_money(from_minor_units(amount, currency), currency)
    except CurrencyError:
        return f"{amount} {currency} (minor units)"


class Payment(models.Model):
    """One attempt to take money for something we sell, on one rail and one account.

    A rail records it when it starts the payment; only a notification or a confirmation from
    the same rail and account moves it. `status` follows the provider; `fulfilled_at` says when
    what was bought was marked paid (exactly once); `attention_note` is a note for the merchant when
    a payment needs a person (an amount that does not match, a second payment for an order
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
    # db_default, here and on payer_email: the previous release's INSERTs do not name them.
    pay_url = models.CharField(max_length=2000, blank=True, default="", db_default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    # Renamed from `flag` (it is a note, not a boolean); the column keeps its name, which the
    # previous release still reads and writes (docs/deploy.md).
    attention_note = models.TextField(blank=True, db_column="flag")
    payer_email = models.EmailField(
        blank=True,
        default="",
        db_default="",
        help_text="The buyer's e-mail address as the provider collected it.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-pk"]
        # One for each hot query (docs/performance.md), built CONCURRENTLY on PostgreSQL
        # (payments 0010).
        indexes = [
            # Open payment pages (references_being_paid: orders_expire keeps their orders);
            # reconcile's pending payments whose page has expired.
            models.Index(fields=["status", "expires_at"], name="payment_status_expires"),
            # Reconcile's pending payments of one account started within its window.
            models.Index(
                fields=["rail", "account", "status", "created"], name="payment_account_pending"
            ),
            # The admin's list, newest first.
            models.Index(fields=["created", "id"], name="payment_created"),
        ]
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
        """The payment in a merchant's words: what it pays for, how much (what it received,
        else what it asked for) and the rail, "Order 12 · $13.61 · Stripe"; the provider's
        id is on its page and in the search."""
        amount = self.amount_expected if self.amount_received is None else self.amount_received
        return f"{reference_words(self.reference)} · {_money(amount, self.currency)} · " + (
            rail_words(self.rail)
        )

    @property
    def provider_id(self) -> str:
        """The id a merchant searches for at the provider: the money movement's, if known."""
        return self.provider_payment_ref or self.provider_ref


class ReceivedNotification(models.Model):
    """Every notification that reached us, recorded before it is acted on.

    An authentic notification is stored once per rail, account and event id (the database
    refuses a second row), so a duplicate delivery is acknowledged and does nothing. A delivery
    whose processing failed keeps its row as `failed` and leaves the id free, so the provider's
    retry is processed afresh; one that reuses an event id to say something else is kept as
    `conflict`, for the merchant, and changes nothing.

    The rule is a plain unique key, which every supported database creates (MySQL and MariaDB
    have no partial index): `once_event_id` holds the event id where the rule applies (an
    authentic delivery, neither failed nor in conflict) and NULL elsewhere, and a unique key
    allows any number of NULLs. `save()` fills it in.
    """

    #: The statuses of an authentic delivery that leave its event id free for another row.
    EVENT_ID_FREE = ("failed", "conflict")

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
    # An authentic delivery's row: the rail's digest of what the event says (a redelivery saying
    # otherwise is a conflict), and how many redeliveries of it came since.
    fingerprint = models.CharField(max_length=64, blank=True)
    signature_valid = models.BooleanField()
    status = models.CharField(max_length=10, choices=Status.choices)
    duplicates = models.PositiveIntegerField(default=0)
    # A rejected row (one per rail, account and hour): how many deliveries it stands for, and
    # the SHA-256 of the latest one's body. db_default: the previous release's INSERTs do not
    # name them (docs/deploy.md).
    rejections = models.PositiveIntegerField(default=0, db_default=0)
    body_sha256 = models.CharField(max_length=64, blank=True, default="", db_default="")
    payload = models.TextField(blank=True)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # NULL, not "", where the once-only rule does not apply: the unique key ignores NULLs.
    once_event_id = models.CharField(  # noqa: DJ001 (see above)
        max_length=255, null=True, blank=True, editable=False
    )

    class Meta:
        # Named WebhookEvent before payments 0012: the table keeps that name, which a serving
        # release still reads and writes (docs/deploy.md).
        db_table = "payments_webhookevent"
        ordering = ["-received_at", "-pk"]
        indexes = [
            # The rejected-delivery row of the hour (notification_reject, on every request that
            # fails a signature check) and the accounts page's failures of the last day.
            models.Index(
                fields=["rail", "account", "status", "received_at", "id"],
                name="webhook_event_account_status",
            ),
            # The admin's list, newest first; the accounts page's latest authentic
            # notification of each account (read backwards until one of that account).
            models.Index(fields=["received_at", "id"], name="webhook_event_received"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rail", "account", "once_event_id"],
                name="webhook_event_id_once_per_rail_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rail} {self.event_id or '(unsigned)'} {self.type} {self.status}"

    def save(self, *args, **kwargs) -> None:
        self.once_event_id = self.once_key(
            event_id=self.event_id, signature_valid=self.signature_valid, status=self.status
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"event_id", "signature_valid", "status"} & {
            *update_fields
        }:
            kwargs["update_fields"] = {*update_fields, "once_event_id"}
        super().save(*args, **kwargs)

    @classmethod
    def once_key(cls, *, event_id: str, signature_valid: bool, status: str) -> str | None:
        """What `once_event_id` holds for a row saying this: the event id while the rule
        applies to it, else None."""
        if signature_valid and status not in cls.EVENT_ID_FREE:
            return event_id
        return None


class Refund(models.Model):
    """Money given back on a payment, by the account that took it.

    One row per refund, whichever way it reached us first: asked for from our admin (it then
    has a `request_key`, sent to the provider as the idempotency key and in its metadata) or
    made in the provider's dashboard and learnt from a notification. The database keeps it
    once: `request_key` is unique, and so is the provider's id per payment. Succeeded, failed
    and canceled are final against older news (`payments.refunds`); what is counted as
    refunded never exceeds what the payment received (the rest is flagged, `attention_note`).
    """

    FINAL = ("succeeded", "failed", "canceled")

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Cancelled"  # Stripe spells the value; people read the label

    class Reason(models.TextChoices):
        REQUESTED_BY_CUSTOMER = "requested_by_customer", "Requested by the customer"
        DUPLICATE = "duplicate", "Duplicate payment"
        FRAUDULENT = "fraudulent", "Fraudulent"
        OTHER = "", "Other (see the note)"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField(help_text="Minor units of the payment's currency.")
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=30, choices=Reason.choices, blank=True)
    note = models.CharField(max_length=500, blank=True, help_text="For the merchant's records.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # NULL, not "", when unknown: the unique constraints must ignore missing values.
    request_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    provider_ref = models.CharField(  # noqa: DJ001 (see above)
        max_length=255, null=True, blank=True, help_text="The provider's id of the refund."
    )
    message = models.TextField(blank=True, help_text="Why the provider refused it, if it did.")
    attention_note = models.TextField(
        blank=True,
        default="",
        db_default="",
        db_column="flag",  # its name before payments 0012, which a serving release still uses
        help_text="For the merchant: what the provider said that we could not act on (a refund "
        "beyond what the payment received; an older word contradicting a final status).",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who asked for it in our admin (empty: made at the provider).",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["created", "id"], name="refund_created")]  # admin list
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "provider_ref"], name="refund_provider_ref_once_per_payment"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.provider_ref or self.request_key} ({self.status})"


class Dispute(models.Model):
    """A buyer's bank disputing one of our payments (an inquiry, a chargeback, its appeal), as
    the provider reports it; `observed_at` is when the provider said what is recorded, so an
    older word arriving late changes nothing (`payments.disputes`)."""

    class Status(models.TextChoices):
        # The same words as payments.values.DisputeStatus.
        INQUIRY_NEEDS_RESPONSE = "inquiry_needs_response", "Inquiry: needs a response"
        INQUIRY_UNDER_REVIEW = "inquiry_under_review", "Inquiry: under review"
        INQUIRY_CLOSED = "inquiry_closed", "Inquiry closed"
        NEEDS_RESPONSE = "needs_response", "Needs a response"
        UNDER_REVIEW = "under_review", "Under review"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        APPEAL_NEEDS_RESPONSE = "appeal_needs_response", "Appeal: needs a response"
        APPEAL_UNDER_REVIEW = "appeal_under_review", "Under appeal"
        PREVENTED = "prevented", "Prevented"
        CLOSED = "closed", "Closed"  # recorded before inquiries and preventions were told apart

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    provider_ref = models.CharField(max_length=255, help_text="The provider's id of the dispute.")
    amount = models.BigIntegerField(help_text="Minor units disputed.")
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices)
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    appealed = models.BooleanField(
        default=False, db_default=False, help_text="Whether it went to appeal."
    )
    observed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the provider said what is recorded."
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "provider_ref"], name="dispute_once_per_payment"
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute {self.provider_ref} ({self.status})"

    @property
    def is_open(self) -> bool:
        """Not over yet: waiting for the merchant, or for the bank or the network."""
        return self.status in DISPUTE_OPEN

    @property
    def needs_response(self) -> bool:
        """Waiting for the merchant's response (until `evidence_due_by`)."""
        return self.status in DISPUTE_NEEDS_RESPONSE


class ReconcileRun(models.Model):
    """One pass of `manage.py payments_reconcile` over one account of one rail."""

    rail = models.CharField(max_length=20)
    account = models.CharField(max_length=255)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False, help_text="Whether the provider could be asked.")
    found = models.PositiveIntegerField(default=0, help_text="Notifications found.")
    processed = models.PositiveIntegerField(default=0, help_text="Found and acted on now.")
    duplicates = models.PositiveIntegerField(default=0, help_text="Found, already received.")
    payments_checked = models.PositiveIntegerField(default=0)
    payments_moved = models.PositiveIntegerField(default=0)
    report = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["rail", "account", "-started_at"]),
            models.Index(fields=["started_at", "id"], name="reconcile_run_started"),  # admin
        ]

    def __str__(self) -> str:
        return f"{self.rail} {self.account} {self.started_at:%Y-%m-%d %H:%M}"
