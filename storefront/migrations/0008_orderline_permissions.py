"""Whoever may add, change, delete or view order items (storefront.*_orderitem) may do the same
with order lines (storefront.*_orderline), the names Django gives OrderLine's permissions; the
old permissions stay for the release still serving (sitewide.permissions)."""

from django.db import migrations

from sitewide.permissions import permissions_copy


def copy(apps, schema_editor):
    permissions_copy(
        apps,
        app_label="storefront",
        old_model="orderitem",
        new_model="orderline",
        verbose_name="order line",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("storefront", "0007_orderitem_is_orderline"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(copy, migrations.RunPython.noop)]
