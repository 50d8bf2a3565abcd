"""AddIndexOnline: the hot queries' indexes migrate forwards and backwards on every database,
and on PostgreSQL they are built CONCURRENTLY, an interrupted build's leftover replaced."""

import pytest
from django.core.management import call_command
from django.db import connection

from storefront.tests.explain_tools import POSTGRES_ONLY


def index_state(name: str):
    """(exists, valid) of a PostgreSQL index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s",
            [name],
        )
        row = cursor.fetchone()
    return (row is not None, bool(row and row[0]))


def index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name for name, found in constraints.items() if found["index"]}


@pytest.mark.django_db(transaction=True)
def test_the_indexes_migrate_backwards_and_forwards():
    call_command("migrate", "storefront", "0004", verbosity=0)
    assert "item_name" not in index_names("storefront_item")

    call_command("migrate", "storefront", verbosity=0)
    assert {"item_name", "order_status_updated", "order_created"} <= index_names(
        "storefront_order"
    ) | index_names("storefront_item")


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_an_interrupted_concurrent_build_is_replaced_and_a_finished_one_kept():
    call_command("migrate", "storefront", "0004", verbosity=0)
    with connection.cursor() as cursor:
        # What an interrupted CREATE INDEX CONCURRENTLY leaves: an INVALID index of that name.
        cursor.execute('CREATE INDEX "item_name" ON "storefront_item" ("name")')
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'item_name'::regclass"
        )
        # And one whose build finished before the run stopped (the migration unrecorded).
        cursor.execute('CREATE INDEX "order_created" ON "storefront_order" ("created", "id")')
    assert index_state("item_name") == (True, False)

    call_command("migrate", "storefront", verbosity=0)

    assert index_state("item_name") == (True, True)
    assert index_state("order_created") == (True, True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef('item_name'::regclass), "
            "pg_get_indexdef('order_created'::regclass)"
        )
        item_name, order_created = cursor.fetchone()
    assert item_name.endswith("(name, id)")  # built again, as the migration says
    assert order_created.endswith("(created, id)")


@POSTGRES_ONLY
@pytest.mark.django_db
def test_sqlmigrate_shows_the_concurrent_build_on_postgresql(capsys):
    call_command("sqlmigrate", "storefront", "0005")
    sql = capsys.readouterr().out
    assert 'CREATE INDEX CONCURRENTLY "item_name" ON "storefront_item" ("name", "id");' in sql
    assert "BEGIN" not in sql  # atomic = False: no transaction around it
