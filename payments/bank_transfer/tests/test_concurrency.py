"""Exactly-once crediting under real concurrency: 50 threads against PostgreSQL (see
payments.tests.concurrency)."""

import re
import time
from collections import Counter
from itertools import pairwise

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from payments.bank_transfer.models import BankOperation, LedgerEntry, Organisation
from payments.bank_transfer.tests.bank_tools import INN, post, transfer
from payments.models import Payment, ReceivedNotification
from payments.redeliveries import duplicates_counted
from payments.tests.concurrency import POSTGRES_ONLY, run_at_once
from storefront.models import Order
from storefront.tests.factories import make_item

pytestmark = POSTGRES_ONLY
THREADS = 50


def test_fifty_deliveries_of_one_operation_credit_once():
    body = transfer(amount=145000)

    statuses = run_at_once([lambda client: post(client, body)] * THREADS)

    assert Counter(statuses) == {200: THREADS}
    assert BankOperation.objects.count() == 1
    assert LedgerEntry.objects.count() == 1
    assert Organisation.objects.get().balance == 145000
    record = ReceivedNotification.objects.get()
    assert (record.status, duplicates_counted(record)) == ("processed", THREADS - 1)


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


# --- Settling under races (issue 19): the balance, the ledger and the orders stay exact --------


def invariants_hold() -> None:
    """What must hold whatever ran at once: each balance is its ledger's sum and the ledger
    chains; every debit paid its order, by that debit, once; no order is paid twice."""
    for organisation in Organisation.objects.all():
        entries = list(organisation.ledger.order_by("pk"))
        assert organisation.balance == sum(entry.delta for entry in entries)
        running = 0
        for entry in entries:
            assert (entry.balance_before, entry.balance_after) == (running, running + entry.delta)
            running = entry.balance_after
        assert organisation.balance >= 0
    debits = list(LedgerEntry.objects.filter(delta__lt=0).select_related("payment"))
    assert len({debit.payment_id for debit in debits}) == len(debits)
    for debit in debits:
        payment = debit.payment
        assert payment.status == Payment.Status.SUCCEEDED
        assert payment.fulfilled_at is not None
        assert payment.amount_received == -debit.delta
        assert Order.for_payment_reference(payment.reference).status == Order.Status.PAID
    fulfilled = Counter(
        Payment.objects.filter(fulfilled_at__isnull=False).values_list("reference", flat=True)
    )
    assert all(count == 1 for count in fulfilled.values()), fulfilled
    for order in Order.objects.filter(status=Order.Status.PAID):
        assert fulfilled[order.payment_reference] == 1


def inn(number: int) -> str:
    return f"{7700000000 + number}"  # ten digits; check digits as they fall (booked anyway)


def order_shown() -> tuple[Order, str]:
    """A RUB order of 1,450.00 made through the shop by a buyer of its own, its bank reference
    shown."""
    client = Client()
    item = make_item(price="1450.00", currency="RUB")
    client.post("/order/add/", {"item": item.pk, "quantity": 1})
    order = Order.objects.get(pk=client.session["cart_order_id"])
    client.get(f"/order/{order.pk}/pay/?rail=bank_transfer")
    return order, Payment.objects.get(reference=order.payment_reference).provider_ref


def test_transfers_from_many_payers_quoting_one_reference_pay_it_once(client):
    order, reference = order_shown()
    bodies = [
        transfer(amount=145000, payer_inn=inn(i), document_number=f"PAY {reference}")
        for i in range(20)
    ]

    statuses = run_at_once([lambda client, body=body: post(client, body) for body in bodies])

    assert Counter(statuses) == {200: 20}
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert LedgerEntry.objects.filter(delta__lt=0).count() == 1
    assert sorted(Organisation.objects.values_list("balance", flat=True)) == [0] + [145000] * 19
    invariants_hold()


def test_transfers_from_one_payer_quoting_one_reference_pay_it_once(client):
    order, reference = order_shown()
    bodies = [transfer(amount=145000, document_number=f"PAY {reference}") for _ in range(20)]

    statuses = run_at_once([lambda client, body=body: post(client, body) for body in bodies])

    assert Counter(statuses) == {200: 20}
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Organisation.objects.get().balance == 19 * 145000
    invariants_hold()


