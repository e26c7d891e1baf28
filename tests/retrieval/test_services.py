"""Hybrid search through the services, over documents ingested by the real ingestion path: the BM25
index stays in step with the chunks, filters apply inside the search, the reranker reorders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.core.files import File

from ingestion.models import Chunk, Document
from ingestion.services.documents import document_delete
from ingestion.services.ingest import document_ingest
from ingestion.services.uploads import document_create
from retrieval.services import Mode, get_lexical_index, get_retriever, search
from tests.fixtures.pdf import make_pdf


def ingest_text(tmp_path: Path, name: str, text: str) -> Document:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with path.open("rb") as handle:
        document = document_create(file=File(handle, name=name), enqueue=False)
    return document_ingest(document_id=document.pk)


def chunk_ids(document: Document) -> list[int]:
    return sorted(document.chunks.values_list("pk", flat=True))


def test_bm25_follows_ingest_reindex_and_delete(
    ingested_handbook, isolated_index, django_capture_on_commit_callbacks
):
    lexical = get_lexical_index()
    assert sorted(lexical.ids().tolist()) == chunk_ids(ingested_handbook)
    assert sorted(isolated_index.ids().tolist()) == chunk_ids(ingested_handbook)

    document = document_ingest(document_id=ingested_handbook.pk)  # re-index: new chunk ids
    assert sorted(lexical.ids().tolist()) == chunk_ids(document)
    hits = search(query="Zorblax", k=3, mode=Mode.BM25)
    assert hits and Chunk.objects.get(pk=hits[0].id).page == 2

    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=document, by=None)
    assert lexical.count() == 0
    assert search(query="Zorblax", k=3) == []


def test_hybrid_search_finds_the_passage(ingested_handbook):
    for query in ("When does the Zorblax cafeteria open?", "where do I get breakfast"):
        top = Chunk.objects.get(pk=search(query=query, k=3)[0].id)
        assert top.page == 2, query


@pytest.fixture
def two_documents(ingested_handbook, tmp_path: Path) -> tuple[Document, Document]:
    other = ingest_text(
        tmp_path,
        "canteen-notice.txt",
        "Canteen notice. The Zorblax cafeteria is closed for renovation in August.\n\n"
        "员工食堂八月装修，暂停开放。",
    )
    return ingested_handbook, other


def test_document_filter_applies_before_the_top_k(two_documents):
    handbook, notice = two_documents
    query = "When does the Zorblax cafeteria open?"
    unfiltered = search(query=query, k=1)
    best = Chunk.objects.get(pk=unfiltered[0].id).document_id
    other = notice if best == handbook.pk else handbook
    # The other document's best chunk ranks below the top 1 unfiltered; filtering inside the
    # search still returns it, instead of filtering an empty top 1 afterwards.
    filtered = search(query=query, k=1, chunk_ids=chunk_ids(other))
    assert [Chunk.objects.get(pk=h.id).document_id for h in filtered] == [other.pk]


def only_notices(user) -> list[int]:
    """An access-filter hook: this user may read only documents whose title says 'notice'."""
    return list(
        Chunk.objects.filter(document__title__contains="notice").values_list("pk", flat=True)
    )


def test_access_filter_hook_hides_restricted_chunks(two_documents, settings):
    handbook, notice = two_documents
    settings.KBQA_ACCESS_FILTER = f"{__name__}.only_notices"
    for mode in Mode:
        hits = search(query="When does the Zorblax cafeteria open?", k=5, mode=mode)
        assert hits, mode
        assert {Chunk.objects.get(pk=h.id).document_id for h in hits} == {notice.pk}, mode
    # Combined with a document filter that the hook forbids: nothing, rather than a leak.
    assert search(query="cafeteria", k=5, chunk_ids=chunk_ids(handbook)) == []


@pytest.fixture
def tiny_cross_encoder(tmp_path: Path) -> Path:
    """A randomly initialised BERT cross-encoder saved locally: real loading and scoring code,
    meaningless scores."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    directory = tmp_path / "tiny-reranker"
    directory.mkdir()
    words = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *"the cafeteria opens at expense".split(),
    ]
    (directory / "vocab.txt").write_text("\n".join(words))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=512,
        num_labels=1,
        initializer_range=2.0,
    )
    BertForSequenceClassification(config).save_pretrained(directory)
    BertTokenizerFast(vocab_file=str(directory / "vocab.txt")).save_pretrained(directory)
    return directory


