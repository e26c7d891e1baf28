"""The bundled sentence-transformers embedder, loaded offline from its pip package."""

from __future__ import annotations

import numpy as np

from retrieval.services import get_embedder


def test_bundled_model_embeds_unit_vectors_that_rank_meaning():
    embedder = get_embedder()
    assert embedder.name == "all-MiniLM-L6-v2"
    vectors = embedder.embed_documents(
        ["The cafeteria opens at 7:45.", "Expense reports are due in 30 days."]
    )
    assert vectors.shape == (2, embedder.dimension) == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = embedder.embed_query("When can I get breakfast at the canteen?")
    assert query @ vectors[0] > query @ vectors[1]


def test_token_counts_come_from_the_model_tokenizer():
    embedder = get_embedder()
    assert embedder.max_tokens == 256
    assert embedder.count_tokens("hello world") == 2
    assert embedder.count_tokens("unbelievably") > 1  # word pieces, not words
