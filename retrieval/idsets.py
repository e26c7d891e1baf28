"""Sets of chunk ids that restrict a search: concrete ids, or a lazy query for them.

The access filter answers with a Django QuerySet of chunk ids (the chunks of the collections a user
reads), never run by itself. An index in the database puts it into its own search query as a
subquery, so the planner joins it there and no id list crosses into Python; an index on disk reads
its ids once per search (`as_array`). Retrieval stays ignorant of whose models the query reads.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from django.core.exceptions import EmptyResultSet
from django.db.models import QuerySet

IdSet = np.ndarray | QuerySet


def as_array(ids: IdSet | Iterable[int] | None) -> np.ndarray | None:
    """The ids as a sorted-or-not int64 array (None stays None: no restriction)."""
    if ids is None:
        return None
    if isinstance(ids, np.ndarray):
        return ids.astype(np.int64, copy=False)
    if isinstance(ids, QuerySet):
        ids = ids.values_list("pk", flat=True) if ids._fields is None else ids
    return np.fromiter(ids, dtype=np.int64)


def as_subquery(ids: IdSet | Iterable[int]) -> tuple[str, list]:
    """SQL (and its parameters) that selects the ids, for `id IN (<sql>)` in a PostgreSQL query."""
    if isinstance(ids, QuerySet):
        query = ids.values_list("pk", flat=True) if ids._fields is None else ids
        try:
            sql, params = query.query.sql_with_params()
        except EmptyResultSet:  # `.none()` (a user who reads nothing) compiles to no SQL at all
            return "SELECT NULL::bigint WHERE false", []
        return sql, list(params)
    return "SELECT unnest(%s::bigint[])", [[int(i) for i in as_array(ids)]]


def intersect(first: IdSet | None, second: IdSet | None) -> IdSet | None:
    """Ids in both (None is everything); a query stays a query, so it is still joined, not read."""
    if first is None:
        return second
    if second is None:
        return first
    if isinstance(first, QuerySet) or isinstance(second, QuerySet):
        query, other = (first, second) if isinstance(first, QuerySet) else (second, first)
        return query.filter(pk__in=other if isinstance(other, QuerySet) else list(map(int, other)))
    return np.intersect1d(as_array(first), as_array(second))
