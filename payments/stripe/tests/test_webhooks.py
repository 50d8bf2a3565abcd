"""Webhooks: verified per account, recorded, acted on once; bad deliveries change nothing."""

import json
import time

import pytest
from django.db import IntegrityError

from payments.models import Payment, ReceivedNotification
from payments.redeliveries import duplicates_counted
from payments.signals import notification_rejected, payment_failed, payment_succeeded
from payments.stripe.tests.webhook_tools import event_for, paid_session, post_event, sign
from storefront.models import Order
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def signals():
    """Every payment signal sent during the test, in order."""
    sent = []

    def catch(signal_name):
        def receiver(sender, **kwargs):
            sent.append((signal_name, kwargs))

        return receiver

    receivers = {
        payment_succeeded: catch("succeeded"),
        payment_failed: catch("failed"),
        notification_rejected: catch("rejected"),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver)
    yield sent
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


@pytest.fixture
def paid(client):
    """A USD item bought and paid in the sandbox, its order still open (no webhook yet)."""
    item = make_item(price="19.99", currency="USD")
    return paid_session(client, item)


def business_state():
    return (
        list(Order.objects.values_list("pk", "status")),
        list(Payment.objects.values_list("pk", "status", "fulfilled_at")),
    )


def test_completed_event_pays_the_order_once_and_says_so_once(
    client, paid, signals, django_capture_on_commit_callbacks
):
    event = event_for(paid)

    with django_capture_on_commit_callbacks(execute=True):
        first = post_event(client, event)
    with django_capture_on_commit_callbacks(execute=True):
        again = post_event(client, event)

    assert first.status_code == 200 and first.json()["outcome"] == "processed"
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    order = Order.objects.get()
    assert order.status == Order.Status.PAID
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_received, payment.currency) == ("succeeded", 1999, "USD")
    assert (payment.rail, payment.account) == ("stripe", "pk_test_sandbox_usd")
    assert payment.provider_ref == paid["id"]
    assert payment.provider_payment_ref == paid["payment_intent"]
    assert payment.fulfilled_at is not None and payment.attention_note == ""
    assert [name for name, _ in signals] == ["succeeded"]
    record = ReceivedNotification.objects.get()
    assert (record.event_id, record.type, record.signature_valid) == (
        event["id"],
        "checkout.session.completed",
        True,
    )
    assert (record.status, duplicates_counted(record)) == ("processed", 1)
    assert record.processed_at is not None


def test_two_events_for_one_session_fulfil_once(
    client, paid, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event_for(paid))
        post_event(client, event_for(paid, "checkout.session.async_payment_succeeded"))

    assert Payment.objects.get().status == "succeeded"
    assert [name for name, _ in signals] == ["succeeded"]
    assert ReceivedNotification.objects.filter(status="processed").count() == 2


def test_success_page_then_webhook_fulfil_once(
    client, paid, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"/success/?session_id={paid['id']}&currency=usd")
        response = post_event(client, event_for(paid))

    assert response.status_code == 200
    assert Order.objects.get().status == Order.Status.PAID
    assert [name for name, _ in signals] == ["succeeded"]


def test_expired_after_completed_does_not_unpay(
    client, paid, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event_for(paid))
        expired = {**paid, "status": "expired", "payment_status": "unpaid"}
        response = post_event(client, event_for(expired, "checkout.session.expired"))

    assert response.status_code == 200
    assert Order.objects.get().status == Order.Status.PAID
    assert Payment.objects.get().status == "succeeded"
    assert [name for name, _ in signals] == ["succeeded"]


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("checkout.session.expired", "expired"),
        ("checkout.session.async_payment_failed", "failed"),
    ],
)
def test_failed_or_expired_session_marks_the_payment_and_not_the_order(
    client, event_type, status, signals, django_capture_on_commit_callbacks
):
    item = make_item()
    session_id = client.get(f"/buy/{item.pk}").json()["id"]
    from payments.stripe.sandbox.tests.sandbox_tools import session_object

    session = {**session_object(session_id).data, "status": "expired"}

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event_for(session, event_type))

    assert response.json()["outcome"] == "processed"
    assert Payment.objects.get().status == status
    assert Order.objects.get().status == Order.Status.OPEN
    assert [name for name, _ in signals] == ["failed"]


def test_unhandled_event_type_is_recorded_and_acknowledged(client):
    event = event_for({"id": "prod_1", "object": "product"}, "product.created")

    response = post_event(client, event)

    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
    assert ReceivedNotification.objects.get().status == "ignored"
    assert not Payment.objects.exists()


