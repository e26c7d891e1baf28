"""Retrieval on scanned documents against their text versions, and the PDF without ToUnicode maps
through the real ingestion path.

    python bench/ocr_retrieval.py [--shared ../shared] [--skip-cjk]

1. For each document of `SETS` (one English, one Chinese text PDF from ../shared/docs), the text
   version (its first pages, as pypdf writes them) and a scanned version (those pages rendered at
   150 dpi and wrapped back as an image-only PDF, as a scanner makes it) are each parsed and
   chunked by ingestion's own code (`load_dataset`: the scan goes through OCR), indexed in a
   throw-away index like `manage.py evaluate`, and asked the same questions
   (`bench/ocr_questions/*.jsonl`, written from the text version, gold pages in the evaluation
   format). Prints recall@5 and MRR@10 per retrieval mode side by side, and the parse times.
2. `../shared/docs/hostile/cjk_no_tounicode_lshort-zh-cn.pdf` (139 pages whose text layer is
   mostly mojibake) is uploaded and ingested as the worker does (sandbox, OCR progress, chunks,
   vectors): prints how it ended, the time, the pages OCRed and a sample chunk of Chinese text.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import REPO, setup_throwaway_django

QUESTIONS = Path(__file__).resolve().parent / "ocr_questions"
# (PDF under ../shared/docs, pages taken from its start, questions)
SETS = [
    ("en/fhs-3.0.pdf", 27, "fhs.jsonl"),
    ("zh/fduthesis.pdf", 18, "fduthesis.jsonl"),
]
CJK = "hostile/cjk_no_tounicode_lshort-zh-cn.pdf"
METRICS = ("recall@5", "mrr@10")


def make_sets(source: Path, pages: int, questions: Path, folder: Path) -> dict[str, Path]:
    """Two evaluation sets in the shared format, "text" and "scanned", whose one file has the
    same name, so the same questions and gold pages serve both."""
    from pypdf import PdfReader, PdfWriter

    from tests.fixtures.scans import image_pdf, render_pdf

    sets = {}
    for version in ("text", "scanned"):
        root = folder / f"{source.stem}-{version}"
        (root / "files").mkdir(parents=True)
        (root / "dataset.json").write_text(json.dumps({"name": root.name, "kind": "files"}))
        shutil.copy(questions, root / "queries.jsonl")
        sets[version] = root
    text = sets["text"] / "files" / source.name
    writer = PdfWriter()
    for page in PdfReader(source).pages[:pages]:
        writer.add_page(page)
    writer.write(text)
    image_pdf(sets["scanned"] / "files" / source.name, render_pdf(text, 150), 150)
    return sets


def evaluate(root: Path, cache: Path) -> tuple[dict, int, float]:
    from kbqa.evaluation.datasets import load_dataset
    from kbqa.evaluation.runner import evaluate_retrieval, throwaway_retriever

    started = time.perf_counter()
    dataset = load_dataset(root)
    parse_s = time.perf_counter() - started
    with throwaway_retriever(dataset, cache_dir=cache) as retriever:
        return evaluate_retrieval(dataset, retriever), len(dataset.units), parse_s


def retrieval(shared: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="kbqa-bench-ocr-") as tmp:
        for name, pages, questions in SETS:
            sets = make_sets(shared / "docs" / name, pages, QUESTIONS / questions, Path(tmp))
            runs = {version: evaluate(root, Path(tmp) / "cache") for version, root in sets.items()}
            count = sum(1 for _ in (QUESTIONS / questions).open())
            print(f"\n{name}: first {pages} pages, {count} questions")
            for version, (_, units, parse_s) in runs.items():
                print(f"  {version:<8} {units:>4} chunks, parsed in {parse_s:.1f} s")
            print("| mode | metric | text | scanned (OCR) | difference |")
            print("|---|---|---|---|---|")
            text, scanned = runs["text"][0], runs["scanned"][0]
            for mode in text:
                for metric in METRICS:
                    a, b = text[mode][metric], scanned[mode][metric]
                    print(f"| {mode} | {metric} | {a:.3f} | {b:.3f} | {b - a:+.3f} |")


def cjk(shared: Path) -> None:
    from ingestion.models import Document
    from ingestion.services.ingest import document_ingest
    from tests.ingestion.helpers import create

    path = shared / "docs" / CJK
    document = create(path)
    started = time.perf_counter()
    document = document_ingest(document_id=document.pk)
    took = time.perf_counter() - started
    document.refresh_from_db()
    print(f"\n{path.name}: {document.status} in {took:.0f} s")
    print(f"  pages {document.page_count}, OCR {document.ocr_done}/{document.ocr_total} pages")
    print(f"  notes: {document.notes}")
    if document.status != Document.Status.INDEXED:
        print(f"  error: {document.error}")
        return
    chunks = document.chunks.order_by("ordinal")
    print(f"  chunks {chunks.count()}, of them from OCR {chunks.filter(ocr=True).count()}")
    sample = chunks.filter(ocr=True, page=20).first() or chunks.filter(ocr=True).first()
    print(f"  sample chunk (page {sample.page}, section {sample.section!r}):\n{sample.text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--skip-cjk", action="store_true")
    parser.add_argument("--only-cjk", action="store_true")
    args = parser.parse_args()
    setup_throwaway_django("kbqa-bench-ocr-")
    if not args.only_cjk:
        retrieval(args.shared.resolve())
    if not args.skip_cjk:
        cjk(args.shared.resolve())


if __name__ == "__main__":
    main()
