"""An event id is kept once per rail and account by a plain unique key, on every database.

The rule was a partial unique index (`webhook_event_once_per_rail_account`: event ids of
authentic deliveries neither failed nor in conflict), which MySQL and MariaDB never create
(models.W036): there a duplicate delivery was processed again. Now `once_event_id` holds the
event id where the rule applies and NULL elsewhere, and `webhook_event_id_once_per_rail_account`
is a unique key over (rail, account, once_event_id), which every database creates and which
ignores NULLs. `WebhookEvent.save()` fills the column in.

Safe while the previous release still serves (expand, then contract):
- the column is nullable, so the previous release's INSERTs (which do not name it) go on;
- on PostgreSQL the unique index is built CONCURRENTLY (writes go on meanwhile), then attached
  as the constraint (`ADD CONSTRAINT ... USING INDEX`, a catalogue change); MariaDB and MySQL
  build it online (InnoDB), SQLite rebuilds its table;
- the partial index leaves the models but stays in the database (PostgreSQL and SQLite), so
  rows the previous release writes before it stops are still kept once. The next release
  drops it (`DROP INDEX IF EXISTS webhook_event_once_per_rail_account`) after running
  `backfill` again for those rows;
- `backfill` gives existing rows their key, in pk order; where the same event was recorded
  twice (possible only on MySQL and MariaDB, which never had the guard), the first row keeps
  the key and each later copy keeps its row, without a key, and a note of which row it repeats.
"""

from django.db import IntegrityError, migrations, models, transaction

FREE = ["failed", "conflict"]
CHUNK = 500
NEW = "webhook_event_id_once_per_rail_account"


def backfill(apps, schema_editor):
    WebhookEvent = apps.get_model("payments", "WebhookEvent")
    keyless = (
        WebhookEvent.objects.using(schema_editor.connection.alias)
        .filter(signature_valid=True, once_event_id__isnull=True)
        .exclude(status__in=FREE)
        .order_by("pk")
    )
    last = 0
    while True:
        chunk = list(keyless.filter(pk__gt=last).values_list("pk", flat=True)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1]
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                keyless.filter(pk__in=chunk).update(once_event_id=models.F("event_id"))
        except IntegrityError:
            # A duplicate in this chunk: one row at a time, so the first copy keeps the key.
            for pk in chunk:
                _key_one(WebhookEvent, pk, schema_editor.connection.alias)


def _key_one(WebhookEvent, pk, alias):
    rows = WebhookEvent.objects.using(alias)
    try:
        with transaction.atomic(using=alias):
            rows.filter(pk=pk).update(once_event_id=models.F("event_id"))
    except IntegrityError:
        row = rows.get(pk=pk)
        first = rows.get(rail=row.rail, account=row.account, once_event_id=row.event_id)
        note = f"Recorded again (#{first.pk} was first) before event ids were kept once."
        if note not in row.error:
            rows.filter(pk=pk).update(error=f"{row.error} {note}".strip())


class AddUniqueConstraintConcurrently(migrations.AddConstraint):
    """AddConstraint; on PostgreSQL its index is built CONCURRENTLY, then made the constraint."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        quote = schema_editor.quote_name
        table = quote(model._meta.db_table)
        name = quote(self.constraint.name)
        columns = ", ".join(
            quote(model._meta.get_field(field).column) for field in self.constraint.fields
        )
        # An index left invalid by an interrupted run is dropped and built again.
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({columns})")
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
        )


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction; the backfill has its own.
    atomic = False

    dependencies = [
        ("payments", "0006_refunds_disputes_reconcile_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookevent",
            name="once_event_id",
            field=models.CharField(blank=True, editable=False, max_length=255, null=True),
        ),
        AddUniqueConstraintConcurrently(
            model_name="webhookevent",
            constraint=models.UniqueConstraint(
                fields=("rail", "account", "once_event_id"), name=NEW
            ),
        ),
        # Out of the models, kept in the database for the previous release (see above).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="webhookevent", name="webhook_event_once_per_rail_account"
                ),
            ],
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, atomic=True),
    ]
