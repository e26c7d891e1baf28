"""Tables: ruled tables of text PDFs become Markdown in their place on the page, and every table
becomes table chunks of whole rows under the repeated header, cited by their rows, searchable and
shown as a table in the source viewer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingestion.chunking import chunk_document, join_pages
from ingestion.models import Chunk, Collection
from ingestion.parsers import parse_file
from ingestion.parsers.base import Table, markdown_table
from tests.fixtures.pdf import make_pdf, make_table_pdf
from tests.ingestion.helpers import ingest

HEADER = ["Region", "Q1 revenue", "Q2 revenue"]
ROWS = [["North", "1,200", "1,350"], ["South", "980", "1,010"], ["East", "2,450", "2,600"]]


def _table_pdf(tmp_path: Path) -> Path:
    return make_table_pdf(
        tmp_path / "results.pdf",
        above=["Quarterly results of Northwind Traders.", "All figures in thousands of euros."],
        header=HEADER,
        rows=ROWS,
        below=["Revenue grew in every region."],
    )


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def test_a_ruled_pdf_table_is_markdown_in_its_place_on_the_page(tmp_path):
    parsed = parse_file(_table_pdf(tmp_path))
    page = parsed.pages[0]
    [table] = parsed.tables
    assert (table.page, table.header, table.rows) == (1, HEADER, ROWS)
    assert table.caption == "All figures in thousands of euros."  # the line right above it
    assert page[table.start : table.end] == markdown_table(HEADER, ROWS)
    # Nothing lost and nothing doubled: the prose stays above and below the table, once.
    assert page.index("Quarterly results") < table.start < table.end < page.index("grew")
    assert page.count("2,450") == 1


def test_a_page_without_ruled_tables_keeps_its_text(tmp_path):
    path = make_pdf(tmp_path / "plain.pdf", [["Region North 1,200 1,350", "Region South 980"]])
    parsed = parse_file(path)
    assert parsed.tables == []
    assert words(parsed.pages[0]) == words("Region North 1,200 1,350 Region South 980")


@pytest.fixture(scope="module")
def count_tokens():
    from retrieval.embedders.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder().count_tokens


def test_a_long_table_is_cut_into_row_chunks_that_repeat_the_header(count_tokens):
    header = ["Item", "Amount", "Note"]
    rows = [[f"Item {n}", f"{n * 17:,}", f"remark number {n}"] for n in range(1, 41)]
    table_text = markdown_table(header, rows)
    intro = "3 Costs\n\nThe costs of the year are listed below."
    page = f"{intro}\n\n{table_text}\n\nThat is all."
    start = len(intro) + 2
    table = Table(1, start, start + len(table_text), header, rows, caption="Costs 2026")
    chunks = chunk_document(
        [page], [], max_tokens=60, overlap_tokens=10, count_tokens=count_tokens, tables=[table]
    )
    tables = [c for c in chunks if c.kind == "table"]
    assert len(tables) > 3
    header_lines = table_text.split("\n")[:2]
    covered = []
    for chunk in tables:
        lines = chunk.text.split("\n")
        assert lines[:2] == header_lines
        assert chunk.section == "Costs 2026"
        first, _, last = chunk.rows.partition("–")
        covered.extend(range(int(first), int(last or first) + 1))
        # The rows stand in the document exactly where the chunk says.
        text, _ = join_pages([page])
        assert text[chunk.char_start : chunk.char_end] == "\n".join(lines[2:])
        assert count_tokens(chunk.text) <= 60
    assert covered == list(range(2, 42))  # every row once, source rows 2-41 (row 1: header)
    prose = " ".join(c.text for c in chunks if c.kind == "text")
    assert "costs of the year" in prose and "That is all" in prose
    assert "Item 7" not in prose


def test_a_table_its_page_does_not_hold_is_chunked_as_prose(count_tokens):
    page = "Some text. | a | b |"
    wrong = Table(1, 0, 5, ["a", "b"], [["1", "2"]])
    chunks = chunk_document(
        [page], [], max_tokens=60, overlap_tokens=10, count_tokens=count_tokens, tables=[wrong]
    )
    assert [c.kind for c in chunks] == ["text"]
    assert chunks[0].text == page


def test_a_table_is_found_cited_by_rows_and_shown_as_a_table(
    db, tmp_path, isolated_index, client, django_user_model
):
    document = ingest(_table_pdf(tmp_path))
    assert document.status == "indexed", document.error
    [chunk] = Chunk.objects.filter(document=document, kind=Chunk.Kind.TABLE)
    assert chunk.rows == "2–4"
    assert chunk.text.startswith("| Region | Q1 revenue | Q2 revenue |")

    Collection.objects.filter(pk=document.collection_id).update(everyone=True)
    client.force_login(django_user_model.objects.create_user("reader", password="pw-12345678"))
    hits = client.post(
        "/api/v1/search/",
        {"query": "Q2 revenue of the South region"},
        content_type="application/json",
    ).json()["results"]
    assert (hits[0]["chunk_id"], hits[0]["kind"], hits[0]["rows"]) == (chunk.pk, "table", "2–4")

    html = client.get(f"/sources/{chunk.pk}/").content.decode()
    assert '<div class="passage table-passage" id="passage"><table>' in html
    assert "<th>Q2 revenue</th>" in html and "<td>1,010</td>" in html
    assert "rows 2–4" in html

    chinese = client.get(f"/sources/{chunk.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "第 2–4 行" in chinese and '<span class="tag">表格</span>' in chinese
