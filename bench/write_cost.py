"""Write cost: seconds to add one document (300 chunks) to an index of 10k, 100k and 1M chunks.

The goal (issue 18) is a flat cost, within 2x from 10k to 1M chunks. Vectors are given to the
stores directly (synthetic unit vectors at the bundled embedder's dimension, 384: no embedding),
texts are synthetic chunks of realistic length (about 530 characters; English, Chinese and mixed)
and are tokenised by the store as in production. For each size: build a base of n chunks with the
stores' bulk paths, then time single-document adds (vector and lexical store one after the other,
as `Retriever.replace` writes them) and report the median.

`--backend files` (default) times the segmented stores on disk side by side with the design they
replaced (every write rewrote the whole FAISS index and rebuilt bm25s from `chunks.sqlite3`), run
from git (`--old-rev`) on the same base; it also times the background merge that folds the adds
into the base. `--backend postgres` times PgVectorStore and PostgresBM25Store (namespace
"bench_write"), each add in one transaction, on `--database-url` or on a server that
`bin/pgvector-server` starts.

    python bench/write_cost.py                                   # files, 10k 100k 1M
    python bench/write_cost.py --sizes 10000 --repeats 3         # quick look
    python bench/write_cost.py --backend postgres --sizes 10000 100000

Tokenising a million synthetic chunks with jieba takes over an hour, and is not what is measured:
the files back end's base rows are written to `chunks.sqlite3` with terms cut once from a pool of
texts (halves of two pool chunks per row), then published with the store's bulk path
(`BM25Store.publish`). The timed adds go through `update`, tokenising like production.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing, nullcontext
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# The last commit whose stores rewrote the whole index on every write.
OLD_REV = "8918133"
MODEL = "bench-synthetic"
NAMESPACE = "bench_write"


# -- synthetic data -------------------------------------------------------------------------------
class Corpus:
    """Chunks of realistic length with Zipf-distributed words: 60 % English (about 110 words),
    30 % Chinese (300 characters), 10 % both."""

    def __init__(self, seed: int = 0, dim: int = 384) -> None:
        self.rng = np.random.default_rng(seed)
        self.dim = dim
        syllables = "ka lo mi ten ra vo sel pri on da nu gre fi st par men tor ble ex quo".split()
        self.words = [
            "".join(self.rng.choice(syllables, self.rng.integers(1, 4))) for _ in range(30_000)
        ]
        self.word_p = _zipf(len(self.words), 1.0)
        self.chars = [chr(c) for c in range(0x4E00, 0x4E00 + 3_500)]
        self.char_p = _zipf(len(self.chars), 0.8)

    def text(self) -> str:
        kind = self.rng.random()
        english = " ".join(self.rng.choice(self.words, 110, p=self.word_p))
        chinese = "".join(self.rng.choice(self.chars, 300, p=self.char_p))
        if kind < 0.6:
            return english
        return chinese if kind < 0.9 else f"{english[:350]} {chinese[:150]}"

    def texts(self, n: int) -> list[str]:
        return [self.text() for _ in range(n)]

    def vectors(self, n: int) -> np.ndarray:
        out = np.empty((n, self.dim), dtype=np.float32)
        for start in range(0, n, 100_000):
            block = self.rng.standard_normal((min(100_000, n - start), self.dim), dtype=np.float32)
            out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out


def _zipf(n: int, exponent: float) -> np.ndarray:
    weights = 1 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def time_adds(
    vector_store, lexical_store, documents: list, first_id: int, transaction=nullcontext
) -> tuple[float, float, float]:
    """Add each of `documents` ((vectors, texts)) under new ids from `first_id`, vector store
    then lexical store, each document in one `transaction()`; median seconds of (vector store,
    lexical store, the whole add)."""
    vector, lexical, total = [], [], []
    for number, (vectors, texts) in enumerate(documents):
        ids = np.arange(len(texts), dtype=np.int64) + first_id + number * len(texts)
        begin = time.perf_counter()
        with transaction():
            vector_store.update(model=MODEL, add_ids=ids, vectors=vectors)
            middle = time.perf_counter()
            lexical_store.update(add_ids=ids.tolist(), texts=texts)
            lexical.append(time.perf_counter() - middle)
        vector.append(middle - begin)
        total.append(time.perf_counter() - begin)
    return statistics.median(vector), statistics.median(lexical), statistics.median(total)


# -- files ----------------------------------------------------------------------------------------
def old_module(rev: str, path: str, name: str):
    """A module as it was at `rev`, imported under another name beside today's."""
    source = subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    exec(compile(source, f"{rev}:{path}", "exec"), module.__dict__)
    return module


