"""Background work on the indexes: folding the segments that writes append into a new base."""

from __future__ import annotations

from celery import shared_task

from retrieval.services import index_merge


@shared_task(name="retrieval.tasks.merge_index_task")
def merge_index_task() -> list[str]:
    """Queued by a write once segments pass the merge threshold, and by celery beat as a backstop.
    Idempotent: a merge that is not due, or is already running elsewhere, is a no-op, and a merge
    interrupted at any point leaves the published index as it was."""
    return index_merge()
