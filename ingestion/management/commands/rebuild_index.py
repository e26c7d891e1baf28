"""`manage.py rebuild_index`: re-embed every indexed chunk and publish a fresh vector index."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ingestion.services.ingest import index_rebuild_from_database


class Command(BaseCommand):
    help = (
        "Rebuild the vector and BM25 indexes from the chunks of indexed documents, with the "
        "configured embedder (after changing models, or to repair what check_index reports). "
        "On the files back end searches return fewer results until it finishes; on PostgreSQL "
        "the new vectors are built beside the old, which answer until one transaction switches "
        "to them. Run it with workers stopped: an ingestion finishing during the rebuild would "
        "be missing from the new index."
    )

    def handle(self, *args, **options) -> None:
        def progress(done: int, total: int) -> None:
            self.stdout.write(f"embedded {done}/{total}")

        count = index_rebuild_from_database(on_progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Rebuilt the index with {count} vectors."))
