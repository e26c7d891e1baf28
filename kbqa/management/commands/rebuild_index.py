"""`manage.py rebuild_index`: re-embed every chunk into fresh vector and BM25 indexes.

Needed after changing the embedder (the vector index refuses to be searched with another model)
and when upgrading from a version without the BM25 index. It lives in kbqa because it reads
ingestion's chunks and writes retrieval's indexes.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ingestion.models import Chunk
from retrieval.services import index_rebuild


class Command(BaseCommand):
    help = "Re-embed all chunks into fresh vector and BM25 indexes (after changing the embedder)."

    def handle(self, *args, **options):
        chunks = Chunk.objects.order_by("pk").values_list("pk", "text")
        total = chunks.count()
        count = index_rebuild(
            chunks=chunks.iterator(chunk_size=1000),
            on_progress=lambda done: self.stderr.write(f"indexed {done}/{total} chunks"),
        )
        self.stdout.write(f"Re-indexed {count} chunks.")
