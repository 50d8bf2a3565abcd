"""StripeObjectRef moves here from the payments app; its table, made there, stays as it is."""

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("payments", "0003_rails"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="StripeObjectRef",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("account", models.CharField(max_length=255)),
                        ("kind", models.CharField(choices=[("coupon", "Coupon"), ("tax_rate", "Tax rate")], max_length=20)),
                        ("local_key", models.CharField(help_text='Our row, e.g. "discount:5".', max_length=64)),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("stripe_id", models.CharField(max_length=255)),
                        ("created", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "payments_stripeobjectref",
                        "ordering": ["-created"],
                        "constraints": [models.UniqueConstraint(fields=("account", "kind", "local_key", "fingerprint"), name="stripe_object_ref_once_per_account")],
                    },
                ),
            ],
        ),
    ]
