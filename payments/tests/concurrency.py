"""Shared by the rails' concurrency tests: real threads against a database server.

SQLite serialises every writer, so it proves nothing here; such tests run in the PostgreSQL
and the MySQL/MariaDB passes of `make test` (DATABASE_URL=postgres://... or mysql://...) and
skip, saying so, on SQLite. The two servers lock differently (PostgreSQL's unique-index waits
and `FOR UPDATE OF`; InnoDB's record and gap locks, and MariaDB's plain `FOR UPDATE`), which
is why both run them. It also makes the errors the database drivers raise for a deadlock and
a lock wait timeout, for tests that have code meet one where a real one arises.
"""

import threading

import MySQLdb
import psycopg
import pytest
from django.db import OperationalError, connection, connections
from django.test import Client

from sitewide import transactions

SERVER_VENDORS = ("postgresql", "mysql")

SERVER_DATABASE_ONLY = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor not in SERVER_VENDORS,
        reason="concurrency tests need PostgreSQL or MySQL/MariaDB: run with "
        "DATABASE_URL=postgres://... or mysql://... (make test does, in those passes)",
    ),
]
#: The name these tests were first marked with; they now run on MySQL and MariaDB too.
POSTGRES_ONLY = SERVER_DATABASE_ONLY


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


def _raised_by_django(cause: Exception) -> OperationalError:
    """`cause`, a driver's error, as Django raises it: its OperationalError caused by it."""
    error = OperationalError(*cause.args)
    error.__cause__ = cause
    return error


def innodb_deadlock() -> OperationalError:
    return _raised_by_django(
        MySQLdb.OperationalError(1213, "Deadlock found when trying to get lock")
    )


def postgres_deadlock() -> OperationalError:
    return _raised_by_django(psycopg.errors.DeadlockDetected("deadlock detected"))


def lock_wait_timeout() -> OperationalError:
    return _raised_by_django(MySQLdb.OperationalError(1205, "Lock wait timeout exceeded"))


def recorded_pauses(monkeypatch) -> list[float]:
    """The pauses, in seconds, that deadlocks' victims take before they run again
    (`sitewide.transactions.deadlock_pause`), recorded instead of slept."""
    pauses: list[float] = []
    monkeypatch.setattr(transactions, "sleep", pauses.append)
    return pauses
