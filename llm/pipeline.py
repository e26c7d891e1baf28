"""Answering a question from the knowledge base, as its steps:

1. rewrite a follow-up into a question that stands on its own;
2. retrieve the best passages the asker may read;
3. gate: refuse without generating when even the best passage is far from the question;
4. fit the passages, numbered 1..n, into the prompt: in the "focused" mode (the default) only the
   sentences of each that bear on the question (`llm.focus`), in the "classic" mode whole chunks,
   as many as the model's context holds;
5. wait for the model's turn (`Queued` events say how many questions are ahead), then generate,
   checking each sentence's citations as it arrives, and stream the checked sentences;
6. verify: an answer with no supported sentence (or the model's own "not found") is a refusal;
   each citation carries the sentences of its passage the answer used, for the source viewer.

`answer_stream` gives the events as they happen and keeps the final `Answer`; `answer_question`
waits for it. Anything a back end does wrong (down, slow, busy) ends in an Answer with `error` set
and the retrieved sources attached, never an exception: no surface shows a 500 for it. Generation
reads only what the earlier steps gathered: no database work while the model runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import replace
from functools import partial

from django.conf import settings
from django.db import connection

from ingestion.passages import Passage, search_passages
from llm.answer import Answer, Citation, ClosestDocument, Timings, Usage
from llm.backends import get_llm
from llm.backends.base import LLMBackend, LLMError, LLMTimeout, Message
from llm.citations import CheckedSentence, CitationChecker, CitedAnswer, SentenceCheck
from llm.events import AnswerEvent, Queued, Run, SourcesFound, TextAdded
from llm.focus import focus_passages, quote_of, used_spans
from llm.prompts import (
    FOCUSED,
    PromptTooLong,
    Source,
    build_messages,
    build_rewrite_messages,
    fit_sources,
    is_not_found,
    not_found_message,
    standalone_question,
)
from llm.queue import Turn

logger = logging.getLogger(__name__)

REWRITE_MAX_TOKENS = 64
HISTORY_TURNS = 6  # messages of the conversation the rewrite sees
CLOSEST_DOCUMENTS = 3
QUEUE_POLL_S = 0.25  # how often a waiting question looks at its place in line

Retrieve = Callable[[str, int], list[Passage]]


def retrieve_readable(question: str, k: int, *, user) -> list[Passage]:
    """The knowledge base's passages `user` may read (the access filter runs inside the search),
    best first, not spread over pages: the best page's neighbouring chunks are an answer's
    context. Evaluation passes its own `Retrieve`, over a throw-away index."""
    return search_passages(query=question, k=k, user=user, spread=False)


def answer_stream(
    question: str,
    *,
    user,
    history: list[Message] | None = None,
    top_k: int | None = None,
    retrieve: Retrieve | None = None,
    mode: str | None = None,
) -> Run[Answer]:
    """The answer's events (`SourcesFound`, `Queued` while the model is busy, then
    `TextAdded`…); the run's `result` is the final, verified `Answer`. Only an empty question
    raises (ValueError). `mode`: "focused" or "classic" (settings.KBQA_ANSWER_MODE by default).

    `user` is required so no caller forgets it: only the documents they may read are searched.
    `user=None` is for trusted in-process callers (the `ask` command, benchmarks): no restriction.
    """
    question = question.strip()
    if not question:
        raise ValueError("The question is empty.")
    pipeline = AnswerPipeline(
        question,
        history=history or [],
        top_k=top_k or settings.KBQA_TOP_K,
        retrieve=retrieve or partial(retrieve_readable, user=user),
        llm=get_llm(),
        mode=mode or settings.KBQA_ANSWER_MODE,
    )
    return Run(pipeline.run())


def answer_question(question: str, *, user, **options) -> Answer:
    return answer_stream(question, user=user, **options).finish()


class AnswerPipeline:
    """One question's way through the steps; each step records its time and token counts."""

    def __init__(
        self,
        question: str,
        *,
        history: list[Message],
        top_k: int,
        retrieve: Retrieve,
        llm: LLMBackend,
        mode: str = FOCUSED,
    ) -> None:
        self.question = question
        self.mode = mode
        self.history = history
        self.top_k = top_k
        self.retrieve_passages = retrieve
        self.llm = llm
        self.standalone = question
        self.candidates: list[Citation] = []  # what retrieval found, best first
        self.sources: list[Citation] = []  # what the prompt holds, numbered as cited
        self.timings = Timings()
        self.usage = Usage()
        self._started = self._lap_mark = time.perf_counter()

    def run(self) -> Generator[AnswerEvent, None, Answer]:
        self.timings.rewrite_s = self._timed(self.rewrite_followup)
        self.timings.retrieve_s = self._timed(self.retrieve)
        if not self.passes_gate():
            yield SourcesFound(self.standalone, [])
            return self.refusal()
        try:
            messages = self.fit_prompt()
        except (PromptTooLong, LLMError) as exc:  # the model server counts the tokens
            yield SourcesFound(self.standalone, self.candidates)
            return self.failure(exc, sources=self.candidates)
        yield SourcesFound(self.standalone, self.sources)
        release_database_connection()
        turn = self.llm.queue_turn()
        try:
            yield from self.wait_for_turn(turn)
            shown = yield from self.generate_checked(messages, turn)
        except LLMError as exc:
            return self.failure(exc, sources=self.sources)
        finally:
            turn.release()
        return self.verdict(shown)

    # -- the steps -----------------------------------------------------------------------------
    def rewrite_followup(self) -> None:
        """A follow-up ("what about for contractors?") rewritten from the last turns into a
        question that stands on its own; the question as asked when the model fails."""
        if not self.history:
            return
        messages = build_rewrite_messages(self.history[-HISTORY_TURNS:], self.question)
        try:
            text = self.llm.generate(messages, max_tokens=REWRITE_MAX_TOKENS)
        except LLMError as exc:
            logger.warning("Could not rewrite the follow-up, searching it as asked: %s", exc)
            return
        self.usage.prompt_tokens += self.llm.count_prompt_tokens(messages)
        self.usage.completion_tokens += self.llm.count_tokens(text)
        self.standalone = standalone_question(text, self.question)

    def retrieve(self) -> None:
        passages = self.retrieve_passages(self.standalone, self.top_k)
        self.candidates = [Citation.of(n, p) for n, p in enumerate(passages, start=1)]

    def passes_gate(self) -> bool:
        """Nothing close enough (on the dense scale, which is absolute): refuse before spending
        seconds of generation on noise."""
        best = max((c.score for c in self.candidates), default=None)
        return best is not None and best >= settings.KBQA_MIN_RETRIEVAL_SCORE

    def fit_prompt(self) -> list[Message]:
        """The prompt with as many sources as fit, renumbered 1..n in rank order (focused: the
        sentences of each that bear on the question, within settings.KBQA_SOURCE_TOKENS)."""
        candidates = self.candidates
        if self.mode == FOCUSED:
            candidates = self.focused(candidates)
        fitted = fit_sources(
            self.llm,
            self.standalone,
            [
                Source(
                    c.n,
                    c.title,
                    c.page,
                    c.quote or c.text,
                    c.section,
                    ref=c.chunk_id,
                    location=c.location,
                )
                for c in candidates
            ],
            max_tokens=self.llm.max_tokens,
            mode=self.mode,
        )
        by_chunk = {c.chunk_id: c for c in candidates}
        self.sources = [replace(by_chunk[s.ref], n=s.n) for s in fitted]
        messages = build_messages(self.standalone, fitted, mode=self.mode)
        self.usage.prompt_tokens += self.llm.count_prompt_tokens(messages)
        return messages

    def focused(self, candidates: list[Citation]) -> list[Citation]:
        """The candidates with what the model is to read of each (`quote`, `spans`); passages
        with nothing to read for this question are left out."""
        focus = focus_passages(
            self.standalone,
            [c.text for c in candidates],
            count_tokens=self.llm.count_tokens,
            budget=settings.KBQA_SOURCE_TOKENS,
            per_passage=settings.KBQA_PASSAGE_TOKENS,
        )
        return [
            replace(c, quote=f.text, spans=list(f.spans))
            for c, f in zip(candidates, focus, strict=True)
            if f is not None
        ]

    def wait_for_turn(self, turn: Turn) -> Generator[Queued, None, None]:
        """Wait for the model, saying how many questions are ahead whenever that changes (and 0
        when its turn comes, after a wait); past the back end's queue timeout, LLMTimeout."""
        timeout = getattr(self.llm, "queue_timeout", None)
        deadline = None if timeout is None else time.monotonic() + timeout
        told = None
        while not turn.wait(0 if told is None else QUEUE_POLL_S):
            ahead = turn.ahead
            if ahead != told:
                told = ahead
                yield Queued(ahead)
            if deadline is not None and time.monotonic() > deadline:
                raise LLMTimeout(
                    f"The language model is busy with other questions (waited {timeout:.0f} s);"
                    " please try again shortly."
                )
        if told is not None:
            yield Queued(0)  # its turn: the client stops showing the wait

    def generate_checked(
        self, messages: list[Message], turn: Turn | None = None
    ) -> Generator[TextAdded, None, list[CheckedSentence]]:
        """The model's answer, sentence by sentence once each sentence's citations are checked
        against what the model read; returns the sentences shown. The first token's wait is the
        prompt's evaluation."""
        checker = CitationChecker(
            {c.n: c.quote or c.text for c in self.sources},
            threshold=settings.KBQA_SUPPORT_THRESHOLD,
        )
        shown = ShownAnswer()
        pieces: list[str] = []
        started = time.perf_counter()
        first_token = None
        stream = self.llm.stream(messages, max_tokens=self.llm.max_tokens, turn=turn)
        try:
            for piece in stream:
                if first_token is None:
                    first_token = time.perf_counter()
                pieces.append(piece)
                for text in shown.add(checker.feed(piece)):
                    yield TextAdded(text)
            for text in shown.add(checker.finish()):
                yield TextAdded(text)
        finally:
            # A consumer that stops early (the user pressed Stop) ends the model's stream now,
            # not whenever the garbage collector finds it.
            if hasattr(stream, "close"):
                stream.close()
        ended = time.perf_counter()
        self.timings.prompt_s = (first_token or ended) - started
        self.timings.generate_s = ended - (first_token or ended)
        self.usage.completion_tokens += self.llm.count_tokens("".join(pieces))
        return shown.sentences

    def verdict(self, shown: list[CheckedSentence]) -> Answer:
        """The answer as shown, or a refusal when nothing in it is backed by a source (or the
        model said the answer is not there): an uncited answer must not pass as grounded."""
        if not shown:
            return self.refusal()
        cited = CitedAnswer.of(shown)
        by_n = {c.n: c for c in self.sources}
        logger.info(
            "Answered in %.2fs (retrieval %.2fs): %d sources, cited %s, %d/%d sentences supported",
            time.perf_counter() - self._started,
            self.timings.retrieve_s,
            len(self.sources),
            cited.numbers,
            cited.supported_sentences,
            cited.sentences,
        )
        return self._answer(
            answer=cited.text,
            refused=False,
            citations=[self.used(by_n[n], cited.checks) for n in cited.numbers],
            sentences=cited.checks,
        )

    @staticmethod
    def used(citation: Citation, checks: list[SentenceCheck]) -> Citation:
        """The citation with the sentences of its passage that the answer's sentences citing it
        rest on (among those the model read), for the source viewer to highlight."""
        claims = [c.text for c in checks if citation.n in c.citations]
        spans = used_spans(citation.text, citation.spans, claims)
        return replace(citation, spans=list(spans), quote=quote_of(citation.text, spans))

    # -- endings -------------------------------------------------------------------------------
    def refusal(self) -> Answer:
        return self._answer(
            answer=not_found_message(self.question),
            refused=True,
            closest_documents=closest_documents(self.candidates),
        )

    def failure(self, error: Exception, *, sources: list[Citation]) -> Answer:
        logger.warning("Answer generation failed: %s", error)
        return self._answer(
            answer=f"The answer could not be generated: {error}",
            refused=True,
            sources=sources,
            closest_documents=closest_documents(self.candidates),
            error=str(error),
        )

    def _answer(self, **fields) -> Answer:
        self.timings.total_s = time.perf_counter() - self._started
        fields.setdefault("citations", [])
        fields.setdefault("sources", self.sources)
        return Answer(question=self.standalone, timings=self.timings, usage=self.usage, **fields)

    def _timed(self, step: Callable[[], None]) -> float:
        step()
        now = time.perf_counter()
        elapsed, self._lap_mark = now - self._lap_mark, now
        return elapsed


