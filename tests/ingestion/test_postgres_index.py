"""Ingestion with both indexes in PostgreSQL (KBQA_INDEX_BACKEND=postgres): chunk rows, vectors and
lexical rows written in one transaction, deletes likewise, the access filter joined into the
search, `check_index` and `rebuild_index` (beside, then switched) on this back end.

Run them with DATABASE_URL from `bin/pgvector-server start DIR`; they skip elsewhere."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connections
from django.db.models import QuerySet

from ingestion.access import readable_chunk_ids
from ingestion.models import Chunk, Collection, Document, DocumentVersion
from ingestion.passages import search_passages
from ingestion.selectors import index_consistency
from ingestion.services.documents import document_delete
from ingestion.services.ingest import document_ingest, index_rebuild_from_database
from ingestion.services.versions import version_ingest, version_upload
from retrieval.index.pgvector_store import PgVectorStore
from retrieval.services import Mode, get_lexical_index, search
from tests.ingestion.helpers import create, ingest
from tests.ingestion.test_versions import V1, V2, _versions_seen
from tests.ingestion.test_versions import _file as version_file

QUESTION = "When does the Zorblax cafeteria open?"


def chunk_ids(document: Document) -> list[int]:
    return sorted(document.chunks.values_list("pk", flat=True))


def test_ingest_search_check_reindex_and_delete(postgres_index, handbook_pdf, capsys):
    document = ingest(handbook_pdf)
    assert document.status == Document.Status.INDEXED
    ids = chunk_ids(document)
    assert postgres_index.ids().tolist() == ids
    assert sorted(get_lexical_index().ids().tolist()) == ids
    for mode in Mode:
        hits = search(query=QUESTION, k=3, mode=mode)
        assert Chunk.objects.get(pk=hits[0].id).page == 2, mode
    assert search_passages(query=QUESTION, k=3, user=None)[0].page == 2

    call_command("check_index")
    out = capsys.readouterr().out
    assert f"{len(ids)} vectors" in out and f"{len(ids)} chunks of indexed documents" in out
    assert "OK: every chunk has exactly one vector" in out

    document = document_ingest(document_id=document.pk)  # re-index: new rows, new vectors
    assert chunk_ids(document) != ids
    assert postgres_index.ids().tolist() == chunk_ids(document)
    assert sorted(get_lexical_index().ids().tolist()) == chunk_ids(document)

    document_delete(document=document, by=None)  # the vectors go in its transaction
    assert postgres_index.count() == 0 and get_lexical_index().count() == 0
    assert search(query=QUESTION, k=3) == []


def test_a_failed_index_write_leaves_no_chunk_rows(postgres_index, handbook_pdf):
    """The index refuses the vectors (built by another model): the transaction that created the
    chunk rows rolls back with it, and the document fails with the reason."""
    postgres_index.update(model="another-model", add_ids=[10**9], vectors=_unit_rows(1, 8))
    document = ingest(handbook_pdf)
    assert document.status == Document.Status.FAILED
    assert "rebuild_index" in document.error
    assert not Chunk.objects.filter(document=document).exists()
    assert postgres_index.ids().tolist() == [10**9]
    assert get_lexical_index().count() == 0


def _unit_rows(rows: int, dimension: int):
    import numpy as np

    vectors = np.ones((rows, dimension), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class ObservedPgVectorStore(PgVectorStore):
    """The real store; each write also records what another connection (another process: a web
    search) sees of the new chunks and vectors while the writer's transaction is still open."""

    seen: list[tuple[int, int]] = []

    def update(self, *, model, remove_ids=(), add_ids=(), vectors=None) -> None:
        super().update(model=model, remove_ids=remove_ids, add_ids=add_ids, vectors=vectors)
        if len(add_ids):
            wanted = {int(i) for i in add_ids}
            self.seen.append(_from_another_connection(lambda: self._visible(wanted)))

    def _visible(self, wanted: set[int]) -> tuple[int, int]:
        rows = Chunk.objects.filter(pk__in=wanted).count()
        return rows, len(wanted & set(self.ids().tolist()))


def _from_another_connection(function):
    result = {}

    def run() -> None:
        try:
            result["value"] = function()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    return result["value"]


