"""One original request per idempotency key and account, by a plain unique key on every database.

The rule was a partial unique index, which MySQL and MariaDB never create (models.W036). Now
`original_key` holds the idempotency key of an original, executed request (not replayed, not
refused) and NULL elsewhere, and the unique key over (account, original_key) ignores NULLs.
The partial index leaves the models but stays in the database where it exists, as the
payments app's 0007 does (the sandbox never serves production, but is kept the same way).
Existing rows get their key, the first of each key first; a later copy keeps none.
"""

from django.db import IntegrityError, migrations, models, transaction

CHUNK = 500


def backfill(apps, schema_editor):
    alias = schema_editor.connection.alias
    SandboxRequest = apps.get_model("sandbox", "SandboxRequest")
    keyless = (
        SandboxRequest.objects.using(alias)
        .filter(idempotency_key__isnull=False, replayed=False, status_code__lt=400)
        .filter(original_key__isnull=True)
        .order_by("pk")
    )
    last = 0
    while True:
        chunk = list(keyless.filter(pk__gt=last).values_list("pk", flat=True)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1]
        try:
            with transaction.atomic(using=alias):
                keyless.filter(pk__in=chunk).update(original_key=models.F("idempotency_key"))
        except IntegrityError:
            for pk in chunk:
                try:
                    with transaction.atomic(using=alias):
                        keyless.filter(pk=pk).update(original_key=models.F("idempotency_key"))
                except IntegrityError:
                    pass  # a later copy of a key: it stays without one


class Migration(migrations.Migration):
    dependencies = [
        ("sandbox", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="sandboxrequest",
            name="original_key",
            field=models.CharField(blank=True, editable=False, max_length=255, null=True),
        ),
        migrations.AddConstraint(
            model_name="sandboxrequest",
            constraint=models.UniqueConstraint(
                fields=("account", "original_key"), name="sandbox_request_original_key_once"
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="sandboxrequest", name="sandbox_request_idempotency_key_once"
                ),
            ],
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
