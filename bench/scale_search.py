"""Search at 1M chunks: pgvector HNSW against FAISS IVF, with the access filter off and on.

Synthetic unit vectors at the default embedder's dimension (384), drawn from a Gaussian mixture
(real embeddings cluster by topic; uniform random vectors would make every approximate index look
worse than it does on text), spread at random over `--collections` collections. With the filter on,
each query comes from a user who reads `--readable` of the collections (a different random set per
query), and recall@10 is measured against exact search restricted to what that user may read.

- pgvector (PostgreSQL 16 + pgvector 0.6.2 from `bin/pgvector-server`): vectors in `items` with an
  HNSW index (m 16, ef_construction 64, inner product), chunk → collection rows in `chunks`. The
  filter is the join the PostgreSQL store makes:
  `WHERE id IN (SELECT chunk_id FROM chunks WHERE collection_id = ANY(readable))`. pgvector 0.6 has
  no iterative index scan: the HNSW scan yields at most `hnsw.ef_search` candidates and the filter
  runs after it, so a 10 % filter comes back short; the rows show how short at several ef_search,
  the exact scan over the allowed set (the store's fallback when short), and the two together.
- FAISS: `retrieval.index.faiss_store.build_ivf` (SQ8, nprobe as the store), the filter an
  `IDSelectorBatch` of the allowed ids built per query as `FaissIndexStore.search` does; the time
  to fetch those ids from PostgreSQL, which the files back end pays on every filtered search, is a
  row of its own.

Single-query latency, one client; FAISS on `--threads` threads. The database folder is kept:
`--reuse` skips generating, loading and building when the database already holds the same data.

    python bench/scale_search.py --n 100000                  # quick: a few minutes on 2 cores
    python bench/scale_search.py --n 1000000                 # the HNSW build alone: tens of minutes
    python bench/scale_search.py --n 1000000 --reuse         # search only, on the kept database
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from retrieval.index.faiss_store import build_ivf  # noqa: E402

K = 10


# -- data -----------------------------------------------------------------------------------------
def mixture(n: int, centers: np.ndarray, spreads: np.ndarray, rng: np.random.Generator):
    """n unit vectors from a Gaussian mixture: a random center each, noise of that center's
    spread (clusters of different tightness, like topics of different breadth)."""
    dim = centers.shape[1]
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        picks = rng.integers(0, len(centers), m)
        noise = rng.standard_normal((m, dim), dtype=np.float32) / np.sqrt(dim)
        block = centers[picks] + spreads[picks, None] * noise
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def make_data(
    n: int, dim: int, collections: int, queries: int, readable: float, seed: int, kind: str
):
    """Vectors, their chunk ids and collections, and the queries with each one's readable
    collections; the same arguments always give the same data (a `--reuse` run regenerates the
    vectors here rather than reading them back).

    `kind` "topics" (the default): topics of ~500 chunks whose centers are themselves spread
    around a few broad subjects, so neighbouring topics overlap, as text embeddings do.
    "islands": ~500-chunk clusters around independent random centers, which in 384 dimensions are
    all orthogonal to one another: nothing lies between two clusters, the worst case for a graph
    index (its greedy descent gets no gradient towards the right cluster) and the best for IVF
    (its lists are the clusters)."""
    rng = np.random.default_rng(seed)
    n_centers = max(100, n // 500)
    if kind == "islands":
        centers = rng.standard_normal((n_centers, dim), dtype=np.float32)
    else:
        subjects = rng.standard_normal((max(20, n_centers // 100), dim), dtype=np.float32)
        subjects /= np.linalg.norm(subjects, axis=1, keepdims=True)
        centers = subjects[rng.integers(0, len(subjects), n_centers)] + 0.9 * rng.standard_normal(
            (n_centers, dim), dtype=np.float32
        ) / np.sqrt(dim)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    spreads = rng.uniform(0.5, 0.9, n_centers).astype(np.float32)
    vectors = mixture(n, centers, spreads, rng)
    ids = np.arange(n, dtype=np.int64) + 1_000  # chunk ids are not 0..n-1
    chunk_collection = rng.integers(0, collections, n).astype(np.int32)
    query_vectors = mixture(queries, centers, spreads, rng)
    per_user = max(1, round(collections * readable))
    readable_sets = np.stack(
        [np.sort(rng.choice(collections, per_user, replace=False)) for _ in range(queries)]
    ).astype(np.int32)
    return vectors, ids, chunk_collection, query_vectors, readable_sets


def exact_top(vectors, ids, queries, masks=None) -> np.ndarray:
    """Exact top-K ids per query by inner product, optionally restricted by a per-query mask over
    the rows; computed in blocks so 1M × 384 never needs a 1M-wide score matrix per query batch."""
    best_scores = np.full((len(queries), K), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), K), dtype=np.int64)
    for start in range(0, len(vectors), 100_000):
        block = vectors[start : start + 100_000]
        scores = queries @ block.T
        if masks is not None:
            scores[~masks[:, start : start + len(block)]] = -np.inf
        merged = np.concatenate([best_scores, scores], axis=1)
        rows = np.concatenate(
            [best_rows, np.broadcast_to(np.arange(start, start + len(block)), scores.shape)], axis=1
        )
        top = np.argpartition(-merged, K, axis=1)[:, :K]
        best_scores = np.take_along_axis(merged, top, axis=1)
        best_rows = np.take_along_axis(rows, top, axis=1)
    return [
        set(ids[r][np.isfinite(s)].tolist()) for r, s in zip(best_rows, best_scores, strict=True)
    ]


# -- results --------------------------------------------------------------------------------------
class Row:
    def __init__(self, name: str, latencies: list[float], found: list[list[int]] | None, exact):
        self.name = name
        self.p50 = float(np.percentile(latencies, 50))
        self.p95 = float(np.percentile(latencies, 95))
        if found is None:
            self.recall = self.returned = None
        else:
            self.recall = float(
                np.mean([len(set(f) & e) / K for f, e in zip(found, exact, strict=True)])
            )
            self.returned = float(np.mean([len(f) for f in found]))

    def line(self) -> str:
        recall = "–" if self.recall is None else f"{self.recall:.3f}"
        returned = "–" if self.returned is None else f"{self.returned:.1f}"
        return f"| {self.name} | {self.p50:.1f} | {self.p95:.1f} | {recall} | {returned} |"


def show(row: Row) -> Row:
    print(row.line(), flush=True)
    return row


# -- PostgreSQL -----------------------------------------------------------------------------------
def copy_binary_rows(dtype: np.dtype, fill) -> bytes:
    """One block of a binary COPY stream built with numpy (a Python loop over a million rows
    would dominate the load)."""
    rows = np.zeros(fill["n"], dtype=dtype)
    for name, value in fill.items():
        if name != "n":
            rows[name] = value
    return rows.tobytes()


COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def load(connection, vectors, ids, chunk_collection) -> None:
    dim = vectors.shape[1]
    item = np.dtype(
        [
            ("fields", ">i2"),
            ("id_len", ">i4"),
            ("id", ">i8"),
            ("vec_len", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("vec", ">f4", (dim,)),
        ]
    )
    chunk = np.dtype(
        [("fields", ">i2"), ("id_len", ">i4"), ("id", ">i8"), ("c_len", ">i4"), ("c", ">i4")]
    )
    with connection.cursor() as cursor:
        with cursor.copy("COPY items (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.write(COPY_HEADER)
            for start in range(0, len(ids), 50_000):
                end = min(start + 50_000, len(ids))
                copy.write(
                    copy_binary_rows(
                        item,
                        {
                            "n": end - start,
                            "fields": 2,
                            "id_len": 8,
                            "id": ids[start:end],
                            "vec_len": 4 + 4 * dim,
                            "dim": dim,
                            "vec": vectors[start:end],
                        },
                    )
                )
            copy.write(COPY_TRAILER)
        with cursor.copy(
            "COPY chunks (chunk_id, collection_id) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.write(COPY_HEADER)
            copy.write(
                copy_binary_rows(
                    chunk,
                    {
                        "n": len(ids),
                        "fields": 2,
                        "id_len": 8,
                        "id": ids,
                        "c_len": 4,
                        "c": chunk_collection,
                    },
                )
            )
            copy.write(COPY_TRAILER)


def build_progress(url: str, stop: threading.Event, begin: float) -> None:
    """Print the HNSW build's progress every 30 s (pg_stat_progress_create_index)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        while not stop.wait(30):
            row = connection.execute(
                "SELECT phase, tuples_done, tuples_total, blocks_done, blocks_total "
                "FROM pg_stat_progress_create_index"
            ).fetchone()
            if row:
                print(
                    f"  [{time.perf_counter() - begin:6.0f} s] {row[0]}: tuples {row[1]}/{row[2]}"
                    f" blocks {row[3]}/{row[4]}",
                    flush=True,
                )


