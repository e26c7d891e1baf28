"""Reading less: from each retrieved passage, only the sentences that bear on the question (with
their neighbours, for context), within a token budget, instead of whole chunks.

On a CPU the wait before an answer's first word is the model reading its prompt, so every sentence
it need not read is time saved; fewer, tighter passages also leave it fewer wrong sources to cite.
Retrieval (dense + BM25) already said which passages matter; this only picks where in them to
read. Sentences are scored lexically, which costs microseconds: the question's terms (words, or
character bigrams for Chinese, as the citation check counts them) weighted by how rare they are
among the retrieved sentences, so "the", "what" or "如何" weigh little. (Embedding each sentence
with the loaded embedder would cost ~50 ms a sentence on two cores, more than it saves.)

A focused passage keeps the character spans of what it kept, so a citation still maps to its chunk
and page, and the source viewer can highlight the sentences the model read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingestion.chunking import sentence_spans
from llm.citations import terms

Span = tuple[int, int]

GAP = " … "  # between two kept runs of sentences that are not adjacent in the passage
MAX_SENTENCE_CHARS = 400  # a longer "sentence" (a list, a table row run) is read in pieces
KEEP_RATIO = 0.4  # a passage whose best sentence scores below this share of the best is dropped
NEAR_BEST = 0.6  # sentences scoring this share of their passage's best are kept with the best
NEIGHBOURS = 1  # sentences kept on each side of a chosen one, for context
UNSCORED_PASSAGES = 2  # with no word of the question anywhere: the leads of this many passages


@dataclass(frozen=True)
class Focus:
    """What the model reads of one passage: `text` (the kept sentences in their order, runs of
    non-adjacent sentences joined by `GAP`) and the `spans` of those sentences in the passage."""

    text: str
    spans: tuple[Span, ...]


@dataclass
class _Sentence:
    span: Span
    text: str
    terms: set[str]
    tokens: int
    score: float = 0.0


def focus_passages(
    question: str,
    passages: Sequence[str],
    *,
    count_tokens: Callable[[str], int],
    budget: int,
    per_passage: int,
) -> list[Focus | None]:
    """For each passage (in rank order), its focus, or None when it is left out: no sentence in
    it bears on the question as much as the best passages' do, every sentence it would add was
    already read in a passage before it (retrieved chunks overlap), or the budget is spent.

    `budget` and `per_passage` are in the model's tokens, the sentences' own (the prompt's
    framing of each source is extra)."""
    split = [_sentences(p, count_tokens) for p in passages]
    _score(question, split)
    best = max((s.score for sentences in split for s in sentences), default=0.0)
    seen: set[str] = set()
    focused: list[Focus | None] = []
    left = budget
    unscored = 0
    for text, sentences in zip(passages, split, strict=True):
        if not sentences:
            focused.append(None)
            continue
        top = max(s.score for s in sentences)
        if best > 0 and top < KEEP_RATIO * best:
            focused.append(None)
            continue
        if best == 0:  # nothing lexical to go by (a paraphrase, another language): read the leads
            if unscored >= UNSCORED_PASSAGES:
                focused.append(None)
                continue
            unscored += 1
        if left <= 0:
            focused.append(None)
            continue
        # A best sentence longer than the passage's share is still read from the first passage
        # kept (a long list item can hold the answer), never beyond the whole budget after it.
        first = not any(f is not None for f in focused)
        kept = _choose(sentences, top, min(per_passage, left), seen, oversize=first)
        if not kept:
            focused.append(None)
            continue
        seen.update(_key(sentences[i].text) for i in kept)
        left -= sum(sentences[i].tokens for i in kept)
        focused.append(_focus(text, [sentences[i] for i in kept]))
    return focused


def _sentences(text: str, count_tokens: Callable[[str], int]) -> list[_Sentence]:
    found = []
    for start, end in sentence_spans(text, max_chars=MAX_SENTENCE_CHARS):
        sentence = text[start:end]
        found.append(_Sentence((start, end), sentence, terms(sentence), count_tokens(sentence)))
    return found


def _score(question: str, split: list[list[_Sentence]]) -> None:
    """Each sentence's score: the summed rarity (inverse document frequency over the retrieved
    sentences) of the question's terms it holds."""
    wanted = terms(question)
    sentences = [s for group in split for s in group]
    frequency = {t: sum(t in s.terms for s in sentences) for t in wanted}
    weight = {
        t: math.log(1 + (len(sentences) - n + 0.5) / (n + 0.5)) for t, n in frequency.items() if n
    }
    for sentence in sentences:
        sentence.score = sum(w for t, w in weight.items() if t in sentence.terms)


def _key(sentence: str) -> str:
    return " ".join(sentence.split()).lower()


def _choose(
    sentences: list[_Sentence], top: float, budget: int, seen: set[str], *, oversize: bool
) -> list[int]:
    """Indexes of the sentences to read, in passage order: the best ones first, each with its
    neighbours, while they fit `budget`; sentences already read in an earlier passage are
    skipped. With `oversize`, a best sentence that alone exceeds the budget is still read."""
    if top > 0:
        order = sorted(range(len(sentences)), key=lambda i: -sentences[i].score)
        chosen = [i for i in order if sentences[i].score >= NEAR_BEST * top]
    else:
        chosen = [0]
    kept: set[int] = set()
    spent = 0
    for index in chosen:
        if _key(sentences[index].text) in seen:
            continue
        around = range(max(index - NEIGHBOURS, 0), min(index + NEIGHBOURS + 1, len(sentences)))
        # The chosen sentence first, then its neighbours, nearest first.
        for i in sorted(around, key=lambda i: (abs(i - index), i)):
            if i in kept or _key(sentences[i].text) in seen:
                continue
            cost = sentences[i].tokens
            if spent + cost > budget and (kept or i != index or not oversize):
                continue
            kept.add(i)
            spent += cost
    return sorted(kept)


def _focus(text: str, kept: list[_Sentence]) -> Focus:
    """The kept sentences as one text: adjacent ones as the passage has them (its own spacing),
    runs apart joined by `GAP`."""
    spans = tuple(s.span for s in kept)
    return Focus(text=quote_of(text, spans), spans=spans)


USED_SHARE = 0.5  # a read sentence counts as used when it holds this share of the best's support


def used_spans(text: str, spans: Sequence[Span], claims: Sequence[str]) -> tuple[Span, ...]:
    """The sentences of `text` (those in `spans`, or all of them when `spans` is empty) that the
    answer's `claims` (its sentences citing this passage) rest on: each claim's best-supporting
    sentences. All of `spans` when no sentence shares a term with the claims."""
    candidates = list(spans) or list(sentence_spans(text, max_chars=MAX_SENTENCE_CHARS))
    if not candidates or not claims:
        return tuple(candidates)
    sentence_terms = [terms(text[a:b]) for a, b in candidates]
    used: set[Span] = set()
    for claim in claims:
        wanted = terms(claim)
        shares = [len(wanted & t) / len(wanted) if wanted else 0.0 for t in sentence_terms]
        best = max(shares)
        if best > 0:
            pairs = zip(candidates, shares, strict=True)
            used.update(span for span, share in pairs if share >= USED_SHARE * best)
    return tuple(sorted(used)) or tuple(candidates)


def quote_of(text: str, spans: Sequence[Span]) -> str:
    """The text of `spans` as one quote: adjacent sentences as the passage has them, `GAP`
    between runs apart."""
    if not spans:
        return ""
    runs: list[list[int]] = [list(spans[0])]
    for start, end in spans[1:]:
        if not text[runs[-1][1] : start].strip():
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return GAP.join(text[a:b] for a, b in runs)
