"""Signed Stripe refund and dispute events whose fields are not as Stripe sends them (a wrong
type, a huge number, a missing key, text a database refuses): each is a recorded, bounded
rejection answered 400, through HTTP, never a 500, never a refund or a dispute, and however
often it is retried, one row."""

import json
import logging
import secrets

import pytest

from payments.models import Dispute, ReceivedNotification, Refund
from payments.stripe.sandbox import refunds as sandbox_refunds
from payments.stripe.sandbox.dispute_bank import dispute_open
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.tests.checkout_tools import order_paid
from payments.stripe.tests.webhook_tools import post_event
from storefront.tests.factories import make_item, make_order

pytestmark = pytest.mark.django_db

DROP = object()  # a key left out


@pytest.fixture(autouse=True)
def no_delivery(settings):
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


@pytest.fixture
def events() -> dict[str, dict]:
    """A paid USD payment's real `refund.created` and `charge.dispute.created`, as the sandbox
    would post them (nothing delivered yet)."""
    payment = order_paid(make_order((make_item(price="20.00", currency="USD"), 1)))
    sandbox_refunds.refund_in_dashboard(payment.provider_payment_ref, amount=300)
    dispute_open(payment.provider_payment_ref)
    found = {}
    for type_ in ("refund.created", "charge.dispute.created"):
        found[type_] = SandboxObject.objects.get(object="event", data__type=type_).data
    return found


def changed(event: dict, path: str, value) -> dict:
    """A copy of `event` (with a fresh id) whose field at dotted `path` is `value`."""
    copy = json.loads(json.dumps(event))
    copy["id"] = "evt_" + secrets.token_hex(12)
    *parents, name = path.split(".")
    target = copy
    for parent in parents:
        target = target[parent]
    if value is DROP:
        del target[name]
    else:
        target[name] = value
    return copy


OBJECT = "data.object"
REFUND_FIELDS = [
    (f"{OBJECT}.amount", "abc"),
    (f"{OBJECT}.amount", 1e20),
    (f"{OBJECT}.amount", 10**20),
    (f"{OBJECT}.amount", True),
    (f"{OBJECT}.amount", -5),
    (f"{OBJECT}.amount", 0),
    (f"{OBJECT}.amount", DROP),
    (f"{OBJECT}.metadata", "zz"),
    (f"{OBJECT}.metadata", {"refund_request": 5}),
    (f"{OBJECT}.metadata", {"refund_request": "x" * 100}),
    (f"{OBJECT}.currency", 5),
    (f"{OBJECT}.currency", "usdollar"),
    (f"{OBJECT}.currency", DROP),
    (f"{OBJECT}.status", ["succeeded"]),
    (f"{OBJECT}.status", DROP),
    (f"{OBJECT}.id", DROP),
    (f"{OBJECT}.id", 5),
    (f"{OBJECT}.id", "re_" + "x" * 300),
    (f"{OBJECT}.id", "re_\u0000"),
    (f"{OBJECT}.id", "re_\ud800"),
    (f"{OBJECT}.payment_intent", {"id": 5}),
    (f"{OBJECT}.payment_intent", 7),
    (f"{OBJECT}.reason", [1]),
    (f"{OBJECT}.failure_reason", {}),
    (OBJECT, "zz"),
    ("data", DROP),
    ("created", "x"),
    ("created", DROP),
    ("created", 1e20),
    ("livemode", "yes"),
    ("type", "refund.created\u0000"),
    ("id", 5),
]
DISPUTE_FIELDS = [
    (f"{OBJECT}.evidence_details", [1]),
    (f"{OBJECT}.evidence_details.due_by", 1e20),
    (f"{OBJECT}.evidence_details.due_by", 10**20),
    (f"{OBJECT}.evidence_details.due_by", "soon"),
    (f"{OBJECT}.evidence", "x"),
    (f"{OBJECT}.evidence.appeal", [1]),
    (f"{OBJECT}.status", ["needs_response"]),
    (f"{OBJECT}.amount", "abc"),
    (f"{OBJECT}.amount", 10**20),
    (f"{OBJECT}.currency", 5),
    (f"{OBJECT}.metadata", "zz"),
    (f"{OBJECT}.payment_intent", 5),
    (f"{OBJECT}.charge", ["ch_1"]),
    (f"{OBJECT}.reason", 7),
    (f"{OBJECT}.id", DROP),
    ("created", DROP),
]


def _rejected_once(answer, field: str) -> None:
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"].startswith("Webhook rejected: The event's")
    [record] = ReceivedNotification.objects.all()
    assert (record.status, record.signature_valid) == ("rejected", False)
    assert not Refund.objects.exists() and not Dispute.objects.exists()


@pytest.mark.parametrize(("path", "value"), REFUND_FIELDS)
def test_a_malformed_signed_refund_event_is_a_recorded_400(client, events, path, value, caplog):
    event = changed(events["refund.created"], path, value)

    with caplog.at_level(logging.ERROR):
        answer = post_event(client, event)

    _rejected_once(answer, path)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(("path", "value"), DISPUTE_FIELDS)
def test_a_malformed_signed_dispute_event_is_a_recorded_400(client, events, path, value, caplog):
    event = changed(events["charge.dispute.created"], path, value)

    with caplog.at_level(logging.ERROR):
        answer = post_event(client, event)

    _rejected_once(answer, path)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_answer_names_the_field(client, events):
    answer = post_event(client, changed(events["refund.created"], f"{OBJECT}.amount", "abc"))

    assert answer.json()["error"] == (
        "Webhook rejected: The event's data.object.amount must be an integer."
    )


def test_every_malformed_delivery_and_every_retry_shares_one_bounded_row(client, events):
    malformed = [changed(events["refund.created"], p, v) for p, v in REFUND_FIELDS] + [
        changed(events["charge.dispute.created"], p, v) for p, v in DISPUTE_FIELDS
    ]

    answers = [post_event(client, event).status_code for event in malformed * 3]

    assert set(answers) == {400}
    [record] = ReceivedNotification.objects.all()
    assert record.status == "rejected" and record.rejections == len(answers)
    assert len(record.payload) <= 500
    assert not Refund.objects.exists() and not Dispute.objects.exists()


def test_the_well_formed_events_themselves_are_taken(client, events):
    """The same events, unchanged, are read and recorded: the reader refuses only what is
    malformed."""
    answers = [post_event(client, event).json()["outcome"] for event in events.values()]

    assert answers == ["processed", "processed"]
    assert Refund.objects.count() == 1 and Dispute.objects.count() == 1
