"""Ingestion services: create, ingest, re-index and delete documents.

`document_ingest` is safe to run any number of times for the same document (a Celery redelivery, a
restarted worker, a manual re-run): it always ends with exactly one set of chunks and vectors.
Two runs for the same document never overlap: each holds an exclusive lock file for the document
(released by the kernel if the process dies), and a second run raises DocumentBusy so Celery retries
it later.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import InterfaceError, OperationalError, transaction

from ingestion.chunking import ChunkSpec, chunk_document
from ingestion.models import Chunk, Collection, Document
from ingestion.parsers import SUPPORTED_SUFFIXES, ParsedDocument, ParseError, unsupported_message
from retrieval.services import get_embedder, index_replace

logger = logging.getLogger(__name__)
State = Document.Status


class TransientIngestError(Exception):
    """Worth retrying later: the document is busy in another run, or the database blinked."""


class DocumentBusy(TransientIngestError):
    pass


class DocumentGone(Exception):
    """The document was deleted while it was being ingested."""


class DuplicateDocument(Exception):
    def __init__(self, existing: Document) -> None:
        super().__init__(f"Identical to document {existing.pk} ({existing})")
        self.existing = existing


def file_sha256(file: File) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for block in file.chunks():
        digest.update(block)
    file.seek(0)
    return digest.hexdigest()


def validate_upload_name(name: str) -> None:
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ValidationError(unsupported_message(suffix))


def clean_upload_name(name: str) -> str:
    """A safe base name for an uploaded file: no directories (either slash; browsers on Windows may
    send a full path), no control or invisible formatting characters, no leading dots (hidden
    files), Unicode normalised, at most 200 characters with the extension kept."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    stem, dot, suffix = name.rpartition(".")
    if dot and len(suffix) <= 10:
        return f"{stem[: 200 - len(suffix) - 1].strip()}.{suffix}" if stem else f"upload.{suffix}"
    return name[:200] or "upload"


def validate_upload_content(file: File, name: str) -> None:
    """The content must agree with the extension (a ZIP or an executable named .pdf is refused
    here, before it is stored, with the reason)."""
    from ingestion.parsers.sniff import check_head

    file.seek(0)
    head = file.read(2048)
    file.seek(0)
    try:
        check_head(head, Path(name).suffix.lower())
    except ParseError as exc:
        raise ValidationError(str(exc)) from None


def validate_upload_size(size: int | None) -> None:
    limit = settings.KBQA_MAX_UPLOAD_MB * 1024 * 1024
    if size == 0:
        raise ValidationError("The file is empty (0 bytes).")
    if size is not None and size > limit:
        raise ValidationError(
            f"The file is {size / 1024 / 1024:.1f} MB; the upload limit is "
            f"{settings.KBQA_MAX_UPLOAD_MB} MB."
        )


def document_create(
    *,
    file: File,
    title: str = "",
    uploaded_by=None,
    collection: Collection | None = None,
    enqueue: bool = True,
) -> Document:
    """Store an upload as `uploaded` and, unless the caller ingests it itself, queue it once the row
    is committed. Raises DuplicateDocument when a file with the same SHA-256 is already stored."""
    name = clean_upload_name(file.name or "upload")
    validate_upload_name(name)
    validate_upload_size(file.size)
    validate_upload_content(file, name)
    sha256 = file_sha256(file)
    existing = Document.objects.filter(sha256=sha256).order_by("pk").first()
    if existing is not None:
        raise DuplicateDocument(existing)
    document = Document(
        title=title or Path(name).stem,
        sha256=sha256,
        uploaded_by=uploaded_by,
        collection=collection or Collection.objects.default(),
    )
    document.file.save(name, file, save=False)
    document.save()
    if enqueue:
        document_enqueue(document=document)
    return document


def document_enqueue(*, document: Document) -> None:
    """Queue (or re-queue: retry, re-index) ingestion after the current transaction commits."""
    from ingestion.tasks import ingest_document_task

    document_id = document.pk
    Document.objects.filter(pk=document_id).update(status=State.QUEUED, progress=0, error="")
    document.status, document.progress, document.error = State.QUEUED, 0, ""
    transaction.on_commit(lambda: ingest_document_task.delay(document_id))


class DocumentInProgress(Exception):
    """Re-indexing was asked for a document whose ingestion is still under way."""


