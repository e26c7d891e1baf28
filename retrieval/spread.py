"""Spread a ranking over pages: citations, the source viewer and the evaluation sets all work at
page level, and a long report's best page often yields four neighbouring chunks that fill the top
k, pushing every other page (often the one that holds the answer) out of it.

Demoted, not dropped: when fewer pages than k are relevant, their further chunks still fill the
list after the other pages' first ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")

# (chunk ids) -> {chunk id: page key}; chunks without a key (unpaged documents) stand alone.
PageKeys = Callable[[Sequence[int]], Mapping[int, Hashable]]


def spread_over_pages(
    hits: Sequence[T], page_of: Mapping[int, Hashable], *, per_page: int, key: Callable[[T], int]
) -> list[T]:
    """`hits` in their order, except that a page's hits after its first `per_page` move behind all
    the others (keeping their order)."""
    seen: Counter = Counter()
    head: list[T] = []
    tail: list[T] = []
    for hit in hits:
        page = page_of.get(key(hit))
        if page is not None:
            seen[page] += 1
            if seen[page] > per_page:
                tail.append(hit)
                continue
        head.append(hit)
    return head + tail
