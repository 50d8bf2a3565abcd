"""Whoever may view (add, change, delete) webhook events (payments.*_webhookevent) may do the
same with received notifications (payments.*_receivednotification), the names Django gives the
renamed model's permissions; the old permissions stay for the release still serving
(sitewide.permissions)."""

from django.db import migrations

from sitewide.permissions import permissions_copy


def copy(apps, schema_editor):
    permissions_copy(
        apps,
        app_label="payments",
        old_model="webhookevent",
        new_model="receivednotification",
        verbose_name="received notification",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0013_rejected_rows_own_fields"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(copy, migrations.RunPython.noop)]
