"""Order.email gets a database default ('').

0003 added it as NOT NULL with only a Python default, which Django drops from the database once
the column exists: the release before it, whose INSERTs do not name the column, answered /buy
with a 500 (`null value in column "email" of relation "storefront_order"`). With the default
in the database it goes on (PostgreSQL and MySQL: ALTER COLUMN ... SET DEFAULT, a catalogue
change; SQLite rebuilds its table). Safe while the previous release serves (README, Deploy).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('storefront', '0003_order_email_and_mail'),
    ]

    operations = [
        migrations.AlterField(
            model_name='order',
            name='email',
            field=models.EmailField(blank=True, db_default='', default='', help_text="The buyer's e-mail address, for receipts.", max_length=254),
        ),
    ]
