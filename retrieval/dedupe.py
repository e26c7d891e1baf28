"""Near-duplicate suppression: a top-k that is five copies of one paragraph (the same boilerplate
in every document, a page repeated in two versions of a manual) wastes the LLM's context."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

_SPACE = re.compile(r"\s+")


def shingles(text: str, size: int = 5) -> frozenset[str]:
    """Character n-grams of the whitespace-free, lower-cased text: works for Chinese (no word
    boundaries) and English alike, and ignores differences in line wrapping."""
    flat = _SPACE.sub("", text).lower()
    if len(flat) <= size:
        return frozenset([flat]) if flat else frozenset()
    return frozenset(flat[i : i + size] for i in range(len(flat) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def suppress_near_duplicates(
    items: Sequence[T], text_of: Callable[[T], str | None], *, threshold: float = 0.85, limit: int
) -> list[T]:
    """The first `limit` items in order, skipping any whose text is at least `threshold` similar
    (Jaccard over 5-character shingles) to one already kept."""
    kept: list[T] = []
    kept_shingles: list[frozenset[str]] = []
    for item in items:
        text = text_of(item)
        sig = shingles(text) if text else frozenset()
        if sig and any(jaccard(sig, other) >= threshold for other in kept_shingles):
            continue
        kept.append(item)
        kept_shingles.append(sig)
        if len(kept) == limit:
            break
    return kept