def prepare_database(args, url: str, data) -> dict:
    """Create, load and index the database unless `--reuse` finds it already holds this data;
    returns the build figures (measured now, or recorded by the run that built it)."""
    import psycopg

    vectors, ids, chunk_collection, _, _ = data
    signature = f"n={args.n} dim={args.dim} collections={args.collections} seed={args.seed}"
    if args.data != "islands":  # the first 1M database (islands) was built before `--data`
        signature += f" data={args.data}"
    with psycopg.connect(url, autocommit=True) as connection:
        if args.reuse:
            try:
                row = connection.execute(
                    "SELECT load_s, build_s FROM bench_meta WHERE signature = %s", (signature,)
                ).fetchone()
            except psycopg.errors.UndefinedTable:
                row = None
            if row:
                print(f"reusing the database ({signature})", flush=True)
                return {"load_s": row[0], "build_s": row[1]}
            print("nothing to reuse: building", flush=True)
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        connection.execute("DROP TABLE IF EXISTS items, chunks, bench_meta")
        connection.execute(
            f"CREATE TABLE items (id bigint PRIMARY KEY, embedding vector({args.dim}))"
        )
        connection.execute("CREATE TABLE chunks (chunk_id bigint PRIMARY KEY, collection_id int)")
        begin = time.perf_counter()
        load(connection, vectors, ids, chunk_collection)
        connection.execute("CREATE INDEX ON chunks (collection_id)")
        connection.execute("VACUUM ANALYZE items")
        connection.execute("VACUUM ANALYZE chunks")
        load_s = time.perf_counter() - begin
        print(f"loaded {len(ids):,} rows in {load_s:.0f} s", flush=True)

        connection.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
        connection.execute(f"SET max_parallel_maintenance_workers = {args.build_workers}")
        stop = threading.Event()
        begin = time.perf_counter()
        watcher = threading.Thread(target=build_progress, args=(url, stop, begin), daemon=True)
        watcher.start()
        print(
            f"building HNSW (m 16, ef_construction 64) with maintenance_work_mem "
            f"{args.maintenance_work_mem}, {args.build_workers} parallel workers",
            flush=True,
        )
        connection.execute(
            "CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_ip_ops) "
            "WITH (m = 16, ef_construction = 64)"
        )
        build_s = time.perf_counter() - begin
        stop.set()
        print(f"HNSW built in {build_s:.0f} s", flush=True)
        connection.execute(
            "CREATE TABLE bench_meta (signature text, load_s float8, build_s float8)"
        )
        connection.execute(
            "INSERT INTO bench_meta VALUES (%s, %s, %s)", (signature, load_s, build_s)
        )
    return {"load_s": load_s, "build_s": build_s}