def document_reindex(*, document: Document) -> None:
    """Parse, chunk and embed again: a retry of a failed document or a refresh of an indexed one.
    Refused while an ingestion is queued or running, so one click twice queues one run."""
    if document.status in Document.IN_PROGRESS:
        raise DocumentInProgress(f"“{document}” is already being ingested ({document.status}).")
    document_enqueue(document=document)


def documents_recover_interrupted(*, worker: str) -> list[int]:
    """Re-queue documents that `worker` (a Celery node name) was ingesting when it died.

    Called when a worker starts: a node name is unique among running workers, so a document still
    marked as being parsed or embedded by this very name lost its worker. (Redis would redeliver the
    unacked message too, but only after its visibility timeout, an hour by default; the redelivery
    then re-runs an idempotent ingestion.)
    """
    ids = list(
        Document.objects.filter(
            worker=worker, status__in=[State.PARSING, State.EMBEDDING]
        ).values_list("pk", flat=True)
    )
    for document in Document.objects.filter(pk__in=ids):
        logger.warning("Re-queueing document %s interrupted on %s", document.pk, worker)
        document_enqueue(document=document)
    return ids


def document_delete(*, document: Document) -> None:
    """Remove a document with its chunks, vectors and stored file.

    The row is locked while its chunk ids are read and deleted, and the vectors are removed after
    the commit: an ingestion that swaps chunks concurrently either ran first (its chunk ids are
    seen here) or finds the document gone and removes its own vectors.
    """
    with transaction.atomic():
        locked = Document.objects.select_for_update().filter(pk=document.pk).first()
        if locked is None:
            return
        chunk_ids = list(locked.chunks.values_list("id", flat=True))
        storage, name = locked.file.storage, locked.file.name
        locked.delete()

    def cleanup() -> None:
        if chunk_ids:
            index_replace(remove_ids=chunk_ids, add_ids=[], texts=[])
        if name:
            storage.delete(name)

    transaction.on_commit(cleanup)


@contextmanager
def document_lock(document_id: int) -> Iterator[None]:
    """An exclusive, non-blocking lock on one document's ingestion, on the shared data volume (the
    same assumption the FAISS store's write lock makes)."""
    directory = Path(settings.DATA_DIR) / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"document-{document_id}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DocumentBusy(f"Document {document_id} is being ingested by another run") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _set_state(document: Document, status: str, **fields) -> None:
    """Update the row (not `save()`: the document may have been deleted meanwhile)."""
    if not Document.objects.filter(pk=document.pk).update(status=status, **fields):
        raise DocumentGone(document.pk)
    document.status = status
    for name, value in fields.items():
        setattr(document, name, value)


def parse_document(path: Path, *, name: str) -> ParsedDocument:
    from ingestion.parsers.sandbox import parse_isolated

    return parse_isolated(
        path,
        name=name,
        timeout_s=settings.KBQA_PARSE_TIMEOUT_S,
        memory_mb=settings.KBQA_PARSE_MEMORY_MB,
    )


HEADER_CHARS = 160  # the most of a chunk's context header (title › section) that is indexed
HEADER_TOKENS = 48  # embedder tokens kept free for it


def indexed_text(*, title: str, section: str, text: str) -> str:
    """What the indexes hold for a chunk: its text under a header naming the document and
    section. A passage of a long report ("Net sales rose 4 %") rarely repeats what it is about
    (which company, which year, which part); questions name exactly that, so BM25 and the
    embedder both need it in every chunk. File-name titles read as words ("AMCOR_2023_10K" →
    "AMCOR 2023 10K"). Citations and prompts show the chunk's own text, never the header."""
    title = " ".join(title.replace("_", " ").split())
    header = " › ".join(part for part in (title, " ".join(section.split())) if part)
    if len(header) > HEADER_CHARS:
        header = header[: HEADER_CHARS - 1] + "…"
    return f"{header}\n{text}" if header else text


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
    )


