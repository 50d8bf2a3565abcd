"""The shop's hot queries read their tables through an index at a realistic size, and a
catalogue page costs the same at 100,000 items as at 10 (PostgreSQL; see explain_tools)."""

import logging
import statistics
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from storefront.documents.mail import mails_stranded
from storefront.models import Item
from storefront.shop.orders import orders_expire
from storefront.tests.explain_tools import POSTGRES_ONLY, Captured, assert_indexed, fill

pytestmark = [POSTGRES_ONLY, pytest.mark.django_db]

ORDERS = "storefront_order"
MAILS = "storefront_ordermail"
ITEMS = "storefront_item"


def fill_orders() -> None:
    # A year of orders, one every five minutes: the newest 200 open (baskets being filled),
    # one in 500 older ones abandoned open, the rest paid or cancelled.
    fill(
        ORDERS,
        {
            "currency": "'USD'",
            "status": "CASE WHEN g <= 200 OR g % 500 = 0 THEN 'open' "
            "WHEN g % 7 = 0 THEN 'cancelled' ELSE 'paid' END",
            "access_key": "md5(g::text)",
            "created": "now() - g * interval '5 minutes'",
            "updated": "now() - g * interval '5 minutes'",
            "email": "''",
        },
    )


def fill_mails() -> None:
    fill_orders()
    # A receipt per order: nearly all sent, a few pending or left sending, some given up.
    fill(
        MAILS,
        {
            "order_id": "(SELECT min(id) FROM storefront_order) + g - 1",
            "kind": "'receipt'",
            "key": "''",
            "to": "'buyer@example.com'",
            "status": "CASE WHEN g <= 3 THEN 'pending' WHEN g % 20000 = 0 THEN 'sending' "
            "WHEN g % 1000 = 0 THEN 'failed' ELSE 'sent' END",
            "attempts": "1",
            "error": "''",
            "created": "now() - g * interval '5 minutes'",
            "claimed_at": "CASE WHEN g <= 3 THEN NULL ELSE now() - g * interval '5 minutes' END",
            "sent_at": "now() - g * interval '5 minutes'",
        },
    )


def fill_items(rows: int) -> None:
    # Names in no relation to their ids, as a merchant's are.
    fill(
        ITEMS,
        {
            "name": "'Item ' || md5(g::text)",
            "description": "''",
            "price": "19.99",
            "price_currency": "'USD'",
        },
        rows=rows,
    )


def test_orders_expire_finds_the_stale_open_orders_by_index():
    fill_orders()

    with Captured() as queries:
        cancelled = orders_expire(untouched_for=timedelta(days=2))

    assert 150 < cancelled < 200  # the abandoned ones, not today's baskets
    stale = [sql for sql in queries.on(ORDERS) if "\"status\" = 'open'" in sql]
    assert stale
    for sql in stale:
        assert_indexed(sql, ORDERS, "order_status_updated")


def test_mail_due_for_resending_is_found_by_index():
    fill_mails()

    with Captured() as queries:
        due = mails_stranded(pending_for=timedelta(minutes=10), stuck_after=timedelta(minutes=10))

    assert 0 < len(due) < 10
    [give_up] = queries.on(MAILS, starting="UPDATE")
    [select] = queries.on(MAILS)
    assert_indexed(give_up, MAILS, "order_mail_due")
    assert_indexed(select, MAILS, "order_mail_due")


@pytest.mark.parametrize(
    ("path", "table", "index"),
    [
        ("/admin/storefront/order/", ORDERS, "order_created"),
        (
            "/admin/payments_bank_transfer/bankoperation/",
            "payments_bank_transfer_bankoperation",
            "bank_operation_received",
        ),
    ],
)
def test_admin_lists_newest_first_read_an_index(admin_client, path, table, index):
    if table == ORDERS:
        fill_orders()
    else:
        fill(
            "payments_bank_transfer_organisation",
            {"inn": "lpad(g::text, 10, '0')", "name": "''", "currency": "'RUB'",
             "balance": "0", "created": "now()"},
            rows=1000,
        )  # fmt: skip
        fill(
            table,
            {
                "operation_id": "md5(g::text)::uuid",
                "organisation_id": "(SELECT min(id) FROM payments_bank_transfer_organisation) "
                "+ g % 1000",
                "amount": "100000",
                "currency": "'RUB'",
                "document_number": "g::text",
                "document_date": "now() - g * interval '5 minutes'",
                "received_at": "now() - g * interval '5 minutes'",
            },
        )

    with Captured() as queries:
        assert admin_client.get(path).status_code == 200

    # The page shown: 100 rows in the list's order (its count is another statement).
    [page] = [sql for sql in queries.on(table) if "ORDER BY" in sql and "LIMIT 100" in sql]
    assert_indexed(page, table, index)


