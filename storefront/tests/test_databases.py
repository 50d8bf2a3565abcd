"""SQLite, PostgreSQL and MySQL/MariaDB: the settings each gets, the check that refuses a
MySQL connection without strict mode or utf8mb4, and row locks in a form each database runs.

The tests that need a particular database say so and skip elsewhere; `make test` runs the
suite on all three.
"""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.db.utils import OperationalError
from django.test.utils import CaptureQueriesContext

from payments.tests.concurrency import SERVER_DATABASE_ONLY
from storefront.models import Discount, Order
from storefront.plumbing.checks import check_mysql
from storefront.plumbing.row_locks import locked
from storefront.tests.factories import make_discount, make_item, make_order

BASE_DIR = Path(__file__).resolve().parent.parent.parent
MYSQL_ONLY = pytest.mark.skipif(
    connection.vendor != "mysql",
    reason="needs MySQL or MariaDB: run with DATABASE_URL=mysql://... (make test's third pass)",
)


def database_settings(url: str) -> dict:
    """settings.DATABASES["default"] as a fresh process reads it for DATABASE_URL=`url` (no
    connection is made)."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps(settings.DATABASES['default']))"
    )
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "READ_ENV_FILE": "0",
        "DEBUG": "1",
        "DATABASE_URL": url,
    }
    result = subprocess.run(  # noqa: S603 (our own interpreter and settings)
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_mysql_url_gets_strict_mode_utf8mb4_and_read_committed():
    database = database_settings("mysql://shop:secret@db.example:3306/shop")

    assert database["ENGINE"] == "django.db.backends.mysql"
    options = database["OPTIONS"]
    assert options["charset"] == "utf8mb4"
    assert "STRICT_TRANS_TABLES" in options["init_command"]
    assert options["isolation_level"] == "read committed"
    test = database["TEST"]
    assert (test["CHARSET"], test["COLLATION"]) == ("utf8mb4", "utf8mb4_unicode_ci")


def test_a_mysql_urls_own_options_win():
    database = database_settings(
        "mysql://shop@db.example/shop?charset=utf8mb4"
        "&init_command=SET+sql_mode%3D%27STRICT_ALL_TABLES%27&isolation_level=serializable"
    )

    assert database["OPTIONS"] == {
        "charset": "utf8mb4",
        "init_command": "SET sql_mode='STRICT_ALL_TABLES'",
        "isolation_level": "serializable",
    }


@pytest.mark.parametrize(
    "url", ["postgres://postgres@127.0.0.1:5432/shop", "sqlite:////tmp/shop.sqlite3"]
)
def test_other_databases_get_none_of_mysqls_options(url):
    options = database_settings(url).get("OPTIONS", {})

    assert not {"charset", "init_command", "isolation_level"} & set(options)


@pytest.mark.django_db
def test_the_mysql_check_says_nothing_about_other_databases():
    if connection.vendor == "mysql":
        pytest.skip("this database is MySQL: see the tests below")
    assert check_mysql(databases=["default"]) == []


@MYSQL_ONLY
@pytest.mark.django_db
def test_the_suites_mysql_connection_passes_the_check():
    assert check_mysql(databases=["default"]) == []
    with connection.cursor() as cursor:
        variable = "tx_isolation" if connection.mysql_is_mariadb else "transaction_isolation"
        cursor.execute(f"SELECT @@SESSION.{variable}")
        assert cursor.fetchone()[0] == "READ-COMMITTED"


@MYSQL_ONLY
@pytest.mark.django_db
def test_a_mysql_connection_without_strict_mode_or_utf8mb4_is_refused():
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.sql_mode")
        (sql_mode,) = cursor.fetchone()
        try:
            cursor.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
            cursor.execute("SET NAMES latin1")

            problems = check_mysql(databases=["default"])
        finally:
            cursor.execute("SET NAMES utf8mb4")
            cursor.execute("SET SESSION sql_mode = %s", [sql_mode])

    assert [problem.id for problem in problems] == ["storefront.E010", "storefront.E011"]
    assert "not in strict mode (sql_mode is 'NO_ENGINE_SUBSTITUTION')" in problems[0].msg
    assert "the connection is latin1" in problems[1].msg
    assert all(problem.is_serious() for problem in problems)


# --- Row locks ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_order_is_locked_with_its_discount_read_in_a_form_this_database_runs():
    discount = make_discount(percent_off="10")
    order = make_order((make_item(), 1), discount=discount)
    features = connection.features

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        found = locked(Order.objects.filter(pk=order.pk), related=("discount",)).get()
        assert found.discount == discount  # read along, not on access
        statements = [query["sql"] for query in captured.captured_queries]

    if not features.has_select_for_update:  # SQLite: no row locks at all; one joined read
        assert len(statements) == 1 and "JOIN" in statements[0]
    elif features.has_select_for_update_of:  # PostgreSQL, MySQL 8: the order's row only
        assert len(statements) == 1 and "JOIN" in statements[0]
        assert "FOR UPDATE OF" in statements[0]
    else:  # MariaDB: the order locked without a join, its discount read without a lock
        assert len(statements) == 2
        assert "FOR UPDATE" in statements[0] and "JOIN" not in statements[0]
        assert "FOR UPDATE" not in statements[1]
        assert connection.ops.quote_name("storefront_discount") in statements[1]


@pytest.mark.django_db
def test_an_order_without_a_discount_costs_one_statement_everywhere():
    order = make_order((make_item(), 1))

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        found = locked(Order.objects.filter(pk=order.pk), related=("discount",)).get()
        assert found.discount is None

    assert len(captured) == 1


@SERVER_DATABASE_ONLY[0]
@SERVER_DATABASE_ONLY[1]
def test_a_locked_order_leaves_its_discount_free_for_other_orders():
    """While one request holds an order's lock, another can still lock the discount that
    order uses (as changing another order with that discount does): the lock took the order's
    row only."""
    discount = make_discount(percent_off="10")
    order = make_order((make_item(), 1), discount=discount)
    holding, done = threading.Event(), threading.Event()

    def hold_the_order():
        try:
            with transaction.atomic():
                locked(Order.objects.filter(pk=order.pk), related=("discount",)).get()
                holding.set()
                done.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_order)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        with transaction.atomic():
            # NOWAIT: an error at once if the discount's row were locked.
            Discount.objects.select_for_update(nowait=True).get(pk=discount.pk)
            with pytest.raises(OperationalError), transaction.atomic():
                Order.objects.select_for_update(nowait=True).get(pk=order.pk)
    finally:
        done.set()
        holder.join(timeout=30)
