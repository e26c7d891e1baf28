"""PowerPoint: a page per slide headed by its title, text in reading order, tables as Tables,
speaker notes after the slide's text; a broken presentation fails saying so."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ingestion.models import Document
from ingestion.parsers import ParseError, parse_file
from tests.fixtures.office import make_pptx
from tests.ingestion.helpers import ingest


def test_slides_are_pages_with_titles_text_tables_and_notes(tmp_path: Path):
    parsed = parse_file(make_pptx(tmp_path / "travel.pptx"))
    first, second, third = parsed.pages
    assert [(h.page, h.offset, h.level, h.title) for h in parsed.headings] == [
        (1, 0, 1, "Travel policy"),
        (2, 0, 1, "Per diem rates"),
        (3, 0, 1, "Slide 3"),  # untitled: not filed under the previous slide's title
    ]
    # Reading order: the body placeholder, then the grouped boxes top to bottom (added the
    # other way round); the notes come last.
    assert first == (
        "Travel policy\n\nBook economy class\nTrains under four hours\n\n"
        "First grouped box\n\nSecond grouped box\n\nNotes:\nMention the Zorblax rail pass."
    )
    (table,) = parsed.tables
    assert (table.page, table.header, table.rows, table.caption) == (
        2,
        ["City", "Rate"],
        [["Oslo", "95 EUR"], ["Quito", "40 EUR"]],
        "Per diem rates",
    )
    assert second[table.start : table.end].startswith("| City | Rate |")
    assert third == "Slide 3\n\nQuestions go to the travel desk."
    assert parsed.page_labels == []


def test_presentation_is_ingested_and_found_by_slide(db, tmp_path: Path, isolated_index):
    from retrieval.services import search

    document = ingest(make_pptx(tmp_path / "travel.pptx"))
    assert document.status == Document.Status.INDEXED, document.error
    assert document.page_count == 3
    notes = document.chunks.get(text__contains="Zorblax")
    assert (notes.page, notes.section, notes.kind) == (1, "Travel policy", "text")
    rates = document.chunks.get(kind="table")
    assert (rates.page, rates.section, rates.rows) == (2, "Per diem rates", "2–3")
    assert rates.text.startswith("| City | Rate |\n|---|---|\n")
    assert search(query="Zorblax rail pass", k=3)[0].id == notes.pk
    assert search(query="per diem rate in Quito", k=3)[0].id == rates.pk


def test_truncated_presentation_fails_saying_so(tmp_path: Path):
    data = make_pptx(tmp_path / "travel.pptx").read_bytes()
    broken = tmp_path / "broken.pptx"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ParseError, match="not a readable PowerPoint presentation") as e:
        parse_file(broken)
    assert e.value.code == "unreadable_pptx"


def test_presentation_with_broken_xml_fails_saying_so(tmp_path: Path):
    source = zipfile.ZipFile(make_pptx(tmp_path / "travel.pptx"))
    broken = tmp_path / "broken.pptx"
    with source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "ppt/presentation.xml":
                data = data[:200]
            target.writestr(info, data)
    with pytest.raises(ParseError, match="not a readable PowerPoint presentation"):
        parse_file(broken)


def test_zip_without_a_presentation_is_not_a_pptx(tmp_path: Path):
    path = tmp_path / "fake.pptx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(ParseError, match="its content is something other than a PowerPoint"):
        parse_file(path)
