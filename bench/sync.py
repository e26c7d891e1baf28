"""Source sync and version swap, measured.

1. An unchanged folder of N files (default 1,000): the second sync's wall time, with the vector
   index's version before and after (no embedding work: it must not move); then the same folder
   with every file touched (new modification times, same content: every file hashed, still no
   new version).
2. A changed PDF of P pages (default 100): the time from the sync that detects the change to the
   new version answering, while a thread searches continuously and counts the searches that saw
   both versions of the document or neither (both must be 0).

Usage: .venv/bin/python bench/sync.py [--files 1000] [--pages 100]
Runs on a throw-away data directory and SQLite database; documents of part 1 are queued, never
ingested (the queue has no worker), which is all an unchanged sync needs.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

from _django import setup_throwaway_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=100)
    args = parser.parse_args()
    data_dir = setup_throwaway_django("kbqa-bench-sync-")
    unchanged_folder(data_dir / "folder", args.files)
    changed_pdf(data_dir / "manuals", args.pages)


def _source(folder: Path, name: str):
    from ingestion.models import Collection, Source

    collection, _ = Collection.objects.get_or_create(name=name)
    return Source.objects.create(
        name=name, kind="folder", collection=collection, options={"path": str(folder)}
    )


def unchanged_folder(folder: Path, files: int) -> None:
    from ingestion.services.sync import source_sync
    from retrieval.services import get_index

    folder.mkdir(parents=True)
    for i in range(files):
        sub = folder / f"dept-{i % 20:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"memo-{i:05d}.txt").write_text(f"Memo {i}. Department {i % 20} rule {i * 7}.")
    source = _source(folder, "folder")
    start = time.perf_counter()
    first = source_sync(source_id=source.pk, inline=False)
    first_s = time.perf_counter() - start
    index_before = get_index().describe()["version"]
    start = time.perf_counter()
    again = source_sync(source_id=source.pk, inline=False)
    again_s = time.perf_counter() - start
    for path in folder.rglob("*.txt"):
        os.utime(path)
    start = time.perf_counter()
    touched = source_sync(source_id=source.pk, inline=False)
    touched_s = time.perf_counter() - start
    index_after = get_index().describe()["version"]
    print(f"Folder of {files} files")
    print(f"  first sync (documents created, queued)  : {first_s:7.2f} s  {first.counts()}")
    print(f"  unchanged sync                          : {again_s:7.2f} s  {again.counts()}")
    print(f"  every file touched, same content        : {touched_s:7.2f} s  {touched.counts()}")
    print(f"  vector index version before/after        : {index_before} / {index_after}")


def changed_pdf(folder: Path, pages: int) -> None:
    from ingestion.models import Document
    from ingestion.passages import search_passages
    from ingestion.services.sync import source_sync
    from tests.fixtures.pdf import make_pdf  # the repo is on the path (setup_throwaway_django)

    def manual(edition: str) -> list[list[str]]:
        return [
            [
                f"Maintenance manual, page {n}.",
                f"Section {n}: the pump model K{n} is serviced every {n % 12 + 1} months.",
                f"Torque for the flange bolts on unit {n} is {40 + n % 9} newton metres.",
                f"This page belongs to the {edition} edition of the manual.",
            ]
            for n in range(1, pages + 1)
        ]

    folder.mkdir(parents=True)
    path = folder / "manual.pdf"
    make_pdf(path, manual("first"))
    source = _source(folder, "manuals")
    start = time.perf_counter()
    source_sync(source_id=source.pk, inline=True)
    first_s = time.perf_counter() - start
    document = Document.objects.get(title="manual")
    chunks = document.chunks.count()

    make_pdf(path, manual("second"))
    query = "flange bolt torque for unit 42 of the manual edition"
    samples: list[set[int]] = []
    first_new: list[float] = []
    done = threading.Event()

    def search() -> None:
        from django.db import connection

        try:
            while not done.is_set():
                hits = search_passages(query=query, k=5, user=None)
                ids = [h.chunk_id for h in hits if h.document_id == document.pk]
                versions = set(
                    document.chunks.filter(pk__in=ids).values_list("version__number", flat=True)
                )
                samples.append(versions)
                if 2 in versions and not first_new:
                    first_new.append(time.perf_counter())
        finally:
            connection.close()

    searcher = threading.Thread(target=search)
    searcher.start()
    time.sleep(1)
    start = time.perf_counter()
    report = source_sync(source_id=source.pk, inline=True)
    synced = time.perf_counter()
    time.sleep(1)
    done.set()
    searcher.join()
    both = sum(1 for s in samples if len(s) > 1)
    neither = sum(1 for s in samples if not s)
    answering = (first_new[0] - start) if first_new else float("nan")
    print(f"Changed PDF of {pages} pages ({chunks} chunks)")
    print(f"  first edition, synced and ingested      : {first_s:7.2f} s")
    print(f"  detection to new version answering     : {answering:7.2f} s  {report.counts()}")
    print(f"  the sync's whole run                    : {synced - start:7.2f} s")
    print(f"  searches during the swap                : {len(samples)}")
    print(f"  saw both versions / saw neither         : {both} / {neither}")


if __name__ == "__main__":
    main()
