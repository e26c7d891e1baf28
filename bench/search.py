"""Vector search at scale: exact flat vs the IVF index the store switches to beyond `flat_max`.

Synthetic, clustered unit vectors (real embeddings are clustered by topic; uniform random vectors
would make any approximate index look worse than it is on text) at the default embedder's
dimension. For each size: build time, index memory, single-query latency p50/p95 with FAISS limited
to 2 threads (the deployment target), and recall@10 against exact search.

    python bench/search.py                 # 100k and 1M, 384 dims
    python bench/search.py --sizes 20000   # quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrieval.index.faiss_store import build_ivf


def clustered(n: int, dim: int, centers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        picks = rng.integers(0, len(centers), m)
        block = centers[picks] + 0.6 * rng.standard_normal((m, dim), dtype=np.float32) / np.sqrt(
            dim
        )
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed_queries(
    index, queries: np.ndarray, k: int, params=None
) -> tuple[np.ndarray, list[float]]:
    ids, latencies = [], []
    for q in queries:
        begin = time.perf_counter()
        _, found = index.search(q.reshape(1, -1), k, params=params)
        latencies.append((time.perf_counter() - begin) * 1000)
        ids.append(found[0])
    return np.array(ids), latencies


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)])
    )


def main() -> None:
    import faiss

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=384, help="default embedder: e5-small, 384")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--ivf", default="SQ8", help="IVF encoding (the store's `ivf` option)")
    parser.add_argument(
        "--grown-from",
        type=int,
        default=100_000,
        help="also measure an IVF trained at this size (the store's flat_max, where it switches) "
        "and grown to n by adding, as the store does until a rebuild",
    )
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    k = 10
    print(f"dim={args.dim} queries={args.queries} threads={args.threads} k={k}")
    columns = ("build_s", "mem_MB", "p50_ms", "p95_ms", "recall@10")
    header = f"{'n':>9} {'index':<22} " + " ".join(f"{c:>9}" for c in columns)
    print(header)
    for n in args.sizes:
        rng = np.random.default_rng(n)
        centers = rng.standard_normal((max(100, n // 500), args.dim), dtype=np.float32)
        centers /= np.linalg.norm(centers, axis=1, keepdims=True)
        data = clustered(n, args.dim, centers, rng)
        queries = clustered(args.queries, args.dim, centers, rng)
        ids = np.arange(n, dtype=np.int64) + 1_000  # chunk ids are not 0..n-1

        before, begin = rss_mb(), time.perf_counter()
        flat = faiss.IndexIDMap2(faiss.IndexFlatIP(args.dim))
        flat.add_with_ids(data, ids)
        build, memory = time.perf_counter() - begin, rss_mb() - before
        exact, latencies = timed_queries(flat, queries, k)
        print(
            f"{n:>9} {'flat (exact)':<22} {build:>8.1f} {memory:>8.0f} "
            f"{np.percentile(latencies, 50):>8.2f} {np.percentile(latencies, 95):>8.2f} "
            f"{1.0:>9.3f}",
            flush=True,
        )
        del flat

        before, begin = rss_mb(), time.perf_counter()
        ivf = build_ivf(data, ids, encoding=args.ivf)
        build, memory = time.perf_counter() - begin, rss_mb() - before
        for nprobe in args.nprobe:
            params = faiss.SearchParametersIVF(nprobe=nprobe)
            found, latencies = timed_queries(ivf, queries, k, params)
            name = f"IVF{ivf.nlist},{args.ivf} np={nprobe}"
            print(
                f"{n:>9} {name:<22} {build:>8.1f} {memory:>8.0f} "
                f"{np.percentile(latencies, 50):>8.2f} {np.percentile(latencies, 95):>8.2f} "
                f"{recall(found, exact):>9.3f}",
                flush=True,
            )
        del ivf
        g = args.grown_from
        if g and n > g:
            begin = time.perf_counter()
            grown = build_ivf(data[:g], ids[:g], encoding=args.ivf)
            grown.add_with_ids(data[g:], ids[g:])
            build = time.perf_counter() - begin
            for nprobe in args.nprobe:
                params = faiss.SearchParametersIVF(nprobe=nprobe)
                found, latencies = timed_queries(grown, queries, k, params)
                name = f"grown IVF{grown.nlist} np={nprobe}"
                print(
                    f"{n:>9} {name:<22} {build:>8.1f} {'':>8} "
                    f"{np.percentile(latencies, 50):>8.2f} {np.percentile(latencies, 95):>8.2f} "
                    f"{recall(found, exact):>9.3f}",
                    flush=True,
                )
            del grown
        del data


if __name__ == "__main__":
    main()