def _catalogue_paths(client: Client) -> dict[str, str]:
    """The first page, a numbered one, one far past them (by Next), the one before that (by
    Previous) and the last."""
    middle = Item.objects.order_by("name", "pk")[Item.objects.count() // 2]
    return {
        "first": "/",
        "numbered": "/?page=3",
        "after": f"/?after={middle.pk}",
        "before": f"/?before={middle.pk}",
        "last": "/?page=last",
    }


def test_every_catalogue_page_reads_items_by_index(settings):
    settings.SHOP_CATALOGUE_PAGE_SIZE = 24
    settings.SHOP_PAGE_CACHE = False  # rendered every time: its queries are the subject
    fill_items(100_000)
    client = Client()

    for name, path in _catalogue_paths(client).items():
        with Captured() as queries:
            page = client.get(path)
        assert page.status_code == 200 and page.content.count(b'class="card"') == 24, name
        reads = queries.on(ITEMS)
        assert reads, name
        for sql in reads:
            # The cursor's own row by its primary key; every list and count by name.
            cursor = '"storefront_item"."id" = ' in sql
            assert_indexed(sql, ITEMS, None if cursor else "item_name")


SMALL = "catalogue_of_10"  # a schema holding a catalogue of 10, beside the 100,000 of public


@contextmanager
def _catalogue(schema: str):
    """Requests inside read storefront_item from `schema` (PostgreSQL's search_path)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET search_path TO {schema}, public")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET search_path TO public")


def _times_ms(client: Client, cases: dict[str, tuple[str, str]], *, rounds: int = 40):
    """Median milliseconds of each case (schema, path), the cases interleaved in small
    batches so that whatever else the machine does falls on all of them alike."""
    times = {name: [] for name in cases}
    for round_ in range(rounds + 2):
        for name, (schema, path) in cases.items():
            with _catalogue(schema):
                for _ in range(5):
                    start = time.perf_counter()
                    client.get(path)
                    if round_ >= 2:  # the first rounds warm templates, caches, connection
                        times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(found) for name, found in times.items()}


@pytest.mark.django_db(transaction=True)
def test_a_catalogue_page_costs_the_same_at_100000_items_as_at_10(settings, monkeypatch):
    # A page of 10 either way, so that both render the same; the items differ only in number.
    # Committed and vacuumed rows, as a production table's are.
    settings.SHOP_CATALOGUE_PAGE_SIZE = 10
    # Rendered every time (a kept page costs the same at any size: storefront.plumbing.page_cache).
    settings.SHOP_PAGE_CACHE = False
    # Each request's log line goes into pytest's growing capture: not the page's cost.
    monkeypatch.setattr(logging.getLogger("storefront.requests"), "level", logging.WARNING)
    fill_items(100_000)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {SMALL}")
        cursor.execute(f"CREATE TABLE {SMALL}.{ITEMS} (LIKE public.{ITEMS} INCLUDING ALL)")
        cursor.execute(f"INSERT INTO {SMALL}.{ITEMS} SELECT * FROM public.{ITEMS} LIMIT 10")  # noqa: S608
        cursor.execute(f"VACUUM ANALYZE {SMALL}.{ITEMS}")
    try:
        client = Client()
        paths = _catalogue_paths(client)
        cases = {"10 items": (SMALL, "/")} | {
            name: ("public", path) for name, path in paths.items()
        }
        found = _times_ms(client, cases)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {SMALL} CASCADE")

    small = found.pop("10 items")
    print(f"catalogue page, median ms: 10 items {small:.2f}; 100,000 items {found}")
    assert all(ms <= 1.5 * small for ms in found.values()), (small, found)