def test_cross_encoder_reranks_the_fused_candidates(
    ingested_handbook, tiny_cross_encoder, settings
):
    settings.KBQA_RERANKER = {
        "BACKEND": "retrieval.rerankers.cross_encoder.CrossEncoderReranker",
        "OPTIONS": {"model": str(tiny_cross_encoder), "top_n": 10},
    }
    settings.KBQA_SEARCH = {**settings.KBQA_SEARCH, "dedupe_threshold": None}
    retriever = get_retriever()
    assert retriever.reranker is not None
    query = "When does the cafeteria open?"
    hits = retriever.search(query=query, k=10)
    texts = retriever.lexical.texts([h.id for h in hits])
    expected = retriever.reranker.score(query, [texts[h.id] for h in hits])
    assert [h.score for h in hits] == pytest.approx(sorted(expected, reverse=True))
    assert len({round(s, 6) for s in expected}) > 1  # the scores really differ


def test_search_of_an_empty_index_is_empty(db, isolated_index):
    assert search(query="anything", k=5) == []
    assert search(query="anything", k=5, chunk_ids=np.array([1, 2])) == []


def test_rebuild_index_after_changing_the_embedder(ingested_handbook, settings, capsys):
    from django.core.management import call_command

    from retrieval.index.base import IndexMismatch

    settings.KBQA_EMBEDDER = {
        "BACKEND": "retrieval.embedders.sentence_transformers.SentenceTransformerEmbedder",
        "OPTIONS": {"model": "bundled"},
    }
    with pytest.raises(IndexMismatch):
        search(query="When does the Zorblax cafeteria open?", k=1, mode=Mode.DENSE)
    call_command("rebuild_index")
    assert f"Rebuilt the index with {ingested_handbook.chunks.count()} vectors." in (
        capsys.readouterr().out
    )
    top = search(query="When does the Zorblax cafeteria open?", k=1, mode=Mode.DENSE)
    assert Chunk.objects.get(pk=top[0].id).page == 2
    assert sorted(get_lexical_index().ids().tolist()) == chunk_ids(ingested_handbook)


PARKING_LINES = [
    f"Parking rule {n}: staff parking permits for the {place} car park are issued by facilities."
    for n, place in enumerate(["north", "south", "east", "west", "river", "hill"] * 4, start=1)
]


def ingest_pdf(tmp_path: Path, name: str, pages: list[list[str]]) -> Document:
    path = make_pdf(tmp_path / name, pages)
    with path.open("rb") as handle:
        document = document_create(file=File(handle, name=name), enqueue=False)
    return document_ingest(document_id=document.pk)


def test_results_spread_over_pages_of_a_paged_document(db, isolated_index, tmp_path, settings):
    document = ingest_pdf(
        tmp_path,
        "facilities.pdf",
        [PARKING_LINES, ["Visitors get day parking permits for the car park at reception."]],
    )
    pages = dict(document.chunks.values_list("pk", "page"))
    assert list(pages.values()).count(1) >= 3  # page 1 alone fills any top 2
    query = "Who issues staff parking permits for the car park?"

    top = [pages[h.id] for h in search(query=query, k=2)]
    assert top[0] == 1 and sorted(top) == [1, 2]
    # Page 1's further chunks are demoted, not dropped: they follow page 2's.
    assert [pages[h.id] for h in search(query=query, k=4)] == [top[0], top[1], 1, 1]

    # Answering asks for the best page's neighbouring chunks, as context.
    assert [pages[h.id] for h in search(query=query, k=2, spread=False)] == [1, 1]
    settings.KBQA_SEARCH = {**settings.KBQA_SEARCH, "per_page": None}
    assert [pages[h.id] for h in search(query=query, k=2)] == [1, 1]


def test_unpaged_documents_are_not_spread(db, isolated_index, tmp_path):
    document = ingest_text(tmp_path, "facilities.txt", "\n".join(PARKING_LINES))
    other = ingest_text(tmp_path, "visitors.txt", "Visitors get day parking permits.")
    assert document.chunks.count() >= 3
    hits = search(query="Who issues staff parking permits for the car park?", k=2)
    # All of a text file's chunks say page 1; spreading over that would bury its second chunk.
    assert {Chunk.objects.get(pk=h.id).document_id for h in hits} == {document.pk}
    assert other.chunks.exists()
