"""Folder sources: a real folder whose files the test adds, edits, touches, renames and deletes
between syncs; each sync's counts, the documents and versions it leaves, and one set of vectors
per document."""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ingestion.models import Collection, Document, DocumentVersion, Source
from ingestion.passages import search_passages
from ingestion.selectors import index_consistency
from ingestion.services.sync import source_sync

pytestmark = pytest.mark.django_db

LEAVE = "Annual leave. Every employee has twenty-five days of annual leave per year."
LEAVE_V2 = "Annual leave. Every employee has thirty days of annual leave per year."
TRAVEL = "# Travel\n\nBook economy class for flights shorter than six hours."


def _counts(**nonzero: int) -> dict[str, int]:
    counts = dict.fromkeys(("added", "updated", "removed", "unchanged", "failed"), 0)
    return {**counts, **nonzero}


@pytest.fixture
def share(tmp_path: Path) -> Path:
    folder = tmp_path / "share"
    (folder / "hr").mkdir(parents=True)
    (folder / "hr" / "leave.txt").write_text(LEAVE)
    (folder / "travel.md").write_text(TRAVEL)
    (folder / "tool.exe").write_bytes(b"MZ")  # not a document type: not the source's business
    (folder / ".~lock.leave.txt#").write_text("x")  # hidden: an editor's lock file
    return folder


def _source(folder: Path, **fields) -> Source:
    return Source.objects.create(
        name="share",
        kind="folder",
        collection=Collection.objects.create(name="Policies"),
        options={"path": str(folder)},
        **fields,
    )


def _document(source: Source, key: str) -> Document:
    return source.items.select_related("document").get(key=key).document


def test_a_folder_is_kept_in_step_through_adds_edits_renames_and_deletes(
    share, isolated_index, django_capture_on_commit_callbacks
):
    source = _source(share)
    report = source_sync(source_id=source.pk, inline=True)
    assert report.counts() == _counts(added=2), report.failures
    leave = _document(source, "hr/leave.txt")
    travel = _document(source, "travel.md")
    assert (leave.title, leave.collection.name, leave.status) == ("leave", "Policies", "indexed")
    source.refresh_from_db()
    assert source.last_report["added"] == 2 and source.running_since is None

    assert source_sync(source_id=source.pk, inline=True).counts() == _counts(unchanged=2)

    (share / "hr" / "leave.txt").write_text(LEAVE_V2)  # changed content: a new version
    os.utime(share / "travel.md")  # touched, same content: unchanged, no new version
    (share / "faq.txt").write_text("Questions. The canteen opens at 7:45.")
    report = source_sync(source_id=source.pk, inline=True)
    assert report.counts() == _counts(added=1, updated=1, unchanged=1)
    leave.refresh_from_db()
    assert leave.current_version.number == 2
    assert list(leave.versions.values_list("status", flat=True)) == ["current", "replaced"]
    assert travel.versions.count() == 1
    passages = search_passages(query="days of annual leave", k=3, user=None)
    assert "thirty days" in passages[0].text
    assert not any("twenty-five" in p.text for p in passages)

    (share / "travel.md").rename(share / "trips.md")  # renamed: the same document
    (share / "faq.txt").unlink()  # removed: deleted
    with django_capture_on_commit_callbacks(execute=True):  # the deletion's vector removal
        report = source_sync(source_id=source.pk, inline=True)
    assert report.counts() == _counts(updated=1, removed=1, unchanged=1)
    assert _document(source, "trips.md").pk == travel.pk
    assert Document.objects.get(pk=travel.pk).title == "trips"
    assert set(source.items.values_list("key", flat=True)) == {"hr/leave.txt", "trips.md"}
    assert Document.objects.count() == 2
    assert index_consistency().problems() == []
    assert source_sync(source_id=source.pk, inline=True).counts() == _counts(unchanged=2)

    (share / "hr" / "leave.txt").write_text(LEAVE)  # the edit undone: version 1 answers again
    assert source_sync(source_id=source.pk, inline=True).counts() == _counts(updated=1, unchanged=1)
    leave.refresh_from_db()
    assert leave.current_version.number == 1
    assert index_consistency().problems() == []


