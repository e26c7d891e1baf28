"""Answer a question from the knowledge base: (rewrite a follow-up,) retrieve, prompt with the
numbered sources that fit, generate, verify the citations, or refuse.

`stream_answer` is the one pipeline; `answer_question` drains it. Anything a back end does wrong
(down, slow, busy) becomes an Answer with `error` set and the retrieved sources still attached, so
no surface ever shows a 500 for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from functools import partial

from django.conf import settings
from django.db import connection

from ingestion.selectors import chunks_by_id
from kbqa.backends import get_backend
from llm.backends.base import LLMBackend, LLMError, Message
from llm.citations import SentenceCheck, ground
from llm.prompts import (
    NOT_FOUND,
    NOT_FOUND_ZH,
    PromptTooLong,
    Source,
    build_messages,
    build_rewrite_messages,
    fit_sources,
    not_found_message,
)
from retrieval.services import search

logger = logging.getLogger(__name__)

REWRITE_MAX_TOKENS = 64
HISTORY_TURNS = 6  # messages of the conversation the rewrite sees


@dataclass
class Citation:
    n: int
    document_id: int
    title: str
    page: int
    chunk_id: int
    text: str
    section: str = ""
    score: float = 0.0  # retrieval score of the passage

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Retrieved:
    """What the pipeline found before generating: sent to a streaming client first."""

    question: str  # the standalone question that was searched
    sources: list[Citation]  # the passages given to the model, numbered as in the prompt


@dataclass
class Answer:
    answer: str
    refused: bool
    citations: list[Citation]
    question: str = ""  # standalone form of the question (a follow-up rewritten)
    sources: list[Citation] = field(default_factory=list)
    sentences: list[SentenceCheck] = field(default_factory=list)
    closest_documents: list[dict] = field(default_factory=list)
    error: str = ""  # the back end failed: say so, the sources stay visible
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The public JSON shape (API, SSE and `ask --json`); timings are diagnostics, kept out."""
        return {
            "answer": self.answer,
            "refused": self.refused,
            "citations": [_public(c) for c in self.citations],
            "sentences": [s.as_dict() for s in self.sentences],
            "closest_documents": self.closest_documents,
            "standalone_question": self.question,
            "sources": [_public(c) for c in self.sources],
            "error": self.error,
        }


def _public(citation: Citation) -> dict:
    data = citation.as_dict()
    data["score"] = round(data["score"], 4)
    return data


def get_llm() -> LLMBackend:
    return get_backend("KBQA_LLM")


def rewrite_question(question: str, history: list[Message]) -> str:
    """A follow-up ("what about for contractors?") as a question that stands on its own, written by
    the model from the last turns of the conversation. Falls back to the question itself when the
    model returns nothing usable."""
    if not history:
        return question
    text = get_llm().generate(
        build_rewrite_messages(history[-HISTORY_TURNS:], question), max_tokens=REWRITE_MAX_TOKENS
    )
    first_line = text.strip().splitlines()[0].strip() if text.strip() else ""
    first_line = first_line.removeprefix("Rewritten question:").strip().strip('"“”')
    if not first_line or len(first_line) > 4 * len(question) + 200:
        return question
    return first_line


Retrieve = Callable[[str, int], list[Citation]]


def retrieve_indexed(question: str, k: int, *, user=None) -> list[Citation]:
    """Top-k passages of indexed documents `user` may read, best first, with their retrieval
    scores: the knowledge base's `Retrieve` (the access filter runs inside the search, so
    refusals' closest documents and every citation come from readable documents only).
    Evaluation passes its own, over a throw-away index."""
    hits = search(query=question, k=k, user=user, spread=False)  # the best page's neighbours
    chunks = chunks_by_id(hit.id for hit in hits)
    found: list[Citation] = []
    for hit in hits:
        chunk = chunks.get(hit.id)
        if chunk is None:
            continue
        found.append(
            Citation(
                n=len(found) + 1,
                document_id=chunk.document_id,
                title=chunk.document.title or chunk.document.file.name,
                page=chunk.page,
                chunk_id=chunk.pk,
                text=chunk.text,
                section=getattr(chunk, "section", "") or "",
                # The gate against weak retrieval needs an absolute scale: the dense cosine
                # similarity (fused scores only compare within one list). 0 when only BM25 found it.
                score=hit.dense_score or 0.0,
            )
        )
    return found


def closest_documents(passages: list[Citation], limit: int = 3) -> list[dict]:
    """The best-scoring documents among the retrieved passages, one entry each, for a refusal."""
    seen: dict[int, dict] = {}
    for p in sorted(passages, key=lambda c: c.score, reverse=True):
        if p.document_id not in seen:
            seen[p.document_id] = {
                "document_id": p.document_id,
                "title": p.title,
                "page": p.page,
                "chunk_id": p.chunk_id,  # the closest passage, for the chat's source viewer
                "score": round(p.score, 4),
            }
    return list(seen.values())[:limit]


def _refusal(question: str, retrieved: Retrieved, candidates: list[Citation], **extra) -> Answer:
    return Answer(
        answer=not_found_message(question),
        refused=True,
        citations=[],
        question=retrieved.question,
        sources=retrieved.sources,
        closest_documents=closest_documents(candidates),
        **extra,
    )


