"""Answer a question from the knowledge base: retrieve, prompt with numbered sources, generate,
and map the answer's [n] citations back to document, page and passage."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import connection

from ingestion.selectors import chunks_by_id
from kbqa.backends import get_backend
from llm.backends.base import LLMBackend
from llm.citations import ground
from llm.prompts import NOT_FOUND, Source, build_messages
from retrieval.services import search

logger = logging.getLogger(__name__)


@dataclass
class Citation:
    n: int
    document_id: int
    title: str
    page: int
    chunk_id: int
    text: str


@dataclass
class Answer:
    answer: str
    refused: bool
    citations: list[Citation]
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The public JSON shape (API and `ask --json`); timings are diagnostics, kept out."""
        return {
            "answer": self.answer,
            "refused": self.refused,
            "citations": [asdict(c) for c in self.citations],
        }


def get_llm() -> LLMBackend:
    return get_backend("KBQA_LLM")


def answer_question(question: str, *, top_k: int | None = None) -> Answer:
    question = question.strip()
    if not question:
        raise ValueError("The question is empty.")
    started = time.perf_counter()
    hits = search(query=question, k=top_k or settings.KBQA_TOP_K)
    chunks = chunks_by_id(hit.id for hit in hits)
    sources: list[Source] = []
    passages: dict[int, Citation] = {}
    for hit in hits:
        chunk = chunks.get(hit.id)
        if chunk is None:
            continue
        n = len(sources) + 1
        title = chunk.document.title or chunk.document.file.name
        sources.append(Source(n=n, title=title, page=chunk.page, text=chunk.text))
        passages[n] = Citation(
            n=n,
            document_id=chunk.document_id,
            title=title,
            page=chunk.page,
            chunk_id=chunk.pk,
            text=chunk.text,
        )
    retrieved = time.perf_counter()
    timings = {"retrieval_s": retrieved - started}
    if not sources:
        return Answer(answer=NOT_FOUND, refused=True, citations=[], timings=timings)

    # Generation takes seconds: give the database connection back instead of holding it idle
    # (unless a surrounding transaction still needs it).
    if not connection.in_atomic_block:
        connection.close()
    text = get_llm().generate(build_messages(question, sources))
    timings["generation_s"] = time.perf_counter() - retrieved
    grounded = ground(text, {n: c.text for n, c in passages.items()})
    logger.info(
        "Answered in %.2fs (retrieval %.2fs): %d sources, cited %s, %d/%d sentences supported",
        timings["generation_s"] + timings["retrieval_s"],
        timings["retrieval_s"],
        len(sources),
        grounded.numbers,
        grounded.supported_sentences,
        grounded.sentences,
    )
    if not grounded.numbers:
        # Either the model said the answer is not there, or nothing it said is backed by a
        # source: in both cases an answer without a citation must not pass as grounded.
        return Answer(answer=NOT_FOUND, refused=True, citations=[], timings=timings)
    return Answer(
        answer=grounded.text,
        refused=False,
        citations=[passages[n] for n in grounded.numbers],
        timings=timings,
    )
