"""What answering produces: the answer with its citations, per-sentence verdicts, the sources the
model read, and how long each stage took. Plain data: the API's serializers and the chat turn it
into JSON, stored messages keep it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingestion.passages import Passage
from llm.citations import SentenceCheck


@dataclass
class Citation:
    """A numbered source: `n` is the number the prompt gave it and the answer cites as [n]."""

    n: int
    document_id: int
    title: str
    page: int
    chunk_id: int
    text: str
    section: str = ""
    score: float = 0.0  # dense cosine similarity (0 when only BM25 found it): an absolute scale
    kind: str = "text"  # or "table"
    ocr: bool = False
    rows: str = ""
    page_label: str = ""
    # The sentences of `text` this is about, as character spans in `text`: in the sources, what
    # the model read (empty: all of it); in an answer's citations, the sentences the answer used,
    # which the source viewer highlights. `quote` is their text ("…" between runs apart).
    spans: list[tuple[int, int]] = field(default_factory=list)
    quote: str = ""

    @classmethod
    def of(cls, n: int, passage: Passage) -> Citation:
        return cls(
            n=n,
            document_id=passage.document_id,
            title=passage.title,
            page=passage.page,
            chunk_id=passage.chunk_id,
            text=passage.text,
            section=passage.section,
            score=round(passage.dense_score or 0.0, 4),
            kind=passage.kind,
            ocr=passage.ocr,
            rows=passage.rows,
            page_label=passage.page_label,
        )

    @property
    def location(self) -> str:
        """Where in the document, as the prompt names it: "page 4", "Q3 (rows 12–40)"."""
        return source_location(self.page, self.page_label, self.rows)


def source_location(page: int, page_label: str = "", rows: str = "") -> str:
    where = page_label or f"page {page}"
    return f"{where}, rows {rows}" if rows else where


@dataclass
class ClosestDocument:
    """What a refusal offers instead of an answer: a document near the question, and its best
    passage (for the chat's source viewer)."""

    document_id: int
    title: str
    page: int
    chunk_id: int
    score: float


@dataclass
class Timings:
    """Seconds per stage. Prompt evaluation is the time to the first generated token: on a CPU it
    is where most of the wait goes, the model reading the instructions and every source."""

    rewrite_s: float = 0.0
    retrieve_s: float = 0.0
    prompt_s: float = 0.0
    generate_s: float = 0.0
    total_s: float = 0.0


@dataclass
class Usage:
    """Tokens in the model's own tokenizer: every prompt it read (the follow-up rewrite's too) and
    everything it wrote."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Answer:
    answer: str
    refused: bool
    citations: list[Citation]
    question: str = ""  # standalone form of the question (a follow-up rewritten)
    sources: list[Citation] = field(default_factory=list)
    sentences: list[SentenceCheck] = field(default_factory=list)
    closest_documents: list[ClosestDocument] = field(default_factory=list)
    error: str = ""  # the back end failed: say so, the sources stay visible
    timings: Timings = field(default_factory=Timings)
    usage: Usage = field(default_factory=Usage)
