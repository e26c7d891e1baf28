"""Email messages: headers and body on page 1, supported attachments as further pages of the same
document, the rest named in a note; hostile nesting fails fast with its reason."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from ingestion.models import Document
from ingestion.parsers import ParseError, parse_file
from ingestion.parsers import eml as eml_parser
from ingestion.parsers.sandbox import parse_isolated
from tests.fixtures.mail import forwarded_message, make_deep_mime, make_eml
from tests.fixtures.office import make_xlsx
from tests.ingestion.helpers import ingest


def test_headers_body_and_attachments_become_pages(tmp_path: Path):
    path = make_eml(
        tmp_path / "rail.eml", xlsx=make_xlsx(tmp_path / "budget.xlsx"), inner=forwarded_message()
    )
    parsed = parse_file(path)
    assert parsed.pages[0] == (
        "From: Ada Quillfeather <ada@example.com>\n"
        "To: Travel desk <travel@example.com>\n"
        "Cc: Bo Zorblax <bo@example.com>\n"
        "Date: Tue, 01 Oct 2024 09:30:00 +0000\n"
        "Subject: Rail passes for the Reykjavik office\n"
        "Attachments: budget.xlsx, Valparaiso office keys.eml, setup.exe\n\n"
        "Please order eleven rail passes before Friday.\n\nThanks, Ada"
    )  # the plain body only: its HTML twin adds nothing
    # The workbook's three sheets are pages 2–4, the attached message page 5.
    assert parsed.page_labels == ["", "Budget", "Staff", "Empty", ""]
    assert parsed.pages[1].startswith("Attachment: budget.xlsx\n\nBudget\n\n")
    assert parsed.pages[4].startswith("Attachment: Valparaiso office keys.eml\n\nFrom: Cy")
    assert "The spare keys are in the blue cabinet." in parsed.pages[4]
    assert [(h.page, h.level, h.title) for h in parsed.headings] == [
        (1, 1, "Rail passes for the Reykjavik office"),
        (2, 1, "Attachment: budget.xlsx"),
        (2, 2, "Budget"),
        (3, 2, "Staff"),
        (5, 1, "Attachment: Valparaiso office keys.eml"),
        (5, 2, "Valparaiso office keys"),
    ]
    for heading in parsed.headings[1:5]:  # a subject heads its header block
        assert parsed.pages[heading.page - 1][heading.offset :].startswith(heading.title)
    budget, staff = parsed.tables
    assert (budget.page, staff.page, staff.caption) == (2, 3, "Attachment: budget.xlsx > Staff")
    for table in parsed.tables:  # moved with the text they stand in
        assert parsed.pages[table.page - 1][table.start :].startswith(f"| {table.header[0]} |")
    assert parsed.notes == [
        "Attachment budget.xlsx: Sheet 'Empty' is empty.",
        "Attachments not indexed (type not supported): setup.exe",
    ]


def test_html_only_body_is_read_as_text_with_its_headings(tmp_path: Path):
    message = EmailMessage()
    message["Subject"] = "Newsletter"
    message.set_content(
        "<html><body><h1>Canteen</h1><p>Soup on <b>Mondays</b>.</p>"
        "<script>tracking()</script></body></html>",
        subtype="html",
    )
    path = tmp_path / "news.eml"
    path.write_bytes(bytes(message))
    parsed = parse_file(path)
    assert parsed.pages == ["Subject: Newsletter\n\nCanteen\n\nSoup on Mondays."]
    assert [(h.offset, h.level, h.title) for h in parsed.headings] == [
        (0, 1, "Newsletter"),
        (21, 2, "Canteen"),
    ]


def test_email_is_ingested_and_its_attachment_rows_found(db, tmp_path: Path, isolated_index):
    from retrieval.services import search

    path = make_eml(tmp_path / "rail.eml", xlsx=make_xlsx(tmp_path / "budget.xlsx"))
    document = ingest(path)
    assert document.status == Document.Status.INDEXED, document.error
    assert "setup.exe" in document.notes
    staff = document.chunks.get(text__contains="Bo Zorblax |")
    assert (staff.kind, staff.page, staff.page_label, staff.rows) == ("table", 3, "Staff", "2–4")
    assert staff.section == "Attachment: budget.xlsx > Staff"
    assert staff.text.startswith("| Name | Office | Started |")
    body = document.chunks.get(text__contains="eleven rail passes")
    assert (body.page, body.section) == (1, "Rail passes for the Reykjavik office")
    assert search(query="Which office is Bo Zorblax in?", k=3)[0].id == staff.pk


def test_a_thousand_nested_mime_parts_fail_fast(tmp_path: Path):
    path = make_deep_mime(tmp_path / "deep.eml", depth=1000)
    with pytest.raises(
        ParseError, match=r"nested too deeply to read safely: it has 1,000 multi"
    ) as e:
        parse_file(path)
    assert e.value.code == "email_too_nested"
    with pytest.raises(ParseError, match="nested too deeply"):  # the worker's path, too
        parse_isolated(path, name="deep.eml", timeout_s=60, memory_mb=2048)


def test_a_nest_under_the_limit_still_parses(tmp_path: Path):
    parsed = parse_file(make_deep_mime(tmp_path / "deep.eml", depth=50))
    assert "innermost" in parsed.pages[0]


def test_messages_attached_too_deeply_are_named_in_a_note(tmp_path: Path):
    message = forwarded_message()
    for level in range(eml_parser.MAX_NESTING + 1):
        outer = EmailMessage()
        outer["Subject"] = f"Level {level}"
        outer.set_content(f"Wrapper {level}.")
        outer.add_attachment(message)
        message = outer
    path = tmp_path / "wrapped.eml"
    path.write_bytes(bytes(message))
    parsed = parse_file(path)
    assert len(parsed.pages) == eml_parser.MAX_NESTING + 1
    assert "Wrapper 0." in parsed.pages[-1]
    assert parsed.notes == [
        "Attachment Level 2.eml: Attachment Level 1.eml: Attachment Level 0.eml: "
        "Attachment Valparaiso office keys.eml could not be read: The email message is nested "
        "too deeply to read safely: messages are attached more than 3 levels deep."
    ]


def test_not_an_email(tmp_path: Path):
    path = tmp_path / "notes.eml"
    path.write_text("Just some notes, no headers at all.\n")
    with pytest.raises(ParseError, match="its content is something other than an email message"):
        parse_file(path)
