"""The worker's side of ingestion: parse, chunk, embed and index one document, or fail it with a
reason.

`document_ingest` is safe to run any number of times for the same document (a Celery redelivery, a
restarted worker, a manual re-run): it always ends with exactly one set of chunks and vectors.
Two runs for the same document never overlap, on any machine: each holds an exclusive lock on the
document (a PostgreSQL advisory lock, or a lock file on SQLite; released if the process dies), and a
second run raises DocumentBusy so Celery retries it later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from infra.locks import exclusive
from infra.storage import local_file
from ingestion.chunking import ChunkSpec, chunk_document
from ingestion.models import SEARCHABLE_CHUNKS, Chunk, Document, DocumentVersion
from ingestion.parsers import ParsedDocument, ParseError
from retrieval.services import (
    get_embedder,
    index_embed,
    index_in_database,
    index_replace,
    index_write,
)

logger = logging.getLogger(__name__)
State = Document.Status
VersionState = DocumentVersion.Status


class TransientIngestError(Exception):
    """Worth retrying later: the document is busy in another run, or the database blinked."""


class DocumentBusy(TransientIngestError):
    pass


class DocumentGone(Exception):
    """The document was deleted while it was being ingested."""


@contextmanager
def document_lock(document_id: int) -> Iterator[None]:
    """An exclusive, non-blocking lock on one document's ingestion, held against every worker
    on every machine that shares the database (infra.locks.exclusive)."""
    busy = DocumentBusy(f"Document {document_id} is being ingested by another run")
    with exclusive(f"document-{document_id}", busy):
        yield


def _set_state(document: Document, status: str, **fields) -> None:
    """Update the row (not `save()`: the document may have been deleted meanwhile)."""
    updated = Document.objects.filter(pk=document.pk).update(
        status=status, updated_at=timezone.now(), **fields
    )
    if not updated:
        raise DocumentGone(document.pk)
    document.status = status
    for name, value in fields.items():
        setattr(document, name, value)


def parse_document(
    path: Path, *, name: str, on_progress: Callable[[int, int], None] | None = None
) -> ParsedDocument:
    """Parse in the sandbox; `on_progress(done, total)` follows the pages it OCRs."""
    from ingestion.parsers.sandbox import parse_isolated

    return parse_isolated(
        path,
        name=name,
        timeout_s=settings.KBQA_PARSE_TIMEOUT_S,
        memory_mb=settings.KBQA_PARSE_MEMORY_MB,
        ocr=settings.KBQA_OCR,
        ocr_page_s=settings.KBQA_OCR_PAGE_S,
        on_progress=on_progress,
    )


def parse_stored(
    file: FieldFile, *, on_progress: Callable[[int, int], None] | None = None
) -> ParsedDocument:
    """Parse a stored original wherever the store keeps it (uploaded on another machine, in an
    S3 bucket): the sandbox's child reads a local copy. FileNotFoundError when it is gone."""
    with local_file(file.storage, file.name) as path:
        return parse_document(path, name=file.name, on_progress=on_progress)


HEADER_CHARS = 160  # the most of a chunk's context header (title › section) that is indexed
HEADER_TOKENS = 48  # embedder tokens kept free for it


def indexed_text(*, title: str, section: str, text: str, kind: str = "text") -> str:
    """What the indexes hold for a chunk: its text under a header naming the document and
    section. A passage of a long report ("Net sales rose 4 %") rarely repeats what it is about
    (which company, which year, which part); questions name exactly that, so BM25 and the
    embedder both need it in every chunk. File-name titles read as words ("AMCOR_2023_10K" →
    "AMCOR 2023 10K"). Citations and prompts show the chunk's own text, never the header."""
    title = " ".join(title.replace("_", " ").split())
    if kind == "table":
        text = table_words(text)
    header = " › ".join(part for part in (title, " ".join(section.split())) if part)
    if len(header) > HEADER_CHARS:
        header = header[: HEADER_CHARS - 1] + "…"
    return f"{header}\n{text}" if header else text


def table_words(markdown: str) -> str:
    """A table chunk as the indexes read it: its rows as lines of cells, without Markdown's
    pipes at the ends and its `|---|` rule, which are noise to the embedder's tokens and to BM25."""
    lines = []
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if all(set(cell) <= set("-: ") for cell in cells):
            continue
        lines.append(" | ".join(cell for cell in cells if cell))
    return "\n".join(lines)


