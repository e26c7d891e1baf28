"""The PostgreSQL BM25 store at scale: write cost of one document and query latency as it grows.

Synthetic chunks over a Zipf-distributed vocabulary (a few very common words, a long tail, as in
real text), 80-200 words each, loaded in bulk to each size. At each size: seconds to add one
300-chunk document (its own transaction, as ingestion writes it; the goal is flat), query latency
p50/p95 at the retriever's depth (k=50) without and with an access filter (10 % of the chunks,
passed as an id array), how many queries had more matches than `max_candidates`, and agreement of
the top 10 with exact BM25 (bm25s over the same terms).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kbqa python bench/lexical_postgres.py
    DATABASE_URL=... python bench/lexical_postgres.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def setup_django() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (the store lives there)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbqa.settings.local")
    os.environ.setdefault("KBQA_LOG_LEVEL", "WARNING")
    import django

    django.setup()


class Corpus:
    """Deterministic synthetic chunks: pseudo-words drawn from a Zipf law."""

    def __init__(self, vocabulary: int, seed: int) -> None:
        rng = random.Random(seed)
        letters = "abcdefghijklmnopqrstuvwxyz"
        words: set[str] = set()
        while len(words) < vocabulary:
            words.add("".join(rng.choices(letters, k=rng.randint(4, 10))))
        self.words = sorted(words)
        rng.shuffle(self.words)
        self.cumulative = np.cumsum(1 / np.arange(1, vocabulary + 1) ** 1.05)
        self.cumulative /= self.cumulative[-1]
        self.rng = np.random.default_rng(seed)

    def draw(self, n: int) -> list[str]:
        return [self.words[i] for i in np.searchsorted(self.cumulative, self.rng.random(n))]

    def chunks(self, n: int) -> list[str]:
        return [" ".join(self.draw(int(self.rng.integers(80, 201)))) for _ in range(n)]

    def query(self) -> str:
        return " ".join(self.draw(int(self.rng.integers(2, 7))))


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--writes", type=int, default=5, help="300-chunk documents per size")
    parser.add_argument("--vocabulary", type=int, default=50_000)
    parser.add_argument("--max-candidates", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=2_000, help="bulk-load batch")
    parser.add_argument("--keep", action="store_true", help="keep the tables (bench_lexical_*)")
    args = parser.parse_args()
    setup_django()
    import bm25s
    from django.db import connection, transaction

    from retrieval.lexical.postgres_store import PostgresBM25Store
    from retrieval.lexical.tokenize import tokenize

    store = PostgresBM25Store(namespace="bench_lexical", max_candidates=args.max_candidates)
    store.drop()
    corpus = Corpus(args.vocabulary, seed=1)
    queries_corpus = Corpus(args.vocabulary, seed=1)  # same words, its own draws
    queries_corpus.rng = np.random.default_rng(2)
    texts: list[str] = []
    rows = []
    print(
        f"PostgreSQL {connection.cursor().connection.info.server_version}, vocabulary "
        f"{args.vocabulary}, max_candidates {args.max_candidates}"
    )
    for size in sorted(args.sizes):
        started = time.perf_counter()
        while len(texts) < size:
            batch = corpus.chunks(min(args.batch, size - len(texts)))
            first = len(texts) + 1
            store.update(add_ids=range(first, first + len(batch)), texts=batch)
            texts += batch
        load = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {store._chunk}")
            cursor.execute(f"VACUUM ANALYZE {store._df}")

        writes = []
        for _ in range(args.writes):
            document = corpus.chunks(300)
            first = len(texts) + 1
            started = time.perf_counter()
            with transaction.atomic():
                store.update(add_ids=range(first, first + 300), texts=document)
            writes.append(time.perf_counter() - started)
            texts += document

        tokens = [tokenize(t) for t in texts]
        exact = bm25s.BM25(k1=1.2, b=0.75)
        exact.index(tokens, show_progress=False)
        rng = np.random.default_rng(3)
        allowed = np.sort(rng.choice(np.arange(1, len(texts) + 1), len(texts) // 10, replace=False))
        queries = [queries_corpus.query() for _ in range(args.queries)]
        latency, filtered, capped, agreement = [], [], 0, []
        cap = args.max_candidates
        for query in queries:
            started = time.perf_counter()
            hits = store.search(query=query, k=50).hits
            latency.append(time.perf_counter() - started)
            started = time.perf_counter()
            store.search(query=query, k=50, allowed_ids=allowed)
            filtered.append(time.perf_counter() - started)
            known = [t for t in tokenize(query) if t in exact.vocab_dict]
            scores = exact.get_scores(known) if known else np.zeros(len(texts))
            capped += int(np.count_nonzero(scores) > cap)
            top = set(np.argsort(-scores, kind="stable")[:10] + 1)
            agreement.append(len(top & {h.id for h in hits[:10]}) / 10)
        rows.append(
            (
                len(texts),
                load,
                statistics.median(writes),
                max(writes),
                percentile(latency, 50) * 1000,
                percentile(latency, 95) * 1000,
                percentile(filtered, 50) * 1000,
                percentile(filtered, 95) * 1000,
                capped / len(queries),
                float(np.mean(agreement)),
            )
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_total_relation_size('{store._chunk}')")
            size_mb = cursor.fetchone()[0] / 2**20
        print(f"  loaded {len(texts)} chunks in {load:.0f} s; chunk table + GIN {size_mb:.0f} MiB")

    print()
    header = (
        f"{'chunks':>9} {'write 300 s':>11} {'(max)':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'10% p50':>8} {'10% p95':>8} {'capped':>7} {'top10=bm25s':>11}"
    )
    print(header)
    for n, _load, write, write_max, p50, p95, f50, f95, capped, agree in rows:
        print(
            f"{n:>9} {write:>11.3f} {write_max:>6.2f} {p50:>7.1f} {p95:>7.1f} "
            f"{f50:>8.1f} {f95:>8.1f} {capped:>7.0%} {agree:>11.3f}"
        )
    if len(rows) > 1:
        print(f"write ratio largest/smallest: {rows[-1][2] / rows[0][2]:.2f}")
    if not args.keep:
        store.drop()


if __name__ == "__main__":
    main()
