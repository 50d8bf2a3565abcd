"""Names that say what they are, with nothing changed in the database, so the previous release
serves on (docs/deploy.md): WebhookEvent is ReceivedNotification (one vocabulary with the code's
"notification"), its table still payments_webhookevent; Payment.flag and Refund.flag are
`attention_note` (a note for the merchant, not a boolean), their column still `flag`. Each
AlterModelTable/AlterField writes down the name the database already has, so the renames after
it touch no table or column; the content type is renamed with the model."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0011_refund_status_cancelled_label"),
    ]

    operations = [
        migrations.AlterModelTable(name="webhookevent", table="payments_webhookevent"),
        migrations.RenameModel(old_name="WebhookEvent", new_name="ReceivedNotification"),
        migrations.AlterField(
            model_name="payment",
            name="flag",
            field=models.TextField(blank=True, db_column="flag"),
        ),
        migrations.RenameField(model_name="payment", old_name="flag", new_name="attention_note"),
        migrations.AlterField(
            model_name="refund",
            name="flag",
            field=models.TextField(
                blank=True,
                db_column="flag",
                db_default="",
                default="",
                help_text="For the merchant: what the provider said that we could not act on "
                "(a refund beyond what the payment received; an older word contradicting a final "
                "status).",
            ),
        ),
        migrations.RenameField(model_name="refund", old_name="flag", new_name="attention_note"),
    ]