def document_ingest(*, document_id: int, worker: str = "") -> Document:
    """Parse, chunk, embed and index one document; ends `indexed`, or `failed` with a reason.

    Raises Document.DoesNotExist when there is no such document, and TransientIngestError when a
    later retry may succeed.
    """
    with document_lock(document_id):
        document = Document.objects.get(pk=document_id)
        try:
            _ingest_steps(document, worker)
        except DocumentGone:
            logger.info("Document %s was deleted during ingestion", document_id)
        except (OperationalError, InterfaceError) as exc:
            raise TransientIngestError(f"Database unavailable: {exc}") from exc
        except ParseError as exc:
            _fail(document, str(exc))
        except FileNotFoundError:
            _fail(document, "The uploaded file is missing from storage; upload it again.")
        except Exception as exc:
            logger.exception("Ingestion of document %s failed", document_id)
            _fail(document, f"Ingestion failed unexpectedly: {type(exc).__name__}: {exc}")
    return document


def _ingest_steps(document: Document, worker: str) -> None:
    _set_state(document, State.PARSING, progress=0, error="", notes="", worker=worker)
    parsed = parse_document(Path(document.file.path), name=document.file.name)
    specs = document_chunk(parsed)
    if not specs:
        raise ParseError("The file contains no text.")
    _set_state(
        document, State.EMBEDDING, notes="\n".join(parsed.notes), page_count=len(parsed.pages)
    )
    _replace_chunks(document, specs)
    _set_state(document, State.INDEXED, progress=100)


def _replace_chunks(document: Document, specs: list[ChunkSpec]) -> None:
    """Swap the document's chunks and vectors. Old vectors go first, so whatever step a crash
    interrupts, a re-run finds only rows whose vectors it can remove and re-add: no vector is ever
    left behind without its chunk."""
    old_ids = list(document.chunks.values_list("id", flat=True))
    if old_ids:
        index_replace(remove_ids=old_ids, add_ids=[], texts=[])
    with transaction.atomic():
        if not Document.objects.select_for_update().filter(pk=document.pk).exists():
            raise DocumentGone(document.pk)
        document.chunks.all().delete()
        chunks = Chunk.objects.bulk_create(
            Chunk(
                document=document,
                ordinal=ordinal,
                text=spec.text,
                section=spec.section[:1000],
                page=spec.page,
                page_end=spec.page_end,
                char_start=spec.char_start,
                char_end=spec.char_end,
            )
            for ordinal, spec in enumerate(specs)
        )
    ids = [chunk.pk for chunk in chunks]

    def on_progress(done: int, total: int) -> None:
        Document.objects.filter(pk=document.pk).update(progress=min(99, done * 100 // total))

    title = document.title or Path(document.file.name).stem
    texts = [indexed_text(title=title, section=c.section, text=c.text) for c in chunks]
    index_replace(remove_ids=[], add_ids=ids, texts=texts, on_progress=on_progress)
    if not Document.objects.filter(pk=document.pk).exists():
        # Deleted while embedding: its delete removed only the vectors it could see.
        index_replace(remove_ids=ids, add_ids=[], texts=[])
        raise DocumentGone(document.pk)


def document_mark_failed(*, document_id: int, reason: str) -> None:
    document = Document.objects.filter(pk=document_id).first()
    if document is not None:
        _fail(document, reason)


def _fail(document: Document, reason: str) -> None:
    """A failed document is not searchable: its chunks and vectors go, its reason stays."""
    logger.warning("Document %s failed: %s", document.pk, reason)
    chunk_ids = list(document.chunks.values_list("id", flat=True))
    if chunk_ids:
        try:
            index_replace(remove_ids=chunk_ids, add_ids=[], texts=[])
            document.chunks.all().delete()
        except Exception:
            logger.exception("Could not remove the vectors of failed document %s", document.pk)
    try:
        _set_state(document, State.FAILED, error=reason, progress=0)
    except DocumentGone:
        pass


def index_rebuild_from_database(*, on_progress=None) -> int:
    """Rebuild the vector and BM25 indexes from the chunks of indexed documents; returns the
    number of chunks indexed."""
    from retrieval.services import index_rebuild

    rows = Chunk.objects.filter(document__status=State.INDEXED).order_by("pk")
    total = rows.count()
    texts = (
        (pk, indexed_text(title=title or Path(name).stem, section=section, text=text))
        for pk, title, name, section, text in rows.values_list(
            "pk", "document__title", "document__file", "section", "text"
        ).iterator(chunk_size=1000)
    )
    return index_rebuild(
        chunks=texts,
        on_progress=(lambda done: on_progress(done, total)) if on_progress else None,
    )
