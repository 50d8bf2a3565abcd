"""Each hot query of the payment layer reads its table through an index, at a realistic size.

The tables are filled to 100,000 rows (a year of a busy shop: a notification or a payment
every five minutes) and ANALYZEd; each query is captured from the code that runs it and
EXPLAINed on PostgreSQL. Without the indexes of payments 0010 each of these was a sequential
scan of the whole table (issue 22: 30-160 ms each at this size).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.admin_accounts import account_statuses
from payments.errors import PaymentError
from payments.rails import all_rails
from payments.reconcile import AccountReport, _check_pending
from payments.records import notification_reject
from payments.services import references_being_paid
from storefront.tests.explain_tools import POSTGRES_ONLY, Captured, assert_indexed, fill

pytestmark = [POSTGRES_ONLY, pytest.mark.django_db]

PAYMENTS = "payments_payment"
EVENTS = "payments_webhookevent"


def _accounts() -> list[tuple[str, str]]:
    found = [(rail.name, account) for rail in all_rails().values() for account in rail.accounts()]
    assert found and not any("'" in rail + account for rail, account in found)
    return found


def _of(accounts: list[tuple[str, str]], which: int) -> str:
    """An SQL expression picking the rail (0) or account (1) of row g, round robin."""
    values = ", ".join(f"'{pair[which]}'" for pair in accounts)
    return f"(ARRAY[{values}])[1 + g % {len(accounts)}]"


def fill_payments(accounts) -> None:
    # The newest 300 payments pending (a day of checkouts, a few pages still open), and one
    # in 5,000 older ones left pending; the rest succeeded, expired or failed.
    fill(
        PAYMENTS,
        {
            "rail": _of(accounts, 0),
            "account": _of(accounts, 1),
            "livemode": "false",
            "reference": "'order-' || g",
            "provider_ref": "'cs_test_' || g",
            "currency": "'USD'",
            "amount_expected": "1000",
            "status": "CASE WHEN g <= 300 OR g % 5000 = 0 THEN 'pending' "
            "WHEN g % 13 = 0 THEN 'expired' WHEN g % 50 = 1 THEN 'failed' ELSE 'succeeded' END",
            "pay_url": "'https://checkout.example/' || g",
            "expires_at": "now() - g * interval '5 minutes' + interval '30 minutes'",
            "flag": "''",
            "created": "now() - g * interval '5 minutes'",
            "updated": "now() - g * interval '5 minutes'",
        },
    )


def fill_events(accounts) -> None:
    # One delivery in 40 rejected (a row per account and hour), a few failed, most processed.
    fill(
        EVENTS,
        {
            "rail": _of(accounts, 0),
            "account": _of(accounts, 1),
            "event_id": "CASE WHEN g % 40 = 0 THEN '' ELSE 'evt_' || g END",
            "type": "'checkout.session.completed'",
            "fingerprint": "md5(g::text)",
            "signature_valid": "g % 40 <> 0",
            "status": "CASE WHEN g % 40 = 0 THEN 'rejected' WHEN g % 97 = 0 THEN 'failed' "
            "WHEN g % 7 = 0 THEN 'ignored' ELSE 'processed' END",
            "duplicates": "0",
            "payload": "'{}'",
            "error": "''",
            "received_at": "now() - g * interval '5 minutes'",
            "processed_at": "now() - g * interval '5 minutes'",
            "once_event_id": "CASE WHEN g % 40 <> 0 AND g % 97 <> 0 THEN 'evt_' || g END",
        },
    )


def test_the_rejected_delivery_row_of_the_hour_is_found_by_index():
    accounts = _accounts()
    fill_events(accounts)
    rail, account = accounts[0]

    with Captured() as queries:
        notification_reject(rail=rail, account=account, payload=b"forged", reason="bad signature")

    [select] = queries.on(EVENTS)
    assert "FOR UPDATE" in select
    assert_indexed(select, EVENTS, "webhook_event_account_status")


def test_the_accounts_page_reads_each_account_by_index():
    accounts = _accounts()
    fill_events(accounts)
    fill_runs(accounts)

    with Captured() as queries:
        statuses = account_statuses()

    assert len(statuses) == len(accounts)
    failures, latest = [], []
    for sql in queries.on(EVENTS):
        (failures if "SUM(" in sql else latest).append(sql)
    assert len(failures) == len(latest) == len(accounts)
    for sql in failures:
        assert_indexed(sql, EVENTS, "webhook_event_account_status")
    for sql in latest:
        assert_indexed(sql, EVENTS, "webhook_event_received")
    for sql in queries.on("payments_reconcilerun"):
        assert_indexed(sql, "payments_reconcilerun")


def test_open_payment_pages_are_found_by_index():
    fill_payments(_accounts())

    with Captured() as queries:
        references_being_paid()

    [select] = queries.on(PAYMENTS)
    assert_indexed(select, PAYMENTS, "payment_status_expires")


class _Unreachable:
    """A rail whose provider knows none of these payments (reconcile notes each, moves none)."""

    def __init__(self, name: str):
        self.name = name

    def payment_state(self, payment):
        raise PaymentError("No such checkout session.", status=404)


def test_reconciles_pending_window_is_found_by_index():
    accounts = _accounts()
    fill_payments(accounts)
    rail, account = accounts[0]
    report = AccountReport(rail=rail, account=account, label=account)

    with Captured() as queries:
        _check_pending(_Unreachable(rail), report, timezone.now() - timedelta(hours=24))

    assert 0 < report.payments_checked < 300
    [select] = queries.on(PAYMENTS)
    assert_indexed(select, PAYMENTS, "payment_account_pending")


def fill_refunds(accounts) -> None:
    fill_payments(accounts)
    fill(
        "payments_refund",
        {
            "payment_id": "(SELECT min(id) FROM payments_payment) + g - 1",
            "amount": "100",
            "currency": "'USD'",
            "reason": "''",
            "note": "''",
            "status": "'succeeded'",
            "provider_ref": "'re_' || g",
            "message": "''",
            "created": "now() - g * interval '5 minutes'",
            "updated": "now() - g * interval '5 minutes'",
        },
    )


def fill_runs(accounts) -> None:
    # Hourly per account: a few years' worth.
    fill(
        "payments_reconcilerun",
        {
            "rail": _of(accounts, 0),
            "account": _of(accounts, 1),
            "started_at": "now() - g * interval '20 minutes'",
            "finished_at": "now() - g * interval '20 minutes'",
            "ok": "true",
            "found": "0",
            "processed": "0",
            "duplicates": "0",
            "payments_checked": "0",
            "payments_moved": "0",
            "report": "''",
        },
        rows=50_000,
    )


@pytest.mark.parametrize(
    ("path", "filler", "table", "index"),
    [
        ("/admin/payments/payment/", fill_payments, PAYMENTS, "payment_created"),
        ("/admin/payments/receivednotification/", fill_events, EVENTS, "webhook_event_received"),
        ("/admin/payments/refund/", fill_refunds, "payments_refund", "refund_created"),
        (
            "/admin/payments/reconcilerun/",
            fill_runs,
            "payments_reconcilerun",
            "reconcile_run_started",
        ),
    ],
)
def test_admin_lists_newest_first_read_an_index(admin_client, path, filler, table, index):
    filler(_accounts())

    with Captured() as queries:
        assert admin_client.get(path).status_code == 200

    # The page shown: 100 rows in the list's order (its count is another statement).
    [page] = [sql for sql in queries.on(table) if "ORDER BY" in sql and "LIMIT 100" in sql]
    assert_indexed(page, table, index)