def bulk_lexical_base(store, ids: np.ndarray, pool: list[list[str]]) -> None:
    """Rows for `ids` straight into `chunks.sqlite3`, each with the terms of halves of two `pool`
    texts (cut once), then one bulk publish (module docstring)."""
    rng = np.random.default_rng(1)
    with closing(store._db()) as db, db:
        for start in range(0, len(ids), 50_000):
            rows = []
            for chunk_id in ids[start : start + 50_000]:
                a, b = rng.integers(0, len(pool), 2)
                terms = " ".join(pool[a][: len(pool[a]) // 2] + pool[b][len(pool[b]) // 2 :])
                rows.append((int(chunk_id), terms, terms))
            db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?)", rows)
    store.publish()


def run_files(args, corpus: Corpus) -> list[tuple]:
    import faiss

    from retrieval.index.faiss_store import FaissIndexStore
    from retrieval.lexical.bm25_store import BM25Store

    faiss.omp_set_num_threads(args.threads)
    old_faiss = old_bm25 = None
    if args.old_repeats:
        old_faiss = old_module(args.old_rev, "retrieval/index/faiss_store.py", "old_faiss_store")
        old_bm25 = old_module(args.old_rev, "retrieval/lexical/bm25_store.py", "old_bm25_store")
    from retrieval.lexical.tokenize import tokenize

    pool = [tokenize(t) for t in corpus.texts(args.pool)]
    rows = []
    for n in args.sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"write-cost-{n}-", dir=args.tmp))
        try:
            vectors = FaissIndexStore(str(folder / "faiss"))
            lexical = BM25Store(str(folder / "bm25"))
            ids = np.arange(n, dtype=np.int64) + 1_000
            begin = time.perf_counter()
            vectors.update(model=MODEL, add_ids=ids, vectors=corpus.vectors(n))
            vector_build = time.perf_counter() - begin
            begin = time.perf_counter()
            bulk_lexical_base(lexical, ids, pool)
            lexical_build = time.perf_counter() - begin
            print(
                f"  n={n}: base built (vectors {vector_build:.0f} s, "
                f"{type(vectors._current().index).__name__}; BM25 {lexical_build:.0f} s)",
                flush=True,
            )
            documents = [
                (corpus.vectors(args.chunks), corpus.texts(args.chunks))
                for _ in range(max(args.repeats, args.old_repeats))
            ]
            first = n + 10_000
            added = time_adds(vectors, lexical, documents[: args.repeats], first)
            begin = time.perf_counter()
            vectors.merge()
            middle = time.perf_counter()
            lexical.merge()
            merge = (middle - begin, time.perf_counter() - middle)
            rows.append(("segments", n, *added, merge))
            _print_row(rows[-1])
            if old_faiss is not None and n <= args.old_max:
                added = time_adds(
                    old_faiss.FaissIndexStore(str(folder / "faiss")),
                    old_bm25.BM25Store(str(folder / "bm25")),
                    documents[: args.old_repeats],
                    first + len(documents) * args.chunks,
                )
                rows.append((f"old ({args.old_rev})", n, *added, None))
                _print_row(rows[-1])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return rows


# -- postgres -------------------------------------------------------------------------------------
def postgres_url(args) -> tuple[str, Path | None]:
    if args.database_url:
        return args.database_url, None
    folder = Path(tempfile.mkdtemp(prefix="write-cost-pgv-"))
    started = subprocess.run(
        [sys.executable, str(REPO / "bin" / "pgvector-server"), "start", str(folder)],
        capture_output=True,
        text=True,
    )
    if started.returncode != 0:
        sys.exit(f"bin/pgvector-server could not start a server:\n{started.stderr}")
    return started.stdout.strip().splitlines()[-1], folder


POSTGRES_STORES = ("retrieval.index.pgvector_store", "retrieval.lexical.postgres_store")


