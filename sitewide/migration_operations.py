"""Migration operations that every supported database runs and a serving release survives.

`AddIndexConcurrently` is Django's for PostgreSQL only: on SQLite or MySQL/MariaDB a migration
using it fails. `AddIndexOnline` is AddIndex everywhere, built without blocking writes where the
database can: on PostgreSQL `CREATE INDEX CONCURRENTLY` (the table takes INSERTs and UPDATEs
meanwhile; the migration must be `atomic = False`, as PostgreSQL runs it outside a
transaction); on MySQL and MariaDB a plain `CREATE INDEX`, which InnoDB builds online; on SQLite
a plain one (a laptop's database).
"""

from django.db import NotSupportedError, migrations


class AddIndexOnline(migrations.AddIndex):
    """AddIndex; on PostgreSQL built CONCURRENTLY, an interrupted earlier build replaced."""

    def describe(self) -> str:
        return f"{super().describe()} (concurrently on PostgreSQL)"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        _ensure_not_in_transaction(schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if not schema_editor.collect_sql:
            valid = _index_valid(schema_editor.connection, self.index.name)
            if valid:
                return  # built by a run that stopped before recording the migration
            if valid is False:
                # A CONCURRENTLY build that was interrupted leaves an INVALID index behind.
                schema_editor.execute(
                    f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.index.name)}"
                )
        schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        _ensure_not_in_transaction(schema_editor)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


def _ensure_not_in_transaction(schema_editor) -> None:
    # sqlmigrate (collect_sql) only writes the statements down: it may run in any transaction.
    if schema_editor.connection.in_atomic_block and not schema_editor.collect_sql:
        raise NotSupportedError(
            "AddIndexOnline builds CONCURRENTLY on PostgreSQL, which cannot run in a "
            "transaction: set atomic = False on the migration."
        )


def _index_valid(connection, name: str) -> bool | None:
    """Whether PostgreSQL has an index `name` (in the current schema) and it is usable."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_catalog.pg_table_is_visible(c.oid)",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])
