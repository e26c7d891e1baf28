"""Upload names are sanitised and content is checked against the extension before storing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ingestion.models import Document
from ingestion.services.uploads import clean_upload_name, documents_upload


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("C:\\Users\\bob\\report.pdf", "report.pdf"),  # a full Windows path from a browser
        ("../../etc/notes.txt", "notes.txt"),
        (".hidden.md", "hidden.md"),
        ("a\x00b\u202ec.txt", "abc.txt"),  # NUL and a right-to-left override
        ("報告.docx", "報告.docx"),
        ("...", "upload"),
    ],
)
def test_upload_names_are_cleaned(sent, stored):
    assert clean_upload_name(sent) == stored


def test_long_names_keep_their_extension():
    cleaned = clean_upload_name("x" * 300 + ".pdf")
    assert len(cleaned) == 200 and cleaned.endswith(".pdf")


@pytest.mark.django_db
def test_mislabelled_content_is_refused_before_it_is_stored():
    files = [
        SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00" + b"\0" * 100),
        SimpleUploadedFile("notes.txt", b"%PDF-1.4\n" + b"x" * 100),
        SimpleUploadedFile("..\\..\\plan.md", b"# Plan\n\nShip it."),
    ]
    result = documents_upload(files=files, by=None, enqueue=False)
    reasons = {r.name: r.reason for r in result.rejected}
    assert "named .pdf but its content is a Windows executable" in reasons["invoice.pdf"]
    assert "named .txt but its content is a PDF document" in reasons["notes.txt"]
    (document,) = result.created
    assert document.title == "plan"
    assert "/" not in document.file.name.removeprefix("documents/").split("/", 2)[-1]
    assert document.file.name.endswith("plan.md")
    assert Document.objects.count() == 1
