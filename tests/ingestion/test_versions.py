"""Document versions: a new version is indexed beside the current one and replaces it in one
step; a failed one leaves the current one answering; identical content is a duplicate, decided
by a unique constraint; old versions keep their rows (citable) but not their vectors."""

from __future__ import annotations

import threading
import time
from io import BytesIO

import pytest
from django.contrib.auth.models import Group
from django.core.files import File
from django.db import connection, transaction

from ingestion.models import Collection, Document, DocumentVersion
from ingestion.passages import search_passages
from ingestion.selectors import cited_version, index_consistency
from ingestion.services.ingest import parse_stored, parsed_chunks, replace_chunks
from ingestion.services.uploads import DuplicateDocument, document_create
from ingestion.services.versions import (
    version_ingest,
    version_switch,
    version_upload,
    versions_cleanup,
)
from tests.ingestion.helpers import ingest

State = DocumentVersion.Status
POLICY = (
    "Travel policy of Northwind Traders.\n\n"
    "Employees book economy class for flights shorter than six hours. Hotel rooms are booked "
    "through the travel desk at least two weeks ahead. Receipts are filed within thirty days.\n\n"
    "The daily meal allowance for business travel is {allowance} euros per day."
)
V1 = POLICY.format(allowance="forty-five").encode()
V2 = POLICY.format(allowance="sixty-two").encode()


def _file(content: bytes, name: str = "travel-policy.txt") -> File:
    return File(BytesIO(content), name=name)


@pytest.fixture
def reader(db, django_user_model):
    """A group reader of the default collection who may not read another one, so that their
    searches carry an allow list (a superuser's carry none)."""
    readers = Group.objects.create(name="travellers")
    Collection.objects.default().reader_groups.add(readers)
    Collection.objects.create(name="Board")
    user = django_user_model.objects.create_user("reader", password="pw-for-tests")
    user.groups.add(readers)
    return user


def _versions_seen(document: Document, query: str, user=None) -> set[int]:
    passages = search_passages(query=query, k=5, user=user)
    chunks = {p.chunk_id for p in passages if p.document_id == document.pk}
    return set(
        document.chunks.filter(pk__in=chunks).values_list("version__number", flat=True).distinct()
    )


@pytest.mark.django_db
def test_a_new_version_replaces_the_old_one_in_search(isolated_index, django_user_model):
    admin = django_user_model.objects.create_superuser("editor", password="pw-for-tests")
    document = ingest(V1, "travel-policy.txt")
    assert document.status == Document.Status.INDEXED, document.error
    assert _versions_seen(document, "daily meal allowance") == {1}

    pending = version_upload(document=document, file=_file(V2), by=admin)
    assert (pending.number, pending.status) == (2, State.PENDING)
    assert _versions_seen(document, "daily meal allowance") == {1}  # the old one still answers

    version = version_ingest(version_id=pending.pk)
    assert version.status == State.CURRENT, version.error
    document.refresh_from_db()
    assert document.current_version_id == version.pk
    assert document.sha256 == version.sha256 and document.file.name == version.file.name
    passages = search_passages(query="daily meal allowance", k=5, user=None)
    assert "sixty-two" in passages[0].text
    assert not any("forty-five" in p.text for p in passages)

    old = document.versions.get(number=1)
    assert (old.status, old.in_index, old.uploaded_by) == (State.REPLACED, False, None)
    assert old.replaced_at is not None and old.chunks.exists()  # rows kept for old citations
    vectors = set(isolated_index.ids().tolist())
    assert vectors == set(version.chunks.values_list("pk", flat=True))
    assert version.uploaded_by == admin
    assert index_consistency().problems() == []

    cited = cited_version(old.chunks.first())
    assert (cited.number, cited.latest) == (1, 2)
    assert cited_version(version.chunks.first()) is None


