"""The read-access entry points: anonymous users read nothing; chunks of documents not yet indexed
are not readable even by their uploader."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.http import Http404

from ingestion.access import can_read_document, readable_chunk, readable_document
from ingestion.models import Chunk, Document


@pytest.fixture
def document(db) -> Document:
    document = Document.objects.create(title="Notice", sha256="0" * 64)
    document.file.save("notice.txt", ContentFile(b"Canteen opens at 7:45."), save=True)
    return document


def _chunk(document: Document) -> Chunk:
    return Chunk.objects.create(
        document=document,
        ordinal=0,
        text="Canteen opens at 7:45.",
        page=1,
        page_end=1,
        char_start=0,
        char_end=22,
    )


def test_signed_in_users_read_indexed_chunks_and_anonymous_users_read_nothing(
    document, django_user_model
):
    user = django_user_model.objects.create_user("reader", password="pw-12345678")
    chunk = _chunk(document)
    with pytest.raises(Http404):
        readable_chunk(user, chunk.pk)  # still being ingested
    Document.objects.filter(pk=document.pk).update(status=Document.Status.INDEXED)
    assert readable_chunk(user, chunk.pk) == chunk
    assert readable_document(user, document.pk) == document
    assert can_read_document(user, document)

    anonymous = AnonymousUser()
    assert not can_read_document(anonymous, document)
    with pytest.raises(Http404):
        readable_chunk(anonymous, chunk.pk)
    with pytest.raises(Http404):
        readable_document(anonymous, document.pk)
