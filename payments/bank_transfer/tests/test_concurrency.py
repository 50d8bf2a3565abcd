"""Exactly-once crediting under real concurrency: 50 threads against PostgreSQL (see
payments.tests.concurrency)."""

from collections import Counter
from itertools import pairwise

from payments.bank_transfer.models import BankOperation, LedgerEntry, Organisation
from payments.bank_transfer.tests.bank_tools import INN, post, transfer
from payments.models import WebhookEvent
from payments.tests.concurrency import POSTGRES_ONLY, run_at_once

pytestmark = POSTGRES_ONLY
THREADS = 50


def test_fifty_deliveries_of_one_operation_credit_once():
    body = transfer(amount=145000)

    statuses = run_at_once([lambda client: post(client, body)] * THREADS)

    assert Counter(statuses) == {200: THREADS}
    assert BankOperation.objects.count() == 1
    assert LedgerEntry.objects.count() == 1
    assert Organisation.objects.get().balance == 145000
    record = WebhookEvent.objects.get()
    assert (record.status, record.duplicates) == ("processed", THREADS - 1)


def test_fifty_operations_for_one_new_inn_add_up_and_the_ledger_chains():
    bodies = [transfer(amount=1000 + i) for i in range(THREADS)]

    statuses = run_at_once([lambda client, body=body: post(client, body) for body in bodies])

    assert Counter(statuses) == {200: THREADS}
    organisation = Organisation.objects.get()
    assert organisation.inn == INN
    assert organisation.balance == sum(body["amount"] for body in bodies)
    rows = list(
        LedgerEntry.objects.order_by("pk").values_list("balance_before", "delta", "balance_after")
    )
    assert len(rows) == THREADS
    assert rows[0][0] == 0
    for (_, _, after), (before, _, _) in pairwise(rows):
        assert after == before
    assert rows[-1][2] == organisation.balance