@pytest.mark.django_db
def test_running_the_version_task_again_changes_nothing(isolated_index):
    document = ingest(V1, "travel-policy.txt")
    version = version_upload(document=document, file=_file(V2), by=None)
    version_ingest(version_id=version.pk)
    chunk_ids = set(version.chunks.values_list("pk", flat=True))
    version_ingest(version_id=version.pk)  # a redelivered message
    assert set(version.chunks.values_list("pk", flat=True)) == chunk_ids
    assert set(isolated_index.ids().tolist()) == chunk_ids


@pytest.mark.django_db
def test_a_failed_version_leaves_the_current_one_answering(isolated_index):
    document = ingest(V1, "travel-policy.txt")
    pending = version_upload(document=document, file=_file(b" \n\n \t\n"), by=None)
    version = version_ingest(version_id=pending.pk)
    assert version.status == State.FAILED
    assert version.error_code == "no_text" and "no text" in version.failure
    assert not version.chunks.exists() and not version.in_index
    document.refresh_from_db()
    assert document.status == Document.Status.INDEXED
    assert document.current_version.number == 1
    assert _versions_seen(document, "daily meal allowance") == {1}

    # The same file again is another try of that version, not a duplicate of it.
    again = version_upload(document=document, file=_file(b" \n\n \t\n"), by=None)
    assert (again.pk, again.status) == (version.pk, State.PENDING)


@pytest.mark.django_db
def test_identical_content_is_a_duplicate_wherever_it_is(isolated_index):
    document = ingest(V1, "travel-policy.txt")
    version = version_upload(document=document, file=_file(V2), by=None)
    version_ingest(version_id=version.pk)
    for content in (V1, V2):  # the replaced version and the current one
        with pytest.raises(DuplicateDocument) as error:
            document_create(file=_file(content, "copy.txt"), enqueue=False)
        assert error.value.existing == document
    with pytest.raises(DuplicateDocument):
        version_upload(document=document, file=_file(V2), by=None)  # the current version
    assert Document.objects.count() == 1


@pytest.mark.django_db
def test_a_second_new_version_waits_for_the_first(isolated_index):
    from ingestion.errors import Conflict

    document = ingest(V1, "travel-policy.txt")
    version_upload(document=document, file=_file(V2), by=None)
    with pytest.raises(Conflict):
        version_upload(document=document, file=_file(V2 + b" More."), by=None)


@pytest.mark.django_db
def test_only_the_configured_number_of_old_versions_is_kept(isolated_index, settings):
    settings.KBQA_VERSIONS_KEPT = 1
    document = ingest(V1, "travel-policy.txt")
    files = []
    for allowance in ("fifty", "fifty-five", "sixty"):
        version = version_upload(
            document=document, file=_file(POLICY.format(allowance=allowance).encode()), by=None
        )
        files.append(version.file.name)
        version_ingest(version_id=version.pk)
    numbers = list(document.versions.order_by("number").values_list("number", "status"))
    assert numbers == [(3, State.REPLACED), (4, State.CURRENT)]
    storage = document.file.storage
    assert not storage.exists(files[0]) and storage.exists(files[1])


