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
        ('payments_bank_transfer', '0002_flags_and_credited'),
    ]

    operations = [
        AddIndexOnline(
            model_name='bankoperation',
            index=models.Index(fields=['received_at', 'id'], name='bank_operation_received'),
        ),
    ]
