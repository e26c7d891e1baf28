"""Citations: find the source numbers an answer cites, check each sentence against its sources,
and attach the source that supports a sentence the model left uncited.

Small local models cite unreliably, so a citation is only kept when the cited passage shares most
of the sentence's words; a sentence no passage supports stays uncited, and an answer with no
supported sentence is not presented as grounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingestion.chunking import sentence_spans

# [1], [1, 2], [1-3] and the full-width 【1】 that models often write in Chinese.
_BRACKETED = re.compile(r"\s*[\[【]\s*(\d+(?:\s*(?:[,，、;]|[-–~])\s*\d+)*)\s*[\]】]")
_RANGE = re.compile(r"(\d+)\s*[-–~]\s*(\d+)")
_SEPARATOR = re.compile(r"[,，、;]")
_LATIN = re.compile(r"[a-z0-9]+")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_TRAILING_PUNCTUATION = re.compile(r"[.。!！?？;；:：]+$")
# "… morning. [1]" → "… morning [1]." so the marker stays with the sentence it follows.
_MARKER_AFTER_STOP = re.compile(r"([.。!！?？])(\s*[\[【][\d\s,，、;\-–~]+[\]】])")

SUPPORT_THRESHOLD = 0.5


def _numbers(body: str, max_n: int) -> list[int]:
    numbers: list[int] = []
    for part in _SEPARATOR.split(body):
        part = part.strip()
        rng = _RANGE.fullmatch(part)
        if rng:
            low, high = int(rng.group(1)), int(rng.group(2))
            if low <= high <= max_n:
                numbers.extend(range(low, high + 1))
        elif part.isdigit():
            numbers.append(int(part))
    return [n for n in numbers if 1 <= n <= max_n]


def cited_numbers(text: str, *, max_n: int) -> list[int]:
    """Source numbers in order of first citation, keeping only 1..max_n (a number that points at
    no source is dropped, not guessed at)."""
    seen: list[int] = []
    for match in _BRACKETED.finditer(text):
        for n in _numbers(match.group(1), max_n):
            if n not in seen:
                seen.append(n)
    return seen


def terms(text: str) -> set[str]:
    """Words for Latin script, character bigrams for Chinese (which has no spaces)."""
    lowered = text.lower()
    found = set(_LATIN.findall(lowered))
    for run in _CJK_RUN.findall(lowered):
        found.update(run[i : i + 2] for i in range(max(len(run) - 1, 1)))
    return found


def support(sentence: str, passage_terms: set[str]) -> float:
    """Share of the sentence's terms that occur in the passage (0..1); 0 when the sentence states
    a number the passage does not hold, since a wrong figure in otherwise copied words ("closes at
    11:00" from "closes at 3") is the small model's typical error and the costliest one."""
    sentence_terms = terms(sentence)
    if not sentence_terms:
        return 0.0
    if any(t.isdigit() and t not in passage_terms for t in sentence_terms):
        return 0.0
    return len(sentence_terms & passage_terms) / len(sentence_terms)


@dataclass
class SentenceCheck:
    """One answer sentence and its verdict: what the UI marks as supported or not."""

    text: str  # the sentence without citation markers
    citations: list[int]  # verified sources (empty when unsupported)
    supported: bool
    score: float  # best support any passage gives it (0..1)


@dataclass
class CheckedSentence:
    """One sentence of the answer once checked: `text` is what the answer shows for it (the
    whitespace before it, the sentence, its verified markers); `check` is its verdict, None for a
    span that held only markers or punctuation (it shows as its whitespace alone)."""

    text: str
    check: SentenceCheck | None = None

    @property
    def supported(self) -> bool:
        return self.check is not None and self.check.supported


@dataclass
class CitedAnswer:
    text: str  # the answer with verified [n] markers
    numbers: list[int]  # cited source numbers, in order of first citation
    supported_sentences: int
    sentences: int
    checks: list[SentenceCheck]

    @classmethod
    def of(cls, sentences: list[CheckedSentence]) -> CitedAnswer:
        checks = [s.check for s in sentences if s.check is not None]
        numbers: list[int] = []
        for check in checks:
            numbers.extend(n for n in check.citations if n not in numbers)
        return cls(
            text="".join(s.text for s in sentences).strip(),
            numbers=numbers,
            supported_sentences=sum(c.supported for c in checks),
            sentences=len(checks),
            checks=checks,
        )


class CitationChecker:
    """Checks an answer's citations sentence by sentence as it is generated, so a stream can show
    each sentence with the citations that will stand (the same numbers as the final answer).

    A cited number that points at no passage is dropped; a citation whose passage does not support
    the sentence (share of shared terms below `threshold`) is replaced by the passage that does,
    or removed, and the sentence is marked unsupported. A sentence is checked once the next one
    has begun (its markers may still follow it: "… morning. [1]")."""

    def __init__(self, passages: dict[int, str], *, threshold: float = SUPPORT_THRESHOLD) -> None:
        self._passage_terms = {n: terms(p) for n, p in passages.items()}
        self._max_n = max(passages, default=0)
        self._threshold = threshold
        self._pending = ""

    def feed(self, piece: str) -> list[CheckedSentence]:
        """The sentences `piece` completed, checked."""
        self._pending += piece
        return self._take(final=False)

    def finish(self) -> list[CheckedSentence]:
        """The rest of the answer, checked."""
        return self._take(final=True)

    def _take(self, *, final: bool) -> list[CheckedSentence]:
        text = _MARKER_AFTER_STOP.sub(r"\2\1", self._pending)
        spans = list(sentence_spans(text, max_chars=10_000))
        done = len(spans) if final else _complete_spans(text, spans)
        checked: list[CheckedSentence] = []
        last = 0
        for start, end in spans[:done]:
            checked.append(self._check(text[last:start], text[start:end]))
            last = end
        self._pending = text[last:]
        return checked

    def _check(self, space: str, sentence: str) -> CheckedSentence:
        claimed = cited_numbers(sentence, max_n=self._max_n)
        bare = _BRACKETED.sub("", sentence).strip()
        if not bare or _TRAILING_PUNCTUATION.fullmatch(bare):
            return CheckedSentence(space)
        scores = {n: support(bare, t) for n, t in self._passage_terms.items()}
        keep = [n for n in claimed if scores.get(n, 0) >= self._threshold]
        best = max(scores, key=scores.get, default=None)
        if not keep and best is not None and scores[best] >= self._threshold:
            keep = [best]
        check = SentenceCheck(
            text=bare,
            citations=keep,
            supported=bool(keep),
            score=round(scores[best], 3) if best is not None else 0.0,
        )
        if keep:
            marker = "".join(f"[{n}]" for n in keep)
            match = _TRAILING_PUNCTUATION.search(bare)
            cut = match.start() if match else len(bare)
            bare = f"{bare[:cut]} {marker}{bare[cut:]}"
        return CheckedSentence(space + bare, check)


_LETTER = re.compile(r"[^\W\d_]")


def _complete_spans(text: str, spans: list[tuple[int, int]]) -> int:
    """How many leading spans are finished: all before the last one that holds a letter (the
    sentence after them has begun). Spans after it hold only markers or punctuation, which may
    still belong to the sentence before."""
    for index in range(len(spans) - 1, 0, -1):
        if _LETTER.search(_BRACKETED.sub("", text[slice(*spans[index])])):
            return index
    return 0


def ground(
    text: str, passages: dict[int, str], *, threshold: float = SUPPORT_THRESHOLD
) -> CitedAnswer:
    """A whole answer's citations checked (see `CitationChecker`)."""
    checker = CitationChecker(passages, threshold=threshold)
    return CitedAnswer.of(checker.feed(text) + checker.finish())
