"""BM25 kept in PostgreSQL beside the chunk rows, written in the caller's transaction.

Why here and not in files: a chunk is searchable exactly when the transaction that wrote it commits,
every machine reads the same index, and a write costs time proportional to its own chunks.

Layout (tables prefixed by `namespace`, so `manage.py evaluate` can build a throw-away index):
- `<ns>_lexical_chunk`: one row per chunk: its text, its length in terms (BM25's dl), how many of
  those terms are CJK (the corpus's script share), a `tsvector` of its distinct terms (a GIN index
  on it finds candidates) and `tf`, a jsonb of the terms occurring more than once with their
  counts (absent: once). Scoring reads only these two small columns, kept inline in the row
  (storage MAIN; the text is the column TOAST moves out), so a candidate costs a few microseconds.
- `<ns>_lexical_df`: per-term document frequency, `<ns>_lexical_stats`: chunk count, total length
  and CJK terms. Both are kept incrementally by each write, in its transaction. They are split into
  `write_shards` rows per term: a writer takes one shard with a transaction-scoped advisory lock and
  adds its deltas there (readers sum the shards), so concurrent ingestions do not wait for each
  other on the rows of common terms. Nor can they deadlock: a write waits only for a shard (taken
  first, while holding none) and for chunk rows, which every write claims in id order.

Scoring is bm25s's default ("lucene"): idf = ln(1 + (N - df + 0.5) / (df + 0.5)), term score =
idf * tf / (tf + k1 * (1 - b + b * dl / avgdl)), a query term counted as often as it occurs, so
rankings match `BM25Store` on the same texts.

Bounded queries: a query never scores every chunk of a term that most chunks contain. Its terms
are taken rarest first while their document frequencies add up to at most `max_candidates`: every
chunk containing one of these rare terms is scored with all the query's terms. A chunk without any
of them scores less than the remaining common terms' summed weights (a term's tf part is under 1),
so when k chunks already score that much the ranking is exact, as it is when all the terms fit.
Otherwise the first `max_candidates` chunks containing all the common terms are scored too (and,
when that still leaves fewer than k, the first `max_candidates` containing the rarest of them):
chunks with only some of the common terms and none of the rare ones can be missed. They score
low on BM25 (common terms have a small idf); that is the trade-off for a bounded cost
(`bench/lexical_postgres.py`).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet

from retrieval.idsets import IdSet, as_subquery
from retrieval.index.base import VectorHit
from retrieval.lexical.bm25_store import LexicalResult, script_overlap
from retrieval.lexical.tokenize import is_cjk, tokenize

# PostgreSQL refuses lexemes of 2 KB or more; a "word" that long (base64, a hash run together) is
# stored as its digest, on both the document and the query side, so it still matches itself.
MAX_LEXEME_BYTES = 255

_NAMESPACE = re.compile(r"[a-z_][a-z0-9_]{0,39}")
# Tables created (and committed) in this process, keyed by database and namespace.
_created: set[tuple[str, str]] = set()


def lexeme(term: str) -> str:
    """The tsvector lexeme standing for `term`."""
    if len(term.encode()) <= MAX_LEXEME_BYTES:
        return term
    return "#" + hashlib.sha1(term.encode()).hexdigest()  # tokenize never yields '#'


def _quote(text: str) -> str:
    """`text` as a quoted lexeme in tsvector/tsquery input syntax."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(terms: Iterable[str]) -> str:
    return " ".join(map(_quote, terms))


def or_(terms: Iterable[str]) -> str:
    """A tsquery matching any of `terms`."""
    return " | ".join(map(_quote, terms))


def and_(terms: Iterable[str]) -> str:
    """A tsquery matching all of `terms`."""
    return " & ".join(map(_quote, terms))


def _subquery(ids: IdSet) -> tuple[str, list]:
    """`as_subquery`, with a QuerySet that Django knows to be empty (`.none()`, as the access
    filter answers for an anonymous user) as an empty subquery rather than an error."""
    try:
        return as_subquery(ids)
    except EmptyResultSet:
        return "SELECT NULL::bigint WHERE false", []


def plan_candidates(dfs: dict[str, int], cap: int) -> tuple[list[str], list[str]]:
    """Split the query's terms into (rare, common): every chunk containing a rare term is scored,
    their document frequencies summing to at most `cap` (when no term is that rare: none); common
    terms only add to the scores (see the module docstring)."""
    rare: list[str] = []
    total = 0
    for term in sorted(dfs, key=lambda t: (dfs[t], t)):
        if total + dfs[term] > cap:
            break
        rare.append(term)
        total += dfs[term]
    return rare, [t for t in dfs if t not in rare]


