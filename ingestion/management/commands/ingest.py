"""`manage.py ingest PATH...`: ingest files synchronously (for scripts) and print each result."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from ingestion.models import Document
from ingestion.services import document_create, document_ingest


class Command(BaseCommand):
    help = "Ingest files now, in this process, and print each document's final status."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args, paths: list[Path], **options) -> None:
        failed = 0
        for path in paths:
            if not path.is_file():
                self.stderr.write(f"{path}: no such file")
                failed += 1
                continue
            try:
                with path.open("rb") as handle:
                    # Ingest here rather than through the queue: the caller wants the outcome.
                    document = document_create(file=File(handle, name=path.name), enqueue=False)
            except ValidationError as exc:
                self.stderr.write(f"{path}: {' '.join(exc.messages)}")
                failed += 1
                continue
            document = document_ingest(document_id=document.pk)
            line = f"{path}: document {document.pk} {document.status}"
            if document.status == Document.Status.FAILED:
                failed += 1
                self.stdout.write(f"{line}: {document.error}")
            else:
                chunks = document.chunks.count()
                self.stdout.write(f"{line} ({document.page_count} pages, {chunks} chunks)")
        if failed:
            raise CommandError(f"{failed} of {len(paths)} file(s) failed")
