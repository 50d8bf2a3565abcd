"""What the bank-transfer rail remembers: organisations and their balances, each incoming
bank operation once, and a ledger row for every change of a balance.

`attention_note` (on an organisation and on an operation) is a note for the merchant: an INN whose
check digits fail, a transfer whose money stayed on the balance although it quoted a payment (the
order had changed, was cancelled or paid), a credit the balance bound would not take.
"""

from django.db import models

from payments.models import Payment


class Organisation(models.Model):
    """A buyer identified by its INN. Created by its first transfer (a bank's money is never
    refused); `balance` (minor units of BANK_TRANSFER_CURRENCY) changes only through
    `payments.bank_transfer.ledger`, under a row lock, with a LedgerEntry each time."""

    inn = models.CharField("INN", max_length=12, unique=True)
    name = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3)
    balance = models.BigIntegerField(default=0, help_text="Minor units.")
    created = models.DateTimeField(auto_now_add=True)
    attention_note = models.TextField(
        blank=True,
        default="",
        db_default="",
        db_column="flag",  # its name before 0004, which a serving release still uses
        help_text="For the merchant to review.",
    )

    class Meta:
        ordering = ["inn"]

    def __str__(self) -> str:
        return f"{self.name or 'Organisation'} (INN {self.inn})"


class BankOperation(models.Model):
    """One incoming transfer, as the bank described it; stored once per operation id."""

    operation_id = models.UUIDField(unique=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="operations"
    )
    amount = models.BigIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3)
    document_number = models.CharField(max_length=255)
    document_date = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    credited = models.BooleanField(
        default=True,
        db_default=True,
        help_text="Whether its amount was added to the balance (not past the balance bound).",
    )
    attention_note = models.TextField(
        blank=True,
        default="",
        db_default="",
        db_column="flag",  # its name before 0004, which a serving release still uses
        help_text="For the merchant to review.",
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        # The admin's list, newest first; built CONCURRENTLY on PostgreSQL (0003).
        indexes = [models.Index(fields=["received_at", "id"], name="bank_operation_received")]

    def __str__(self) -> str:
        return f"{self.document_number} ({self.operation_id})"


class LedgerEntry(models.Model):
    """One change of an organisation's balance: a credit by a bank operation, or a debit that
    paid for a payment. Rows of one organisation chain: each `balance_after` is the next row's
    `balance_before`."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="ledger")
    operation = models.ForeignKey(
        BankOperation, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    balance_before = models.BigIntegerField()
    delta = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "pk"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_after=models.F("balance_before") + models.F("delta")),
                name="ledger_entry_adds_up",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation.inn} {self.delta:+d}"
