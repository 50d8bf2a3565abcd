"""Order.priced_total: what the order cost when a payment of it started, so that fulfilment
compares the payment with it instead of pricing the order again (docs/performance.md).

The column is nullable: NULL means "not priced, or changed since", and fulfilment then prices
the order as it always did, so no backfill is needed and the previous release, which never
writes it, keeps working (its INSERTs leave it NULL).

Whatever changes what an order is priced from clears it, in the database itself: triggers on
its lines (any INSERT, UPDATE or DELETE), on its taxes' links, on its own discount and currency,
and on the percentages of its taxes and the terms of its discount (open orders only). So no
writer can leave a stale total behind: not the shop's services, not the admin, not the
previous release while this one deploys, not SQL typed by hand. Fulfilment trusts the column
only where it equals the payment's amount, and only through a conditional UPDATE, so a change
racing the payment waits on the order's row lock (which the trigger's UPDATE takes) and is
seen. Each backend gets the same triggers in its own dialect; creating them takes each table's
lock for a moment, never a rewrite. On MySQL or MariaDB with binary logging, creating triggers
needs the TRIGGER privilege and `log_bin_trust_function_creators=1` (docs/databases.md).

SQLite drops a table's triggers when Django rebuilds the table (an AlterField on it): a later
migration that rebuilds storefront_order, storefront_orderitem, storefront_order_taxes,
storefront_tax or storefront_discount must create them again
(storefront/tests/test_priced_total.py fails on SQLite if it does not).
"""

from django.db import migrations, models

# The UPDATE each trigger runs: the order(s) it names lose their priced total.
UNPRICE = "UPDATE storefront_order SET priced_total = NULL WHERE priced_total IS NOT NULL AND id"