def cart_client(client, order: Order):
    """`client` holding the buyer's session: the cart is `order`."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["cart_order_id"] = order.pk
    session["order_ids"] = [order.pk]
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def test_a_transfer_racing_a_change_of_its_order_pays_it_at_the_old_total_or_not_at_all(client):
    rounds = [order_shown() for _ in range(10)]
    extra = make_item(price="10.00", currency="RUB")
    calls = []
    for number, (order, reference) in enumerate(rounds):
        body = transfer(amount=145000, payer_inn=inn(number), document_number=reference)
        calls.append(lambda client, body=body: post(client, body))
        calls.append(
            lambda client, order=order: cart_client(client, order).post(
                "/order/add/", {"item": extra.pk, "quantity": 1}
            )
        )

    statuses = run_at_once(calls)

    assert all(status in (200, 302) for status in statuses), statuses
    for number, (order, reference) in enumerate(rounds):
        order.refresh_from_db()
        organisation = Organisation.objects.get(inn=inn(number))
        payment = Payment.objects.get(provider_ref=reference)
        if order.status == Order.Status.PAID:  # the transfer first: the change found it paid
            assert (order.lines.count(), organisation.balance) == (1, 0)
            assert payment.amount_received == 145000
        else:  # the change first: its payment closed, nothing debited
            assert order.lines.count() == 2
            assert payment.status == Payment.Status.EXPIRED
            assert organisation.balance == 145000
    invariants_hold()


def test_a_change_of_the_order_locks_its_pending_payment_by_primary_key_alone(client):
    """InnoDB also locks the records of the index a locking read goes through. Were a change
    of the order to lock its payment through the `status` index (the optimiser may choose it,
    or merge it with `reference`'s), it would hold records that a paying notification's UPDATE
    of another payment's status must change, while that notification holds the payment this
    change waits for: a deadlock, the change its victim (as CI once saw in the test above)."""
    order, reference = order_shown()
    extra = make_item(price="10.00", currency="RUB")

    with CaptureQueriesContext(connection) as queries:
        response = cart_client(client, order).post("/order/add/", {"item": extra.pk, "quantity": 1})

    assert response.status_code == 302
    assert Payment.objects.get(provider_ref=reference).status == Payment.Status.EXPIRED
    locking = [
        query["sql"]
        for query in queries.captured_queries
        if "FOR UPDATE" in query["sql"] and "payments_payment" in query["sql"].split(" WHERE ")[0]
    ]
    assert len(locking) == 1, locking
    condition = locking[0].split(" WHERE ", 1)[1].split(" ORDER BY ")[0]
    assert re.findall(r"""[`"]payments_payment[`"]\.[`"](\w+)[`"]""", condition) == ["id"]


class _Answer:
    status_code = 200


def test_a_transfer_racing_the_expiry_of_its_order_pays_it_or_leaves_the_money(client):
    from datetime import timedelta

    from storefront.shop.orders import orders_expire

    rounds = [order_shown() for _ in range(10)]
    bodies = [
        transfer(amount=145000, payer_inn=inn(number), document_number=reference)
        for number, (_, reference) in enumerate(rounds)
    ]
    calls = [lambda client, body=body: post(client, body) for body in bodies]

    def expire_after(seconds):
        def expire(client):
            # Started a little after the transfers, so that some of them settle first.
            time.sleep(seconds)
            orders_expire(untouched_for=timedelta(0))
            return _Answer()

        return expire

    calls += [expire_after(0.02), expire_after(0.03)]  # two expiry runs at once, too

    statuses = run_at_once(calls)

    assert all(status == 200 for status in statuses), str(statuses)
    for number, (order, reference) in enumerate(rounds):
        order.refresh_from_db()
        balance = Organisation.objects.get(inn=inn(number)).balance
        payment = Payment.objects.get(provider_ref=reference)
        if order.status == Order.Status.PAID:
            assert (balance, payment.status) == (0, Payment.Status.SUCCEEDED)
        else:
            assert order.status == Order.Status.CANCELLED
            assert (balance, payment.status) == (145000, Payment.Status.EXPIRED)
    invariants_hold()


def test_pay_pages_opened_at_once_show_one_reference():
    item = make_item(price="1450.00", currency="RUB")
    buyer = Client()
    buyer.post("/order/add/", {"item": item.pk, "quantity": 1})
    order = Order.objects.get(pk=buyer.session["cart_order_id"])

    statuses = run_at_once(
        [
            lambda client: cart_client(client, order).get(
                f"/order/{order.pk}/pay/?rail=bank_transfer"
            )
        ]
        * 10
    )

    assert Counter(statuses) == {200: 10}
    payment = Payment.objects.get()
    assert (payment.provider_ref, payment.status) == (f"INV-{order.pk}", Payment.Status.PENDING)
