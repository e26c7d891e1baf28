"""`manage.py sync_folder PATH --collection NAME [--json]`: for scripts."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ingestion.management.commands.sync import run_sync
from ingestion.services.sync import source_for_folder


class Command(BaseCommand):
    help = (
        "Sync a folder into a collection once, in the foreground: creates the folder source (and "
        "the collection) when there is none. With --json the last line is the counts "
        '{"added", "updated", "removed", "unchanged", "failed"}.'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--collection", required=True, help="the collection's name")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON last")

    def handle(self, *args, path: Path, collection: str, json: bool, **options) -> None:
        if not path.is_dir():
            raise CommandError(f"{path} is not a folder")
        source = source_for_folder(path=str(path), collection_name=collection)
        report = run_sync(self, source, inline=True, as_json=json)
        if report.error:
            raise CommandError(report.error)