@dataclass
class _Delta:
    """What a write changes in the statistics, applied once at its end."""

    chunks: int = 0
    length: int = 0
    cjk: int = 0
    df: Counter[str] = field(default_factory=Counter)

    def add(self, sign: int, length: int, cjk: int, terms: Iterable[str]) -> None:
        self.chunks += sign
        self.length += sign * length
        self.cjk += sign * cjk
        for term in terms:
            self.df[term] += sign


@dataclass(frozen=True)
class _Row:
    text: str
    counts: Counter[str]
    length: int
    cjk: int

    @classmethod
    def of(cls, text: str) -> _Row:
        terms = tokenize(text)
        return cls(text, Counter(map(lexeme, terms)), len(terms), sum(map(is_cjk, terms)))

    def columns(self) -> tuple:
        """(length, cjk, terms, tf, text), as the insert and update statements take them."""
        repeated = {t: n for t, n in self.counts.items() if n > 1}
        return self.length, self.cjk, tsvector_literal(self.counts), json.dumps(repeated), self.text


_ROWS = (
    "unnest(%s::bigint[], %s::int[], %s::int[], %s::text[]::tsvector[], %s::text[]::jsonb[],"
    " %s::text[]) AS u(id, length, cjk, terms, tf, text)"
)


def _row_params(ids: list[int], rows: list[_Row]) -> list:
    return [ids, *map(list, zip(*(r.columns() for r in rows), strict=True))]


class _Scoring:
    """BM25 of one query's terms over chunks chosen by a condition, computed in PostgreSQL."""

    def __init__(
        self, table: str, weights: dict[str, float], k1: float, b: float, avgdl: float
    ) -> None:
        self.table, self.weights = table, weights  # term -> idf times its count in the query
        self.norm = (k1 * (1 - b), k1 * b / avgdl)  # tf + these, times length: BM25's divisor

    def bound(self, terms: Iterable[str]) -> float:
        """More than any chunk can score from `terms` alone."""
        return sum(self.weights[t] for t in terms)

    def top(self, cursor, condition: str, params: list, k: int) -> list[VectorHit]:
        """The `k` best chunks `c` meeting `condition`. Each term's tf is 0 when the chunk lacks
        it, else its count in `tf` (1 when not there); OFFSET 0 computes them once per row."""
        tf = ", ".join(
            f"CASE WHEN c.terms @@ %s::tsquery THEN coalesce((c.tf ->> %s)::float8, 1)"
            f" ELSE 0 END AS tf{i}"
            for i in range(len(self.weights))
        )
        score = " + ".join(f"%s * tf{i} / (tf{i} + norm)" for i in range(len(self.weights)))
        cursor.execute(
            f"SELECT id, {score} AS score FROM ("
            f" SELECT c.id, %s + %s * c.length AS norm, {tf} FROM {self.table} c"
            f" WHERE {condition} OFFSET 0) s ORDER BY score DESC, id LIMIT %s",
            [
                *self.weights.values(),
                *self.norm,
                *(p for t in self.weights for p in (_quote(t), t)),
                *params,
                k,
            ],
        )
        return [VectorHit(int(i), float(s)) for i, s in cursor.fetchall()]


