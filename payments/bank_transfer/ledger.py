"""Moving organisations' balances: the only code that writes `Organisation.balance`.

Every change happens with the organisation's row locked (`select_for_update`) inside the
caller's transaction, and writes a LedgerEntry with the balance before and after: concurrent
transfers for one INN queue on the lock, so the balance is their exact sum and the ledger
chains. These functions run inside the core's notification transaction
(`BankTransferRail.notification_act`), so the operation's row, the credit, the ledger and a
settled payment commit together with the notification's record, or not at all.

A balance is debited only in the savepoint that pays the order: the debit, the payment's move
to succeeded and the order marked paid (fulfilment, which checks under the order's lock that
the order is open and costs what the payment stands for) stand or fall together. Money that
cannot pay what it quotes stays on the balance, and the operation's attention note says why.
"""

import logging
import re

from django.db import connection, transaction
from django.utils import timezone

from payments.bank_transfer import NAME
from payments.bank_transfer.models import BankOperation, LedgerEntry, Organisation
from payments.bank_transfer.webhook import Transfer
from payments.models import Payment
from payments.records import payment_apply
from payments.values import ProviderState, ProviderStatus

logger = logging.getLogger(__name__)

#: How a payment reference looks (`INV-42`, the first reference of order 42; `INV-42-3`, its
#: third), found anywhere in a transfer's document number.
REFERENCE = re.compile(r"(?<![\w-])INV-[0-9]+(?:-[0-9]+)?(?![\w-])", re.IGNORECASE)
#: The most a balance holds (minor units): 10^16 roubles, a thousandth of what a BIGINT column
#: holds, so that a balance plus any transfer (at most webhook.MAX_AMOUNT) always fits. A
#: credit past it is recorded, not added, and flagged.
MAX_BALANCE = 10**18


def reference_for(ident: str, number: int = 1) -> str:
    """The payment reference a buyer quotes on the transfer for the `number`th bank payment
    of our `ident` (an order's pk): `INV-5`, then `INV-5-2`, ... A reference stands for one
    amount; when the order's total changes, its next payment gets the next reference."""
    return f"INV-{ident}" if number == 1 else f"INV-{ident}-{number}"


def _note_added(notes: str, note: str) -> str:
    """An attention note with `note` said too (once)."""
    return note if not notes else notes if note in notes else f"{notes}\n{note}"


def organisation_locked(*, inn: str, currency: str) -> Organisation:
    """The organisation with `inn`, locked for this transaction; created if it is new.

    Many first payments of one new INN may arrive at once. Each inserts the row or, where
    another transaction has just inserted it, waits for that one and takes its row, in one
    statement that leaves the row locked on every database (`INSERT ... ON CONFLICT DO
    UPDATE`, MySQL's `ON DUPLICATE KEY UPDATE`). Catching the refused INSERT and then locking
    the row, as this once did, deadlocks on InnoDB: each waiter keeps the shared lock its
    refused INSERT took, and all of them then ask for the exclusive one.
    """
    found = Organisation.objects.select_for_update().filter(inn=inn).first()
    if found is not None:
        return found
    # MySQL names no conflict target: any unique key conflicts (here only the INN can).
    target = connection.features.supports_update_conflicts_with_target
    Organisation.objects.bulk_create(
        [Organisation(inn=inn, currency=currency)],
        update_conflicts=True,
        unique_fields=["inn"] if target else None,
        update_fields=["inn"],  # changes nothing: the row is only locked
    )
    return Organisation.objects.select_for_update().get(inn=inn)


def _move(
    organisation: Organisation,
    delta: int,
    *,
    operation: BankOperation | None = None,
    payment: Payment | None = None,
) -> LedgerEntry:
    """Change a locked organisation's balance by `delta` and write the ledger row."""
    before = organisation.balance
    organisation.balance = before + delta
    organisation.save(update_fields=["balance"])
    return LedgerEntry.objects.create(
        organisation=organisation,
        operation=operation,
        payment=payment,
        balance_before=before,
        delta=delta,
        balance_after=organisation.balance,
    )


def transfer_credit(transfer: Transfer) -> tuple[BankOperation, Organisation]:
    """Record a first-seen operation and credit its payer's balance (organisation locked).

    An INN whose check digits fail is booked all the same and flagged on the organisation and
    the operation. A credit that would take the balance past MAX_BALANCE is recorded with
    `credited=False`, changes no balance, and is flagged: the bank has the money, so the
    delivery is not refused, and a person books it.
    """
    organisation = organisation_locked(inn=transfer.payer_inn, currency=transfer.currency)
    notes = []
    if not transfer.inn_checksum_valid:
        notes.append(
            f"INN {transfer.payer_inn} fails its check digits: check who this payer is "
            "(the transfer was booked as the bank sent it)."
        )
    credited = organisation.balance + transfer.amount <= MAX_BALANCE
    if not credited:
        notes.append(
            f"Not credited: {transfer.amount} would take the balance of INN "
            f"{organisation.inn} past {MAX_BALANCE} {transfer.currency} (minor units), the "
            "most it holds. Book it by hand."
        )
    said = organisation.attention_note
    for note in notes:
        said = _note_added(said, note)
    if said != organisation.attention_note:
        organisation.attention_note = said
        organisation.save(update_fields=["attention_note"])
    operation = BankOperation.objects.create(
        operation_id=transfer.operation_id,
        organisation=organisation,
        amount=transfer.amount,
        currency=transfer.currency,
        document_number=transfer.document_number,
        document_date=transfer.document_date,
        credited=credited,
        attention_note="\n".join(notes),
    )
    if credited:
        _move(organisation, transfer.amount, operation=operation)
    else:
        logger.error("bank operation %s not credited: %s", operation.operation_id, notes[-1])
    return operation, organisation