@pytest.mark.django_db(transaction=True)
def test_identical_uploads_at_the_same_instant_make_one_document(isolated_index):
    """The twin commits after the upload's check found nothing: the unique constraint, not the
    check, turns the second insert into "duplicate of document X"."""
    started, release = threading.Event(), threading.Event()
    twin: list[Document] = []

    def commit_twin_later() -> None:
        try:
            with transaction.atomic():
                document = Document.objects.create(
                    title="twin", sha256="x", collection=Collection.objects.default()
                )
                DocumentVersion.objects.create(
                    document=document, number=1, sha256=file_sha, file="documents/twin.txt"
                )
                twin.append(document)
                started.set()
                release.wait(30)
        finally:
            connection.close()

    from ingestion.services.uploads import file_sha256

    file_sha = file_sha256(_file(V1))
    thread = threading.Thread(target=commit_twin_later)
    thread.start()
    assert started.wait(30)
    outcome: list[object] = []

    def upload() -> None:
        try:
            outcome.append(document_create(file=_file(V1), enqueue=False))
        except DuplicateDocument as exc:
            outcome.append(exc)
        finally:
            connection.close()

    uploader = threading.Thread(target=upload)
    uploader.start()
    time.sleep(1)  # let the upload pass its check and wait on the twin's insert
    release.set()
    thread.join(30)
    uploader.join(60)
    (result,) = outcome
    assert isinstance(result, DuplicateDocument), result
    assert result.existing.pk == twin[0].pk
    assert Document.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_search_sees_exactly_one_version_throughout_the_swap(isolated_index, reader):
    """Searches run continuously, as a superuser (no access filter: the hidden versions are
    excluded inside the index) and as a group reader (an allowed list), while version 2 is
    indexed and switched in: each sees version 1 or version 2 of the document, never both,
    never neither."""
    document = ingest(V1, "travel-policy.txt")
    assert _versions_seen(document, "daily meal allowance euros", reader) == {1}
    version = version_upload(document=document, file=_file(V2), by=None)
    seen: list[set[int]] = []
    done = threading.Event()

    def search_continuously() -> None:
        try:
            while not done.is_set() or len(seen) < 4:
                for user in (None, reader):
                    seen.append(_versions_seen(document, "daily meal allowance euros", user))
        finally:
            connection.close()

    searcher = threading.Thread(target=search_continuously)
    searcher.start()
    try:
        version_ingest(version_id=version.pk)
    finally:
        done.set()
        searcher.join(120)
    assert seen, "no search ran"
    assert all(len(versions) == 1 for versions in seen), " ".join(str(sorted(v)) for v in seen)
    assert seen[-1] == {2}
    assert _versions_seen(document, "daily meal allowance euros", reader) == {2}


@pytest.mark.django_db
def test_every_step_of_the_swap_shows_exactly_one_version(isolated_index, reader):
    """The swap's steps one at a time, with the index holding both versions' vectors in between:
    the new vectors added (version 1 answers), the pointer moved (version 2 answers while version
    1's vectors are still there), the old vectors removed."""
    document = ingest(V1, "travel-policy.txt")
    old_ids = set(document.chunks.values_list("pk", flat=True))
    version = version_upload(document=document, file=_file(V2), by=None)

    def answers() -> list[set[int]]:
        return [_versions_seen(document, "daily meal allowance euros", u) for u in (None, reader)]

    parsed = parse_stored(version.file)
    replace_chunks(document, version, parsed_chunks(parsed))
    new_ids = set(version.chunks.values_list("pk", flat=True))
    assert set(isolated_index.ids().tolist()) == old_ids | new_ids
    assert answers() == [{1}, {1}]

    version_switch(version, page_count=1, notes="")
    assert set(isolated_index.ids().tolist()) == old_ids | new_ids
    assert answers() == [{2}, {2}]

    versions_cleanup(document_id=document.pk)
    assert set(isolated_index.ids().tolist()) == new_ids
    assert answers() == [{2}, {2}]


@pytest.mark.django_db
def test_an_undone_edit_brings_the_replaced_version_back(isolated_index):
    document = ingest(V1, "travel-policy.txt")
    version_ingest(version_id=version_upload(document=document, file=_file(V2), by=None).pk)
    restored = version_upload(document=document, file=_file(V1), by=None)
    assert (restored.number, restored.status) == (1, State.PENDING)
    version_ingest(version_id=restored.pk)
    document.refresh_from_db()
    assert document.current_version.number == 1
    assert document.versions.get(number=2).status == State.REPLACED
    assert _versions_seen(document, "daily meal allowance") == {1}
    assert "forty-five" in search_passages(query="daily meal allowance", k=1, user=None)[0].text
    assert set(isolated_index.ids().tolist()) == set(restored.chunks.values_list("pk", flat=True))
