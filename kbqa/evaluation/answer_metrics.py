"""Answer-quality metrics for `manage.py evaluate --answers`: pure functions over gold data.

Exact match and F1 follow SQuAD's normalisation (lower case, no punctuation, no English articles);
Chinese text is compared character by character, since it has no spaces to split words on (as the
CMRC 2018 evaluation does). A query is a line of `../shared/eval/*/queries.jsonl`: `question`,
`answers`, `answerable`, and `gold_ids` (passage sets) or `gold_pages` (file sets).
"""

from __future__ import annotations

import re
import statistics
import string
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_CJK = re.compile(r"[\u3400-\u9fff]")
_TOKEN = re.compile(r"[\u3400-\u9fff]|[^\s\u3400-\u9fff]+")
_PUNCTUATION = set(string.punctuation) | {c for c in "，。！？；：、“”‘’（）《》【】「」『』—…·"}


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if c in _PUNCTUATION else c for c in text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Normalised words, with each Chinese character a token of its own."""
    return _TOKEN.findall(normalize(text))


def exact_match(prediction: str, golds: Iterable[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer; for Chinese, spaces do
    not count."""
    pred = normalize(prediction)
    for gold in golds:
        g = normalize(gold)
        if pred == g or (_CJK.search(g) and pred.replace(" ", "") == g.replace(" ", "")):
            return 1.0
    return 0.0


def f1(prediction: str, golds: Iterable[str]) -> float:
    """Best token F1 against any gold answer (character-level for Chinese)."""
    pred = tokens(prediction)
    best = 0.0
    for gold in golds:
        ref = tokens(gold)
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            precision, recall = common / len(pred), common / len(ref)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_answer(text: str, golds: Iterable[str]) -> bool:
    haystack = normalize(text).replace(" ", "")
    return any(g and g in haystack for g in (normalize(x).replace(" ", "") for x in golds))


def gold_keys(query: Mapping[str, Any]) -> set[Hashable]:
    """Passage ids, or (file, page) pairs, that hold the query's answer."""
    keys: set[Hashable] = set(query.get("gold_ids") or [])
    keys.update((p["file"], p["page"]) for p in query.get("gold_pages") or [])
    return keys


def citation_is_correct(
    citation: Mapping[str, Any],
    query: Mapping[str, Any],
    citation_keys: Callable[[Mapping[str, Any]], Iterable[Hashable]],
) -> bool:
    """A citation is right when its passage is gold, or contains a gold answer."""
    if gold_keys(query) & set(citation_keys(citation)):
        return True
    return contains_answer(citation.get("text", ""), query.get("answers") or [])


def _default_citation_keys(citation: Mapping[str, Any]) -> Iterable[Hashable]:
    return [citation["passage_id"]] if citation.get("passage_id") is not None else []


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def evaluate_answers(
    queries: Iterable[Mapping[str, Any]],
    answer_fn: Callable[[str], Mapping[str, Any]],
    *,
    citation_keys: Callable[[Mapping[str, Any]], Iterable[Hashable]] = _default_citation_keys,
) -> dict[str, float | None]:
    """Answer each query with `answer_fn(question)` (the API's JSON shape: "answer", "refused",
    "citations") and score the answers.

    `citation_keys(citation)` names what a citation points at in the gold data's terms: the
    passage id (the default reads `citation["passage_id"]`) or (file, page) pairs for file sets.
    Metrics a set cannot give (no gold answers, no unanswerable questions) are None.
    """
    em: list[float] = []
    f1s: list[float] = []
    citations_right: list[float] = []
    refused_unanswerable: list[float] = []
    refused_answerable: list[float] = []
    supported: list[float] = []
    seconds: list[float] = []
    for query in queries:
        started = time.perf_counter()
        result = answer_fn(query["question"])
        seconds.append(time.perf_counter() - started)
        refused = bool(result.get("refused"))
        if not query.get("answerable", True):
            refused_unanswerable.append(float(refused))
            continue
        refused_answerable.append(float(refused))
        golds = query.get("answers") or []
        if golds:
            answer = "" if refused else _without_markers(result.get("answer", ""))
            em.append(exact_match(answer, golds))
            f1s.append(f1(answer, golds))
        for citation in result.get("citations") or []:
            citations_right.append(float(citation_is_correct(citation, query, citation_keys)))
        checks = result.get("sentences") or []
        if not refused and checks:
            supported.append(sum(bool(c.get("supported")) for c in checks) / len(checks))
    return {
        "exact_match": _mean(em),
        "f1": _mean(f1s),
        "citation_precision": _mean(citations_right),
        "refusal_rate": _mean(refused_unanswerable),
        "false_refusal_rate": _mean(refused_answerable),
        "supported_share": _mean(supported),
        "p50_s": round(statistics.median(seconds), 3) if seconds else None,
    }


_MARKERS = re.compile(r"\s*[\[【][\d\s,，、;\-–~]+[\]】]")


def _without_markers(answer: str) -> str:
    return _MARKERS.sub("", answer)