class ShownAnswer:
    """The sentences a reader is shown, as they are checked: none until one is supported, so a
    stream never shows text that a refusal then takes back, and never the model's own "not
    found" sentence (an answer that has supported sentences stands on them)."""

    def __init__(self) -> None:
        self.sentences: list[CheckedSentence] = []
        self._held: list[CheckedSentence] = []

    def add(self, checked: Iterable[CheckedSentence]) -> list[str]:
        """The text to show now (one piece, or none)."""
        for sentence in checked:
            if sentence.check is not None and is_not_found(sentence.check.text):
                continue
            self._held.append(sentence)
        if not (self.sentences or any(s.supported for s in self._held)):
            return []
        released, self._held = self._held, []
        if not self.sentences:  # the answer starts with its first words, not with whitespace
            released = [CheckedSentence(s.text, s.check) for s in released]
            for sentence in released:
                sentence.text = sentence.text.lstrip()
                if sentence.text:
                    break
        self.sentences.extend(released)
        text = "".join(s.text for s in released)
        return [text] if text else []


def closest_documents(passages: list[Citation]) -> list[ClosestDocument]:
    """The best-scoring documents among the retrieved passages, one entry each, for a refusal."""
    seen: dict[int, ClosestDocument] = {}
    for p in sorted(passages, key=lambda c: c.score, reverse=True):
        if p.document_id not in seen:
            seen[p.document_id] = ClosestDocument(
                document_id=p.document_id,
                title=p.title,
                page=p.page,
                chunk_id=p.chunk_id,
                score=round(p.score, 4),
            )
    return list(seen.values())[:CLOSEST_DOCUMENTS]


def release_database_connection() -> None:
    """Generation takes seconds: give the database connection back instead of holding it idle
    (unless a surrounding transaction still needs it)."""
    if not connection.in_atomic_block:
        connection.close()
