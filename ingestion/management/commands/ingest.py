"""`manage.py ingest PATH...`: ingest files synchronously (for scripts) and print each result."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from ingestion.models import Document
from ingestion.services.ingest import document_ingest
from ingestion.services.uploads import documents_upload


class Command(BaseCommand):
    help = (
        "Ingest files (and ZIP archives) now, in this process, and print each document's final "
        "status. Files identical to a stored document are reported, not ingested again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args, paths: list[Path], **options) -> None:
        failed = 0
        for path in paths:
            if not path.is_file():
                self.stderr.write(f"{path}: no such file")
                failed += 1
                continue
            with path.open("rb") as handle:
                # Ingest here rather than through the queue: the caller wants the outcome.
                result = documents_upload(
                    files=[File(handle, name=path.name)], by=None, enqueue=False
                )
            for rejected in result.rejected:
                self.stderr.write(f"{path}: {rejected.name}: {rejected.reason}")
                failed += 1
            for duplicate in result.duplicates:
                self.stdout.write(
                    f"{path}: {duplicate.name} is identical to document {duplicate.existing.pk} "
                    f"({duplicate.existing}); skipped"
                )
            for created in result.created:
                document = document_ingest(document_id=created.pk)
                line = f"{path}: {created.file.name} -> document {document.pk} {document.status}"
                if document.status == Document.Status.FAILED:
                    failed += 1
                    self.stdout.write(f"{line}: {document.error}")
                else:
                    chunks = document.chunks.count()
                    self.stdout.write(f"{line} ({document.page_count} pages, {chunks} chunks)")
                if document.notes:
                    self.stdout.write(f"  note: {document.notes}")
        if failed:
            raise CommandError(f"{failed} file(s) failed")
