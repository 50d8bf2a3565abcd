"""Indexes for the hot queries (README, Performance and Deploy), each built without blocking
writes: CONCURRENTLY on PostgreSQL (hence atomic = False: PostgreSQL builds such an index outside
a transaction), online by InnoDB on MySQL and MariaDB, plainly on SQLite
(sitewide.migration_operations.AddIndexOnline). Nothing else changes: the previous release
serves on while they build, and uses them.
"""

from django.db import migrations, models

from sitewide.migration_operations import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('storefront', '0004_db_default_for_previous_release'),
    ]

    operations = [
        AddIndexOnline(
            model_name='item',
            index=models.Index(fields=['name', 'id'], name='item_name'),
        ),
        AddIndexOnline(
            model_name='order',
            index=models.Index(fields=['status', 'updated'], name='order_status_updated'),
        ),
        AddIndexOnline(
            model_name='order',
            index=models.Index(fields=['created', 'id'], name='order_created'),
        ),
        AddIndexOnline(
            model_name='ordermail',
            index=models.Index(fields=['status', 'claimed_at', 'created'], name='order_mail_due'),
        ),
    ]
