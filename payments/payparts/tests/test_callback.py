"""The bank's callback at /payments/payparts/callback/: recorded, verified, acted on once."""

from contextlib import contextmanager

import pytest

from payments.models import Payment, ReceivedNotification
from payments.payparts.signals import pay_parts_invalid_callback, pay_parts_success_callback
from payments.redeliveries import duplicates_counted
from payments.signals import payment_failed
from storefront.models import Order

from .payparts_tools import buy, callback_body, post_callback, uah_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(client):
    """A payment started at the sandbox bank; its order id."""
    return buy(client, uah_item()).json()["id"]


@contextmanager
def listening(signal):
    """The keyword arguments of every `signal` sent within the block."""
    got = []

    def receiver(sender, **kwargs):
        got.append(kwargs)

    signal.connect(receiver, weak=False)
    try:
        yield got
    finally:
        signal.disconnect(receiver)


def order():
    return Order.objects.get()


def test_a_valid_success_pays_once_and_says_so(client, started, django_capture_on_commit_callbacks):
    with listening(pay_parts_success_callback) as got:
        with django_capture_on_commit_callbacks(execute=True):
            first = post_callback(client, callback_body(started, "SUCCESS"))
        with django_capture_on_commit_callbacks(execute=True):
            again = post_callback(client, callback_body(started, "SUCCESS"))
    assert first.status_code == 200 and first.json()["outcome"] == "processed"
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert order().status == Order.Status.PAID
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_received) == (Payment.Status.SUCCEEDED, 120000)
    assert [kw["order_id"] for kw in got] == [started]
    event = ReceivedNotification.objects.get(rail="payparts")
    assert (event.signature_valid, duplicates_counted(event), event.type) == (
        True,
        1,
        "payment.success",
    )


