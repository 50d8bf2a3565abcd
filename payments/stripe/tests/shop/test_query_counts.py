"""What a payment costs the database: `/buy/{id}` and a signed webhook, in statements, the same
however many taxes an order carries. (Timings are never asserted; counts are what a buyer's
wait and a site's throughput follow.)

The sandbox's own tables stand in for Stripe's servers (the network call in production), and
BEGIN/COMMIT/SAVEPOINT are transaction control, not queries: both are left out of the count.
Tables are named as the database quotes them (`"x"` on PostgreSQL and SQLite, `` `x` `` on
MySQL and MariaDB).
"""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payments.models import Payment, ReceivedNotification
from payments.redeliveries import duplicates_counted
from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
from payments.stripe.sandbox.tests.sandbox_tools import session_object
from payments.stripe.tests.webhook_tools import CARD, event_for, post_event
from storefront.models import Order, OrderMail
from storefront.shop.pricing import order_totals
from storefront.tests.factories import make_item, make_tax
from storefront.tests.worker_tools import TEST_REDIS_URL, redis_or_skip

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def table(name: str) -> str:
    """`name` as this database quotes it in SQL."""
    return connection.ops.quote_name(name)


SANDBOX_TABLES = table("sandbox_")[:-1]  # the opening quote and the prefix


