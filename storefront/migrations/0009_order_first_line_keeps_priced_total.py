"""An order's first line, and the tax links made before it, no longer clear its priced total
(Order.priced_total, 0006's triggers): an order that had no line cannot have been priced from
anything they change, so a buy-now order is made with its total in its own INSERT instead of
an UPDATE after its line (one statement less on every /buy; docs/performance.md). Any line
added beside another, and any tax linked to an order that has a line, still clear it, as do
every UPDATE and DELETE of either.

The shop never records a total for an order without lines (pricing an empty order is refused),
so the only orders this leaves priced are those made priced with their first line, in the
transaction that makes them.

Safe while the previous release serves (docs/deploy.md): it writes no total with an INSERT, so
it sees no change. Nothing is ever left unguarded while this runs: PostgreSQL replaces the
triggers' function in one statement, SQLite in the migration's transaction, and MySQL, which
has no transaction for DDL, gets the new triggers before the old ones are dropped (both fire
meanwhile, and the old ones clear whenever the new ones would).
"""

from django.db import migrations

TABLES = ("storefront_orderitem", "storefront_order_taxes")
UNPRICE = "UPDATE storefront_order SET priced_total = NULL WHERE priced_total IS NOT NULL AND id"
# Whether the order NEW names had a line before this row: for a line, a line other than itself.
HAD_A_LINE = {
    "storefront_orderitem": (
        "EXISTS (SELECT 1 FROM storefront_orderitem AS other"
        " WHERE other.order_id = NEW.order_id AND other.id <> NEW.id)"
    ),
    "storefront_order_taxes": (
        "EXISTS (SELECT 1 FROM storefront_orderitem AS line WHERE line.order_id = NEW.order_id)"
    ),
}


def _child_function(insert: str) -> str:
    """0006's PostgreSQL function for both tables, its INSERT case being `insert`."""
    return f"""
    CREATE OR REPLACE FUNCTION storefront_order_unprice_child() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {insert}
        ELSIF TG_OP = 'DELETE' THEN
            {UNPRICE} = OLD.order_id;
        ELSE
            {UNPRICE} IN (OLD.order_id, NEW.order_id);
        END IF;
        RETURN NULL;
    END $$
    """


POSTGRESQL = _child_function(
    "IF TG_TABLE_NAME = 'storefront_orderitem' THEN\n"
    f"                {UNPRICE} = NEW.order_id AND {HAD_A_LINE['storefront_orderitem']};\n"
    "            ELSE\n"
    f"                {UNPRICE} = NEW.order_id AND {HAD_A_LINE['storefront_order_taxes']};\n"
    "            END IF;"
)
POSTGRESQL_REVERSE = _child_function(f"{UNPRICE} = NEW.order_id;")


def _insert_trigger(dialect: str, name: str, table: str, *, first_line_kept: bool) -> str:
    where = f"{UNPRICE} = NEW.order_id" + (f" AND {HAD_A_LINE[table]}" if first_line_kept else "")
    body = f"BEGIN {where}; END" if dialect == "sqlite" else where
    return f"CREATE TRIGGER {name} AFTER INSERT ON {table} FOR EACH ROW {body}"


# 0006's INSERT triggers (SQLite, MySQL), and the ones replacing them.
OLD_NAME = "{}_unprice_insert"
NEW_NAME = "{}_unprice_added"


def _swap(dialect: str, *, forwards: bool) -> list[str]:
    """Create the triggers that stay, then drop the others (MySQL: never a moment with none)."""
    made, dropped = (NEW_NAME, OLD_NAME) if forwards else (OLD_NAME, NEW_NAME)
    return [
        *(
            _insert_trigger(dialect, made.format(table), table, first_line_kept=forwards)
            for table in TABLES
        ),
        *(f"DROP TRIGGER IF EXISTS {dropped.format(table)}" for table in TABLES),
    ]


def _run(schema_editor, statements):
    # A cursor of its own, as in 0006 (MySQL refuses DDL through schema_editor.execute here).
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _run(schema_editor, [POSTGRESQL] if vendor == "postgresql" else _swap(vendor, forwards=True))


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _run(
        schema_editor,
        [POSTGRESQL_REVERSE] if vendor == "postgresql" else _swap(vendor, forwards=False),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("storefront", "0008_orderline_permissions"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
