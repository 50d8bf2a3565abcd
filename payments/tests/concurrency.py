"""Shared by the rails' concurrency tests: real threads against PostgreSQL.

SQLite serialises every writer, so it proves nothing here; such tests run in the PostgreSQL
pass of `make test` (DATABASE_URL=postgres://...) and skip, saying so, elsewhere.
"""

import threading

import pytest
from django.db import connection, connections
from django.test import Client

POSTGRES_ONLY = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency tests need PostgreSQL: run with DATABASE_URL=postgres://... "
        "(make test does, in its PostgreSQL pass)",
    ),
]


def run_at_once(calls, *, timeout: float = 120) -> list:
    """Run each `call(client)` in its own thread with its own test client, all released
    together; return their status codes (or the exception, as text: a crash is a result too,
    not a hang)."""
    barrier = threading.Barrier(len(calls))
    statuses = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=30)
            statuses[index] = call(Client()).status_code
        except Exception as exc:
            statuses[index] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return statuses
