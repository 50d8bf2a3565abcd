"""Payment.pay_url and payer_email get a database default ('').

0005 and 0006 added them as NOT NULL with only a Python default, which Django drops from the
database once the column exists: the release before them, which INSERTs payments without
naming these columns, then failed with `null value in column "pay_url"`. With the default in
the database it goes on (PostgreSQL and MySQL: ALTER COLUMN ... SET DEFAULT, a catalogue change;
SQLite rebuilds its table). Safe while the previous release serves (README, Deploy).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0008_refund_flag_dispute_lifecycle'),
    ]

    operations = [
        migrations.AlterField(
            model_name='payment',
            name='pay_url',
            field=models.CharField(blank=True, db_default='', default='', max_length=2000),
        ),
        migrations.AlterField(
            model_name='payment',
            name='payer_email',
            field=models.EmailField(blank=True, db_default='', default='', help_text="The buyer's e-mail address as the provider collected it.", max_length=254),
        ),
    ]