def test_a_tampered_callback_is_400_recorded_and_changes_nothing(
    client, started, django_capture_on_commit_callbacks
):
    forged = callback_body(started, "SUCCESS", signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    with (
        listening(pay_parts_invalid_callback) as got,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post_callback(client, forged)
    assert response.status_code == 400
    assert order().status == Order.Status.OPEN
    event = ReceivedNotification.objects.get()
    assert (event.signature_valid, event.status) == (False, ReceivedNotification.Status.REJECTED)
    assert started in event.payload
    assert [kw["reason"] for kw in got] == ["The signature does not match."]


def test_a_callback_signed_for_another_state_is_refused(client, started):
    body = callback_body(started, "FAIL").replace(b'"FAIL"', b'"SUCCESS"')
    assert post_callback(client, body).status_code == 400
    assert order().status == Order.Status.OPEN


def test_a_replayed_success_is_a_duplicate(client, started):
    body = callback_body(started, "SUCCESS", "ok")
    outcomes = [post_callback(client, body).json()["outcome"] for _ in range(3)]
    assert outcomes == ["processed", "duplicate", "duplicate"]
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


def test_fail_after_success_never_unpays(client, started):
    post_callback(client, callback_body(started, "SUCCESS"))
    late = post_callback(client, callback_body(started, "FAIL", "Timeout"))
    assert late.status_code == 200
    assert order().status == Order.Status.PAID
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


@pytest.mark.parametrize("state", ["FAIL", "REJECTED", "CANCELED"])
def test_a_failure_leaves_the_order_open_with_the_reason(
    client, started, state, django_capture_on_commit_callbacks
):
    with listening(payment_failed) as failed, django_capture_on_commit_callbacks(execute=True):
        response = post_callback(client, callback_body(started, state, "Ліміт перевищено"))
    assert response.status_code == 200
    assert order().status == Order.Status.OPEN
    assert Payment.objects.get().status == Payment.Status.FAILED
    assert "Ліміт перевищено" in ReceivedNotification.objects.get().payload
    assert [kw["reason"] for kw in failed] == ["Ліміт перевищено"]


def test_in_progress_states_change_nothing(client, started):
    response = post_callback(client, callback_body(started, "CLIENT_WAIT"))
    assert response.status_code == 200
    assert Payment.objects.get().status == Payment.Status.PENDING


def test_a_wrong_content_type_is_still_read(client, started):
    response = post_callback(client, callback_body(started, "SUCCESS"), content_type="text/plain")
    assert response.status_code == 200
    assert order().status == Order.Status.PAID


def test_a_missing_content_type_is_still_read(client, started):
    response = client.generic(
        "POST", "/payments/payparts/callback/", callback_body(started, "SUCCESS"), content_type=""
    )
    assert response.status_code == 200


@pytest.mark.parametrize("body", [b"storeId=1&orderId=2", b"[1, 2]", b"\xff\xfe", b""])
def test_a_body_that_is_not_a_json_object_is_400_not_500(client, body):
    response = post_callback(client, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert ReceivedNotification.objects.get().status == ReceivedNotification.Status.REJECTED


def test_a_callback_for_a_payment_we_never_started_is_recorded_and_ignored(client):
    response = post_callback(client, callback_body("order-404-ffff", "SUCCESS"))
    assert response.status_code == 200
    assert "No payment order-404-ffff" in ReceivedNotification.objects.get().error


def test_the_sandbox_bank_delivers_its_signed_callback(
    client, started, django_capture_on_commit_callbacks
):
    from payments.payparts.sandbox.models import InstalmentPlan

    plan = InstalmentPlan.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/sandbox/payparts/payment?token={plan.token}", {"decision": "approve"})
    assert order().status == Order.Status.PAID
    assert ReceivedNotification.objects.get().type == "payment.success"


def no_traceback_logged(caplog) -> bool:
    return not [r for r in caplog.records if r.exc_info] and "Traceback" not in caplog.text


@pytest.mark.parametrize(
    "field, value",
    [
        ("orderId", "order-1-\x00ff"),
        ("orderId", "o" * 65),
        ("orderId", ""),
        ("paymentState", "SUCCESS\x00"),
        ("paymentState", "S" * 33),
        ("message", "Ліміт\x00"),
        ("message", "\x1b[31m"),
        ("message", "m" * 1001),
    ],
)
def test_a_signed_callback_that_cannot_be_read_is_a_recorded_400(
    client, started, field, value, caplog
):
    fields = {"orderId": started, "state": "SUCCESS", "message": ""}
    fields[{"paymentState": "state"}.get(field, field)] = value
    body = callback_body(fields["orderId"], fields["state"], fields["message"])
    for _ in range(3):
        response = post_callback(client, body)
        assert response.status_code == 400, response.content
        assert field in response.json()["error"]
    assert order().status == Order.Status.OPEN
    assert Payment.objects.get().status == Payment.Status.PENDING
    rejected = ReceivedNotification.objects.get()  # one bounded row for all three
    assert (rejected.status, rejected.rejections) == (ReceivedNotification.Status.REJECTED, 3)
    assert "\x00" not in rejected.payload and len(rejected.payload) <= 500
    assert no_traceback_logged(caplog)


def test_a_message_with_line_breaks_is_read(client, started):
    message = "Ліміт\nперевищено\r\n\t."  # noqa: RUF001 (Ukrainian)
    response = post_callback(client, callback_body(started, "FAIL", message))
    assert response.status_code == 200
    assert Payment.objects.get().status == Payment.Status.FAILED


@pytest.mark.parametrize(
    "body",
    [
        # Lone surrogates are no text: no signature can be computed over them.
        b'{"storeId": "SANDBOX0PAYPARTS0001", "orderId": "\\ud800", "paymentState": "SUCCESS",'
        b' "message": "", "signature": "x"}',
        b'{"storeId": "SANDBOX0PAYPARTS0001", "orderId": "o", "paymentState": "\\udfff",'
        b' "message": "\\ud83d", "signature": "x"}',
        b"[" * 100_000,  # deeper than any parser recurses
        b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
        b"{" + b'"k": 1, ' * 5_000 + b'"k": 2}',  # a key named 5,000 times
        b'{"storeId": "' + b"x" * 20_000 + b'"}',
    ],
    ids=["surrogate-id", "surrogate-state", "deep-array", "deep-object", "repeated-key", "long"],
)
def test_a_body_no_parser_should_read_is_400_with_no_traceback(client, body, caplog):
    response = post_callback(client, body)
    assert response.status_code == 400, response.content
    assert ReceivedNotification.objects.get().status == ReceivedNotification.Status.REJECTED
    assert no_traceback_logged(caplog)


def test_a_signed_callback_naming_a_field_twice_is_refused(client, started):
    signed = callback_body(started, "FAIL", "Timeout").decode()
    twice = signed.replace(
        '"paymentState": "FAIL"', '"paymentState": "FAIL", "paymentState": "SUCCESS"'
    )
    assert twice != signed
    response = post_callback(client, twice.encode())
    assert response.status_code == 400
    assert "duplicate keys: paymentState" in response.json()["error"]
    assert Payment.objects.get().status == Payment.Status.PENDING


def test_a_signed_callback_in_utf_16_is_refused_not_a_500(client, started, caplog):
    body = callback_body(started, "SUCCESS").decode().encode("utf-16")
    response = post_callback(client, body)
    assert response.status_code == 400
    assert "not UTF-8" in response.json()["error"]
    assert order().status == Order.Status.OPEN
    assert no_traceback_logged(caplog)


def test_a_receiver_written_for_django_ok_payparts_works_unchanged(
    client, started, django_capture_on_commit_callbacks
):
    seen = []

    # As django-ok-payparts's README writes one: sent for every validly signed callback.
    def success_callback(sender, log, request, **kwargs):
        seen.append((log.state, log.is_success, log.order_id, log.store_id, log.type, request))

    pay_parts_success_callback.connect(success_callback, weak=False)
    try:
        for state, message in [("FAIL", "Timeout"), ("FAIL", "Timeout"), ("SUCCESS", "")]:
            with django_capture_on_commit_callbacks(execute=True):
                post_callback(client, callback_body(started, state, message))
    finally:
        pay_parts_success_callback.disconnect(success_callback)
    # The repeated FAIL is a duplicate: acknowledged, and not announced again.
    assert [entry[:5] for entry in seen] == [
        ("FAIL", False, started, "SANDBOX0PAYPARTS0001", "callback"),
        ("SUCCESS", True, started, "SANDBOX0PAYPARTS0001", "callback"),
    ]
    request = seen[1][5]
    assert request.method == "POST" and started.encode() in request.body
    assert order().status == Order.Status.PAID  # paid by the core, before the signal


def test_the_success_signals_log_is_our_notification_record(
    client, started, django_capture_on_commit_callbacks
):
    with (
        listening(pay_parts_success_callback) as got,
        django_capture_on_commit_callbacks(execute=True),
    ):
        post_callback(client, callback_body(started, "SUCCESS"))
    [kwargs] = got
    log = kwargs["log"]
    assert (log.is_success, log.is_fail, log.message, log.token) == (True, False, "", "")
    assert log.record == ReceivedNotification.objects.get(rail="payparts", signature_valid=True)
    assert log.record.status == ReceivedNotification.Status.PROCESSED


def test_an_invalid_callback_receiver_written_for_django_ok_payparts_works_unchanged(
    client, started, django_capture_on_commit_callbacks
):
    seen = []

    def invalid_callback(sender, log, request, **kwargs):
        seen.append((log.order_id, log.state, log.record, request.body))

    pay_parts_invalid_callback.connect(invalid_callback, weak=False)
    forged = callback_body(started, "SUCCESS", signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert post_callback(client, forged).status_code == 400
        with django_capture_on_commit_callbacks(execute=True):
            assert post_callback(client, b"[1]").status_code == 400
    finally:
        pay_parts_invalid_callback.disconnect(invalid_callback)
    rejected = ReceivedNotification.objects.get()
    assert seen == [(started, "SUCCESS", rejected, forged), ("", "", rejected, b"[1]")]
    assert order().status == Order.Status.OPEN
