"""Row locks written so that every supported database gets a form it runs.

`SELECT ... FOR UPDATE` locks every row the statement reads, a joined row as much as the
queryset's own. PostgreSQL and MySQL 8 take `FOR UPDATE OF <table>` and lock only the named
table's rows, so an order can be locked with its discount joined in the same statement.
MariaDB has no `OF` (Django refuses `select_for_update(of=...)` there), and a plain locking
read with the join would lock the discount too, queueing every order that shares it. SQLite
locks no rows at all (one writer at a time), so the join costs nothing there.
"""

from typing import TypeVar

from django.db import connections
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def locked(queryset: QuerySet[M], *, related: tuple[str, ...] = ()) -> QuerySet[M]:
    """`queryset` locked FOR UPDATE for the current transaction (its own rows only), with the
    forward relations `related` read along.

    Where the database can lock one table of a join (or locks no rows), `related` is joined
    (`select_related`): one statement. Elsewhere (MariaDB) the rows are locked by a statement
    without a join and `related` is read by a second, unlocked one (`prefetch_related`; none
    when every relation is empty).
    """
    locking = queryset.select_for_update()
    features = connections[locking.db].features
    if features.has_select_for_update_of:
        return locking.select_for_update(of=("self",)).select_related(*related)
    if not features.has_select_for_update:
        return locking.select_related(*related)
    return locking.prefetch_related(*related)
