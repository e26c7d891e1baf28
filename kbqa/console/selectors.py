"""What the console lists and counts. Documents come through `ingestion.access`, so an admin
limited to some collections sees and counts only those."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from ingestion.access import readable_documents
from ingestion.models import Chunk, Document
from ingestion.selectors import CURRENT_CHUNK_COUNT
from kbqa.chat.models import Message

FLAGGED_LIMIT = 100
RECENT_ANSWERS = 200
STAGES = {
    "retrieve_s": _("Retrieval"),
    "prompt_s": _("Reading the prompt"),
    "generate_s": _("Writing the answer"),
    "total_s": _("Total"),
}


def console_documents(
    user: AbstractBaseUser, *, query: str = "", status: str = ""
) -> QuerySet[Document]:
    documents = (
        readable_documents(user)
        .select_related("current_version")
        .prefetch_related("versions")
        .annotate(chunk_count=CURRENT_CHUNK_COUNT)
    )
    if query:
        documents = documents.filter(
            Q(title__icontains=query) | Q(file__icontains=query) | Q(sha256__startswith=query)
        )
    if status:
        documents = documents.filter(status=status)
    return documents.order_by("-created_at", "-pk")


def _size_on_disk(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@dataclass
class Totals:
    documents: int
    by_status: dict[str, int]
    chunks: int
    vectors: int
    index_bytes: int
    embedder: str
    llm: str


def knowledge_base_totals(user: AbstractBaseUser) -> Totals:
    """Counts for the overview page: the documents the user may read, and the shared index."""
    from llm.backends import get_llm
    from retrieval.services import get_embedder, get_index

    documents = readable_documents(user)
    by_status = dict(documents.values_list("status").annotate(n=Count("pk")).order_by())
    index_dirs = [
        Path(settings.KBQA_INDEX["OPTIONS"]["path"]),
        Path(settings.KBQA_LEXICAL_INDEX["OPTIONS"]["path"]),
    ]
    return Totals(
        documents=sum(by_status.values()),
        by_status={s: by_status.get(s, 0) for s in Document.Status.values},
        chunks=Chunk.objects.filter(
            document__in=documents, version_id=F("document__current_version_id")
        ).count(),
        vectors=get_index().describe()["count"],
        index_bytes=sum(_size_on_disk(p) for p in index_dirs),
        embedder=get_embedder().name,
        llm=get_llm().name,
    )


def flagged_answers(limit: int = FLAGGED_LIMIT) -> QuerySet[Message]:
    """Answers that were refused or voted down, newest first: what the knowledge base is missing
    or got wrong."""
    return (
        Message.objects.filter(role=Message.Role.ASSISTANT)
        .filter(Q(refused=True) | Q(rating=-1))
        .select_related("conversation__user")
        .order_by("-created_at")[:limit]
    )


@dataclass
class StageTimes:
    label: str
    p50: float
    p95: float


def answer_timings(limit: int = RECENT_ANSWERS) -> tuple[int, list[StageTimes]]:
    """(answers counted, p50/p95 seconds per stage) over the most recent answers that were timed:
    where the wait goes, retrieval against the model reading its prompt and writing."""
    recent = (
        Message.objects.filter(role=Message.Role.ASSISTANT)
        .order_by("-created_at", "-pk")
        .values_list("timings", flat=True)[:limit]
    )
    timed = [t for t in recent if t and "total_s" in t]
    stages = [
        StageTimes(str(label), *np.percentile([t.get(key, 0.0) for t in timed], [50, 95]))
        for key, label in STAGES.items()
    ] if timed else []  # fmt: skip
    return len(timed), stages