def sizes(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT pg_relation_size('items'), pg_total_relation_size('items'), "
            "pg_relation_size('items_hnsw'), pg_total_relation_size('chunks')"
        ).fetchone()
    return dict(
        zip(
            ("items_heap", "items_total", "hnsw", "chunks_total"),
            (v / 2**20 for v in row),
            strict=True,
        )
    )


def start_server(folder: str, shared_buffers: str) -> str:
    """Start (or find running) the pgvector server in `folder` with `shared_buffers` (set once
    with ALTER SYSTEM, which needs a restart); returns its URL."""
    import psycopg

    server = [sys.executable, str(REPO / "bin" / "pgvector-server")]

    def start() -> str:
        return subprocess.run(
            [*server, "start", folder], check=True, capture_output=True, text=True
        ).stdout.strip()

    url = start()
    with psycopg.connect(url, autocommit=True) as connection:
        if connection.execute("SHOW shared_buffers").fetchone()[0] == shared_buffers:
            return url
        connection.execute(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}'")
    subprocess.run([*server, "stop", folder], check=True)
    return start()


FILTERED = (
    "SELECT id FROM items WHERE id IN "
    "(SELECT chunk_id FROM chunks WHERE collection_id = ANY(%s)) "
    "ORDER BY embedding <#> %s LIMIT 10"
)
# The fallback: the same join, ordered by an expression the HNSW index cannot serve, so the planner
# scans the allowed rows exactly (by primary key or sequentially, as it estimates cheaper).
EXACT = FILTERED.replace("ORDER BY embedding <#> %s", "ORDER BY (embedding <#> %s) * 1")
UNFILTERED = "SELECT id FROM items ORDER BY embedding <#> %s LIMIT 10"