def chunk_budget() -> tuple[int, int]:
    """(max tokens, overlap tokens): the configured budget, capped by what the embedder reads (its
    limit includes two special tokens) less room for the chunk's context header."""
    max_tokens = min(settings.KBQA_CHUNK_TOKENS, get_embedder().max_tokens - 2 - HEADER_TOKENS)
    return max_tokens, min(settings.KBQA_CHUNK_OVERLAP_TOKENS, max_tokens // 2)


def document_chunk(parsed: ParsedDocument) -> list[ChunkSpec]:
    max_tokens, overlap_tokens = chunk_budget()
    return chunk_document(
        parsed.pages,
        parsed.headings,
        max_tokens=max_tokens,
        overlap_tokens=overlap_tokens,
        count_tokens=get_embedder().count_tokens,
        tables=parsed.tables,
        ocr_pages=parsed.ocr_pages,
        boxes=parsed.boxes,
        page_labels=parsed.page_labels,
    )


def document_ingest(*, document_id: int, worker: str = "") -> Document:
    """Parse, chunk, embed and index one document (its current version); ends `indexed`, or
    `failed` with a reason.

    Raises Document.DoesNotExist when there is no such document, and TransientIngestError when a
    later retry may succeed.
    """
    with document_lock(document_id):
        document = Document.objects.select_related("current_version").get(pk=document_id)
        with failures_reported(lambda error: _fail(document, error), f"document {document_id}"):
            _ingest_steps(document, worker)
    return document


@contextmanager
def failures_reported(fail: Callable[[ParseError], None], what: str) -> Iterator[None]:
    """Turn whatever stops an ingestion into `fail(reason)`, except a deletion meanwhile (nothing
    left to fail) and a database blip (TransientIngestError: retry later)."""
    try:
        yield
    except DocumentGone:
        logger.info("The document of %s was deleted during ingestion", what)
    except (OperationalError, InterfaceError) as exc:
        raise TransientIngestError(f"Database unavailable: {exc}") from exc
    except ParseError as exc:
        fail(exc)
    except FileNotFoundError:
        fail(
            ParseError(
                "The uploaded file is missing from storage; upload it again.", "file_missing"
            )
        )
    except Exception as exc:
        logger.exception("Ingestion of %s failed", what)
        detail = f"{type(exc).__name__}: {exc}"
        fail(ParseError(f"Ingestion failed unexpectedly: {detail}", "unexpected", detail=detail))


def _ingest_steps(document: Document, worker: str) -> None:
    version = document.current_version
    if version is None:  # only a row made by hand: give it its file as version 1
        version = DocumentVersion.objects.create(
            document=document, number=1, file=document.file.name, status=VersionState.CURRENT
        )
        Document.objects.filter(pk=document.pk).update(current_version=version)
    _set_state(
        document, State.PARSING, progress=0, error="", error_code="", error_params={}, notes="",
        worker=worker, ocr_total=0, ocr_done=0,
    )  # fmt: skip

    def on_ocr(done: int, total: int) -> None:
        # Stops the parse (the sandbox kills its child) when the document was deleted meanwhile.
        percent = done * 100 // max(total, 1)
        _set_state(document, State.PARSING, ocr_done=done, ocr_total=total, progress=percent)

    parsed = parse_stored(version.file, on_progress=on_ocr)
    specs = parsed_chunks(parsed)
    notes = "\n".join(parsed.notes)
    _set_state(
        document, State.EMBEDDING, notes=notes, page_count=len(parsed.pages), progress=0,
    )  # fmt: skip

    def on_progress(done: int, total: int) -> None:
        Document.objects.filter(pk=document.pk).update(progress=min(99, done * 100 // total))

    replace_chunks(document, version, specs, on_progress=on_progress)
    _set_state(document, State.INDEXED, progress=100)
    DocumentVersion.objects.filter(pk=version.pk).update(
        status=VersionState.CURRENT, indexed_at=timezone.now(), page_count=len(parsed.pages),
        notes=notes, error="", error_code="", error_params={},
    )  # fmt: skip


def parsed_chunks(parsed: ParsedDocument) -> list[ChunkSpec]:
    specs = document_chunk(parsed)
    if not specs:
        raise ParseError("The file contains no text.", "no_text")
    return specs


def replace_chunks(
    document: Document,
    version: DocumentVersion,
    specs: list[ChunkSpec],
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> None:
    """Swap the version's chunks and vectors. The version is marked `in_index` before any vector
    is added, so search can hide vectors of a version that is not (or no longer) the current one.

    With the indexes in the database, the chunks are embedded first (seconds, outside any
    transaction), then one transaction deletes the old rows, creates the new ones and writes
    their vectors and lexical rows: chunks and index never disagree, whatever a crash interrupts.
    With the indexes on disk, old vectors go first, so whatever step a crash interrupts, a re-run
    finds only rows whose vectors it can remove and re-add: no vector is ever left behind without
    its chunk."""
    chunks = [
        Chunk(
            document=document,
            version=version,
            ordinal=ordinal,
            text=spec.text,
            section=spec.section[:1000],
            page=spec.page,
            page_end=spec.page_end,
            char_start=spec.char_start,
            char_end=spec.char_end,
            kind=spec.kind,
            rows=spec.rows,
            ocr=spec.ocr,
            page_label=spec.page_label[:200],
            boxes=[list(box) for box in spec.boxes],
        )
        for ordinal, spec in enumerate(specs)
    ]
    title = document.title or Path(version.file.name).stem
    texts = [indexed_text(title=title, section=c.section, text=c.text, kind=c.kind) for c in chunks]
    if index_in_database():
        vectors = index_embed(texts, on_progress=on_progress)
        with transaction.atomic():
            old_ids = _swap_rows(document, version, chunks)
            ids = [chunk.pk for chunk in chunks]
            index_write(remove_ids=old_ids, add_ids=ids, texts=texts, vectors=vectors)
        return
    old_ids = list(version.chunks.values_list("id", flat=True))
    if old_ids:
        index_replace(remove_ids=old_ids, add_ids=[], texts=[])
    with transaction.atomic():
        _swap_rows(document, version, chunks)
    ids = [chunk.pk for chunk in chunks]
    index_replace(remove_ids=[], add_ids=ids, texts=texts, on_progress=on_progress)
    if not Document.objects.filter(pk=document.pk).exists():
        # Deleted while embedding: its delete removed only the vectors it could see.
        index_replace(remove_ids=ids, add_ids=[], texts=[])
        raise DocumentGone(document.pk)


def _swap_rows(document: Document, version: DocumentVersion, chunks: list[Chunk]) -> list[int]:
    """Inside a transaction: replace the version's chunk rows with `chunks` (their ids set) unless
    the document is gone; returns the old rows' ids."""
    if not Document.objects.select_for_update().filter(pk=document.pk).exists():
        raise DocumentGone(document.pk)
    old_ids = list(version.chunks.values_list("id", flat=True))
    version.chunks.all().delete()
    DocumentVersion.objects.filter(pk=version.pk).update(in_index=True)
    Chunk.objects.bulk_create(chunks)
    return old_ids


def remove_version_chunks(version: DocumentVersion, *, delete_rows: bool) -> None:
    """Take a version's vectors out of the index (and, with `delete_rows`, its chunk rows); in one
    transaction with the rows when the indexes are in the database."""
    with transaction.atomic() if index_in_database() else nullcontext():
        chunk_ids = list(version.chunks.values_list("id", flat=True))
        if chunk_ids:
            index_write(remove_ids=chunk_ids)
        if delete_rows:
            version.chunks.all().delete()
        DocumentVersion.objects.filter(pk=version.pk).update(in_index=False)


def document_mark_failed(*, document_id: int, reason: str) -> None:
    """Give up on a document whose ingestion kept failing for transient reasons."""
    document = Document.objects.filter(pk=document_id).first()
    if document is not None:
        _fail(document, ParseError(f"Gave up: {reason}", "gave_up", detail=reason))


def _fail(document: Document, error: ParseError) -> None:
    """A failed document is not searchable: its chunks and vectors go, its reason stays."""
    logger.warning("Document %s failed: %s", document.pk, error)
    version = document.current_version
    if version is not None:
        try:
            remove_version_chunks(version, delete_rows=True)
        except Exception:
            logger.exception("Could not remove the vectors of failed document %s", document.pk)
    try:
        _set_state(
            document, State.FAILED, error=str(error), error_code=error.code,
            error_params=error.params, progress=0,
        )  # fmt: skip
    except DocumentGone:
        pass


def index_rebuild_from_database(*, on_progress=None) -> int:
    """Rebuild the vector and BM25 indexes from the chunks of indexed documents; returns the
    number of chunks indexed."""
    from retrieval.services import index_rebuild

    rows = Chunk.objects.filter(SEARCHABLE_CHUNKS).order_by("pk")
    total = rows.count()
    texts = (
        (pk, indexed_text(title=title or Path(name).stem, section=section, text=text, kind=kind))
        for pk, title, name, section, text, kind in rows.values_list(
            "pk", "document__title", "document__file", "section", "text", "kind"
        ).iterator(chunk_size=1000)
    )
    return index_rebuild(
        chunks=texts,
        on_progress=(lambda done: on_progress(done, total)) if on_progress else None,
    )
