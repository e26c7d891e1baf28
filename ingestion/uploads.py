"""Bulk upload: several files and ZIP archives in one go, with deduplication by SHA-256.

Each file succeeds or fails on its own: a refused archive or an oversized file is reported and the
rest of the batch goes ahead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File

from ingestion.archives import ArchiveLimits, UnsafeArchive, extract_members
from ingestion.models import Collection, Document
from ingestion.services import (
    DuplicateDocument,
    clean_upload_name,
    document_create,
    validate_upload_size,
)

ARCHIVE_SUFFIXES = {".zip"}


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


def archive_limits() -> ArchiveLimits:
    mb = 1024 * 1024
    return ArchiveLimits(
        max_files=settings.KBQA_ZIP_MAX_FILES,
        max_total_bytes=settings.KBQA_ZIP_MAX_TOTAL_MB * mb,
        max_member_bytes=settings.KBQA_MAX_UPLOAD_MB * mb,
        max_ratio=settings.KBQA_ZIP_MAX_RATIO,
    )


def is_archive(name: str) -> bool:
    return Path(name).suffix.lower() in ARCHIVE_SUFFIXES


def documents_upload(
    *,
    files: list[File],
    uploaded_by=None,
    title: str = "",
    collection: Collection | None = None,
    enqueue: bool = True,
) -> UploadResult:
    """Store every supported file (archives expanded) in `collection` (None: the default one) and
    queue each new one for ingestion. `title` applies only to a single non-archive file."""
    result = UploadResult()
    single = len(files) == 1 and not is_archive(files[0].name or "")
    for upload in files:
        name = clean_upload_name(upload.name or "upload")
        try:
            validate_upload_size(upload.size)
        except ValidationError as exc:
            result.rejected.append(Rejected(name, " ".join(exc.messages)))
            continue
        if is_archive(name):
            _upload_archive(
                upload, name, result, uploaded_by=uploaded_by, collection=collection,
                enqueue=enqueue,
            )  # fmt: skip
        else:
            _upload_one(
                upload, name, result, title=title if single else "", uploaded_by=uploaded_by,
                collection=collection, enqueue=enqueue,
            )  # fmt: skip
    return result


def _upload_archive(upload: File, name: str, result: UploadResult, **kwargs) -> None:
    try:
        members = extract_members(upload, archive_limits())
    except UnsafeArchive as exc:
        result.rejected.append(Rejected(name, str(exc)))
        return
    try:
        for member in members:
            member_file = File(member.file, name=member.base_name)
            _upload_one(member_file, f"{name}/{member.name}", result, title="", **kwargs)
    finally:
        for member in members:
            member.file.close()


def _upload_one(upload: File, label: str, result: UploadResult, **kwargs) -> None:
    try:
        result.created.append(document_create(file=upload, **kwargs))
    except DuplicateDocument as exc:
        result.duplicates.append(Duplicate(label, exc.existing))
    except ValidationError as exc:
        result.rejected.append(Rejected(label, " ".join(exc.messages)))