def pg_runs(connection, sql: str, queries, readable_sets, settings: dict[str, str]):
    """Run `sql` once per query with `settings` (SET LOCAL in its transaction, as a store would);
    returns per-query latencies (ms) and found ids. One warm-up query first."""
    latencies, found = [], []
    for i in range(-1, len(queries)):
        q = queries[max(i, 0)]
        params = (readable_sets[max(i, 0)].tolist(), q) if "ANY" in sql else (q,)
        begin = time.perf_counter()
        with connection.transaction():
            for name, value in settings.items():
                connection.execute(f"SET LOCAL {name} = {value}")
            rows = connection.execute(sql, params).fetchall()
        elapsed = (time.perf_counter() - begin) * 1000
        if i >= 0:
            latencies.append(elapsed)
            found.append([r[0] for r in rows])
    return latencies, found


def explain(connection, sql: str, params, settings: dict[str, str]) -> str:
    with connection.transaction():
        for name, value in settings.items():
            connection.execute(f"SET LOCAL {name} = {value}")
        rows = connection.execute("EXPLAIN (COSTS OFF) " + sql, params).fetchall()
    text = "\n".join("    " + r[0] for r in rows)
    return re.sub(r"'\[[^']*\]'::vector", "'[…]'::vector", re.sub(r"'\{[^']*\}'", "'{…}'", text))


