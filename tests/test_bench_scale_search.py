"""bench/scale_search.py on a small collection, against a real pgvector server: the vectors that
reach PostgreSQL through the hand-built binary COPY are the ones the exact answers were computed
from, the filtered HNSW search comes back short at a small ef_search (why the store needs its
fallback) and complete at a large one, and `--reuse` skips the build."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_bench(url: str, *extra: str) -> str:
    command = [
        sys.executable,
        str(REPO / "bench" / "scale_search.py"),
        "--url",
        url,
        "--n",
        "3000",
        "--queries",
        "20",
        "--collections",
        "50",
        "--ef-search",
        "40",
        "400",
        "--nprobe",
        "8",
        "--maintenance-work-mem",
        "256MB",
        "--build-workers",
        "0",
        *extra,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def rows(output: str) -> dict[str, tuple[str, ...]]:
    """The table's rows: name → (p50, p95, recall@10, results / 10)."""
    table = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.match(r"filter (on|off):", cells[0]):
            table[cells[0]] = tuple(cells[1:])
    return table


def test_scale_search_small(pgvector_url):
    output = run_bench(pgvector_url)
    table = rows(output)
    exact = table["filter on: pgvector exact scan of the allowed set"]
    assert exact[2:] == ("1.000", "10.0"), output
    short = table["filter on: pgvector HNSW ef_search 40"]
    assert float(short[3]) < 10, output  # 40 candidates, ~10 % of them readable
    assert table["filter on: pgvector HNSW ef_search 400"][3] == "10.0", output
    assert float(table["filter off: pgvector HNSW ef_search 400"][2]) >= 0.9, output
    faiss_rows = [v for k, v in table.items() if k.startswith("filter on: FAISS")]
    assert faiss_rows and all(float(r[2]) >= 0.9 and r[3] == "10.0" for r in faiss_rows), output
    assert "Index Scan using items_hnsw" in output  # the filtered query does use the index

    again = run_bench(pgvector_url, "--reuse", "--skip-faiss")
    assert "reusing the database" in again
    assert rows(again)["filter on: pgvector exact scan of the allowed set"][2:] == ("1.000", "10.0")
