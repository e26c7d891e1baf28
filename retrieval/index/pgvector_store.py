"""Vectors in PostgreSQL (pgvector), beside the chunk rows, for any number of machines.

Every statement goes through Django's `connection`, so a write joins the caller's transaction:
ingestion deletes a version's chunk rows, creates the new ones and writes their vectors in one
transaction, and a document's vectors exist exactly when its chunks do (`check_index` has nothing
to disagree about).

Tables, named after `namespace` (default "kbqa"; `manage.py evaluate` builds a throw-away one):
- `<ns>_vectors_meta`: one row: the model and dimension of the current vectors, and a generation
  that every rebuild and clear bumps (what `check_index` reports as the index's version);
- `<ns>_vectors`: (id bigint primary key, embedding vector(d)) with an HNSW index on inner product
  (embeddings are normalised, so inner product ranks as cosine);
- `<ns>_vectors_next`: only while `manage.py rebuild_index` re-embeds beside the current table;
  one transaction then drops the current table and renames this one into its place, so searches
  answer from the old model until the new one is complete.

Created on first use (the `vector` extension too) under an advisory lock, so concurrent first
writers agree; a database that never selects this back end (SQLite, the default) is untouched.

pgvector 0.6 has no iterative index scans: a filtered HNSW query takes `ef_search` candidates and
filters them afterwards, so a selective filter (a user reading a tenth of the collections) could
return fewer than k. Filtered searches therefore raise `ef_search`, and when the index scan still
comes back short, search again exactly over the allowed rows: `search` returns k whenever k
matching vectors exist.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import QuerySet

from retrieval.idsets import IdSet, as_subquery
from retrieval.index.base import IndexMismatch, VectorBuild, VectorHit, VectorIndex

NAMESPACE = re.compile(r"[a-z_][a-z0-9_]{0,39}")
EF_SEARCH_MAX = 1000  # pgvector's ceiling for hnsw.ef_search
# A concrete allowed-id set this small is searched exactly: reading its rows by primary key costs
# less than an HNSW walk that would mostly visit other rows.
EXACT_MAX = 5_000


@dataclass(frozen=True)
class _Meta:
    model: str | None
    dimension: int | None
    generation: int


def _vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(map(str, np.asarray(vector, dtype=np.float32).ravel().tolist())) + "]"


class PgVectorStore(VectorIndex):
    in_database = True  # writes join the caller's transaction (see retrieval.retriever)

    def __init__(
        self,
        namespace: str = "kbqa",
        m: int = 16,
        ef_construction: int = 64,
        ef_search: int = 100,
        filtered_ef_search: int = EF_SEARCH_MAX,
        exact_max: int = EXACT_MAX,
        build_memory: str | None = None,
    ) -> None:
        """`m`, `ef_construction`: the HNSW graph's degree and build beam (pgvector's defaults);
        `ef_search`: candidates an unfiltered search visits (raised to k when k is larger);
        `filtered_ef_search`: candidates a filtered one visits before its filter drops most;
        `exact_max`: allowed-id arrays up to this size skip the index (searched exactly);
        `build_memory`: maintenance_work_mem for a rebuild's HNSW build ("2GB": the graph of a
        million 384-dim vectors needs about that to build in memory, many times faster)."""
        if not NAMESPACE.fullmatch(namespace):
            raise ImproperlyConfigured(
                f"PgVectorStore namespace {namespace!r}: lower-case letters, digits and _ only"
            )
        self.namespace = namespace
        self.m, self.ef_construction = int(m), int(ef_construction)
        self.ef_search = min(int(ef_search), EF_SEARCH_MAX)
        self.filtered_ef_search = min(int(filtered_ef_search), EF_SEARCH_MAX)
        self.exact_max = int(exact_max)
        self.build_memory = build_memory
        self.table = f"{namespace}_vectors"
        self.next_table = f"{namespace}_vectors_next"
        self.meta_table = f"{namespace}_vectors_meta"
        digest = hashlib.blake2b(f"kbqa-vectors:{namespace}".encode(), digest_size=8).digest()
        self._lock_key = int.from_bytes(digest, "big", signed=True)

    # -- schema -----------------------------------------------------------------------------------
    def _exists(self, cursor, table: str) -> bool:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return cursor.fetchone()[0]

    def _lock(self, cursor) -> None:
        """Serialise schema changes of this namespace until the transaction ends."""
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [self._lock_key])

    def _ensure_schema(self, cursor) -> None:
        """The extension and the meta table (inside a transaction: the lock lasts until its end)."""
        if self._exists(cursor, self.meta_table):
            return
        self._lock(cursor)
        cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {self.meta_table} ("
            " singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),"
            " model text, dimension integer, generation bigint NOT NULL DEFAULT 1)"
        )
        cursor.execute(f"INSERT INTO {self.meta_table} DEFAULT VALUES ON CONFLICT DO NOTHING")

    def _create_table(self, cursor, table: str, dimension: int, *, with_index: bool) -> None:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (id bigint NOT NULL, "
            f"embedding vector({int(dimension)}) NOT NULL, "
            f"CONSTRAINT {table}_pkey PRIMARY KEY (id))"
        )
        if with_index:
            self._create_index(cursor, table)

    def _create_index(self, cursor, table: str) -> None:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_hnsw ON {table} USING hnsw "
            f"(embedding vector_ip_ops) "
            f"WITH (m = {self.m}, ef_construction = {self.ef_construction})"
        )

    def _meta(self, cursor, lock: str = "") -> _Meta | None:
        if not self._exists(cursor, self.meta_table):
            return None
        cursor.execute(f"SELECT model, dimension, generation FROM {self.meta_table} {lock}")
        row = cursor.fetchone()
        return _Meta(*row) if row else None

    @staticmethod
    def _check_model(meta: _Meta, model: str, dimension: int | None) -> None:
        if meta.model is None:
            return
        if meta.model != model or (dimension is not None and meta.dimension != dimension):
            raise IndexMismatch(
                f"The vector index was built with {meta.model} ({meta.dimension} dims) but the "
                f"configured embedder is {model} ({dimension} dims); run `manage.py rebuild_index`."
            )

    # -- writing ----------------------------------------------------------------------------------
    def update(
        self,
        *,
        model: str,
        remove_ids=(),
        add_ids=(),
        vectors: np.ndarray | None = None,
    ) -> None:
        add = [int(i) for i in add_ids]
        remove = [int(i) for i in remove_ids]
        if add and (vectors is None or len(vectors) != len(add)):
            raise ValueError("add_ids and vectors must have the same length")
        if not add and not remove:
            return
        dimension = int(vectors.shape[1]) if add else None
        with transaction.atomic(), connection.cursor() as cursor:
            self._ensure_schema(cursor)
            meta = self._meta(cursor)
            if meta.model is None and add:
                # The first vectors decide the table's dimension: one writer creates it.
                self._lock(cursor)
                meta = self._meta(cursor, "FOR UPDATE")
                if meta.model is None:
                    self._create_table(cursor, self.table, dimension, with_index=True)
                    cursor.execute(
                        f"UPDATE {self.meta_table} SET model = %s, dimension = %s",
                        [model, dimension],
                    )
                    meta = _Meta(model, dimension, meta.generation)
            else:
                # A share lock on the meta row: a rebuild's switch (which locks it for update)
                # waits for this write, and a write arriving during the switch sees its model.
                meta = self._meta(cursor, "FOR SHARE")
            if meta.model is None:
                return  # nothing stored, nothing to add: nothing to remove either
            self._check_model(meta, model, dimension)
            _write(cursor, self.table, remove=remove, add=add, vectors=vectors)

    def clear(self) -> None:
        """Drop every vector and the recorded model (the next write may use any embedder)."""
        with transaction.atomic(), connection.cursor() as cursor:
            self._ensure_schema(cursor)
            self._lock(cursor)
            self._meta(cursor, "FOR UPDATE")
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute(
                f"UPDATE {self.meta_table} SET model = NULL, dimension = NULL, "
                "generation = generation + 1"
            )

    def drop(self) -> None:
        """Remove this namespace's tables (a throw-away evaluation index, when it is done)."""
        with transaction.atomic(), connection.cursor() as cursor:
            self._lock(cursor)
            for table in (self.next_table, self.table, self.meta_table):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def build_beside(self, *, model: str) -> PgVectorBuild:
        return PgVectorBuild(self, model)

    # -- reading ----------------------------------------------------------------------------------
    def search(
        self,
        *,
        model: str,
        vector: np.ndarray,
        k: int,
        allowed_ids: IdSet | None = None,
        excluded_ids: IdSet | None = None,
    ) -> list[VectorHit]:
        if k <= 0:
            return []
        if isinstance(allowed_ids, np.ndarray) and len(allowed_ids) == 0:
            return []
        where, params = _restriction(allowed_ids, excluded_ids)
        query = _vector_literal(vector)
        with transaction.atomic(), connection.cursor() as cursor:  # SET LOCAL ends with it
            meta = self._meta(cursor)
            if meta is None or meta.model is None:
                return []
            self._check_model(meta, model, int(np.asarray(vector).shape[-1]))
            small = isinstance(allowed_ids, np.ndarray) and len(allowed_ids) <= self.exact_max
            if not small:
                ef = self._ef_search(k, allowed_ids, excluded_ids)
                cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(ef)])
                cursor.execute(
                    f"SELECT id, -(embedding <#> %s::vector) FROM {self.table} {where} "
                    f"ORDER BY embedding <#> %s::vector LIMIT %s",
                    [query, *params, query, k],
                )
                rows = cursor.fetchall()
                if len(rows) == k:
                    return [VectorHit(int(i), float(s)) for i, s in rows]
            # Exact: the distance of every allowed row, computed in a materialised step the
            # HNSW index cannot serve (so the planner cannot pick it and come back short again).
            cursor.execute(
                f"WITH scored AS MATERIALIZED (SELECT id, embedding <#> %s::vector AS distance "
                f"FROM {self.table} {where}) "
                "SELECT id, -distance FROM scored ORDER BY distance, id LIMIT %s",
                [query, *params, k],
            )
            return [VectorHit(int(i), float(s)) for i, s in cursor.fetchall()]

    def _ef_search(self, k: int, allowed: IdSet | None, excluded: IdSet | None) -> int:
        """Candidates the HNSW scan visits: k at least; a filter's share of them survives, so an
        allow list (usually a reader's collections) visits `filtered_ef_search`, and a few
        excluded ids (versions being swapped) add their number."""
        if allowed is not None or isinstance(excluded, QuerySet):
            ef = self.filtered_ef_search
        else:
            ef = self.ef_search + (0 if excluded is None else len(excluded))
        return min(EF_SEARCH_MAX, max(ef, k))

    def count(self) -> int:
        with connection.cursor() as cursor:
            if not self._exists(cursor, self.table):
                return 0
            cursor.execute(f"SELECT count(*) FROM {self.table}")
            return int(cursor.fetchone()[0])

    def ids(self) -> np.ndarray:
        """Every id stored; used by consistency checks."""
        with connection.cursor() as cursor:
            if not self._exists(cursor, self.table):
                return np.zeros(0, dtype=np.int64)
            cursor.execute(f"SELECT id FROM {self.table} ORDER BY id")
            return np.fromiter((r[0] for r in cursor.fetchall()), dtype=np.int64)

    def describe(self) -> dict:
        """The model, dimension and vector count, for consistency checks; `version` is the
        generation (bumped by each rebuild and clear)."""
        with connection.cursor() as cursor:
            meta = self._meta(cursor)
        return {
            "version": meta.generation if meta else 0,
            "model": meta.model if meta else None,
            "dimension": meta.dimension if meta else None,
            "count": self.count(),
        }