def run_postgres(args, corpus: Corpus) -> list[tuple]:
    missing = [name for name in POSTGRES_STORES if importlib.util.find_spec(name) is None]
    if missing:
        sys.exit(
            f"--backend postgres needs {' and '.join(missing)} (issue 18's PostgreSQL back ends), "
            "which this checkout does not have."
        )
    url, server = postgres_url(args)
    try:
        setup_django(url)
        from django.db import transaction

        from retrieval.index.pgvector_store import PgVectorStore
        from retrieval.lexical.postgres_store import PostgresBM25Store

        vectors = PgVectorStore(namespace=NAMESPACE, build_memory="2GB")
        lexical = PostgresBM25Store(namespace=NAMESPACE)
        rows = []
        for n in args.sizes:
            with transaction.atomic():
                vectors.clear()
                lexical.clear()
            begin = time.perf_counter()
            texts = corpus.texts(args.pool)
            # The base as `rebuild_index` makes one: vectors beside, the HNSW graph built once at
            # the switch (growing it row by row to 1M takes hours); the lexical rows in batches.
            build = vectors.build_beside(model=MODEL)
            for start in range(0, n, args.batch):
                ids = np.arange(start, min(n, start + args.batch), dtype=np.int64) + 1_000
                build.add(ids, corpus.vectors(len(ids)))
                with transaction.atomic():
                    lexical.update(add_ids=ids.tolist(), texts=[texts[i % len(texts)] for i in ids])
            build.switch()
            print(f"  n={n}: base built in {time.perf_counter() - begin:.0f} s", flush=True)
            documents = [
                (corpus.vectors(args.chunks), corpus.texts(args.chunks))
                for _ in range(args.repeats)
            ]
            added = time_adds(vectors, lexical, documents, n + 10_000, transaction.atomic)
            rows.append(("postgres", n, *added, None))
            _print_row(rows[-1])
        with transaction.atomic():
            vectors.clear()
            lexical.clear()
        return rows
    finally:
        if server is not None:
            subprocess.run(
                [sys.executable, str(REPO / "bin" / "pgvector-server"), "stop", str(server)]
            )
            shutil.rmtree(server, ignore_errors=True)


def setup_django(url: str) -> None:
    """Django on the PostgreSQL back ends over `url`, with a throw-away data directory (unlike
    `bench._django`, which benchmarks on SQLite)."""
    os.environ.update(
        DATABASE_URL=url,
        KBQA_INDEX_BACKEND="postgres",
        KBQA_DATA_DIR=tempfile.mkdtemp(prefix="write-cost-data-"),
        KBQA_MODEL_DIR=os.environ.get("KBQA_MODEL_DIR", str(REPO / "var" / "models")),
        KBQA_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="kbqa.settings.local",
    )
    os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


# -- report ---------------------------------------------------------------------------------------
def _medians(timings: dict) -> tuple[float, float]:
    return statistics.median(timings["vector"]), statistics.median(timings["lexical"])


def _print_row(row: tuple) -> None:
    design, n, vector, lexical, total, merge = row
    merged = "" if merge is None else f"{merge[0]:>9.2f} {merge[1]:>9.2f}"
    print(f"{design:<16} {n:>9} {vector:>9.3f} {lexical:>9.3f} {total:>9.3f} {merged}", flush=True)


def print_table(rows: list[tuple]) -> None:
    print(
        "\n| design | chunks | vector s | BM25 s | add s | × smallest | merge s (vector / BM25) |"
    )
    print("|---|---|---|---|---|---|---|")
    smallest: dict[str, float] = {}
    for design, n, vector, lexical, total, merge in rows:
        base = smallest.setdefault(design, total)
        merged = "–" if merge is None else f"{merge[0]:.1f} / {merge[1]:.1f}"
        print(
            f"| {design} | {n:,} | {vector:.3f} | {lexical:.3f} | {total:.3f} | "
            f"{total / base:.1f}× | {merged} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("files", "postgres"), default="files")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--chunks", type=int, default=300, help="chunks in the added document")
    parser.add_argument("--repeats", type=int, default=5, help="timed adds per size (median)")
    parser.add_argument(
        "--old-repeats",
        type=int,
        default=1,
        help="files: timed adds with the old design (0: skip it; a 1M BM25 rebuild takes minutes)",
    )
    parser.add_argument(
        "--old-max",
        type=int,
        default=100_000,
        help="files: largest index the old design is timed on (at 1M its bm25s rebuild needs "
        "over 12 GB: it was OOM-killed on the 24 GiB CI machine)",
    )
    parser.add_argument("--old-rev", default=OLD_REV, help="files: the commit of the old design")
    parser.add_argument("--dim", type=int, default=384, help="default embedder: e5-small, 384")
    parser.add_argument("--pool", type=int, default=20_000, help="distinct texts the base reuses")
    parser.add_argument("--threads", type=int, default=2, help="FAISS threads (deployment: 2)")
    parser.add_argument("--batch", type=int, default=5_000, help="postgres: base rows per write")
    parser.add_argument("--database-url", help="postgres: a server with pgvector (else started)")
    parser.add_argument("--tmp", help="files: where to build the indexes (default: $TMPDIR)")
    args = parser.parse_args()
    corpus = Corpus(dim=args.dim)
    print(
        f"backend={args.backend} chunks per document={args.chunks} dim={args.dim} "
        f"repeats={args.repeats} sizes={args.sizes}"
    )
    print(f"{'design':<16} {'n':>9} {'vector_s':>9} {'bm25_s':>9} {'add_s':>9} {'merge_s':>19}")
    rows = run_files(args, corpus) if args.backend == "files" else run_postgres(args, corpus)
    print_table(rows)


if __name__ == "__main__":
    main()
