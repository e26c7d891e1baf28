"""`manage.py check_index`: does the vector index match the database and the configured model?"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ingestion.selectors import index_consistency


class Command(BaseCommand):
    help = (
        "Report chunks of indexed documents without vectors, vectors without chunks, and an index "
        "built by another embedding model or dimension. Exits non-zero when anything is wrong; "
        "`manage.py rebuild_index` repairs it."
    )

    def handle(self, *args, **options) -> None:
        report = index_consistency()
        self.stdout.write(
            f"index: version {report.version}, model {report.index_model} "
            f"({report.index_dimension} dims), {report.vector_count} vectors; embedder: "
            f"{report.embedder_model} ({report.embedder_dimension} dims); "
            f"{report.chunk_count} chunks of indexed documents"
        )
        for problem in report.problems():
            self.stdout.write(f"PROBLEM: {problem}")
        if report.problems():
            raise CommandError("The index is inconsistent; run `manage.py rebuild_index`.")
        self.stdout.write("OK: every chunk has exactly one vector and every vector a chunk.")
