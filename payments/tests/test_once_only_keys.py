"""Once-only rules are plain unique keys, which every supported database creates (MySQL and
MariaDB have no partial index): the key column holds a value where the rule applies and NULL
elsewhere. The migrations that brought the keys in give existing rows theirs."""

import importlib

import pytest
from django.core import checks
from django.db import IntegrityError, connection, models, transaction
from django.db.migrations.executor import MigrationExecutor

from payments.models import ReceivedNotification
from payments.stripe.sandbox.models import SandboxRequest

payments_0007 = importlib.import_module("payments.migrations.0007_webhook_event_once_key")
sandbox_0002 = importlib.import_module(
    "payments.stripe.sandbox.migrations.0002_sandbox_request_original_key"
)


def event(**fields) -> ReceivedNotification:
    values = {
        "rail": "stripe",
        "account": "pk_test_usd",
        "event_id": "evt_1",
        "signature_valid": True,
        "status": "processed",
    }
    return ReceivedNotification.objects.create(**{**values, **fields})


@pytest.mark.django_db
def test_no_model_declares_a_constraint_this_database_would_not_create():
    """models.W036 (a conditional unique constraint MySQL and MariaDB skip) nowhere, and no
    other model or database warning, on whichever database the suite runs."""
    issues = checks.run_checks(databases=["default"])

    assert [issue for issue in issues if issue.id.startswith("models.")] == []
    for model in [ReceivedNotification, SandboxRequest]:
        for constraint in model._meta.constraints:
            assert getattr(constraint, "condition", None) is None, constraint.name


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"status": "processed"}, "evt_1"),
        ({"status": "ignored"}, "evt_1"),
        ({"status": "failed"}, None),
        ({"status": "conflict"}, None),
        ({"status": "rejected", "signature_valid": False, "event_id": ""}, None),
    ],
)
def test_the_key_holds_the_event_id_only_where_the_rule_applies(fields, key):
    assert event(**fields).once_event_id == key


@pytest.mark.django_db
def test_an_event_id_is_kept_once_per_rail_and_account_and_failures_leave_it_free():
    event(status="failed")
    event(status="failed")
    event(status="conflict")
    event()
    event(account="pk_test_eur")
    event(rail="bank_transfer")
    event(event_id="evt_2", status="ignored")

    with pytest.raises(IntegrityError), transaction.atomic():
        event(status="ignored")
    with pytest.raises(IntegrityError), transaction.atomic():
        event(event_id="evt_2")
    assert ReceivedNotification.objects.filter(event_id="evt_1").count() == 6


@pytest.mark.django_db
def test_a_status_saved_later_moves_the_key_with_it():
    record = event(status="failed")
    record.status = ReceivedNotification.Status.PROCESSED
    record.save(update_fields=["status"])
    assert ReceivedNotification.objects.get(pk=record.pk).once_event_id == "evt_1"

    record.status = ReceivedNotification.Status.CONFLICT
    record.save(update_fields=["status", "error"])
    assert ReceivedNotification.objects.get(pk=record.pk).once_event_id is None
    event()  # the id is free again


@pytest.mark.django_db
def test_the_sandbox_keeps_one_original_request_per_idempotency_key():
    def request(**fields):
        values = {
            "account": "acct_1",
            "method": "POST",
            "path": "/v1/refunds",
            "idempotency_key": "key-1",
            "status_code": 200,
            "request_id": "req_1",
        }
        return SandboxRequest.objects.create(**{**values, **fields})

    first = request()
    assert first.original_key == "key-1"
    assert request(replayed=True).original_key is None
    assert request(status_code=400).original_key is None
    assert request(idempotency_key=None).original_key is None
    assert request(account="acct_2").original_key == "key-1"

    with pytest.raises(IntegrityError), transaction.atomic():
        request()


# --- The migrations: existing rows get their keys ---------------------------------------------