class PostgresBM25Store:
    """The `BM25Store` interface on PostgreSQL tables (see the module docstring)."""

    in_database = True

    def __init__(
        self,
        namespace: str = "kbqa",
        k1: float = 1.2,
        b: float = 0.75,
        max_candidates: int = 10_000,
        write_shards: int = 8,
    ) -> None:
        if not _NAMESPACE.fullmatch(namespace):
            raise ValueError(f"namespace {namespace!r}: lower-case letters, digits, _ (40 at most)")
        self.namespace = namespace
        self.k1, self.b = k1, b
        self.max_candidates = max_candidates
        self.write_shards = write_shards
        self._chunk = f"{namespace}_lexical_chunk"
        self._df = f"{namespace}_lexical_df"
        self._stats = f"{namespace}_lexical_stats"
        self._lock_key = zlib.crc32(f"kbqa-lexical:{namespace}".encode()) & 0x7FFFFFFF

    # -- tables -----------------------------------------------------------------------------------
    def _exists(self) -> bool:
        """Whether the tables exist (for this connection): reads of a store never written find
        nothing, and never wait for a writer that is creating the tables."""
        key = (connection.settings_dict["NAME"], self.namespace)
        if key in _created:
            return True
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [self._stats])
            if cursor.fetchone()[0] is None:
                return False
        transaction.on_commit(lambda: _created.add(key))  # at once unless still uncommitted
        return True

    def create(self) -> None:
        """Create the tables unless they exist (the first write does it too). The advisory lock
        makes concurrent first writes wait for one another instead of failing on the catalog.
        Created in the caller's transaction: a rollback takes them away too, and until it commits
        other first writers wait for it (readers find an empty store)."""
        if self._exists():
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [self._lock_key])
            cursor.execute(
                f"""
                CREATE TABLE IF NOT EXISTS {self._chunk} (
                    id bigint PRIMARY KEY,
                    length integer NOT NULL,
                    cjk integer NOT NULL,
                    terms tsvector NOT NULL,
                    tf jsonb NOT NULL,
                    text text NOT NULL
                );
                ALTER TABLE {self._chunk} ALTER COLUMN terms SET STORAGE MAIN,
                    ALTER COLUMN tf SET STORAGE MAIN;
                CREATE INDEX IF NOT EXISTS {self._chunk}_terms ON {self._chunk}
                    USING gin (terms);
                CREATE TABLE IF NOT EXISTS {self._df} (
                    term text COLLATE "C" NOT NULL,
                    shard smallint NOT NULL,
                    df integer NOT NULL,
                    PRIMARY KEY (term, shard)
                );
                CREATE TABLE IF NOT EXISTS {self._stats} (
                    shard smallint PRIMARY KEY,
                    chunks bigint NOT NULL,
                    length bigint NOT NULL,
                    cjk bigint NOT NULL
                );
                """
            )

    def drop(self) -> None:
        """Remove this namespace's tables (a throw-away evaluation index)."""
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self._chunk}, {self._df}, {self._stats}")
        _created.discard((connection.settings_dict["NAME"], self.namespace))

    # -- writing ----------------------------------------------------------------------------------
    def update(
        self,
        *,
        remove_ids: Sequence[int] = (),
        add_ids: Sequence[int] = (),
        texts: Sequence[str] = (),
        publish: bool = True,
    ) -> None:
        """Remove and add chunks in the caller's transaction (one of its own when there is none):
        searchable once it commits. Idempotent: an id added again replaces its earlier row.
        `publish` is accepted for the interface; there is nothing to publish."""
        if len(add_ids) != len(texts):
            raise ValueError("add_ids and texts must have the same length")
        rows = {int(i): _Row.of(t) for i, t in zip(add_ids, texts, strict=True)}
        touched = sorted({int(i) for i in remove_ids} | rows.keys())
        if not touched:
            return
        self.create()
        delta = _Delta()
        with transaction.atomic(), connection.cursor() as cursor:
            shard = self._take_shard(cursor)
            inserted = self._claim(cursor, touched, rows)
            present = [i for i in touched if i not in inserted]
            for length, cjk, terms in self._read(cursor, present):
                delta.add(-1, length, cjk, terms)
            for row in rows.values():
                delta.add(+1, row.length, row.cjk, row.counts)
            self._replace(cursor, [i for i in present if i in rows], rows)
            gone = [i for i in touched if i not in rows]
            if gone:
                cursor.execute(f"DELETE FROM {self._chunk} WHERE id = ANY(%s)", [gone])
            self._apply(cursor, shard, delta)

    def _take_shard(self, cursor) -> int:
        """A statistics shard for this transaction: one it holds already, else a free one, else
        wait for one. Held until the transaction ends; waiting while holding none cannot
        deadlock with another writer (a holder never waits for a second shard)."""
        start = random.randrange(self.write_shards)
        cursor.execute(
            "SELECT coalesce("
            " (SELECT objid::int FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
            "  AND pid = pg_backend_pid() AND granted AND classid::bigint = %s"
            "  AND objid::bigint < %s LIMIT 1),"
            " (SELECT s FROM (SELECT (g + %s) %% %s AS s FROM generate_series(0, %s - 1) g) t"
            "  WHERE pg_try_advisory_xact_lock(%s, s) LIMIT 1))",
            [
                self._lock_key,
                self.write_shards,
                start,
                self.write_shards,
                self.write_shards,
                self._lock_key,
            ],
        )
        shard = cursor.fetchone()[0]
        if shard is not None:
            return shard
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [self._lock_key, start])
        return start

    def _claim(self, cursor, ids: list[int], rows: dict[int, _Row]) -> set[int]:
        """Make every chunk row in `ids` ours, in one pass in id order: insert those absent (with
        their new contents; an id only to be removed gets a stand-in, deleted after) and lock
        those present, waiting for a writer that holds one. The only row locks a write waits for,
        taken in the same order by every writer: concurrent writes cannot deadlock. Returns the
        ids inserted."""
        new = [rows.get(i) or _Row("", Counter(), 0, 0) for i in ids]
        cursor.execute(
            f"INSERT INTO {self._chunk} AS old (id, length, cjk, terms, tf, text)"
            f" SELECT * FROM {_ROWS} ORDER BY id"
            " ON CONFLICT (id) DO UPDATE SET id = old.id WHERE false RETURNING id",
            _row_params(ids, new),
        )
        return {r[0] for r in cursor.fetchall()}

    def _read(self, cursor, ids: list[int]) -> list[tuple[int, int, list[str]]]:
        """(length, CJK terms, terms) of the rows `ids`: locked by us, so as they will be
        replaced."""
        if not ids:
            return []
        cursor.execute(
            f"SELECT length, cjk, tsvector_to_array(terms) FROM {self._chunk} WHERE id = ANY(%s)",
            [ids],
        )
        return cursor.fetchall()

    def _replace(self, cursor, ids: list[int], rows: dict[int, _Row]) -> None:
        if ids:
            cursor.execute(
                f"UPDATE {self._chunk} AS c SET length = u.length, cjk = u.cjk, terms = u.terms,"
                f" tf = u.tf, text = u.text FROM {_ROWS} WHERE c.id = u.id",
                _row_params(ids, [rows[i] for i in ids]),
            )

    def _apply(self, cursor, shard: int, delta: _Delta) -> None:
        """Add the write's deltas to its shard's rows, in term order."""
        changed = sorted(t for t, d in delta.df.items() if d)
        if changed:
            cursor.execute(
                f"INSERT INTO {self._df} AS old (term, shard, df)"
                " SELECT t, %s, d FROM unnest(%s::text[], %s::int[]) AS u(t, d)"
                ' ORDER BY t COLLATE "C"'
                " ON CONFLICT (term, shard) DO UPDATE SET df = old.df + EXCLUDED.df",
                [shard, changed, [delta.df[t] for t in changed]],
            )
            fallen = [t for t in changed if delta.df[t] < 0]
            if fallen:  # rows a removal brought to 0: the vocabulary does not keep growing
                cursor.execute(
                    f"DELETE FROM {self._df} WHERE shard = %s AND term = ANY(%s) AND df = 0",
                    [shard, fallen],
                )
        if delta.chunks or delta.length or delta.cjk:
            cursor.execute(
                f"INSERT INTO {self._stats} AS old (shard, chunks, length, cjk)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (shard) DO UPDATE SET"
                " chunks = old.chunks + EXCLUDED.chunks, length = old.length + EXCLUDED.length,"
                " cjk = old.cjk + EXCLUDED.cjk",
                [shard, delta.chunks, delta.length, delta.cjk],
            )

    def publish(self) -> None:
        """Nothing to publish: a write is visible when its transaction commits."""

    def clear(self) -> None:
        if not self._exists():
            return
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {self._chunk}, {self._df}, {self._stats}")

    # -- reading ----------------------------------------------------------------------------------
    def _statistics(self, cursor, terms: list[str]) -> tuple[int, int, int, dict[str, int]]:
        """(chunks, total length, CJK terms, df of each of `terms` present), in one snapshot."""
        cursor.execute(
            f"SELECT NULL, sum(chunks), sum(length), sum(cjk) FROM {self._stats}"
            f" UNION ALL SELECT term, sum(df), NULL, NULL FROM {self._df}"
            " WHERE term = ANY(%s) GROUP BY term HAVING sum(df) > 0",
            [terms],
        )
        chunks = length = cjk = 0
        dfs: dict[str, int] = {}
        for term, count, total, cjk_total in cursor.fetchall():
            if term is None:
                chunks, length, cjk = int(count or 0), int(total or 0), int(cjk_total or 0)
            else:
                dfs[term] = int(count)
        return chunks, length, cjk, dfs

    @staticmethod
    def _filters(allowed_ids: IdSet | None, excluded_ids: IdSet | None) -> tuple[str, list]:
        sql, params = "", []
        if allowed_ids is not None:
            subquery, sub_params = _subquery(allowed_ids)
            sql += f" AND c.id IN ({subquery})"
            params += sub_params
        if excluded_ids is not None and (isinstance(excluded_ids, QuerySet) or len(excluded_ids)):
            subquery, sub_params = _subquery(excluded_ids)
            sql += f" AND c.id NOT IN ({subquery})"
            params += sub_params
        return sql, params

    def search(
        self,
        *,
        query: str,
        k: int,
        allowed_ids: IdSet | None = None,
        excluded_ids: IdSet | None = None,
    ) -> LexicalResult:
        """Top `k` chunks by BM25 among `allowed_ids` (all when None) less `excluded_ids`, both
        applied inside the query (a QuerySet becomes a subquery the planner joins); chunks sharing
        no term with the query are never returned."""
        words = tokenize(query)
        if not words:
            return LexicalResult(hits=[], script_overlap=0.0)
        terms = [lexeme(w) for w in words]
        if not self._exists():
            return LexicalResult(hits=[], script_overlap=0.0)
        with connection.cursor() as cursor:
            chunks, length, cjk, dfs = self._statistics(cursor, sorted(set(terms)))
            if not chunks:
                return LexicalResult(hits=[], script_overlap=0.0)
            overlap = script_overlap(words, cjk / length if length else 0.0)
            empty = isinstance(allowed_ids, np.ndarray) and not len(allowed_ids)
            if not dfs or k <= 0 or empty:
                return LexicalResult(hits=[], script_overlap=overlap)
            counts = Counter(t for t in terms if t in dfs)
            weights = {
                t: n * math.log(1 + (chunks - dfs[t] + 0.5) / (dfs[t] + 0.5))
                for t, n in counts.items()
            }
            scoring = _Scoring(self._chunk, weights, self.k1, self.b, length / chunks)
            filters = self._filters(allowed_ids, excluded_ids)
            hits = self._ranked(cursor, scoring, dfs, filters, k)
        return LexicalResult(hits=hits, script_overlap=overlap)

    def _ranked(
        self, cursor, scoring: _Scoring, dfs: dict[str, int], filters: tuple[str, list], k: int
    ) -> list[VectorHit]:
        """The top `k`, scoring every chunk with a rare term, and chunks with only common terms
        only when they could matter (see `plan_candidates` and the module docstring)."""
        where, params = filters
        rare, common = plan_candidates(dfs, self.max_candidates)
        hits: list[VectorHit] = []
        if rare:
            hits = scoring.top(cursor, f"c.terms @@ %s::tsquery{where}", [or_(rare), *params], k)
        # A chunk without a rare term scores below the common terms' summed weights (each term's
        # tf part is under 1): once k chunks score at least that, the ranking is exact.
        if not common or (len(hits) == k and hits[-1].score >= scoring.bound(common)):
            return hits
        # Then the first max_candidates chunks with all the common terms and, when that leaves
        # fewer than k, with the rarest of them; each skipping chunks scored already.
        scored = [or_(rare)] if rare else []
        rarest = _quote(min(common, key=lambda t: (dfs[t], t)))
        for tsquery in [and_(common)] if rare else [and_(common), rarest]:
            new = "".join(" AND NOT c.terms @@ %s::tsquery" for _ in scored)
            condition = (
                f"c.id IN (SELECT c.id FROM {self._chunk} c WHERE c.terms @@ %s::tsquery{new}"
                f"{where} LIMIT %s)"
            )
            more = scoring.top(
                cursor, condition, [tsquery, *scored, *params, self.max_candidates], k
            )
            hits = sorted(hits + more, key=lambda h: (-h.score, h.id))[:k]
            if len(hits) == k:
                break
            scored.append(tsquery)
        return hits

    def texts(self, ids: Sequence[int]) -> dict[int, str]:
        """Stored text of each chunk id (ids not stored are absent)."""
        if not len(ids) or not self._exists():
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, text FROM {self._chunk} WHERE id = ANY(%s)", [[int(i) for i in ids]]
            )
            return dict(cursor.fetchall())

    def count(self) -> int:
        if not self._exists():
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT coalesce(sum(chunks), 0) FROM {self._stats}")
            return int(cursor.fetchone()[0])

    def ids(self) -> np.ndarray:
        if not self._exists():
            return np.zeros(0, dtype=np.int64)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {self._chunk} ORDER BY id")
            return np.array([r[0] for r in cursor.fetchall()], dtype=np.int64)