def test_event_for_an_unknown_order_is_acknowledged_and_flagged(client, paid):
    Order.objects.all().delete()

    response = post_event(client, event_for(paid))

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert payment.status == "succeeded" and payment.fulfilled_at is None
    assert "There is no order" in payment.attention_note


# --- A notification acts only on a payment the same rail and account started ---------------


def test_an_event_for_a_session_we_never_started_pays_nothing(client, paid):
    Payment.objects.all().delete()

    response = post_event(client, event_for(paid))

    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
    assert not Payment.objects.exists()
    assert Order.objects.get().status == Order.Status.OPEN
    record = ReceivedNotification.objects.get()
    assert record.status == "ignored" and paid["id"] in record.error


def test_a_usd_session_reported_on_the_eur_account_pays_nothing(client, paid):
    """Signed with the EUR secret and posted to the EUR endpoint: authentic for EUR, but the
    session was started on the USD account."""
    response = post_event(client, event_for(paid), "eur")

    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
    assert Order.objects.get().status == Order.Status.OPEN
    assert Payment.objects.get().status == "pending"
    record = ReceivedNotification.objects.get()
    assert (record.account, record.status) == ("pk_test_sandbox_eur", "ignored")


def test_a_test_mode_event_for_a_live_payment_pays_nothing(client, paid):
    Payment.objects.update(livemode=True)

    response = post_event(client, event_for(paid))

    assert response.json()["outcome"] == "ignored"
    assert Order.objects.get().status == Order.Status.OPEN
    assert Payment.objects.get().status == "pending"


def test_a_live_event_for_a_test_payment_pays_nothing(client, paid):
    response = post_event(client, {**event_for(paid), "livemode": True})

    assert response.json()["outcome"] == "ignored"
    assert Order.objects.get().status == Order.Status.OPEN


def test_the_success_page_on_another_account_finds_nothing(client, paid):
    response = client.get(f"/success/?session_id={paid['id']}&currency=eur")

    assert response.status_code == 404
    assert Order.objects.get().status == Order.Status.OPEN


def test_a_payment_that_does_not_match_the_order_is_flagged_not_fulfilled(client, paid):
    tampered = {**paid, "amount_total": 1}

    post_event(client, event_for(tampered))

    assert Order.objects.get().status == Order.Status.OPEN
    payment = Payment.objects.get()
    assert "Paid 1 USD" in payment.attention_note and payment.fulfilled_at is None


def test_a_second_payment_for_a_paid_order_is_flagged_for_refund(client):
    item = make_item(price="19.99", currency="USD")
    session_id = client.get(f"/buy/{item.pk}").json()["id"]
    order = Order.objects.get()
    Payment.objects.update(expires_at=None)  # about to expire: not handed out again
    first = client.get(f"/buy/order/{order.pk}").json()["id"]
    assert first != session_id
    from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
    from payments.stripe.sandbox.tests.sandbox_tools import session_object
    from payments.stripe.tests.webhook_tools import CARD

    for sid in (session_id, first):
        checkout_session_pay(session_id=sid, card=CARD, email="")
        post_event(client, event_for(session_object(sid).data))

    payments = Payment.objects.order_by("pk")
    assert [p.status for p in payments] == ["succeeded", "succeeded"]
    assert payments[0].attention_note == "" and "already paid: refund" in payments[1].attention_note


def test_processing_error_answers_500_keeps_nothing_and_the_retry_works(client, paid, monkeypatch):
    event = event_for(paid)
    from payments import records

    real = records.payment_apply

    def explode(state):
        real(state)  # writes, then fails: all of it must roll back
        raise RuntimeError("database went away")

    monkeypatch.setattr(records, "payment_apply", explode)
    failed = post_event(client, event)
    monkeypatch.setattr(records, "payment_apply", real)
    retried = post_event(client, event)

    assert failed.status_code == 500
    assert "retry" in failed.json()["error"]
    assert retried.json()["outcome"] == "processed"
    assert Order.objects.get().status == Order.Status.PAID
    statuses = sorted(ReceivedNotification.objects.values_list("status", flat=True))
    assert statuses == ["failed", "processed"]
    assert "database went away" in ReceivedNotification.objects.get(status="failed").error


# --- What is refused, and that it changes nothing -------------------------------------------


def signed_elsewhere(payload, timestamp=None):
    return sign(payload, "whsec_sandbox_eur", timestamp)


