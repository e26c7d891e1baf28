"""What segments cost a reader: search latency over a base plus segments, then after the merge.

A base of n chunks (vector and BM25 stores on disk, through their bulk paths), then `--segments`
writes of a 300-chunk document each; a second store object (another process's reader) opens it,
and single-query latency p50 is measured with the segments, then again once `merge()` folded them.
Vectors are synthetic unit vectors at 384 dimensions; BM25 terms are cut once from a pool of
synthetic texts (see `bench/write_cost.py`). The BM25 top 10 is compared across the merge.

    python bench/segment_search.py                     # 100k chunks, 100 segments
    python bench/segment_search.py --size 20000 --segments 50

Note: at 100k the merge also switches the vector base from flat (exact) to IVF, so the vector
columns compare flat + segments with IVF; use a size below `flat_max` to see segments alone.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from write_cost import Corpus, bulk_lexical_base

from retrieval.index.faiss_store import FaissIndexStore
from retrieval.lexical.bm25_store import BM25Store
from retrieval.lexical.tokenize import tokenize


def p50_ms(search, queries) -> float:
    search(queries[0])  # warm
    times = []
    for query in queries:
        begin = time.perf_counter()
        search(query)
        times.append((time.perf_counter() - begin) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--pool", type=int, default=2_000)
    parser.add_argument("--tmp", help="where to build the indexes (default: $TMPDIR)")
    args = parser.parse_args()
    corpus = Corpus()
    folder = Path(tempfile.mkdtemp(prefix="segment-search-", dir=args.tmp))
    try:
        pool = [tokenize(t) for t in corpus.texts(args.pool)]
        vectors = FaissIndexStore(str(folder / "faiss"))
        lexical = BM25Store(str(folder / "bm25"))
        vectors.update(model="m", add_ids=np.arange(args.size), vectors=corpus.vectors(args.size))
        bulk_lexical_base(lexical, np.arange(args.size), pool)
        rng = np.random.default_rng(2)
        for number in range(args.segments):
            ids = np.arange(300) + args.size + 300 * number
            vectors.update(model="m", add_ids=ids, vectors=corpus.vectors(300))
            lexical.update(add_ids=ids.tolist(), texts=[corpus.text() for _ in range(300)])
        reader_vectors = FaissIndexStore(str(folder / "faiss"))
        reader_lexical = BM25Store(str(folder / "bm25"))
        begin = time.perf_counter()
        reader_vectors.count(), reader_lexical.count()
        opened = time.perf_counter() - begin
        texts = [" ".join(pool[i][:4]) for i in rng.integers(0, len(pool), args.queries)]
        query_vectors = list(corpus.vectors(args.queries))

        def measure() -> tuple[float, float, list[int]]:
            return (
                p50_ms(lambda q: reader_vectors.search(model="m", vector=q, k=10), query_vectors),
                p50_ms(lambda q: reader_lexical.search(query=q, k=10), texts),
                [h.id for t in texts[:5] for h in reader_lexical.search(query=t, k=10).hits],
            )

        with_segments = measure()
        segments = reader_vectors.describe()["segments"], len(reader_lexical._current().segments)
        begin = time.perf_counter()
        vectors.merge()
        lexical.merge()
        merge = time.perf_counter() - begin
        merged = measure()
        print(
            f"n={args.size} segments (vector, BM25)={segments}, reader opened in {opened:.1f} s, "
            f"merged in {merge:.1f} s"
        )
        print("| index | vector p50 ms | BM25 p50 ms |")
        print("|---|---|---|")
        print(
            f"| base + {args.segments} segments | {with_segments[0]:.1f} | {with_segments[1]:.1f} |"
        )
        print(f"| merged | {merged[0]:.1f} | {merged[1]:.1f} |")
        print(f"BM25 top 10 of 5 queries the same after the merge: {with_segments[2] == merged[2]}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
