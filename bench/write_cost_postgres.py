"""Seconds to add one 300-chunk document to the PostgreSQL back ends at 10k, 100k and 1M chunks,
with bases loaded in bulk rather than through the stores.

`bench/write_cost.py --backend postgres` builds its base through the stores' own write path
(jieba over every base chunk, then the HNSW graph): about 1,000 chunks a minute on a loaded
2-core machine, so hours at 1M. Here the bases come from what is already built:

- vectors: the 1M-vector database of `bench/scale_search.py --n 1000000` (COPY-loaded, HNSW m 16 /
  ef_construction 64, the store's own index); its first 10k and 100k rows are copied and indexed
  alike, its whole table is lent to the store (renamed, and renamed back at the end);
- BM25: 10k synthetic chunks (`write_cost.Corpus`) written through `PostgresBM25Store`, then its
  rows repeated under new ids in SQL to 100k and 1M, df, N and lengths scaled alike, so the GIN
  index and the df table have their real size.

A timed add is `update` of 300 new chunks in one transaction (random unit vectors; new synthetic
texts, tokenised as in production), median of `--repeats`.

    python bench/scale_search.py --n 1000000           # once: the 1M vector database
    python bench/write_cost_postgres.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

SIZES = (10_000, 100_000, 1_000_000)
FIRST_NEW_ID = 50_000_000


def setup_django(url: str) -> None:
    os.environ.update(
        DATABASE_URL=url,
        KBQA_INDEX_BACKEND="postgres",
        KBQA_DATA_DIR=tempfile.mkdtemp(prefix="write-cost-pg-"),
        KBQA_MODEL_DIR=os.environ.get("KBQA_MODEL_DIR", str(REPO / "var" / "models")),
        KBQA_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="kbqa.settings.local",
    )
    import django

    django.setup()


def time_adds(write, repeats: int) -> list[float]:
    from django.db import transaction

    times = []
    for r in range(repeats):
        ids = np.arange(FIRST_NEW_ID + r * 300, FIRST_NEW_ID + (r + 1) * 300)
        begin = time.perf_counter()
        with transaction.atomic():
            write(ids, r)
        times.append(time.perf_counter() - begin)
    return times


def vector_costs(repeats: int) -> dict[int, float]:
    from django.db import connection, transaction

    from retrieval.index.pgvector_store import PgVectorStore

    rng = np.random.default_rng(0)
    costs = {}
    for n in SIZES:
        namespace = f"wc_vectors_{n}"
        with connection.cursor() as cursor:
            if n == SIZES[-1]:
                cursor.execute(f"ALTER TABLE items RENAME TO {namespace}_vectors")
            else:
                cursor.execute("SET maintenance_work_mem = '1GB'")
                cursor.execute(
                    f"CREATE TABLE {namespace}_vectors AS "
                    f"SELECT id, embedding FROM items ORDER BY id LIMIT {n}"
                )
                cursor.execute(f"ALTER TABLE {namespace}_vectors ADD PRIMARY KEY (id)")
                cursor.execute(
                    f"CREATE INDEX ON {namespace}_vectors USING hnsw (embedding vector_ip_ops) "
                    "WITH (m = 16, ef_construction = 64)"
                )
            cursor.execute(
                f"CREATE TABLE {namespace}_vectors_meta (singleton boolean PRIMARY KEY DEFAULT "
                "true CHECK (singleton), model text, dimension integer, "
                "generation bigint NOT NULL DEFAULT 1)"
            )
            cursor.execute(
                f"INSERT INTO {namespace}_vectors_meta (model, dimension) VALUES ('bench', 384)"
            )
        store = PgVectorStore(namespace=namespace)
        try:
            assert store.count() == n, (namespace, store.count())

            def write(ids, _r, store=store):
                vectors = rng.standard_normal((len(ids), 384)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                store.update(model="bench", add_ids=ids, vectors=vectors)

            times = time_adds(write, repeats)
            print(f"  vectors {n:>9,}: {[round(t, 3) for t in times]}", flush=True)
            costs[n] = statistics.median(times)
            with transaction.atomic():
                store.update(
                    model="bench", remove_ids=np.arange(FIRST_NEW_ID, FIRST_NEW_ID + 300 * repeats)
                )
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {namespace}_vectors_meta")
                if n == SIZES[-1]:
                    cursor.execute(f"ALTER TABLE {namespace}_vectors RENAME TO items")
                else:
                    cursor.execute(f"DROP TABLE IF EXISTS {namespace}_vectors")
    return costs


def lexical_costs(repeats: int) -> dict[int, float]:
    from django.db import connection, transaction
    from write_cost import Corpus

    from retrieval.lexical.postgres_store import PostgresBM25Store

    corpus = Corpus()
    base = corpus.texts(SIZES[0])
    documents = [corpus.texts(300) for _ in range(repeats)]
    costs = {}
    for n in SIZES:
        namespace = f"wc_lexical_{n}"
        store = PostgresBM25Store(namespace=namespace)
        try:
            for start in range(0, len(base), 2_000):
                with transaction.atomic():
                    store.update(
                        add_ids=list(range(start, start + 2_000)), texts=base[start : start + 2_000]
                    )
            copies = n // len(base)
            if copies > 1:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"INSERT INTO {namespace}_lexical_chunk SELECT id + k * {len(base)}, "
                        f"length, cjk, terms, tf, text FROM {namespace}_lexical_chunk, "
                        f"generate_series(1, {copies - 1}) k"
                    )
                    cursor.execute(f"UPDATE {namespace}_lexical_df SET df = df * {copies}")
                    cursor.execute(
                        f"UPDATE {namespace}_lexical_stats SET chunks = chunks * {copies}, "
                        f"length = length * {copies}, cjk = cjk * {copies}"
                    )
            assert store.count() == n, (namespace, store.count())
            times = time_adds(
                lambda ids, r, store=store: store.update(add_ids=ids.tolist(), texts=documents[r]),
                repeats,
            )
            print(f"  BM25    {n:>9,}: {[round(t, 3) for t in times]}", flush=True)
            costs[n] = statistics.median(times)
        finally:
            with transaction.atomic():
                store.drop()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="/tmp/bench-pgv", help="bench/scale_search.py's")
    parser.add_argument("--database", default="scale_1000000_topics", help="its 1M database")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    started = subprocess.run(
        [sys.executable, str(REPO / "bin" / "pgvector-server"), "start", args.server],
        capture_output=True,
        text=True,
    )
    if started.returncode != 0:
        sys.exit(f"no server in {args.server}: run bench/scale_search.py --n 1000000 first")
    setup_django(f"postgres://postgres@{quote(args.server, safe='')}/{args.database}")
    vectors = vector_costs(args.repeats)
    lexical = lexical_costs(args.repeats)
    print(f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; median of {args.repeats} adds")
    print("| chunks | vectors s | BM25 s | document s | × 10k |")
    print("|---|---|---|---|---|")
    smallest = vectors[SIZES[0]] + lexical[SIZES[0]]
    for n in SIZES:
        total = vectors[n] + lexical[n]
        print(
            f"| {n:,} | {vectors[n]:.3f} | {lexical[n]:.3f} | {total:.3f} | "
            f"{total / smallest:.2f}× |"
        )


if __name__ == "__main__":
    main()