REJECTIONS = {
    "no header": dict(header=""),
    "garbage header": dict(header="nonsense"),
    "no v1 signature": dict(header=f"t={int(time.time())}"),
    "EUR secret on the USD endpoint": dict(secret="whsec_sandbox_eur"),
    "another secret": dict(secret="whsec_someone_else"),
    "too old": dict(timestamp=-301),
    "in the future": dict(timestamp=+301),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_bad_signatures_are_400_and_change_nothing(
    client, paid, signals, case, django_capture_on_commit_callbacks
):
    before = business_state()

    options = dict(REJECTIONS[case])
    if "timestamp" in options:  # an offset from now, taken now
        options["timestamp"] += int(time.time())
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event_for(paid), **options)

    assert response.status_code == 400
    assert response.json()["error"].startswith("Webhook rejected:")
    assert business_state() == before
    record = ReceivedNotification.objects.get()
    assert (record.signature_valid, record.status, record.event_id) == (False, "rejected", "")
    assert [name for name, _ in signals] == ["rejected"]


def test_a_tampered_body_is_refused(client, paid):
    event = event_for(paid)
    payload = json.dumps(event)
    header = sign(payload, "whsec_sandbox_usd")
    tampered = payload.replace('"amount_total": 1999', '"amount_total": 1')

    response = post_event(client, event, header=header, body=tampered)

    assert response.status_code == 400
    assert Order.objects.get().status == Order.Status.OPEN


@pytest.mark.parametrize("body", ["not json", "[]", '{"id": "x"}'])
def test_a_signed_body_that_is_not_an_event_is_refused(client, body):
    response = post_event(client, {}, body=body)

    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_within_tolerance_is_accepted(client, paid):
    response = post_event(client, event_for(paid), timestamp=int(time.time()) - 250)

    assert response.status_code == 200


def test_only_post_and_only_known_accounts_and_rails(client, paid, settings):
    assert client.get("/payments/webhooks/stripe/usd/").status_code == 405
    assert post_event(client, event_for(paid), "jpy", secret="whsec_x").status_code == 404
    paypal = client.post("/payments/webhooks/paypal/usd/", "{}", content_type="application/json")
    assert paypal.status_code == 404
    settings.PAYMENT_RAILS = []  # the site turned Stripe off
    assert post_event(client, event_for(paid)).status_code == 404
    assert Order.objects.get().status == Order.Status.OPEN


def test_the_webhook_needs_no_csrf_token_but_the_shop_does(paid):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    assert post_event(strict, event_for(paid)).status_code == 200
    assert strict.post("/order/add/", {"item": 1, "quantity": 1}).status_code == 403


def test_the_database_refuses_a_second_row_for_one_event():
    def record(rail="stripe", account="pk_test_usd", status="processed"):
        return ReceivedNotification.objects.create(
            rail=rail, account=account, event_id="evt_1", signature_valid=True, status=status
        )

    record()
    record(status="failed")
    record(account="pk_test_eur")
    record(rail="bank_transfer")

    with pytest.raises(IntegrityError):
        record(status="ignored")


@pytest.mark.parametrize(
    "event",
    [
        {"id": "evt_1", "object": "event", "type": "checkout.session.completed"},
        {"id": "evt_1", "object": "event", "type": "checkout.session.completed", "data": {}},
        {"id": "evt_1", "object": "event", "type": "checkout.session.expired", "data": []},
        {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
         "data": {"object": {"object": "payment_intent"}}},
        {"id": "evt_1", "object": "event", "type": "checkout.session.completed",
         "data": {"object": {"id": 5}}},
        {"object": "event", "type": "checkout.session.completed", "data": {"object": {}}},
        {"id": "", "object": "event", "type": "product.created"},
    ],
)  # fmt: skip
def test_a_signed_but_malformed_event_is_a_400_never_a_500(client, paid, event):
    response = post_event(client, event)

    assert response.status_code == 400
    assert Order.objects.get().status == Order.Status.OPEN
    assert ReceivedNotification.objects.get().status == "rejected"


@pytest.mark.parametrize("header", ["t=abc,v1=00", "t=,v1=00", "t=12.5,v1=00", "v1=00", "t=1"])
def test_a_signature_header_that_cannot_be_read_is_a_400(client, paid, header):
    response = post_event(client, event_for(paid), header=header)

    assert response.status_code == 400
    assert Order.objects.get().status == Order.Status.OPEN