def _is_refusal(text: str) -> bool:
    lowered = text.lower()
    return NOT_FOUND.lower().rstrip(".") in lowered or NOT_FOUND_ZH.rstrip("。") in text


def stream_answer(
    question: str,
    *,
    user,
    history: list[Message] | None = None,
    top_k: int | None = None,
    retrieve: Retrieve | None = None,
) -> Iterator[Retrieved | str | Answer]:
    """The answering pipeline as events: one `Retrieved`, then the answer's text piece by piece
    (`str`), then the final, verified `Answer`. Refusals and back-end failures end in an `Answer`
    too, never an exception (only an empty question raises ValueError).

    `user` is required so no caller forgets it: only the documents they may read are searched.
    `user=None` is for trusted in-process callers (the `ask` command, benchmarks): no restriction.
    `retrieve` replaces the knowledge base's search (evaluation answers over its own index).
    """
    question = question.strip()
    if not question:
        raise ValueError("The question is empty.")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    llm = get_llm()
    retrieved = Retrieved(question=question, sources=[])
    try:
        retrieved.question = rewrite_question(question, history or [])
    except LLMError as exc:
        logger.warning("Could not rewrite the follow-up, searching it as asked: %s", exc)
    timings["rewrite_s"] = time.perf_counter() - started

    mark = time.perf_counter()
    if retrieve is None:
        retrieve = partial(retrieve_indexed, user=user)
    candidates = retrieve(retrieved.question, top_k or settings.KBQA_TOP_K)
    timings["retrieval_s"] = time.perf_counter() - mark
    best = max((c.score for c in candidates), default=None)
    if best is None or best < settings.KBQA_MIN_RETRIEVAL_SCORE:
        # Nothing close enough: refuse before spending seconds of generation on noise.
        yield retrieved
        yield _refusal(question, retrieved, candidates, timings=timings)
        return

    max_tokens = llm.max_tokens
    error = ""
    text = ""
    announced = False
    try:
        sources = fit_sources(
            llm,
            retrieved.question,
            [Source(c.n, c.title, c.page, c.text, c.section, ref=c.chunk_id) for c in candidates],
            max_tokens=max_tokens,
        )
        by_chunk = {c.chunk_id: c for c in candidates}
        retrieved.sources = [replace(by_chunk[s.ref], n=s.n) for s in sources]
        announced = True
        yield retrieved
        # Generation takes seconds: give the database connection back instead of holding it idle
        # (unless a surrounding transaction still needs it).
        if not connection.in_atomic_block:
            connection.close()
        mark = time.perf_counter()
        pieces: list[str] = []
        stream = llm.stream(build_messages(retrieved.question, sources), max_tokens=max_tokens)
        try:
            for piece in stream:
                if not pieces:
                    timings["first_token_s"] = time.perf_counter() - mark
                pieces.append(piece)
                yield piece
        finally:
            # When our consumer stops early (the user pressed Stop), the back end's stream and its
            # hold on the model end now, not whenever the garbage collector finds them.
            if hasattr(stream, "close"):
                stream.close()
        text = "".join(pieces).strip()
        timings["generation_s"] = time.perf_counter() - mark
    except (LLMError, PromptTooLong) as exc:
        logger.warning("Answer generation failed: %s", exc)
        error = str(exc)
    if error:
        if not announced:
            retrieved.sources = candidates
            yield retrieved
        yield Answer(
            answer=f"The answer could not be generated: {error}",
            refused=True,
            citations=[],
            question=retrieved.question,
            sources=retrieved.sources,
            closest_documents=closest_documents(candidates),
            error=error,
            timings=timings,
        )
        return

    passages = {c.n: c for c in retrieved.sources}
    grounded = ground(
        text,
        {n: c.text for n, c in passages.items()},
        threshold=settings.KBQA_SUPPORT_THRESHOLD,
    )
    logger.info(
        "Answered in %.2fs (retrieval %.2fs): %d sources, cited %s, %d/%d sentences supported",
        time.perf_counter() - started,
        timings["retrieval_s"],
        len(passages),
        grounded.numbers,
        grounded.supported_sentences,
        grounded.sentences,
    )
    if not grounded.numbers or _is_refusal(text):
        # Either the model said the answer is not there, or nothing it said is backed by a
        # source: in both cases an answer without a citation must not pass as grounded.
        yield _refusal(question, retrieved, candidates, timings=timings)
        return
    yield Answer(
        answer=grounded.text,
        refused=False,
        citations=[passages[n] for n in grounded.numbers],
        question=retrieved.question,
        sources=retrieved.sources,
        sentences=grounded.checks,
        timings=timings,
    )


def answer_question(
    question: str,
    *,
    user,
    history: list[Message] | None = None,
    top_k: int | None = None,
    retrieve: Retrieve | None = None,
) -> Answer:
    events = stream_answer(question, user=user, history=history, top_k=top_k, retrieve=retrieve)
    for event in events:
        if isinstance(event, Answer):
            return event
    raise AssertionError("stream_answer ended without an Answer")
