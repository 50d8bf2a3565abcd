"""What PostgreSQL's planner does with the queries the code sends, on tables of realistic size.

Tables are filled with one INSERT ... SELECT over generate_series (100,000 rows in well under a
second), then ANALYZEd so the planner knows their size. The queries are captured while the real
code runs (CaptureQueriesContext: the SQL exactly as sent, values in place), and EXPLAINed.
"""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

POSTGRES_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Query plans are PostgreSQL's (production's); other databases plan differently.",
)
ROWS = 100_000


def fill(table: str, columns: dict[str, str], *, rows: int = ROWS) -> None:
    """INSERT `rows` rows into `table`, each column given as an SQL expression of the series
    number `g` (1..rows), then ANALYZE it."""
    names = ", ".join(connection.ops.quote_name(name) for name in columns)
    values = ", ".join(columns.values()).replace("%", "%%")  # the modulo, not a placeholder
    with connection.cursor() as cursor:
        cursor.execute(
            # The test's own table and expressions, never outside input.
            f"INSERT INTO {table} ({names}) SELECT {values} FROM generate_series(1, %s) AS g",  # noqa: S608
            [rows],
        )
        # VACUUM (outside a transaction: a transactional test's rows are uncommitted) also
        # sets the visibility map, as autovacuum does for a production table.
        cursor.execute(f"{'ANALYZE' if connection.in_atomic_block else 'VACUUM ANALYZE'} {table}")


def plan(sql: str) -> dict:
    """The planner's plan for `sql` (a captured statement: values in place), as JSON."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        found = cursor.fetchone()[0]
    return (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]


def nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def seq_scans(sql: str) -> list[str]:
    """The tables `sql` reads by a sequential scan."""
    return [n["Relation Name"] for n in nodes(plan(sql)) if n["Node Type"] == "Seq Scan"]


def indexes_used(sql: str) -> list[str]:
    return [n["Index Name"] for n in nodes(plan(sql)) if "Index Name" in n]


class Captured(CaptureQueriesContext):
    """The statements run inside the block, to pick from by the table they read."""

    def __init__(self):
        super().__init__(connection)

    def on(self, table: str, *, starting: str = "SELECT") -> list[str]:
        pattern = re.compile(rf'\bFROM "{table}"|\bUPDATE "{table}"')
        return [
            query["sql"]
            for query in self.captured_queries
            if query["sql"].lstrip().upper().startswith(starting) and pattern.search(query["sql"])
        ]


def assert_indexed(sql: str, table: str, index: str | None = None) -> None:
    """`sql` reads `table` through an index (`index`, when named), with no sequential scan."""
    assert table not in seq_scans(sql), (sql, json.dumps(plan(sql), indent=1))
    if index is not None:
        assert index in indexes_used(sql), (sql, json.dumps(plan(sql), indent=1))
