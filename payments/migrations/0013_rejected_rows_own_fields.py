"""A rejected delivery's row (one per rail, account and hour) gets fields of its own: how many
deliveries it stands for (`rejections`) and the latest body's SHA-256 (`body_sha256`), which it
kept in `duplicates` (one fewer) and `fingerprint`, the words an authentic event's row uses for
its redeliveries and its rail's digest. Both columns have a database default, so the previous
release's INSERTs go on (docs/deploy.md); the rows it rejects while this one deploys keep its
counting in `duplicates`, as before, and are told apart by their status. Rejected rows are
bounded (one per account and hour), so the copy is small."""

from django.db import migrations, models
from django.db.models import F


def rejected_rows_move(apps, schema_editor):
    ReceivedNotification = apps.get_model("payments", "ReceivedNotification")
    ReceivedNotification.objects.filter(status="rejected").update(
        rejections=F("duplicates") + 1, body_sha256=F("fingerprint"), duplicates=0, fingerprint=""
    )


def rejected_rows_back(apps, schema_editor):
    ReceivedNotification = apps.get_model("payments", "ReceivedNotification")
    ReceivedNotification.objects.filter(status="rejected", rejections__gt=0).update(
        duplicates=F("rejections") - 1, fingerprint=F("body_sha256")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0012_notification_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="receivednotification",
            name="rejections",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="receivednotification",
            name="body_sha256",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.RunPython(rejected_rows_move, rejected_rows_back),
    ]