# -- main -----------------------------------------------------------------------------------------
def main() -> None:
    import faiss
    import psycopg
    from pgvector.psycopg import register_vector

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="chunks (vectors)")
    parser.add_argument("--dim", type=int, default=384, help="default embedder: e5-small, 384")
    parser.add_argument(
        "--data", choices=("topics", "islands"), default="topics", help="see make_data"
    )
    parser.add_argument("--collections", type=int, default=1_000)
    parser.add_argument("--readable", type=float, default=0.10, help="share a user reads")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[40, 100, 200, 1000])
    parser.add_argument("--nprobe", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--threads", type=int, default=2, help="FAISS threads")
    parser.add_argument("--server", default="/tmp/bench-pgv", help="bin/pgvector-server folder")
    parser.add_argument(
        "--url", help="use this running server (database kbqa's URL) instead of --server"
    )
    parser.add_argument("--maintenance-work-mem", default="4GB", help="for the HNSW build")
    parser.add_argument("--build-workers", type=int, default=2, help="parallel HNSW build workers")
    parser.add_argument("--shared-buffers", default="4GB", help="set once, restarts the server")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it matches")
    parser.add_argument("--skip-faiss", action="store_true")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)

    print(f"# bench/scale_search.py — {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"command: python {' '.join(sys.argv)}")
    print(
        f"machine: {platform.node()}, {os.cpu_count()} CPUs, "
        f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB RAM; "
        f"FAISS {faiss.__version__} on {args.threads} threads",
        flush=True,
    )
    begin = time.perf_counter()
    data = make_data(
        args.n, args.dim, args.collections, args.queries, args.readable, args.seed, args.data
    )
    vectors, ids, chunk_collection, queries, readable_sets = data
    print(f"generated {args.n:,} × {args.dim} in {time.perf_counter() - begin:.0f} s", flush=True)

    base_url = args.url or start_server(args.server, args.shared_buffers)
    database = f"scale_{args.n}" + ("" if args.data == "islands" else f"_{args.data}")
    with psycopg.connect(base_url, autocommit=True) as connection:
        version = connection.execute("SELECT version()").fetchone()[0].split(" on ")[0]
        buffers = connection.execute("SHOW shared_buffers").fetchone()[0]
        if not connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone():
            connection.execute(f"CREATE DATABASE {database}")
    url = base_url.rsplit("/", 1)[0] + "/" + database
    build = prepare_database(args, url, data)
    size = sizes(url)
    with psycopg.connect(url, autocommit=True) as connection:
        pgvector = connection.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        ).fetchone()[0]
    print(
        f"PostgreSQL: {version}, pgvector {pgvector}, shared_buffers {buffers}; "
        f"load {build['load_s']:.0f} s, HNSW build {build['build_s']:.0f} s "
        f"(maintenance_work_mem {args.maintenance_work_mem}, {args.build_workers} workers); "
        f"items heap {size['items_heap']:.0f} MiB, HNSW index {size['hnsw']:.0f} MiB, "
        f"chunks table + indexes {size['chunks_total']:.0f} MiB",
        flush=True,
    )

    begin = time.perf_counter()
    allowed_masks = np.stack([np.isin(chunk_collection, r) for r in readable_sets])
    exact = exact_top(vectors, ids, queries)
    exact_filtered = exact_top(vectors, ids, queries, allowed_masks)
    print(f"exact answers in {time.perf_counter() - begin:.0f} s", flush=True)

    n_label = f"{args.n / 1e6:g}M" if args.n >= 1_000_000 else f"{args.n // 1000}k"
    print(
        f"\n{n_label} chunks ({args.data}), {args.dim} dims, {args.collections:,} collections, "
        f"{args.queries} queries; filter: the user reads {args.readable:.0%} of the collections "
        f"(≈{allowed_masks.sum(axis=1).mean():,.0f} chunks)\n"
    )
    print("| engine / setting | p50 ms | p95 ms | recall@10 | results / 10 |")
    print("|---|---|---|---|---|")
    rows = []
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as connection:
        register_vector(connection)
        # Warm the caches as a long-running server would have them (the wheel has no pg_prewarm):
        # one untimed pass of the queries at the largest ef_search, filtered and not.
        warm = {"hnsw.ef_search": str(max(args.ef_search))}
        pg_runs(connection, UNFILTERED, queries, readable_sets, warm)
        pg_runs(connection, FILTERED, queries, readable_sets, warm)
        for ef in args.ef_search:
            lat, found = pg_runs(
                connection, UNFILTERED, queries, readable_sets, {"hnsw.ef_search": str(ef)}
            )
            rows.append(show(Row(f"filter off: pgvector HNSW ef_search {ef}", lat, found, exact)))
        hnsw_runs = {}
        for ef in args.ef_search:
            lat, found = pg_runs(
                connection, FILTERED, queries, readable_sets, {"hnsw.ef_search": str(ef)}
            )
            hnsw_runs[ef] = (lat, found)
            rows.append(
                show(Row(f"filter on: pgvector HNSW ef_search {ef}", lat, found, exact_filtered))
            )
        exact_lat, exact_found = pg_runs(connection, EXACT, queries, readable_sets, {})
        rows.append(
            show(
                Row(
                    "filter on: pgvector exact scan of the allowed set",
                    exact_lat,
                    exact_found,
                    exact_filtered,
                )
            )
        )
        for ef in args.ef_search:
            lat, found = hnsw_runs[ef]
            both_lat = [
                h + (e if len(f) < K else 0.0)
                for h, e, f in zip(lat, exact_lat, found, strict=True)
            ]
            both_found = [
                f if len(f) == K else ef_ for f, ef_ in zip(found, exact_found, strict=True)
            ]
            rows.append(
                show(
                    Row(
                        f"filter on: pgvector HNSW ef_search {ef}, exact scan when short",
                        both_lat,
                        both_found,
                        exact_filtered,
                    )
                )
            )
        id_lat = []
        for r in readable_sets:
            begin = time.perf_counter()
            connection.execute(
                "SELECT chunk_id FROM chunks WHERE collection_id = ANY(%s)", (r.tolist(),)
            ).fetchall()
            id_lat.append((time.perf_counter() - begin) * 1000)
        rows.append(
            show(
                Row(
                    "filter on: fetch the allowed ids from PostgreSQL (FAISS's input)",
                    id_lat,
                    None,
                    None,
                )
            )
        )
        plans = {
            "HNSW, filter on": explain(
                connection,
                FILTERED,
                (readable_sets[0].tolist(), queries[0]),
                {"hnsw.ef_search": str(args.ef_search[0])},
            ),
            "exact scan, filter on": explain(
                connection, EXACT, (readable_sets[0].tolist(), queries[0]), {}
            ),
        }

    if not args.skip_faiss:
        begin = time.perf_counter()
        ivf = build_ivf(vectors, ids, encoding="SQ8")
        faiss_build = time.perf_counter() - begin
        for nprobe in args.nprobe:
            params = faiss.SearchParametersIVF(nprobe=nprobe)
            lat, found = [], []
            for q in queries:
                t = time.perf_counter()
                _, got = ivf.search(q.reshape(1, -1), K, params=params)
                lat.append((time.perf_counter() - t) * 1000)
                found.append([int(i) for i in got[0] if i != -1])
            name = f"filter off: FAISS IVF{ivf.nlist},SQ8 nprobe {nprobe}"
            rows.append(show(Row(name, lat, found, exact)))
        allowed_ids = [ids[m] for m in allowed_masks]
        for nprobe in args.nprobe:
            lat, found = [], []
            for q, allowed in zip(queries, allowed_ids, strict=True):
                t = time.perf_counter()
                # As FaissIndexStore.search: a selector over the allowed ids, built per search.
                selector_ids = np.ascontiguousarray(allowed, dtype=np.int64)
                selector = faiss.IDSelectorBatch(len(selector_ids), faiss.swig_ptr(selector_ids))
                params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
                _, got = ivf.search(q.reshape(1, -1), K, params=params)
                lat.append((time.perf_counter() - t) * 1000)
                found.append([int(i) for i in got[0] if i != -1])
                del selector
            name = f"filter on: FAISS IVF{ivf.nlist},SQ8 nprobe {nprobe}, IDSelectorBatch"
            rows.append(show(Row(name, lat, found, exact_filtered)))
        print(f"\nFAISS IVF build (train + add): {faiss_build:.0f} s")
    print("\nplans (first query):")
    for name, plan in plans.items():
        print(f"  {name}:\n{plan}")


if __name__ == "__main__":
    main()
