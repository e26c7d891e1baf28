"""Ingestion throughput, side by side in one run (the machine is noisy; compare ratios).

- PDF parsing: pages/s with pypdf in this process, and through the sandboxed child process the
  worker really uses (which adds a Python start-up per document);
- embedding ceiling: the embedder's own batch encode on the document's chunk texts, in chunks/s;
- pipeline: `document_ingest` on the same document (sandboxed parse, chunking in model tokens,
  embedding, database rows, FAISS update and progress updates), in chunks/s, and the same without
  the parse stage. Goal: pipeline >= 0.9 x raw encode.

Usage: .venv/bin/python bench/ingest.py [--pdf PATH] [--parse PDF ...]
Runs on a throw-away data directory and SQLite database.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _django import REPO, setup_throwaway_django

SHARED_DOCS = REPO.parent / "shared" / "docs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, default=SHARED_DOCS / "en" / "fhs-3.0.pdf")
    parser.add_argument("--parse", type=Path, nargs="*", default=None)
    args = parser.parse_args()
    setup_throwaway_django("kbqa-bench-")

    from django.conf import settings
    from django.core.files import File

    from ingestion.models import Document
    from ingestion.parsers import parse_file
    from ingestion.parsers.sandbox import parse_isolated
    from ingestion.services.ingest import document_chunk, document_ingest
    from ingestion.services.uploads import document_create
    from retrieval.retriever import EMBED_BATCH
    from retrieval.services import get_embedder

    parse_paths = args.parse or sorted((SHARED_DOCS / "en").glob("*.pdf"))
    pages = in_process = isolated = 0.0
    for path in parse_paths:
        start = time.perf_counter()
        parsed = parse_file(path)
        in_process += time.perf_counter() - start
        start = time.perf_counter()
        parse_isolated(path, name=path.name, timeout_s=600, memory_mb=settings.KBQA_PARSE_MEMORY_MB)
        isolated += time.perf_counter() - start
        pages += len(parsed.pages)
    print(f"PDF parsing: {len(parse_paths)} files, {pages:.0f} pages")
    print(f"  in process : {pages / in_process:8.1f} pages/s")
    print(f"  sandboxed  : {pages / isolated:8.1f} pages/s (child process per document)")

    embedder = get_embedder()
    texts = [spec.text for spec in document_chunk(parse_file(args.pdf))]
    embedder.embed_documents(texts[:8])  # load the model outside the timings

    start = time.perf_counter()
    for offset in range(0, len(texts), EMBED_BATCH):
        embedder.embed_documents(texts[offset : offset + EMBED_BATCH])
    raw = len(texts) / (time.perf_counter() - start)

    with args.pdf.open("rb") as handle:
        document = document_create(file=File(handle, name=args.pdf.name), enqueue=False)
    start = time.perf_counter()
    document = document_ingest(document_id=document.pk)
    total = time.perf_counter() - start
    assert document.status == Document.Status.INDEXED, document.error
    chunks = document.chunks.count()
    assert chunks == len(texts)
    parse_start = time.perf_counter()
    specs = document_chunk(
        parse_isolated(
            args.pdf,  # the stored original's content, read where it is
            name=args.pdf.name,
            timeout_s=600,
            memory_mb=settings.KBQA_PARSE_MEMORY_MB,
        )
    )
    parse_and_chunk = time.perf_counter() - parse_start
    assert len(specs) == chunks
    pipeline = chunks / total
    after_parse = chunks / max(total - parse_and_chunk, 1e-9)

    print(
        f"Embedding: {args.pdf.name}, {document.page_count} pages, {chunks} chunks, {embedder.name}"
    )
    print(f"  raw batch encode (ceiling)      : {raw:7.1f} chunks/s")
    print(
        f"  pipeline, whole document_ingest : {pipeline:7.1f} chunks/s = {pipeline / raw:.2f} x raw"
    )
    print(
        f"  pipeline without parse+chunking  : {after_parse:7.1f} chunks/s = "
        f"{after_parse / raw:.2f} x raw (parse+chunk took {parse_and_chunk:.1f} s)"
    )


if __name__ == "__main__":
    main()
