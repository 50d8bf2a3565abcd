"""Moving organisations' balances: the only code that writes `Organisation.balance`.

Every change happens with the organisation's row locked (`select_for_update`) inside the
caller's transaction, and writes a LedgerEntry with the balance before and after: concurrent
transfers for one INN queue on the lock, so the balance is their exact sum and the ledger
chains. These functions run inside the core's notification transaction
(`BankTransferRail.notification_act`), so the operation's row, the credit, the ledger and a
settled payment commit together with the notification's record, or not at all.
"""

import logging
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.bank_transfer import NAME
from payments.bank_transfer.models import BankOperation, LedgerEntry, Organisation
from payments.bank_transfer.webhook import Transfer
from payments.models import Payment
from payments.records import payment_apply
from payments.values import ProviderState, ProviderStatus

logger = logging.getLogger(__name__)

#: How a payment reference looks (`INV-42`), found anywhere in a transfer's document number.
REFERENCE = re.compile(r"(?<![\w-])INV-[0-9]+(?![\w-])", re.IGNORECASE)


def reference_for(ident: str) -> str:
    """The payment reference a buyer quotes on the transfer for our `ident` (an order's pk)."""
    return f"INV-{ident}"


def organisation_locked(*, inn: str, currency: str) -> Organisation:
    """The organisation with `inn`, locked for this transaction; created if it is new.

    Two first payments of one new INN may arrive at once: the second insert waits for the
    first and fails on the unique INN inside its savepoint, and then reads (and locks) the
    row the first one made.
    """
    found = Organisation.objects.select_for_update().filter(inn=inn).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Organisation.objects.create(inn=inn, currency=currency)
    except IntegrityError:
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
    """Record a first-seen operation and credit its payer's balance (organisation locked)."""
    organisation = organisation_locked(inn=transfer.payer_inn, currency=transfer.currency)
    operation = BankOperation.objects.create(
        operation_id=transfer.operation_id,
        organisation=organisation,
        amount=transfer.amount,
        currency=transfer.currency,
        document_number=transfer.document_number,
        document_date=transfer.document_date,
    )
    _move(organisation, transfer.amount, operation=operation)
    return operation, organisation


def _quoted_payments(document_number: str, *, account: str) -> list[Payment]:
    """The pending bank-transfer payments whose reference the document number quotes, locked."""
    references = {match.upper() for match in REFERENCE.findall(document_number)}
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


def balance_settle(
    organisation: Organisation, operation: BankOperation, *, account: str
) -> list[Payment]:
    """Pay, from the locked organisation's balance, each pending payment the operation quotes.

    Covered: the balance is debited (a ledger row linked to the payment) and the core moves the
    payment to succeeded and fulfils what it paid for, once, with its usual signals. Not
    covered: the money stays on the balance and the payment's `flag` says why, for the
    merchant. Returns the payments settled.
    """
    settled = []
    for payment in _quoted_payments(operation.document_number, account=account):
        if organisation.balance < payment.amount_expected:
            payment.flag = (
                f"Transfer {operation.document_number} from INN {organisation.inn}: balance "
                f"{organisation.balance} is short of {payment.amount_expected} "
                f"{payment.currency} (minor units); the order stays open until it is covered."
            )
            payment.save(update_fields=["flag", "updated"])
            logger.info("bank payment %s not settled: %s", payment.pk, payment.flag)
            continue
        _move(organisation, -payment.amount_expected, payment=payment)
        Payment.objects.filter(pk=payment.pk).update(flag="", updated=timezone.now())
        settled.append(
            payment_apply(
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
        )
    return settled