BEFORE = [("payments", "0006_refunds_disputes_reconcile_runs"), ("sandbox", "0001_initial")]
KEYED = [
    ("payments", "0007_webhook_event_once_key"),
    ("sandbox", "0002_sandbox_request_original_key"),
]
# The partial unique index the models no longer declare, left in the database by 0007.
OLD_INDEX = models.UniqueConstraint(
    fields=["rail", "account", "event_id"],
    condition=models.Q(signature_valid=True) & ~models.Q(status__in=["failed", "conflict"]),
    name="webhook_event_once_per_rail_account",
)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_keys():
    """The database as the last release left it; migrated to the newest state afterwards."""
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_events_and_sandbox_requests_get_their_keys(before_keys):
    OldEvent = before_keys.get_model("payments", "WebhookEvent")
    common = {"rail": "stripe", "account": "pk_test_usd", "signature_valid": True}
    processed = OldEvent.objects.create(**common, event_id="evt_1", status="processed")
    ignored = OldEvent.objects.create(**common, event_id="evt_2", status="ignored")
    failed = OldEvent.objects.create(**common, event_id="evt_1", status="failed")
    conflict = OldEvent.objects.create(**common, event_id="evt_1", status="conflict")
    rejected = OldEvent.objects.create(
        rail="stripe", account="pk_test_usd", signature_valid=False, status="rejected"
    )
    OldRequest = before_keys.get_model("sandbox", "SandboxRequest")
    request = {"account": "acct_1", "method": "POST", "path": "/v1/x", "request_id": "req_1"}
    original = OldRequest.objects.create(**request, idempotency_key="k", status_code=200)
    replay = OldRequest.objects.create(
        **request, idempotency_key="k", status_code=200, replayed=True
    )

    apps = migrate(KEYED)

    Event = apps.get_model("payments", "WebhookEvent")
    keys = dict(Event.objects.values_list("pk", "once_event_id"))
    assert keys == {
        processed.pk: "evt_1",
        ignored.pk: "evt_2",
        failed.pk: None,
        conflict.pk: None,
        rejected.pk: None,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(**common, event_id="evt_1", status="ignored", once_event_id="evt_1")
    Request = apps.get_model("sandbox", "SandboxRequest")
    assert dict(Request.objects.values_list("pk", "original_key")) == {
        original.pk: "k",
        replay.pk: None,
    }


@pytest.mark.django_db(transaction=True)
def test_events_recorded_twice_keep_their_rows_and_the_first_keeps_the_key(before_keys):
    """Without the partial index (never created on MySQL and MariaDB; dropped by the release
    after 0007 elsewhere) one event could be recorded twice: both rows stay, the first gets
    the key, and the copy says which row it repeats."""
    apps = migrate(KEYED)
    Event = apps.get_model("payments", "WebhookEvent")
    with connection.schema_editor() as editor:
        editor.remove_constraint(Event, OLD_INDEX)  # as MySQL never had it
    try:
        common = {"rail": "stripe", "account": "pk_test_usd", "signature_valid": True}
        # Written as the previous release wrote them: without the key.
        rows = [Event.objects.create(**common, event_id="evt_1", status="processed")]
        rows += [
            Event.objects.create(**common, event_id=f"evt_{n}", status="processed") for n in (2, 3)
        ]
        rows += [Event.objects.create(**common, event_id="evt_1", status="ignored")]
        rows += [Event.objects.create(**common, event_id="evt_1", status="failed")]

        with connection.schema_editor() as editor:
            payments_0007.backfill(apps, editor)
            payments_0007.backfill(apps, editor)  # again, as the next release will: no change

        keyed = {row.pk: (row.once_event_id, row.error) for row in Event.objects.all()}
        first, second, third, copy, failed = (row.pk for row in rows)
        assert keyed[first] == ("evt_1", "")
        assert keyed[second][0] == "evt_2" and keyed[third][0] == "evt_3"
        assert keyed[copy][0] is None
        assert keyed[copy][1] == (
            f"Recorded again (#{first} was first) before event ids were kept once."
        )
        assert keyed[failed] == (None, "")
    finally:
        Event.objects.all().delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(Event, OLD_INDEX)  # where the database makes partial indexes
