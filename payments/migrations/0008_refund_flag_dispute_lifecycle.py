"""Refunds get a flag for the merchant (a refund beyond what its payment received, or an older
word contradicting a final status); disputes get the lifecycle of Stripe's pinned API version
(inquiries, appeals, preventions: a status column wide enough for their words), whether they
went to appeal, and when the provider said what is recorded.

Safe while the previous release still serves: new columns with a database default or
nullable, and a wider varchar (metadata only on PostgreSQL)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0007_webhook_event_once_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="flag",
            field=models.TextField(
                blank=True,
                db_default="",
                default="",
                help_text="For the merchant: what the provider said that we could not act on (a "
                "refund beyond what the payment received; an older word contradicting a final "
                "status).",
            ),
        ),
        migrations.AddField(
            model_name="dispute",
            name="appealed",
            field=models.BooleanField(
                db_default=False, default=False, help_text="Whether it went to appeal."
            ),
        ),
        migrations.AddField(
            model_name="dispute",
            name="observed_at",
            field=models.DateTimeField(
                blank=True, help_text="When the provider said what is recorded.", null=True
            ),
        ),
        migrations.AlterField(
            model_name="dispute",
            name="status",
            field=models.CharField(
                choices=[
                    ("inquiry_needs_response", "Inquiry: needs a response"),
                    ("inquiry_under_review", "Inquiry: under review"),
                    ("inquiry_closed", "Inquiry closed"),
                    ("needs_response", "Needs a response"),
                    ("under_review", "Under review"),
                    ("won", "Won"),
                    ("lost", "Lost"),
                    ("appeal_needs_response", "Appeal: needs a response"),
                    ("appeal_under_review", "Under appeal"),
                    ("prevented", "Prevented"),
                    ("closed", "Closed"),
                ],
                max_length=30,
            ),
        ),
    ]
