"""`manage.py sync SOURCE`: sync one source (by name or id) now, in this process."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from ingestion.models import Source
from ingestion.services.sync import SourceBusy, SyncReport, source_sync


class Command(BaseCommand):
    help = (
        "Sync a source now: new files are added, changed ones become new versions, removed ones "
        "are deleted (or archived). Documents are ingested in this process unless --queue."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", help="the source's name or id")
        parser.add_argument(
            "--queue", action="store_true", help="queue ingestion for the workers instead"
        )
        parser.add_argument("--json", action="store_true", help="print the counts as JSON last")

    def handle(self, *args, source: str, queue: bool, json: bool, **options) -> None:
        found = Source.objects.filter(name=source).first()
        if found is None and source.isdigit():
            found = Source.objects.filter(pk=int(source)).first()
        if found is None:
            names = ", ".join(Source.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No source {source!r} (sources: {names})")
        report = run_sync(self, found, inline=not queue, as_json=json)
        if report.error:
            raise CommandError(report.error)


def run_sync(command: BaseCommand, source: Source, *, inline: bool, as_json: bool) -> SyncReport:
    """Sync `source` and print its report (shared with `sync_folder`)."""
    try:
        report = source_sync(source_id=source.pk, inline=inline)
    except SourceBusy as exc:
        raise CommandError(str(exc)) from None
    for failure in report.failures:
        command.stderr.write(f"failed: {failure['key']}: {failure['error']}")
    counts = report.counts()
    if as_json:
        command.stdout.write(json.dumps(counts))
    else:
        command.stdout.write(
            f"{source}: " + ", ".join(f"{count} {name}" for name, count in counts.items())
        )
    return report