class PgVectorBuild(VectorBuild):
    """A table filled beside the current one; `switch` puts it in the current one's place.

    One build at a time (`manage.py rebuild_index`): starting one drops what a crashed one left."""

    def __init__(self, store: PgVectorStore, model: str) -> None:
        self.store, self.model = store, model
        self.dimension: int | None = None
        with transaction.atomic(), connection.cursor() as cursor:
            store._ensure_schema(cursor)
            store._lock(cursor)
            cursor.execute(f"DROP TABLE IF EXISTS {store.next_table}")

    def add(self, ids, vectors: np.ndarray) -> None:
        """Store a batch (its own transaction: the build is invisible to searches anyway). The
        HNSW index is built once at the end, much faster than growing it row by row."""
        ids = [int(i) for i in ids]
        if not ids:
            return
        dimension = int(vectors.shape[1])
        if self.dimension is not None and dimension != self.dimension:
            raise ValueError(f"vectors of {dimension} dims in a build of {self.dimension}")
        with transaction.atomic(), connection.cursor() as cursor:
            if self.dimension is None:
                self.store._create_table(cursor, self.store.next_table, dimension, with_index=False)
                self.dimension = dimension
            _write(cursor, self.store.next_table, remove=[], add=ids, vectors=vectors)

    def switch(self) -> None:
        """Index the new table, then drop the current one and rename the new one into its place,
        in one transaction (the caller's, when it has one: ingestion's other index can switch in
        the same commit). A search waiting on the switch's lock reads the new table after it."""
        store = self.store
        with transaction.atomic(), connection.cursor() as cursor:
            if self.dimension is not None:
                if store.build_memory:
                    cursor.execute(
                        "SELECT set_config('maintenance_work_mem', %s, true)", [store.build_memory]
                    )
                store._create_index(cursor, store.next_table)
            store._lock(cursor)
            store._meta(cursor, "FOR UPDATE")  # writers hold it shared: wait for them to commit
            cursor.execute(f"DROP TABLE IF EXISTS {store.table}")
            if self.dimension is not None:
                cursor.execute(f"ALTER TABLE {store.next_table} RENAME TO {store.table}")
                cursor.execute(
                    f"ALTER TABLE {store.table} RENAME CONSTRAINT {store.next_table}_pkey "
                    f"TO {store.table}_pkey"
                )
                cursor.execute(f"ALTER INDEX {store.next_table}_hnsw RENAME TO {store.table}_hnsw")
            cursor.execute(
                f"UPDATE {store.meta_table} SET model = %s, dimension = %s, "
                "generation = generation + 1",
                [self.model if self.dimension is not None else None, self.dimension],
            )

    def abandon(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.store.next_table}")


def _write(cursor, table: str, *, remove: list[int], add: list[int], vectors) -> None:
    """Delete `remove` and `add` (an id re-added is replaced, never stored twice), insert `add`."""
    if remove or add:
        cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s::bigint[])", [remove + add])
    if add:
        literals = [_vector_literal(row) for row in np.asarray(vectors, dtype=np.float32)]
        cursor.execute(
            f"INSERT INTO {table} (id, embedding) "
            "SELECT unnest(%s::bigint[]), unnest(%s::text[])::vector",
            [add, literals],
        )


def _restriction(allowed: IdSet | None, excluded: IdSet | None) -> tuple[str, list]:
    """A WHERE clause joining the id sets (a lazy query stays a subquery the planner joins)."""
    clauses, params = [], []
    if allowed is not None:
        sql, more = as_subquery(allowed)
        clauses.append(f"id IN ({sql})")
        params += more
    if excluded is not None and (isinstance(excluded, QuerySet) or len(excluded)):
        sql, more = as_subquery(excluded)
        clauses.append(f"id NOT IN ({sql})")
        params += more
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params
