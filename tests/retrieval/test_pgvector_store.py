"""PgVectorStore on a real PostgreSQL server with pgvector 0.6 (HNSW, no iterative index scans).

Run them with DATABASE_URL from `bin/pgvector-server start DIR`; they skip elsewhere."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction

from retrieval.idsets import intersect
from retrieval.index.base import IndexMismatch
from retrieval.index.pgvector_store import PgVectorStore


def normalised(rows: int, dimension: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def exact_top(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    """Brute-force top k of `ids` (rows of `vectors`) by inner product."""
    scores = vectors[ids] @ query
    return [int(ids[i]) for i in np.argsort(-scores, kind="stable")[:k]]


def test_add_search_remove_and_describe(pgvector_namespace):
    store = PgVectorStore(namespace=pgvector_namespace)
    assert store.count() == 0
    assert store.search(model="m", vector=normalised(1, 8)[0], k=3) == []
    vectors = normalised(50, 8)
    store.update(model="m", add_ids=np.arange(100, 150), vectors=vectors)
    hits = store.search(model="m", vector=vectors[7], k=3)
    assert hits[0].id == 107 and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.id for h in hits] == [
        100 + i for i in exact_top(vectors, np.arange(50), vectors[7], 3)
    ]
    store.update(model="m", add_ids=[107], vectors=vectors[8][None])  # re-added: replaced
    store.update(model="m", remove_ids=[100, 101])
    assert store.count() == 48
    assert store.ids().tolist() == list(range(102, 150))
    assert store.describe() == {"version": 1, "model": "m", "dimension": 8, "count": 48}
    assert store.search(model="m", vector=vectors[8], k=2)[1].score == pytest.approx(1.0, abs=1e-5)
    store.clear()
    assert store.describe() == {"version": 2, "model": None, "dimension": None, "count": 0}
    store.update(model="other", add_ids=[1], vectors=normalised(1, 4))  # any model after a clear
    assert store.describe()["model"] == "other"


def test_model_or_dimension_mismatch_is_refused(pgvector_namespace):
    store = PgVectorStore(namespace=pgvector_namespace)
    store.update(model="a", add_ids=[1, 2], vectors=normalised(2, 8))
    with pytest.raises(IndexMismatch, match="rebuild_index"):
        store.search(model="b", vector=normalised(1, 8)[0], k=1)
    with pytest.raises(IndexMismatch):
        store.search(model="a", vector=normalised(1, 16)[0], k=1)
    with pytest.raises(IndexMismatch):
        store.update(model="b", add_ids=[3], vectors=normalised(1, 8))
    with pytest.raises(IndexMismatch):
        store.update(model="a", add_ids=[3], vectors=normalised(1, 16))
    assert store.count() == 2


def _short_index_scan(store: PgVectorStore, query: np.ndarray, allowed: list[int], k: int) -> int:
    """Rows pgvector's filtered HNSW scan alone returns (the planner forced onto the index; the
    settings rolled back with the savepoint)."""
    literal = "[" + ",".join(map(str, query.tolist())) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"SET LOCAL hnsw.ef_search = {store.filtered_ef_search}")
        cursor.execute(
            f"SELECT id FROM {store.table} WHERE id = ANY(%s) "
            "ORDER BY embedding <#> %s::vector LIMIT %s",
            [allowed, literal, k],
        )
        found = len(cursor.fetchall())
        transaction.set_rollback(True)
    return found


def test_a_selective_filter_still_returns_k(pgvector_namespace):
    """pgvector 0.6 filters the HNSW scan's ef_search candidates after the walk: 2 % of the rows
    allowed leaves about 1 of 40. The store falls back to an exact scan of the allowed rows."""
    store = PgVectorStore(namespace=pgvector_namespace, filtered_ef_search=40, exact_max=0)
    vectors = normalised(3000, 16)
    ids = np.arange(3000)
    store.update(model="m", add_ids=ids, vectors=vectors)
    allowed = ids[::50]  # 60 rows, 2 %
    for seed in range(3):
        query = normalised(1, 16, seed=100 + seed)[0]
        assert _short_index_scan(store, query, allowed.tolist(), 10) < 10  # the premise
        hits = store.search(model="m", vector=query, k=10, allowed_ids=allowed)
        assert [h.id for h in hits] == exact_top(vectors, allowed, query, 10)
    # Fewer allowed than k: all of them, never a stranger.
    few = np.array([5, 905, 2905])
    hits = store.search(model="m", vector=vectors[5], k=10, allowed_ids=few)
    assert [h.id for h in hits] == exact_top(vectors, few, vectors[5], 10)


def test_a_query_of_ids_is_joined_into_the_search(pgvector_namespace):
    """The access filter's lazy QuerySet (here: any model's ids) becomes a subquery; intersected
    with concrete ids it stays one."""
    store = PgVectorStore(namespace=pgvector_namespace)
    vectors = normalised(2000, 16, seed=1)
    store.update(model="m", add_ids=np.arange(1, 2001), vectors=vectors)
    readable = np.arange(1, 2001, 10)  # a user reading a tenth of the chunks
    Group.objects.bulk_create(Group(pk=int(i), name=f"readable-{i}") for i in readable)
    Group.objects.create(pk=2, name="other")
    query_set = Group.objects.filter(name__startswith="readable-").values_list("pk", flat=True)
    query = normalised(1, 16, seed=7)[0]
    hits = store.search(model="m", vector=query, k=50, allowed_ids=query_set)
    assert [h.id for h in hits] == [i + 1 for i in exact_top(vectors, readable - 1, query, 50)]
    narrowed = intersect(query_set, readable[:30])
    hits = store.search(model="m", vector=query, k=50, allowed_ids=narrowed)
    assert [h.id for h in hits] == [i + 1 for i in exact_top(vectors, readable[:30] - 1, query, 50)]
    nothing = Group.objects.none().values_list("pk", flat=True)
    assert store.search(model="m", vector=query, k=5, allowed_ids=nothing) == []


def test_excluded_ids_never_come_back_and_cost_no_results(pgvector_namespace):
    """Ids as an array or as a query; the 150 nearest excluded, most of what an ef_search of 40
    visits, still leave k results."""
    store = PgVectorStore(namespace=pgvector_namespace, ef_search=40)
    vectors = normalised(2000, 16, seed=2)
    rows = np.arange(2000)
    store.update(model="m", add_ids=rows + 1, vectors=vectors)  # id = row + 1, as Group's pks
    query = vectors[0]
    excluded_rows = np.array(exact_top(vectors, rows, query, 150))
    expected = [r + 1 for r in exact_top(vectors, np.setdiff1d(rows, excluded_rows), query, 20)]
    hits = store.search(model="m", vector=query, k=20, excluded_ids=excluded_rows + 1)
    assert [h.id for h in hits] == expected
    Group.objects.bulk_create(Group(pk=int(r) + 1, name=f"hidden-{r}") for r in excluded_rows)
    hidden = Group.objects.filter(name__startswith="hidden-").values_list("pk", flat=True)
    hits = store.search(model="m", vector=query, k=20, excluded_ids=hidden)
    assert [h.id for h in hits] == expected
    allowed = excluded_rows[:100] + 1  # every allowed id excluded too: nothing, never a leak
    assert (
        store.search(model="m", vector=query, k=20, allowed_ids=allowed, excluded_ids=hidden) == []
    )


def test_rebuild_beside_then_switch(pgvector_namespace):
    store = PgVectorStore(namespace=pgvector_namespace, build_memory="64MB")
    old = normalised(30, 8, seed=3)
    store.update(model="old", add_ids=np.arange(30), vectors=old)
    build = store.build_beside(model="new")
    new = normalised(30, 12, seed=4)
    build.add(np.arange(30)[:20], new[:20])
    build.add(np.arange(30)[20:], new[20:])
    # Searches and writes keep using the old index while the new one fills.
    assert store.search(model="old", vector=old[3], k=1)[0].id == 3
    store.update(model="old", add_ids=[3], vectors=old[3][None])
    assert store.describe()["model"] == "old"
    build.switch()
    assert store.describe() == {"version": 2, "model": "new", "dimension": 12, "count": 30}
    assert store.search(model="new", vector=new[5], k=1)[0].id == 5
    with pytest.raises(IndexMismatch):
        store.search(model="old", vector=old[3], k=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [store.next_table])
        assert cursor.fetchone()[0] is None
    # A rebuild that fails leaves the current index as it was; the next one starts clean.
    failed = store.build_beside(model="newer")
    failed.add([1], normalised(1, 4))
    failed.abandon()
    assert store.describe()["model"] == "new"
    again = store.build_beside(model="new")
    again.add(np.arange(30), new)
    again.switch()
    assert store.describe()["version"] == 3
    assert store.ids().tolist() == list(range(30))


def _in_other_connection(function):
    """`function()`'s result from another thread, so another database connection: what a
    search in another process sees."""
    result = {}

    def run():
        try:
            result["value"] = function()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    return result["value"]


@pytest.mark.django_db(transaction=True)
def test_writes_are_seen_exactly_when_the_callers_transaction_commits(pgvector_namespace):
    store = PgVectorStore(namespace=pgvector_namespace)
    store.update(model="m", add_ids=[1], vectors=normalised(1, 8))
    vectors = normalised(10, 8, seed=5)
    with transaction.atomic():
        store.update(model="m", remove_ids=[1], add_ids=np.arange(10, 20), vectors=vectors)
        assert store.count() == 10  # this transaction sees its own writes
        assert _in_other_connection(store.ids).tolist() == [1]  # others do not, yet
    assert _in_other_connection(store.ids).tolist() == list(range(10, 20))
    with pytest.raises(RuntimeError), transaction.atomic():
        store.update(model="m", remove_ids=np.arange(10, 20))
        raise RuntimeError("the rest of the caller's work failed")
    assert store.count() == 10  # rolled back with it


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_writers_create_one_table(pgvector_namespace):
    """Two processes writing the first vectors at once: the advisory lock makes one create the
    extension, tables and index, and neither fails."""
    store = PgVectorStore(namespace=pgvector_namespace)
    barrier = threading.Barrier(3)
    errors = []

    def write(start: int) -> None:
        try:
            barrier.wait(30)
            store.update(model="m", add_ids=np.arange(start, start + 5), vectors=normalised(5, 8))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n * 100,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert store.count() == 15


def test_more_than_pgvectors_ef_search_ceiling_still_returns_k(pgvector_namespace):
    """hnsw.ef_search stops at 1000: a larger k is served by the exact scan."""
    store = PgVectorStore(namespace=pgvector_namespace)
    vectors = normalised(1200, 4, seed=6)
    store.update(model="m", add_ids=np.arange(1200), vectors=vectors)
    hits = store.search(model="m", vector=vectors[0], k=1100)
    assert [h.id for h in hits] == exact_top(vectors, np.arange(1200), vectors[0], 1100)
