"""Bytes per chunk of the lexical side in PostgreSQL: chunk text, tsvector and its GIN index.

The vector side's size is measured at 1M by `bench/scale_search.py`; this measures the rest of a
chunk's footprint on real text, so `docs/scale.md` can size 10M and 100M chunks. The corpora are
two shared evaluation sets (`../shared/eval`): SciFact abstracts (English) and RGB news passages
(Chinese), cut into pieces of about `KBQA_CHUNK_TOKENS` (200 e5 tokens: ~900 characters of
English, ~300 of Chinese). Terms are the lexical index's own (`retrieval.lexical.tokenize`: jieba
for Chinese, lower-cased words without stop words), stored as a `simple` tsvector, which is how a
PostgreSQL lexical store keeps BM25's terms. A GIN index compresses better as it grows, so the
per-chunk figure here (tens of thousands of rows) is an upper bound for millions.

    python bench/scale_sizes.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from retrieval.lexical.tokenize import tokenize  # noqa: E402

SETS = {"scifact-train": 900, "rgb-zh-int": 300}  # set → characters a chunk


def chunks(eval_dir: Path, name: str, size: int) -> list[str]:
    out = []
    with open(eval_dir / name / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            passage = json.loads(line)
            text = " ".join(f"{passage.get('title', '')} {passage['text']}".split())
            out.extend(text[i : i + size] for i in range(0, len(text), size))
    return [c for c in out if len(c) > size // 4]


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", default=str(REPO.parent / "shared" / "eval"))
    parser.add_argument("--server", default="/tmp/bench-pgv", help="bin/pgvector-server folder")
    args = parser.parse_args()
    base_url = subprocess.run(
        [sys.executable, str(REPO / "bin" / "pgvector-server"), "start", args.server],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with psycopg.connect(base_url, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = 'sizes'").fetchone():
            connection.execute("CREATE DATABASE sizes")
    url = base_url.rsplit("/", 1)[0] + "/sizes"
    print("| corpus | chunks | text B/chunk | tsvector B/chunk | GIN B/chunk | heap B/chunk |")
    print("|---|---|---|---|---|---|")
    for name, size in SETS.items():
        texts = chunks(Path(args.eval_dir), name, size)
        begin = time.perf_counter()
        terms = [" ".join(tokenize(t)) for t in texts]
        tokenize_s = time.perf_counter() - begin
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("DROP TABLE IF EXISTS lexical")
            connection.execute(
                "CREATE TABLE lexical (id bigint PRIMARY KEY, text text, terms tsvector)"
            )
            with connection.cursor().copy("COPY lexical (id, text) FROM STDIN") as copy:
                for i, text in enumerate(texts):
                    copy.write_row((i, text))
            with connection.cursor() as cursor:
                cursor.execute("CREATE TEMP TABLE t (id bigint, terms text)")
                with cursor.copy("COPY t (id, terms) FROM STDIN") as copy:
                    for i, t in enumerate(terms):
                        copy.write_row((i, t))
                cursor.execute(
                    "UPDATE lexical SET terms = to_tsvector('simple', t.terms) FROM t "
                    "WHERE t.id = lexical.id"
                )
            connection.execute("VACUUM FULL lexical")
            connection.execute("CREATE INDEX lexical_gin ON lexical USING gin (terms)")
            text_b, tsv_b = connection.execute(
                "SELECT avg(pg_column_size(text)), avg(pg_column_size(terms)) FROM lexical"
            ).fetchone()
            gin, heap = connection.execute(
                "SELECT pg_relation_size('lexical_gin'), "
                "pg_table_size('lexical') FROM lexical LIMIT 1"
            ).fetchone()
        n = len(texts)
        print(
            f"| {name} (~{size} chars, tokenize {tokenize_s:.0f} s) | {n:,} | {text_b:.0f} "
            f"| {tsv_b:.0f} | {gin / n:.0f} | {heap / n:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
