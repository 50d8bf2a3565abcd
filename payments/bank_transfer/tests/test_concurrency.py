"""Exactly-once crediting under real concurrency: 50 threads against PostgreSQL.

SQLite serialises every writer, so it proves nothing here; these tests run in the PostgreSQL
pass of `make test` (DATABASE_URL=postgres://...) and skip, saying so, elsewhere.
"""

import threading
from collections import Counter
from itertools import pairwise

import pytest
from django.db import connection, connections
from django.test import Client

from payments.bank_transfer.models import BankOperation, LedgerEntry, Organisation
from payments.bank_transfer.tests.bank_tools import INN, post, transfer
from payments.models import WebhookEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency tests need PostgreSQL: run with DATABASE_URL=postgres://... "
        "(make test does, in its PostgreSQL pass)",
    ),
]
THREADS = 50


def run_at_once(bodies):
    """Post each body from its own thread, all released together; return the status codes."""
    barrier = threading.Barrier(len(bodies))
    statuses = [None] * len(bodies)

    def worker(index, body):
        try:
            barrier.wait(timeout=30)
            statuses[index] = post(Client(), body).status_code
        except Exception as exc:  # a crash is a result too, not a hang
            statuses[index] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, b)) for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_fifty_deliveries_of_one_operation_credit_once():
    body = transfer(amount=145000)

    statuses = run_at_once([body] * THREADS)

    assert Counter(statuses) == {200: THREADS}
    assert BankOperation.objects.count() == 1
    assert LedgerEntry.objects.count() == 1
    assert Organisation.objects.get().balance == 145000
    record = WebhookEvent.objects.get()
    assert (record.status, record.duplicates) == ("processed", THREADS - 1)


def test_fifty_operations_for_one_new_inn_add_up_and_the_ledger_chains():
    bodies = [transfer(amount=1000 + i) for i in range(THREADS)]

    statuses = run_at_once(bodies)

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