def test_a_removed_file_can_archive_its_document_and_its_return_restores_it(share, isolated_index):
    source = _source(share, on_removed=Source.OnRemoved.ARCHIVE)
    source_sync(source_id=source.pk, inline=True)
    leave = _document(source, "hr/leave.txt")
    moved = share.parent / "leave.txt"
    (share / "hr" / "leave.txt").rename(moved)

    assert source_sync(source_id=source.pk, inline=True).counts() == _counts(removed=1, unchanged=1)
    leave.refresh_from_db()
    assert leave.archived_at is not None
    assert not any(
        p.document_id == leave.pk for p in search_passages(query="annual leave", k=5, user=None)
    )
    assert not leave.versions.filter(in_index=True).exists()

    moved.rename(share / "hr" / "leave.txt")
    assert source_sync(source_id=source.pk, inline=True).counts() == _counts(updated=1, unchanged=1)
    leave.refresh_from_db()
    assert leave.archived_at is None and leave.status == Document.Status.INDEXED
    assert any(
        p.document_id == leave.pk for p in search_passages(query="annual leave", k=5, user=None)
    )


def test_unreadable_and_refused_files_are_counted_failed_and_retried(share, isolated_index):
    source = _source(share)
    (share / "empty.txt").write_bytes(b"")
    (share / "blank.txt").write_text("   \n\n  ")
    report = source_sync(source_id=source.pk, inline=True)
    assert report.counts() == _counts(added=2, failed=2)
    reasons = {f["key"]: f["error"] for f in report.failures}
    assert "empty" in reasons["empty.txt"] and "no text" in reasons["blank.txt"]

    (share / "empty.txt").write_text("Parking. Spaces are free after 18:00.")
    report = source_sync(source_id=source.pk, inline=True)
    assert report.counts() == _counts(added=1, unchanged=3)


def test_a_file_stored_in_another_collection_is_reported_without_naming_it(share, isolated_index):
    """The report is read by those who read the source's collection: a twin elsewhere stays
    unnamed, a twin in the same collection is named."""
    from tests.ingestion.helpers import create

    secret = create(TRAVEL.encode(), "board-travel-rules.md")  # the default collection
    source = _source(share)
    report = source_sync(source_id=source.pk, inline=True)
    assert report.counts() == _counts(added=1, failed=1)
    (failure,) = report.failures
    assert failure == {
        "key": "travel.md",
        "error": "Identical to a document in another collection.",
    }
    assert "board-travel-rules" not in json.dumps(report.as_dict())

    Document.objects.filter(pk=secret.pk).update(title="Copy", collection=source.collection)
    (share / "copy.md").write_text(LEAVE)
    report = source_sync(source_id=source.pk, inline=True)
    leave = _document(source, "hr/leave.txt")
    reasons = {f["key"]: f["error"] for f in report.failures}
    assert reasons["copy.md"] == f"Identical to document {leave.pk} (“{leave}”)."


def test_a_missing_folder_changes_nothing(share, isolated_index):
    source = _source(share)
    source_sync(source_id=source.pk, inline=True)
    share.rename(share.parent / "elsewhere")
    report = source_sync(source_id=source.pk, inline=True)
    assert "does not exist" in report.error and report.counts() == _counts()
    assert Document.objects.count() == 2  # not taken for removed


def test_sync_folder_command_creates_the_source_and_prints_json_counts(share, isolated_index):
    out = StringIO()
    call_command("sync_folder", str(share), "--collection", "Shared drive", "--json", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == _counts(added=2)
    source = Source.objects.get()
    assert source.kind == "folder" and source.collection.name == "Shared drive"
    assert source.options["path"] == str(share.resolve())

    out = StringIO()
    call_command("sync_folder", str(share), "--collection", "Shared drive", "--json", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == _counts(unchanged=2)
    assert Source.objects.count() == 1

    out = StringIO()
    call_command("sync", source.name, stdout=out)
    assert "2 unchanged" in out.getvalue()
    with pytest.raises(CommandError, match="No source"):
        call_command("sync", "nope")
    assert DocumentVersion.objects.count() == 2


def test_sources_fall_due_by_their_interval(share, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from ingestion.services.sync import sources_queue_due

    hourly = _source(share, interval_minutes=60)
    Source.objects.create(
        name="manual", kind="folder", collection=hourly.collection, options={"path": str(share)}
    )
    with django_capture_on_commit_callbacks() as sent:
        assert sources_queue_due() == [hourly.pk]  # never synced: due now
    assert len(sent) == 1  # one task, sent once the transaction commits
    assert sources_queue_due() == []  # queued a moment ago
    later = timezone.now() + timedelta(minutes=61)
    assert sources_queue_due(now=later) == [hourly.pk]
    Source.objects.filter(pk=hourly.pk).update(running_since=timezone.now())
    assert sources_queue_due(now=later + timedelta(hours=2)) == []  # left to finish