def app_queries(captured: CaptureQueriesContext) -> list[str]:
    """The shop's own statements: not the sandbox's, not transaction control."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(TRANSACTION_CONTROL)
        and SANDBOX_TABLES not in query["sql"]
        # Django's SQLite backend asks once per connection whether JSON works.
        and not query["sql"].startswith("SELECT JSON(")
    ]


@contextmanager
def statements_sent():
    """Every statement's SQL as the shop sent it, refused ones included (a failed statement's
    text is not in CaptureQueriesContext on MySQL: mysqlclient records it once it has run)."""
    sent = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield sent


def taxes_for_usd(count: int) -> None:
    for number in range(count):
        make_tax(
            display_name=f"Tax {number}",
            percentage="5",
            currency="USD",
            applies_to_new_orders=True,
        )


# What /buy may touch, the more specific names first (`storefront_order` is in the others).
TABLES_TOUCHED = (
    "storefront_order_taxes",
    "storefront_orderitem",
    "storefront_order",
    "storefront_item",
    "storefront_tax",
    "payments_payment",
    "payments_stripeobjectref",
    "django_session",
)


def buy_queries(client, item) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/buy/{item.pk}")
    assert response.status_code == 200, response.content
    return app_queries(captured)


@pytest.mark.parametrize("taxes", [1, 4])
def test_buy_now_takes_at_most_ten_queries_however_many_taxes(client, taxes):
    taxes_for_usd(taxes)
    item = make_item(price="19.99", currency="USD")
    client.get(f"/buy/{make_item().pk}")  # each tax's tax rate made once, on first use
    client.cookies.clear()

    queries = buy_queries(client, item)

    assert len(queries) <= 10, "\n".join(queries)
    # One order, priced once: no row lock on the new order, no second read of its lines.
    assert not [sql for sql in queries if "FOR UPDATE" in sql]
    assert len([sql for sql in queries if f"FROM {table('storefront_orderitem')}" in sql]) == 0


@pytest.mark.parametrize("taxes", [1, 4])
def test_buy_now_from_a_new_browser_takes_five_queries_and_four_once_the_item_is_kept(
    client, taxes, django_capture_on_commit_callbacks
):
    """Once the account's tax rates are made and known (their ids remembered as their rows
    commit) and the taxes for new orders are kept with the pages: the item (the first /buy of
    it; then it is kept with the pages too); the order, with the total it was priced at for
    the paying notification (Order.priced_total) in its INSERT; its taxes' links and its
    line, which leave that total as it is; the payment. No session row, no tax or tax-rate row
    read, no payment to reuse looked for, no UPDATE of the order."""
    taxes_for_usd(taxes)
    item = make_item(price="19.99", currency="USD")
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"/buy/{make_item().pk}")
    made = [
        "storefront_order",
        "storefront_order_taxes",
        "storefront_orderitem",
        "payments_payment",
    ]

    for item_read in (["storefront_item"], []):
        client.cookies.clear()
        queries = buy_queries(client, item)
        tables = [
            next(name for name in TABLES_TOUCHED if table(name) in sql.split(" WHERE ")[0])
            for sql in queries
        ]
        assert tables == [*item_read, *made], "\n".join(queries)
        # Priced with its taxes and its line, as the payment was started for.
        order = Order.objects.latest("pk")
        payment = Payment.objects.get(reference=order.payment_reference)
        assert order.priced_total == order_totals(order).total == payment.amount_expected
        assert order.priced_total > 1999


def test_buy_now_from_a_new_browser_looks_for_no_payment_to_reuse(client):
    """The order was made by this request: no payment can exist for it, so none is looked up
    (the only payment statement is the INSERT recording the one just started)."""
    taxes_for_usd(1)
    item = make_item(price="19.99", currency="USD")
    client.get(f"/buy/{make_item().pk}")  # the tax's tax rate made once, on first use
    client.cookies.clear()

    queries = buy_queries(client, item)

    payment_table = table("payments_payment")
    touching = [sql for sql in queries if payment_table in sql]
    assert len(touching) == 1 and touching[0].startswith("INSERT"), "\n".join(touching)
    assert Payment.objects.filter(status=Payment.Status.PENDING).count() == 2


def test_buy_now_again_reuses_the_order_cheaply(client):
    taxes_for_usd(2)
    item = make_item(price="19.99", currency="USD")
    first = client.get(f"/buy/{item.pk}").json()

    with CaptureQueriesContext(connection) as captured:
        again = client.get(f"/buy/{item.pk}").json()

    assert again == first and Order.objects.count() == 1
    assert len(app_queries(captured)) <= 10, "\n".join(app_queries(captured))


def paid_event(client, item) -> dict:
    client.cookies.clear()
    session_id = client.get(f"/buy/{item.pk}").json()["id"]
    checkout_session_pay(session_id=session_id, card=CARD, email="buyer@example.com")
    return event_for(session_object(session_id).data)


@pytest.mark.parametrize("taxes", [1, 4])
def test_a_paying_webhook_takes_the_same_few_statements_however_many_taxes(
    client, taxes, django_capture_on_commit_callbacks
):
    taxes_for_usd(taxes)
    event = paid_event(client, make_item(price="19.99", currency="USD"))

    # The receipt e-mail, sent after the commit, is counted on its own.
    with (
        django_capture_on_commit_callbacks(execute=False) as after_commit,
        CaptureQueriesContext(connection) as captured,
    ):
        response = post_event(client, event)

    assert response.json()["outcome"] == "processed"
    queries = app_queries(captured)
    # Not a duplicate (one UPDATE finding no row); the event row; the payment read with its
    # order's status and priced total; the payment moved (and marked fulfilled) once; the
    # order marked paid by one conditional UPDATE; the receipt owed.
    assert len(queries) <= 6, "\n".join(queries)
    # The order was priced when its payment started: it is neither locked nor priced again.
    assert not [
        sql
        for sql in queries
        if "FOR UPDATE" in sql
        or table("storefront_orderitem") in sql
        or table("storefront_tax") in sql
    ], "\n".join(queries)
    # The receipt is owed, and sent once the transaction commits (not counted here).
    assert "mail_send_soon" in [getattr(hook, "func", hook).__name__ for hook in after_commit]
    assert Order.objects.get().status == Order.Status.PAID


def test_the_receipt_after_a_paying_webhook_takes_six_statements(
    client, django_capture_on_commit_callbacks
):
    """Sent once the payment commits (here, with no broker, right after it): claimed, read
    with its order, the order's lines and taxes read once for the text, the HTML and the
    invoice, the paying payment for the invoice with whether it was refunded (its refunds are
    read only if so), and marked sent."""
    taxes_for_usd(2)
    event = paid_event(client, make_item(price="19.99", currency="USD"))
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        post_event(client, event)

    with CaptureQueriesContext(connection) as captured:
        for hook in after_commit:
            hook()

    queries = app_queries(captured)
    assert len(queries) == 6, "\n".join(queries)
    # Refunds are asked about inside the paying payment's query (EXISTS); none, so none read.
    refund_reads = [sql for sql in queries if table("payments_refund") in sql]
    assert len(refund_reads) == 1 and "EXISTS" in refund_reads[0], "\n".join(refund_reads)
    assert queries[0].startswith(f"UPDATE {table('storefront_ordermail')}")
    assert queries[-1].startswith(f"UPDATE {table('storefront_ordermail')}")
    assert len([sql for sql in queries if f"FROM {table('storefront_orderitem')}" in sql]) == 1
    assert OrderMail.objects.get().status == OrderMail.Status.SENT


def test_a_duplicate_delivery_of_a_committed_event_sends_no_statement(
    client, django_capture_on_commit_callbacks
):
    """Once the first delivery has committed, the cache knows its event: a redelivery is
    counted there (payments.redeliveries), with no query, no transaction and no row updated
    (not even the connection's health check: nothing opens a cursor); it is still answered as
    a duplicate, counted, and pays nothing twice."""
    event = paid_event(client, make_item(price="19.99", currency="USD"))
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event)

    with (
        django_capture_on_commit_callbacks(execute=False) as after_commit,
        statements_sent() as sent,
    ):
        responses = [post_event(client, event) for _ in range(3)]

    assert [(r.status_code, r.json()["outcome"]) for r in responses] == [(200, "duplicate")] * 3
    assert sent == []
    assert not after_commit  # no receipt owed again
    record = ReceivedNotification.objects.get()
    assert (record.status, record.duplicates) == ("processed", 0)  # the row was not touched
    assert duplicates_counted(record) == 3
    assert Payment.objects.get().fulfilled_at is not None
    assert Order.objects.get().status == Order.Status.PAID


def test_a_duplicate_the_cache_does_not_know_costs_one_update_and_no_transaction(
    client, django_capture_on_commit_callbacks
):
    """A cache that does not know the event and may not (each process's own memory, without
    Redis: another process took the first delivery): the redelivery is counted in one UPDATE
    found by the unique key, outside any transaction (no BEGIN, no savepoint), without sending
    its payload again; from then on the cache knows it."""
    event = paid_event(client, make_item(price="19.99", currency="USD"))
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event)
    cache.clear()

    with django_capture_on_commit_callbacks(execute=True), statements_sent() as sent:
        response = post_event(client, event)
    with statements_sent() as sent_next:
        again = post_event(client, event)

    assert (response.status_code, response.json()["outcome"]) == (200, "duplicate")
    queries = [sql for sql in sent if SANDBOX_TABLES not in sql]
    assert len(queries) == 1, "\n".join(queries)
    assert queries[0].startswith(f"UPDATE {table('payments_webhookevent')}")
    assert (again.json()["outcome"], sent_next) == ("duplicate", [])
    record = ReceivedNotification.objects.get()
    assert (record.status, record.duplicates, duplicates_counted(record)) == ("processed", 1, 2)
    assert Order.objects.get().status == Order.Status.PAID


@pytest.fixture
def redis_cache(settings):
    """The cache as production has it: Redis, which every process shares."""
    redis_or_skip()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": TEST_REDIS_URL,
        }
    }


def test_with_a_shared_cache_a_first_delivery_looks_for_no_earlier_row(
    client, redis_cache, django_capture_on_commit_callbacks
):
    """Every process asks the same Redis, so an event it does not know is new: the delivery's
    first statement is its event row's INSERT, with no UPDATE looking for a committed row to
    count it on before (the fast path for redeliveries the cache forgot)."""
    event = paid_event(client, make_item(price="19.99", currency="USD"))

    with django_capture_on_commit_callbacks(execute=False), statements_sent() as sent:
        response = post_event(client, event)

    assert response.json()["outcome"] == "processed"
    queries = [
        sql
        for sql in sent
        if SANDBOX_TABLES not in sql and not sql.startswith((*TRANSACTION_CONTROL, "SELECT JSON("))
    ]
    events = [sql for sql in queries if table("payments_webhookevent") in sql]
    assert len(events) == 1 and events[0].startswith("INSERT"), "\n".join(queries)
    # The event row, the payment read with its order's facts, the payment moved, the order
    # paid, the receipt owed.
    assert len(queries) == 5, "\n".join(queries)
    assert Order.objects.get().status == Order.Status.PAID


def test_a_redelivery_an_emptied_shared_cache_forgot_is_counted_once_and_known_again(
    client, redis_cache, django_capture_on_commit_callbacks
):
    """Redis emptied (restarted, flushed) after the first delivery: the redelivery takes the
    transactional way, where the row's unique key refuses it; it is counted on that row, pays
    nothing twice, and the cache knows the event again, so the next one sends nothing."""
    event = paid_event(client, make_item(price="19.99", currency="USD"))
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event)
    cache.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event)
    with statements_sent() as sent_next:
        again = post_event(client, event)

    assert (response.status_code, response.json()["outcome"]) == (200, "duplicate")
    assert (again.json()["outcome"], sent_next) == ("duplicate", [])
    record = ReceivedNotification.objects.get()
    assert (record.status, record.duplicates, duplicates_counted(record)) == ("processed", 1, 2)
    assert Payment.objects.get().fulfilled_at is not None
    assert Order.objects.get().status == Order.Status.PAID
    assert OrderMail.objects.count() == 1


def test_a_redelivery_of_an_older_event_looks_for_its_row_once_before_and_once_after(
    client, django_capture_on_commit_callbacks
):
    """An event older than the cache remembers, redelivered where the cache may not know it
    (each process's memory): the UPDATE for a committed row of the last day finds none, the
    transaction's INSERT is refused, and it is counted on its row by the longer way, without
    that first UPDATE being sent a second time."""
    event = paid_event(client, make_item(price="19.99", currency="USD"))
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event)
    cache.clear()
    ReceivedNotification.objects.update(received_at=timezone.now() - timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True), statements_sent() as sent:
        response = post_event(client, event)

    assert (response.status_code, response.json()["outcome"]) == (200, "duplicate")
    counts = [
        sql
        for sql in sent
        if sql.startswith(f"UPDATE {table('payments_webhookevent')}") and "duplicates" in sql
    ]
    assert len(counts) == 2, "\n".join(sent)
    assert ReceivedNotification.objects.get().duplicates == 1