def _quoted(document_number: str) -> set[str]:
    return {match.upper() for match in REFERENCE.findall(document_number)}


def _quoted_payments(references: set[str], *, account: str) -> list[Payment]:
    """The pending bank-transfer payments of `account` with these references, locked in pk
    order (the order payments_close locks them in)."""
    if not references:
        return []
    return list(
        Payment.objects.select_for_update()
        .filter(
            rail=NAME,
            account=account,
            provider_ref__in=references,
            status=Payment.Status.PENDING,
        )
        .order_by("pk")
    )


def _not_pending(references: set[str], *, account: str) -> list[str]:
    """Why each of `references` names no pending payment of `account` (one query)."""
    known = {
        payment.provider_ref: payment
        for payment in Payment.objects.filter(
            rail=NAME, account=account, provider_ref__in=references
        )
    }
    notes = []
    for reference in sorted(references):
        payment = known.get(reference)
        if payment is None:
            why = "names no payment of this shop"
        elif payment.status == Payment.Status.SUCCEEDED:
            why = "was paid already"
        else:
            why = f"is {payment.get_status_display().lower()}"
            if payment.attention_note:
                why += f" ({payment.attention_note.rstrip('.')})"
        notes.append(f"{reference} {why}; the money stays on the balance.")
    return notes


class _NotPaid(Exception):
    """Fulfilment did not mark the order paid: the savepoint of the debit is rolled back."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


def _pay_from_balance(organisation: Organisation, payment: Payment) -> Payment | None:
    """Debit the locked organisation by what `payment` stands for and pay it, in one
    savepoint; None (and nothing debited) when fulfilment does not mark the order paid."""
    before = organisation.balance
    try:
        with transaction.atomic():
            _move(organisation, -payment.amount_expected, payment=payment)
            Payment.objects.filter(pk=payment.pk).update(attention_note="", updated=timezone.now())
            paid = payment_apply(
                ProviderState(
                    rail=NAME,
                    account=payment.account,
                    livemode=payment.livemode,
                    provider_ref=payment.provider_ref,
                    status=ProviderStatus.SUCCEEDED,
                    amount=payment.amount_expected,
                    currency=payment.currency,
                )
            )
            if paid.fulfilled_at is None:
                raise _NotPaid(paid.attention_note)
    except _NotPaid as refused:
        organisation.balance = before  # what the rolled-back UPDATE left in the row
        payment.attention_note = (
            f"Not paid from the balance of INN {organisation.inn}, and nothing was debited: "
            f"{refused.note}"
        )
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            status=Payment.Status.EXPIRED,
            attention_note=payment.attention_note,
            updated=timezone.now(),
        )
        logger.warning("bank payment %s closed: %s", payment.pk, payment.attention_note)
        return None
    return paid


def balance_settle(
    organisation: Organisation, operation: BankOperation, *, account: str
) -> list[Payment]:
    """Pay, from the locked organisation's balance, each pending payment the operation quotes.

    Covered, and the order still open and costing what the payment stands for: the balance
    is debited (a ledger row linked to the payment) and the core moves the payment to
    succeeded and fulfils what it paid for, once, with its usual signals, all in one
    savepoint. The order no longer payable by it (changed, cancelled, paid): nothing is
    debited, the payment is closed (a reference stands for one amount) and flagged. Not
    covered: the money stays on the balance and the payment's `attention_note` says why. A quoted
    reference that names no pending payment leaves the money on the balance. Each of these
    is noted on the operation's `attention_note`, for the merchant. Returns the payments settled.
    """
    references = _quoted(operation.document_number)
    payments = _quoted_payments(references, account=account)
    notes = (
        _not_pending(references - {payment.provider_ref for payment in payments}, account=account)
        if references
        else []
    )
    settled = []
    for payment in payments:
        if organisation.balance < payment.amount_expected:
            payment.attention_note = (
                f"Transfer {operation.document_number} from INN {organisation.inn}: balance "
                f"{organisation.balance} is short of {payment.amount_expected} "
                f"{payment.currency} (minor units); the order stays open until it is covered."
            )
            payment.save(update_fields=["attention_note", "updated"])
            notes.append(f"{payment.provider_ref}: {payment.attention_note}")
            logger.info("bank payment %s not settled: %s", payment.pk, payment.attention_note)
            continue
        paid = _pay_from_balance(organisation, payment)
        if paid is None:
            notes.append(
                f"{payment.provider_ref}: {payment.attention_note} The money stays on the balance."
            )
        else:
            settled.append(paid)
    if notes:
        said = operation.attention_note
        for note in notes:
            said = _note_added(said, note)
        operation.attention_note = said
        operation.save(update_fields=["attention_note"])
    return settled
