"""The core's notification bookkeeping, through a provider-less rail (rails_for_tests)."""

import json

import pytest

from payments.models import Payment, ReceivedNotification
from payments.redeliveries import duplicates_counted
from payments.tests import rails_for_tests

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def echo_rail(settings):
    settings.PAYMENT_RAILS = [
        *settings.PAYMENT_RAILS,
        "payments.tests.rails_for_tests.EchoRail",
    ]
    rails_for_tests.ACTED.clear()


def post(client, body, *, secret="s3cret", account="main"):
    return client.post(
        f"/payments/webhooks/echo/{account}/",
        json.dumps(body),
        content_type="application/json",
        HTTP_X_ECHO_SECRET=secret,
    )


def test_a_first_delivery_is_acted_on_once_and_a_resend_is_a_duplicate(client):
    first = post(client, {"id": "op-1", "says": "credit 100"})
    again = post(client, {"id": "op-1", "says": "credit 100"})

    assert (first.status_code, first.json()["outcome"]) == (200, "processed")
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert rails_for_tests.ACTED == ["op-1"]
    record = ReceivedNotification.objects.get()
    assert (record.rail, record.account, duplicates_counted(record)) == ("echo", "main", 1)


def test_the_same_event_id_saying_something_else_is_a_409_recorded_for_the_merchant(client):
    post(client, {"id": "op-1", "says": "credit 100"})

    conflict = post(client, {"id": "op-1", "says": "credit 999"})
    after = post(client, {"id": "op-1", "says": "credit 100"})

    assert conflict.status_code == 409
    assert "received before with other content" in conflict.json()["error"]
    assert after.json()["outcome"] == "duplicate"
    assert rails_for_tests.ACTED == ["op-1"]
    statuses = sorted(ReceivedNotification.objects.values_list("status", flat=True))
    assert statuses == ["conflict", "processed"]
    assert "credit 999" in ReceivedNotification.objects.get(status="conflict").payload


def test_a_rail_can_refuse_with_its_own_status_and_the_rejection_is_recorded(client):
    response = post(client, {"id": "op-1"}, secret="wrong")

    assert response.status_code == 401
    assert rails_for_tests.ACTED == []
    record = ReceivedNotification.objects.get()
    assert (record.rail, record.status, record.signature_valid) == ("echo", "rejected", False)


def test_a_state_for_a_payment_this_rail_never_started_moves_nothing(client):
    Payment.objects.create(
        rail="stripe", account="main", reference="order-1", provider_ref="p-1",
        currency="USD", amount_expected=100,
    )  # fmt: skip

    response = post(client, {"id": "op-2", "payment": "p-1"})

    assert response.json()["outcome"] == "processed"  # the rail's own act happened
    assert Payment.objects.get().status == "pending"
    assert "No payment p-1 was started" in ReceivedNotification.objects.get().error


def test_a_rail_the_site_does_not_run_answers_404(client, settings):
    settings.PAYMENT_RAILS = ["payments.stripe.rail.StripeRail"]

    assert post(client, {"id": "op-1"}).status_code == 404
    assert not ReceivedNotification.objects.exists()


def test_rejections_however_many_take_one_bounded_row_per_account_and_hour(client):
    import hashlib
    import secrets

    bodies = [secrets.token_bytes(4000) for _ in range(200)]
    for body in bodies:
        response = client.post(
            "/payments/webhooks/echo/main/", body, content_type="application/octet-stream"
        )
        assert response.status_code == 401

    record = ReceivedNotification.objects.get()
    assert (record.status, record.signature_valid, record.rejections) == ("rejected", False, 200)
    assert len(record.payload) <= 4 * 500  # a sample, whatever the bodies' size
    assert record.body_sha256 == hashlib.sha256(bodies[-1]).hexdigest()
    assert (record.duplicates, record.fingerprint) == (0, "")  # an authentic event's words


def test_a_rejection_after_the_hour_starts_a_new_row(client):
    from datetime import timedelta

    from django.utils import timezone

    post(client, {"id": "op-1"}, secret="wrong")
    ReceivedNotification.objects.update(received_at=timezone.now() - timedelta(hours=2))

    post(client, {"id": "op-2"}, secret="wrong")

    assert ReceivedNotification.objects.filter(status="rejected").count() == 2


def test_a_nul_in_a_rejected_body_is_kept_visibly_not_a_500(client):
    response = client.post(
        "/payments/webhooks/echo/main/", b'{"id": "\x00"}', content_type="application/json"
    )

    assert response.status_code == 401
    assert "\\x00" in ReceivedNotification.objects.get().payload
