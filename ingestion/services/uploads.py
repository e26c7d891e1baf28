"""Uploads: one file, several, or ZIP archives, validated, deduplicated by SHA-256, stored in a
collection and queued for ingestion.

Each file succeeds or fails on its own: a refused archive or an oversized file is reported with its
reason (in the uploader's language) and the rest of the batch goes ahead.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from infra.audit import ADDITION, audit
from ingestion.access import require_permission, require_readable
from ingestion.archives import ArchiveLimits, UnsafeArchive, extract_members
from ingestion.failures import failure_message
from ingestion.models import Collection, Document, DocumentVersion
from ingestion.parsers import SUPPORTED_SUFFIXES, ParseError, unsupported_error
from ingestion.services.documents import document_enqueue

ARCHIVE_SUFFIXES = {".zip"}


class DuplicateDocument(Exception):
    def __init__(self, existing: Document) -> None:
        super().__init__(f"Identical to document {existing.pk} ({existing})")
        self.existing = existing


@dataclass(frozen=True)
class Duplicate:
    name: str
    existing: Document


@dataclass(frozen=True)
class Rejected:
    name: str
    reason: str


@dataclass
class UploadResult:
    created: list[Document] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def documents_upload(
    *,
    files: list[File],
    by,
    title: str = "",
    collection: Collection | None = None,
    enqueue: bool = True,
) -> UploadResult:
    """Store every supported file (archives expanded) in `collection` (None: the default one) and
    queue each new one for ingestion. `title` applies only to a single non-archive file."""
    require_permission(by, "ingestion.add_document")
    if collection is not None:
        require_readable(by, collection=collection)
    result = UploadResult()
    single = len(files) == 1 and not is_archive(files[0].name or "")
    options = {"collection": collection, "uploaded_by": by, "enqueue": enqueue}
    for upload in files:
        name = clean_upload_name(upload.name or "upload")
        try:
            validate_upload_size(upload.size)
        except ValidationError as exc:
            result.rejected.append(Rejected(name, " ".join(exc.messages)))
            continue
        if is_archive(name):
            _upload_archive(upload, name, result, **options)
        else:
            _upload_one(upload, name, result, title=title if single else "", **options)
    for document in result.created:
        audit(by, "document uploaded", document, f"collection {document.collection}", flag=ADDITION)
    return result


def is_archive(name: str) -> bool:
    return Path(name).suffix.lower() in ARCHIVE_SUFFIXES


def _upload_archive(upload: File, name: str, result: UploadResult, **options) -> None:
    try:
        members = extract_members(upload, archive_limits())
    except UnsafeArchive as exc:
        result.rejected.append(Rejected(name, str(exc)))
        return
    try:
        for member in members:
            member_file = File(member.file, name=member.base_name)
            _upload_one(member_file, f"{name}/{member.name}", result, title="", **options)
    finally:
        for member in members:
            member.file.close()


def _upload_one(upload: File, label: str, result: UploadResult, **options) -> None:
    try:
        result.created.append(document_create(file=upload, **options))
    except DuplicateDocument as exc:
        result.duplicates.append(Duplicate(label, exc.existing))
    except ValidationError as exc:
        result.rejected.append(Rejected(label, " ".join(exc.messages)))


def archive_limits() -> ArchiveLimits:
    mb = 1024 * 1024
    return ArchiveLimits(
        max_files=settings.KBQA_ZIP_MAX_FILES,
        max_total_bytes=settings.KBQA_ZIP_MAX_TOTAL_MB * mb,
        max_member_bytes=settings.KBQA_MAX_UPLOAD_MB * mb,
        max_ratio=settings.KBQA_ZIP_MAX_RATIO,
    )


def document_create(
    *,
    file: File,
    title: str = "",
    uploaded_by=None,
    collection: Collection | None = None,
    enqueue: bool = True,
) -> Document:
    """Store one file as `uploaded` and, unless the caller ingests it itself, queue it once the row
    is committed. Raises ValidationError (refused, with the reason) or DuplicateDocument (a file
    with the same SHA-256 is already stored). The building block of `documents_upload`, which
    checks permissions and audits; tests and benchmarks call it directly."""
    name = clean_upload_name(file.name or "upload")
    validate_upload_name(name)
    validate_upload_size(file.size)
    validate_upload_content(file, name)
    sha256 = file_sha256(file)
    existing = DocumentVersion.objects.filter(sha256=sha256).select_related("document").first()
    if existing is not None:  # the common case, answered without storing the file
        raise DuplicateDocument(existing.document)
    document = Document(
        title=title or Path(name).stem,
        sha256=sha256,
        uploaded_by=uploaded_by,
        collection=collection or Collection.objects.default(),
    )
    document.file.save(name, file, save=False)
    try:
        # The unique constraint on the version's content decides between identical uploads at
        # the same instant: one commits, the other rolls back and names the winner.
        with transaction.atomic():
            document.save()
            version = DocumentVersion.objects.create(
                document=document,
                number=1,
                file=document.file.name,
                sha256=sha256,
                size=file.size or 0,
                status=DocumentVersion.Status.CURRENT,
                uploaded_by=uploaded_by,
            )
            document.current_version = version
            document.save(update_fields=["current_version"])
    except IntegrityError:
        document.file.storage.delete(document.file.name)
        raise DuplicateDocument(duplicate_of(sha256)) from None
    if enqueue:
        document_enqueue(document=document)
    return document


def duplicate_of(sha256: str) -> Document:
    """The document holding a version with this content (after a unique-constraint violation)."""
    return DocumentVersion.objects.select_related("document").get(sha256=sha256).document


def file_sha256(file: File) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for block in file.chunks():
        digest.update(block)
    file.seek(0)
    return digest.hexdigest()


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


def _refusal(error: ParseError) -> ValidationError:
    return ValidationError(failure_message(error.code, error.params, str(error)))


def validate_upload_name(name: str) -> None:
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise _refusal(unsupported_error(suffix))


def validate_upload_content(file: File, name: str) -> None:
    """The content must agree with the extension (a ZIP or an executable named .pdf is refused
    here, before it is stored, with the reason), and an Office file must be one a parser can
    open safely (not password-protected, not a ZIP bomb)."""
    from ingestion.parsers.sniff import check_file

    try:
        check_file(file, Path(name).suffix.lower())
    except ParseError as exc:
        raise _refusal(exc) from None
    finally:
        file.seek(0)


def validate_upload_size(size: int | None) -> None:
    limit = settings.KBQA_MAX_UPLOAD_MB * 1024 * 1024
    if size == 0:
        raise ValidationError(_("The file is empty (0 bytes)."))
    if size is not None and size > limit:
        raise ValidationError(
            _("The file is %(size).1f MB; the upload limit is %(limit)s MB.")
            % {"size": size / 1024 / 1024, "limit": settings.KBQA_MAX_UPLOAD_MB}
        )