POSTGRESQL = [
    f"""
    CREATE FUNCTION storefront_order_unprice_child() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {UNPRICE} = NEW.order_id;
        ELSIF TG_OP = 'DELETE' THEN
            {UNPRICE} = OLD.order_id;
        ELSE
            {UNPRICE} IN (OLD.order_id, NEW.order_id);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER storefront_orderitem_unprice
    AFTER INSERT OR UPDATE OR DELETE ON storefront_orderitem
    FOR EACH ROW EXECUTE FUNCTION storefront_order_unprice_child()
    """,
    """
    CREATE TRIGGER storefront_order_taxes_unprice
    AFTER INSERT OR UPDATE OR DELETE ON storefront_order_taxes
    FOR EACH ROW EXECUTE FUNCTION storefront_order_unprice_child()
    """,
    """
    CREATE FUNCTION storefront_order_unprice_self() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.priced_total := NULL;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER storefront_order_unprice
    BEFORE UPDATE OF discount_id, currency ON storefront_order
    FOR EACH ROW
    WHEN (OLD.discount_id IS DISTINCT FROM NEW.discount_id OR OLD.currency <> NEW.currency)
    EXECUTE FUNCTION storefront_order_unprice_self()
    """,
    f"""
    CREATE FUNCTION storefront_order_unprice_tax() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {UNPRICE} IN (SELECT order_id FROM storefront_order_taxes WHERE tax_id = NEW.id)
            AND status = 'open';
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER storefront_tax_unprice
    AFTER UPDATE OF percentage, inclusive ON storefront_tax
    FOR EACH ROW
    WHEN (OLD.percentage <> NEW.percentage OR OLD.inclusive <> NEW.inclusive)
    EXECUTE FUNCTION storefront_order_unprice_tax()
    """,
    """
    CREATE FUNCTION storefront_order_unprice_discount() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE storefront_order SET priced_total = NULL
            WHERE priced_total IS NOT NULL AND discount_id = NEW.id AND status = 'open';
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER storefront_discount_unprice
    AFTER UPDATE OF percent_off, amount_off, amount_off_currency ON storefront_discount
    FOR EACH ROW
    WHEN (
        OLD.percent_off IS DISTINCT FROM NEW.percent_off
        OR OLD.amount_off IS DISTINCT FROM NEW.amount_off
        OR OLD.amount_off_currency IS DISTINCT FROM NEW.amount_off_currency
    )
    EXECUTE FUNCTION storefront_order_unprice_discount()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS storefront_discount_unprice ON storefront_discount",
    "DROP TRIGGER IF EXISTS storefront_tax_unprice ON storefront_tax",
    "DROP TRIGGER IF EXISTS storefront_order_unprice ON storefront_order",
    "DROP TRIGGER IF EXISTS storefront_order_taxes_unprice ON storefront_order_taxes",
    "DROP TRIGGER IF EXISTS storefront_orderitem_unprice ON storefront_orderitem",
    "DROP FUNCTION IF EXISTS storefront_order_unprice_discount()",
    "DROP FUNCTION IF EXISTS storefront_order_unprice_tax()",
    "DROP FUNCTION IF EXISTS storefront_order_unprice_self()",
    "DROP FUNCTION IF EXISTS storefront_order_unprice_child()",
]


def _children(dialect: str) -> list[str]:
    """The lines' and the taxes' links' triggers, one per event (SQLite and MySQL have no
    trigger for several events)."""
    body = "BEGIN {} END;" if dialect == "sqlite" else "{}"
    made = []
    for table in ("storefront_orderitem", "storefront_order_taxes"):
        for event, orders in (
            ("INSERT", "= NEW.order_id"),
            ("UPDATE", "IN (OLD.order_id, NEW.order_id)"),
            ("DELETE", "= OLD.order_id"),
        ):
            made.append(
                f"CREATE TRIGGER {table}_unprice_{event.lower()} AFTER {event} ON {table} "
                f"FOR EACH ROW {body.format(f'{UNPRICE} {orders};')}"
            )
    return made


SQLITE = [
    *_children("sqlite"),
    f"""
    CREATE TRIGGER storefront_order_unprice AFTER UPDATE OF discount_id, currency
    ON storefront_order FOR EACH ROW
    WHEN OLD.discount_id IS NOT NEW.discount_id OR OLD.currency IS NOT NEW.currency
    BEGIN {UNPRICE} = NEW.id; END
    """,
    f"""
    CREATE TRIGGER storefront_tax_unprice AFTER UPDATE OF percentage, inclusive
    ON storefront_tax FOR EACH ROW
    WHEN OLD.percentage IS NOT NEW.percentage OR OLD.inclusive IS NOT NEW.inclusive
    BEGIN
        {UNPRICE} IN (SELECT order_id FROM storefront_order_taxes WHERE tax_id = NEW.id)
            AND status = 'open';
    END
    """,
    """
    CREATE TRIGGER storefront_discount_unprice
    AFTER UPDATE OF percent_off, amount_off, amount_off_currency ON storefront_discount
    FOR EACH ROW
    WHEN OLD.percent_off IS NOT NEW.percent_off OR OLD.amount_off IS NOT NEW.amount_off
        OR OLD.amount_off_currency IS NOT NEW.amount_off_currency
    BEGIN
        UPDATE storefront_order SET priced_total = NULL
            WHERE priced_total IS NOT NULL AND discount_id = NEW.id AND status = 'open';
    END
    """,
]
MYSQL = [
    *_children("mysql"),
    # MySQL's triggers may not update the table whose statement fired them, but a BEFORE
    # trigger may change the row being written.
    """
    CREATE TRIGGER storefront_order_unprice BEFORE UPDATE ON storefront_order FOR EACH ROW
    SET NEW.priced_total = IF(
        NEW.discount_id <=> OLD.discount_id AND NEW.currency <=> OLD.currency,
        NEW.priced_total,
        NULL
    )
    """,
    f"""
    CREATE TRIGGER storefront_tax_unprice AFTER UPDATE ON storefront_tax FOR EACH ROW
    {UNPRICE} IN (SELECT order_id FROM storefront_order_taxes WHERE tax_id = NEW.id)
        AND status = 'open'
        AND NOT (NEW.percentage <=> OLD.percentage AND NEW.inclusive <=> OLD.inclusive)
    """,
    """
    CREATE TRIGGER storefront_discount_unprice AFTER UPDATE ON storefront_discount FOR EACH ROW
    UPDATE storefront_order SET priced_total = NULL
        WHERE priced_total IS NOT NULL AND discount_id = NEW.id AND status = 'open'
        AND NOT (
            NEW.percent_off <=> OLD.percent_off AND NEW.amount_off <=> OLD.amount_off
            AND NEW.amount_off_currency <=> OLD.amount_off_currency
        )
    """,
]
TRIGGER_NAMES = [
    *(
        f"{table}_unprice_{event}"
        for table in ("storefront_orderitem", "storefront_order_taxes")
        for event in ("insert", "update", "delete")
    ),
    "storefront_order_unprice",
    "storefront_tax_unprice",
    "storefront_discount_unprice",
]


def _run(schema_editor, statements):
    # A cursor of its own, not schema_editor.execute: that refuses DDL inside the migration's
    # transaction on MySQL, where CREATE TRIGGER commits by itself anyway.
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def triggers_create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _run(schema_editor, {"postgresql": POSTGRESQL, "sqlite": SQLITE, "mysql": MYSQL}[vendor])


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _run(schema_editor, POSTGRESQL_REVERSE)
    else:
        _run(schema_editor, [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGER_NAMES])


class Migration(migrations.Migration):

    dependencies = [
        ('storefront', '0005_indexes_for_hot_queries'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='priced_total',
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(triggers_create, triggers_drop, elidable=False),
    ]
