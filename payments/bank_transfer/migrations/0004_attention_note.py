"""Organisation.flag and BankOperation.flag are `attention_note` (a note for the merchant, not a
boolean), their column still `flag`, so nothing changes in the database and the previous release
serves on (docs/deploy.md)."""

from django.db import migrations, models


def _note() -> models.TextField:
    return models.TextField(
        blank=True, db_column="flag", db_default="", default="", help_text="For the merchant to review."
    )


class Migration(migrations.Migration):
    dependencies = [
        ("payments_bank_transfer", "0003_indexes_for_hot_queries"),
    ]

    operations = [
        migrations.AlterField(model_name="organisation", name="flag", field=_note()),
        migrations.RenameField(
            model_name="organisation", old_name="flag", new_name="attention_note"
        ),
        migrations.AlterField(model_name="bankoperation", name="flag", field=_note()),
        migrations.RenameField(
            model_name="bankoperation", old_name="flag", new_name="attention_note"
        ),
    ]
