"""Text → BM25 terms, for Chinese and English alike.

Chinese has no spaces, so runs of CJK characters go through jieba's search-mode segmentation
(which also emits the shorter words inside long ones, so 北京大学 matches a question about 北京).
Everything
else is split into lower-cased letter/digit words, dropping common English stop words. The same
function serves documents and queries: terms only meet if both sides are cut the same way.
"""

from __future__ import annotations

import logging
import re
import threading

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
_CJK_TERM = re.compile(rf"(?:^| )[{_CJK}]")

# Function words that carry no topic; IDF would shrink them anyway, but dropping them keeps the
# script-overlap estimate (see fusion) about the words that matter.
STOPWORDS = frozenset(
    """a an and are as at be but by for from has have he her his how i if in into is it its of on
    or our she so than that the their them then there these they this those to was we were what
    when where which who whom why will with you your does did do""".split()
) | frozenset(
    "的 了 是 在 和 与 及 或 也 就 都 而 之 其 这 那 有 吗 呢 吧 啊 "
    "什么 哪 哪些 多少 怎么 如何".split()
)

_jieba = None
_jieba_lock = threading.Lock()


def _segmenter():
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _jieba = jieba
    return _jieba


def is_cjk(term: str) -> bool:
    return bool(_IS_CJK.match(term))


def count_cjk(terms: str) -> int:
    """How many of the space-separated `terms` are CJK (as `is_cjk` says), in one regex pass:
    an index rebuild counts a million chunks' terms."""
    return len(_CJK_TERM.findall(terms))


def tokenize(text: str) -> list[str]:
    terms: list[str] = []
    for run in _RUN.findall(text):
        if is_cjk(run):
            words = _segmenter().lcut_for_search(run)
        else:
            words = [run.lower()]
        terms.extend(w for w in words if w.strip() and w not in STOPWORDS)
    return terms