@pytest.mark.django_db(transaction=True)
def test_chunks_and_vectors_become_visible_in_one_commit(postgres_index, handbook_pdf, settings):
    settings.KBQA_INDEX = {**settings.KBQA_INDEX, "BACKEND": f"{__name__}.ObservedPgVectorStore"}
    ObservedPgVectorStore.seen = []
    document = ingest(handbook_pdf)
    assert document.status == Document.Status.INDEXED
    ids = chunk_ids(document)
    # While the ingestion's transaction held them, no other connection saw either the new chunk
    # rows or their vectors; after its commit, both at once.
    assert ObservedPgVectorStore.seen == [(0, 0)]
    assert _from_another_connection(lambda: postgres_index.ids().tolist()) == ids


def test_the_access_filter_is_joined_into_the_search(postgres_index, handbook_pdf):
    """A reader of one collection finds its passages and never another's: the hook's lazy query
    goes into both indexes' SQL."""
    hr = Collection.objects.create(name="HR")
    hr.reader_groups.add(Group.objects.create(name="hr-staff"))
    handbook = ingest(handbook_pdf)
    Document.objects.filter(pk=handbook.pk).update(collection=hr)
    notice = create(
        b"Canteen notice. The Zorblax cafeteria is closed for renovation in August.",
        "canteen-notice.txt",
    )
    document_ingest(document_id=notice.pk)
    reader = _user("reader", groups=[Group.objects.get(name="hr-staff")])
    outsider = _user("outsider")

    assert isinstance(readable_chunk_ids(reader), QuerySet)  # lazy: never read by itself
    passages = search_passages(query=QUESTION, k=5, user=reader)
    assert passages and {p.document_id for p in passages} == {handbook.pk}
    assert search_passages(query=QUESTION, k=5, user=outsider) == []  # reads no collection
    assert {p.document_id for p in search_passages(query=QUESTION, k=20, user=None)} == {
        handbook.pk,
        notice.pk,
    }


def _user(name: str, groups=()):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(name, password="pw-12345678")
    user.groups.set(groups)
    return user


def test_rebuild_index_builds_beside_and_switches(postgres_index, handbook_pdf, settings, capsys):
    document = ingest(handbook_pdf)
    before = postgres_index.describe()
    settings.KBQA_EMBEDDER = {
        "BACKEND": "retrieval.embedders.sentence_transformers.SentenceTransformerEmbedder",
        "OPTIONS": {"model": "bundled"},
    }
    during = []
    index_rebuild_from_database(on_progress=lambda done, total: during.append(_state()))
    # While it re-embedded, the old vectors answered, untouched.
    assert during and all(state == (before["model"], before["count"]) for state in during)
    after = postgres_index.describe()
    assert after["model"] != before["model"] and after["version"] == before["version"] + 1
    assert postgres_index.ids().tolist() == chunk_ids(document)
    assert sorted(get_lexical_index().ids().tolist()) == chunk_ids(document)
    top = search(query=QUESTION, k=1, mode=Mode.DENSE)
    assert Chunk.objects.get(pk=top[0].id).page == 2
    call_command("check_index")
    assert "OK" in capsys.readouterr().out


def _state() -> tuple[str, int]:
    from retrieval.services import get_index

    described = get_index().describe()
    return described["model"], described["count"]


@pytest.fixture
def traveller(postgres_index):
    """A reader of the default collection who may not read another one: an allow list."""
    readers = Group.objects.create(name="travellers")
    Collection.objects.default().reader_groups.add(readers)
    Collection.objects.create(name="Board")
    return _user("traveller", groups=[readers])


def test_a_new_version_replaces_the_old_one(postgres_index, traveller):
    """A version indexed beside the current one stays hidden (excluded inside the search) until
    the switch; a reader's search carries the access filter's query as well."""
    document = ingest(V1, "travel-policy.txt")
    pending = version_upload(document=document, file=version_file(V2), by=None)
    assert _versions_seen(document, "daily meal allowance", user=traveller) == {1}
    version = version_ingest(version_id=pending.pk)
    assert version.status == DocumentVersion.Status.CURRENT, version.error
    assert _versions_seen(document, "daily meal allowance", user=traveller) == {2}
    assert postgres_index.ids().tolist() == sorted(version.chunks.values_list("pk", flat=True))
    assert index_consistency().problems() == []
