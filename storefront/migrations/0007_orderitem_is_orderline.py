"""OrderItem is OrderLine, as the code reaches it (`order.lines`). Safe while the previous
release serves (docs/deploy.md): the table keeps its name, storefront_orderitem, so nothing
changes in the database (the AlterModelTable only writes down the name it already has, so
that RenameModel leaves the table where it is); the content type is renamed with the model,
so the admin's history and permissions follow it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("storefront", "0006_order_priced_total"),
    ]

    operations = [
        migrations.AlterModelTable(name="orderitem", table="storefront_orderitem"),
        migrations.RenameModel(old_name="OrderItem", new_name="OrderLine"),
    ]
