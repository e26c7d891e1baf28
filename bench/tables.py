"""Retrieval on a file set (default FinanceBench) with and without table chunks from text PDFs.

    python bench/tables.py [../shared/eval/financebench-dev]

Parses the set's files twice in one run: once as before table extraction (pypdf's text only),
once as ingestion does now (ruled tables as Markdown table chunks), indexes each in a throw-away
index like `manage.py evaluate`, and prints page recall and MRR side by side with the parse time.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import REPO, setup_throwaway_django

METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10")


def run(dataset_path: Path, *, tables: bool, cache: Path) -> tuple[dict, int, int, float]:
    import ingestion.parsers.pdf as pdf
    from kbqa.evaluation.datasets import load_dataset
    from kbqa.evaluation.runner import evaluate_retrieval, throwaway_retriever

    original = pdf.add_tables
    if not tables:
        pdf.add_tables = lambda path, pages, skip: (pages, [])
    try:
        started = time.perf_counter()
        dataset = load_dataset(dataset_path)
        parse_s = time.perf_counter() - started
    finally:
        pdf.add_tables = original
    table_chunks = sum(1 for unit in dataset.units if " | " in unit.text)
    with throwaway_retriever(dataset, cache_dir=cache) as retriever:
        results = evaluate_retrieval(dataset, retriever)
    return results, len(dataset.units), table_chunks, parse_s


def main() -> None:
    dataset_path = Path(
        sys.argv[1] if len(sys.argv) > 1 else REPO.parent / "shared/eval/financebench-dev"
    )
    setup_throwaway_django("kbqa-bench-tables-")
    with tempfile.TemporaryDirectory(prefix="kbqa-bench-cache-") as cache:
        runs = {
            name: run(dataset_path, tables=flag, cache=Path(cache))
            for name, flag in (("text only", False), ("with tables", True))
        }
    print(f"dataset: {dataset_path.name}")
    for name, (_, units, table_chunks, parse_s) in runs.items():
        print(
            f"{name:<12} chunks {units:>5} (table chunks {table_chunks:>4}), parse {parse_s:.1f} s"
        )
    print(f"{'mode':<8}{'metric':<11}" + "".join(f"{name:>13}" for name in runs) + f"{'ratio':>8}")
    before, after = (r[0] for r in runs.values())
    for mode in before:
        for metric in METRICS:
            a, b = before[mode][metric], after[mode][metric]
            ratio = f"{b / a:.2f}" if a else "n/a"
            print(f"{mode:<8}{metric:<11}{a:>13.3f}{b:>13.3f}{ratio:>8}")


if __name__ == "__main__":
    main()
