"""Bulk upload: several files, ZIP archives (with their attacks), size limit and deduplication."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files import File

from ingestion.models import Document
from ingestion.services.uploads import documents_upload

pytestmark = pytest.mark.django_db


def named(data: bytes, name: str) -> File:
    return File(io.BytesIO(data), name=name)


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(*files: File):
    return documents_upload(files=list(files), by=None, enqueue=False)


def test_several_files_and_a_zip_in_one_upload(handbook_pdf: Path):
    archive = zip_bytes(
        {"policies/leave.md": b"# Leave\n\n25 days.", "travel.txt": b"Trains only.", "x/": b""}
    )
    result = upload(
        named(handbook_pdf.read_bytes(), "handbook.pdf"),
        named(b"Plain note.", "note.txt"),
        named(archive, "bundle.zip"),
    )
    assert sorted(d.title for d in result.created) == ["handbook", "leave", "note", "travel"]
    assert sorted(Path(d.file.name).suffix for d in result.created) == [
        ".md",
        ".pdf",
        ".txt",
        ".txt",
    ]
    assert result.duplicates == [] and result.rejected == []
    assert all(d.status == Document.Status.UPLOADED for d in result.created)


def test_duplicates_are_reported_with_the_document_they_match():
    first = upload(named(b"Same content.", "a.txt")).created[0]
    result = upload(
        named(b"Same content.", "b.txt"), named(zip_bytes({"c.txt": b"Same content."}), "z.zip")
    )
    assert result.created == []
    assert [(d.name, d.existing.pk) for d in result.duplicates] == [
        ("b.txt", first.pk),
        ("z.zip/c.txt", first.pk),
    ]
    assert Document.objects.count() == 1


def test_file_over_the_size_limit_is_rejected_at_upload(settings):
    settings.KBQA_MAX_UPLOAD_MB = 1
    result = upload(named(b"x" * (1024 * 1024 + 1), "big.txt"), named(b"small", "small.txt"))
    assert [r.name for r in result.rejected] == ["big.txt"]
    assert "upload limit is 1 MB" in result.rejected[0].reason
    assert [d.title for d in result.created] == ["small"]


def test_zip_bomb_is_refused_and_the_rest_of_the_batch_goes_ahead():
    bomb = zip_bytes({"zeros.txt": b"\0" * (50 * 1024 * 1024)})
    assert len(bomb) < 200_000
    result = upload(named(bomb, "bomb.zip"), named(b"Fine.", "fine.txt"))
    assert result.rejected[0].name == "bomb.zip"
    assert "possible ZIP bomb" in result.rejected[0].reason
    assert [d.title for d in result.created] == ["fine"]


def test_zip_whose_headers_understate_sizes_is_refused(settings):
    settings.KBQA_ZIP_MAX_RATIO = 10_000
    settings.KBQA_ZIP_MAX_TOTAL_MB = 1
    result = upload(named(zip_bytes({"a.txt": b"a" * (2 * 1024 * 1024)}), "big.zip"))
    assert "exceed the 1 MB limit" in result.rejected[0].reason
    assert not Document.objects.exists()


@pytest.mark.parametrize("member", ["../../etc/evil.txt", "/abs/evil.txt", "a/../../evil.txt"])
def test_zip_path_traversal_is_refused_whole(member):
    result = upload(named(zip_bytes({"ok.txt": b"ok", member: b"evil"}), "trav.zip"))
    assert "unsafe path" in result.rejected[0].reason
    assert not Document.objects.exists()


def test_zip_with_too_many_files_is_refused(settings):
    settings.KBQA_ZIP_MAX_FILES = 3
    result = upload(named(zip_bytes({f"{i}.txt": f"doc {i}".encode() for i in range(4)}), "m.zip"))
    assert "holds 4 files; the limit is 3" in result.rejected[0].reason


def test_unsupported_members_and_broken_zip_are_reported():
    result = upload(
        named(zip_bytes({"tool.exe": b"MZ", "ok.txt": b"ok"}), "mixed.zip"),
        named(b"PK\x03\x04 not really", "broken.zip"),
    )
    assert [d.title for d in result.created] == ["ok"]
    reasons = {r.name: r.reason for r in result.rejected}
    assert "Unsupported file type '.exe'" in reasons["mixed.zip/tool.exe"]
    assert "not readable" in reasons["broken.zip"]


def test_office_files_csv_and_email_in_a_zip_are_stored(tmp_path: Path):
    """Every new format comes through an archive too; an Office file hiding a ZIP bomb is refused
    by name while the rest of the archive goes ahead."""
    from tests.fixtures.mail import make_eml
    from tests.fixtures.office import make_pptx, make_xls, make_xlsx

    bomb = zip_bytes(
        {"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"\0" * (8 * 1024 * 1024)}
    )
    members = {
        "q3/budget.xlsx": make_xlsx(tmp_path / "budget.xlsx").read_bytes(),
        "q3/staff.xls": make_xls(tmp_path / "staff.xls").read_bytes(),
        "q3/offices.csv": b"city,staff\nOslo,12\n",
        "q3/travel.pptx": make_pptx(tmp_path / "travel.pptx").read_bytes(),
        "q3/rail.eml": make_eml(tmp_path / "rail.eml").read_bytes(),
        "q3/bomb.xlsx": bomb,
    }
    result = upload(named(zip_bytes(members), "q3.zip"))
    assert sorted(d.title for d in result.created) == [
        "budget",
        "offices",
        "rail",
        "staff",
        "travel",
    ]
    ((name, reason),) = [(r.name, r.reason) for r in result.rejected]
    assert name == "q3.zip/q3/bomb.xlsx" and "possible ZIP bomb" in reason
