"""The read-access rules: collections readable by groups (or everyone), superusers read all,
anonymous and inactive users nothing; chunks of documents not yet indexed are not readable even by
their uploader; and the search hook returns exactly the readable chunks."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.files.base import ContentFile
from django.http import Http404

from ingestion.access import (
    can_read_document,
    readable_chunk,
    readable_chunk_ids,
    readable_collections,
    readable_document,
    readable_documents,
)
from ingestion.models import Chunk, Collection, Document, DocumentVersion


def _document(title: str, collection: Collection | None = None) -> Document:
    document = Document.objects.create(
        title=title,
        sha256=title.ljust(64, "0")[:64],
        **({"collection": collection} if collection else {}),
    )
    document.file.save(f"{title}.txt", ContentFile(b"Canteen opens at 7:45."), save=True)
    return document


def _chunk(document: Document) -> Chunk:
    version = DocumentVersion.objects.create(document=document, number=1, file=document.file.name)
    Document.objects.filter(pk=document.pk).update(current_version=version)
    return Chunk.objects.create(
        document=document,
        version=version,
        ordinal=0,
        text="Canteen opens at 7:45.",
        page=1,
        page_end=1,
        char_start=0,
        char_end=22,
    )


@pytest.fixture
def hr(db) -> Collection:
    collection = Collection.objects.create(name="HR")
    collection.reader_groups.add(Group.objects.create(name="hr-staff"))
    return collection


def test_group_readers_read_their_collections_and_no_other(hr, django_user_model):
    reader = django_user_model.objects.create_user("reader", password="pw-12345678")
    reader.groups.add(Group.objects.get(name="hr-staff"))
    outsider = django_user_model.objects.create_user("outsider", password="pw-12345678")
    staff = django_user_model.objects.create_user("staff", password="pw-12345678", is_staff=True)
    boss = django_user_model.objects.create_superuser("boss", password="pw-12345678")
    salaries = _document("salaries", hr)
    general = _document("notice")  # no collection given: the default one
    assert general.collection.is_default
    chunks = {d.pk: _chunk(d) for d in (salaries, general)}
    Document.objects.update(status=Document.Status.INDEXED)

    assert list(readable_documents(reader)) == [salaries]
    assert readable_chunk(reader, chunks[salaries.pk].pk) == chunks[salaries.pk]
    assert list(readable_chunk_ids(reader)) == [chunks[salaries.pk].pk]
    for user in (outsider, staff):  # being staff grants no reading
        assert not readable_documents(user).exists()
        assert not can_read_document(user, salaries)
        assert list(readable_chunk_ids(user)) == []
        with pytest.raises(Http404):
            readable_document(user, salaries.pk)
    assert set(readable_documents(boss)) == {salaries, general}
    assert readable_chunk_ids(boss) is None  # no restriction: nothing to compute per search
    assert readable_chunk_ids(None) is None  # trusted in-process callers (commands)

    general.collection.everyone = True
    general.collection.save()
    assert list(readable_documents(outsider)) == [general]
    assert list(readable_chunk_ids(outsider)) == [chunks[general.pk].pk]
    assert set(readable_collections(reader)) == {hr, general.collection}
    assert readable_chunk_ids(reader) is None  # reads every collection: no filter to compute

    reader.is_active = False
    reader.save()
    assert not readable_documents(reader).exists()
    assert list(readable_chunk_ids(reader)) == []
    assert list(readable_chunk_ids(AnonymousUser())) == []


def test_unindexed_chunks_and_anonymous_users(hr, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", password="pw-12345678")
    reader = django_user_model.objects.create_user("reader", password="pw-12345678")
    reader.groups.add(Group.objects.get(name="hr-staff"))
    document = _document("notice", hr)
    chunk = _chunk(document)
    with pytest.raises(Http404):
        readable_chunk(boss, chunk.pk)  # still being ingested
    assert list(readable_chunk_ids(reader)) == []
    Document.objects.filter(pk=document.pk).update(status=Document.Status.INDEXED)
    assert readable_chunk(boss, chunk.pk) == chunk
    assert list(readable_chunk_ids(reader)) == [chunk.pk]

    anonymous = AnonymousUser()
    assert not can_read_document(anonymous, document)
    assert list(readable_chunk_ids(anonymous)) == []
    with pytest.raises(Http404):
        readable_chunk(anonymous, chunk.pk)
    with pytest.raises(Http404):
        readable_document(anonymous, document.pk)
