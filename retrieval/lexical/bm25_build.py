"""Build a bm25s index from stored terms in numpy, in a fraction of bm25s's own memory and time.

`bm25s.BM25.index` holds every chunk as a Python list of Python strings, then again as lists of
ints, and loops over them in Python: at a million chunks of ~170 terms that is over 10 GB and
about ten minutes on two cores (a 1M-chunk merge was OOM-killed on the 24 GiB CI machine). Here
each chunk's terms become an int32 array as it streams from SQLite, and document frequencies,
term frequencies and the scores are computed on flat arrays (about 25 bytes per term occurrence
at peak). The result is an ordinary bm25s index (same "lucene" scores, same CSC layout, saved and
loaded by bm25s), so search is unchanged; `tests/retrieval/test_bm25_build.py` checks it against
bm25s's own build.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def build_bm25s(term_strings: Iterable[str], *, k1: float, b: float):
    """(a bm25s.BM25 over documents given as space-separated terms, in document order, or None
    for no documents; each document's length in terms)."""
    import bm25s

    vocab: dict[str, int] = {}
    parts: list[np.ndarray] = []
    for terms in term_strings:
        tokens = terms.split(" ") if terms else ()
        parts.append(np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens), np.int32))
    n = len(parts)
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=n)
    if n == 0:
        return None, lengths
    # One int64 key per occurrence, term-major: sorted, equal keys are one (term, document) pair
    # with its count as tf, and the order is already bm25s's CSC order (by term, then document).
    keys = np.concatenate(parts).astype(np.int64)
    del parts
    keys *= n
    keys += np.repeat(np.arange(n, dtype=np.int64), lengths)
    keys.sort()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    tf = np.diff(np.r_[starts, len(keys)]).astype(np.float32)
    keys = keys[starts]
    terms_of, docs_of = np.divmod(keys, n)
    del keys, starts
    df = np.bincount(terms_of, minlength=len(vocab))
    # As bm25s computes them: idf in float64 stored as float32; tf / (tf + k1 (1 - b + b L/avgdl)).
    idf = np.array([math.log(1 + (n - d + 0.5) / (d + 0.5)) for d in df.tolist()], dtype=np.float32)
    avgdl = lengths.mean()
    tfc = tf / (k1 * ((1 - b) + b * lengths[docs_of] / avgdl) + tf)
    retriever = bm25s.BM25(k1=k1, b=b)
    retriever.scores = {
        "data": (idf[terms_of] * tfc).astype(np.float32),
        "indices": docs_of.astype(np.int32),
        "indptr": np.r_[0, np.cumsum(df)].astype(np.int64),
        "num_docs": n,
    }
    retriever.vocab_dict = vocab
    retriever.nonoccurrence_array = None
    retriever.unique_token_ids_set = set(vocab.values())
    return retriever, lengths
