"""Indexes for the hot queries (README, Performance and Deploy), each built without blocking
writes: CONCURRENTLY on PostgreSQL (hence atomic = False: PostgreSQL builds such an index outside
a transaction), online by InnoDB on MySQL and MariaDB, plainly on SQLite
(sitewide.migration_operations.AddIndexOnline). Nothing else changes: the previous release
serves on while they build, and uses them.
"""

from django.conf import settings
from django.db import migrations, models

from sitewide.migration_operations import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('payments', '0009_db_default_for_previous_release'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexOnline(
            model_name='payment',
            index=models.Index(fields=['status', 'expires_at'], name='payment_status_expires'),
        ),
        AddIndexOnline(
            model_name='payment',
            index=models.Index(fields=['rail', 'account', 'status', 'created'], name='payment_account_pending'),
        ),
        AddIndexOnline(
            model_name='payment',
            index=models.Index(fields=['created', 'id'], name='payment_created'),
        ),
        AddIndexOnline(
            model_name='reconcilerun',
            index=models.Index(fields=['started_at', 'id'], name='reconcile_run_started'),
        ),
        AddIndexOnline(
            model_name='refund',
            index=models.Index(fields=['created', 'id'], name='refund_created'),
        ),
        AddIndexOnline(
            model_name='webhookevent',
            index=models.Index(fields=['rail', 'account', 'status', 'received_at', 'id'], name='webhook_event_account_status'),
        ),
        AddIndexOnline(
            model_name='webhookevent',
            index=models.Index(fields=['received_at', 'id'], name='webhook_event_received'),
        ),
    ]
