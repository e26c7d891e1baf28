"""XLSX, XLS and CSV: sheets as labelled pages, tables under their header rows with true sheet row
numbers, readable values, and the hostile workbooks refused with their reason."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from ingestion.models import Document
from ingestion.parsers import ParseError, parse_file
from ingestion.parsers import spreadsheet as spreadsheet_parser
from ingestion.parsers.sandbox import parse_isolated
from tests.fixtures.office import BUDGET_ROWS, STAFF, make_xls, make_xlsx
from tests.ingestion.helpers import create, ingest


def test_xlsx_sheets_are_labelled_pages_of_tables(tmp_path: Path):
    parsed = parse_file(make_xlsx(tmp_path / "budget.xlsx"))
    assert parsed.page_labels == ["Budget", "Staff", "Empty"]
    assert [(h.page, h.level, h.title) for h in parsed.headings] == [
        (1, 1, "Budget"),
        (2, 1, "Staff"),
    ]
    budget, staff = parsed.tables
    assert budget.header == ["Item", "Amount", "Due", "Share"]
    assert (budget.page, budget.first_row, len(budget.rows)) == (1, 4, BUDGET_ROWS)
    assert budget.caption == "Budget > Quarterly budget 2024"  # the title line above the table
    assert budget.rows[0] == ["Cost line 1", "45001", "2024-03-02", "0.5%"]
    assert (staff.page, staff.first_row, staff.caption) == (2, 2, "Staff")
    assert staff.rows == [list(row) for row in STAFF[1:]]
    assert parsed.pages[2] == "" and parsed.notes == ["Sheet 'Empty' is empty."]


def test_the_sandbox_returns_the_same_workbook(tmp_path: Path):
    path = make_xlsx(tmp_path / "budget.xlsx")
    isolated = parse_isolated(path, name="budget.xlsx", timeout_s=120, memory_mb=2048)
    assert isolated == parse_file(path)


def _sheet(path: Path, rows: dict[int, list]) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    for number, values in rows.items():
        for column, value in enumerate(values, start=1):
            workbook.active.cell(row=number, column=column, value=value)
    workbook.active.title = "Sheet"
    workbook.save(path)
    return path


def test_blank_rows_and_columns(tmp_path: Path):
    """One blank row splits a table into parts under the same header (row numbers stay true);
    two or more start another table under its own first row; empty columns are left out."""
    path = _sheet(
        tmp_path / "regions.xlsx",
        {
            2: [None, "Region", None, "Sales"],
            3: [None, "North", None, 10],
            5: [None, "South", None, 7.25],
            9: [None, "Country", None, "Capital"],
            10: [None, "Chile", None, "Santiago"],
        },
    )
    parsed = parse_file(path)
    assert [(t.header, t.rows, t.first_row) for t in parsed.tables] == [
        (["Region", "Sales"], [["North", "10"]], 3),
        (["Region", "Sales"], [["South", "7.25"]], 5),
        (["Country", "Capital"], [["Chile", "Santiago"]], 10),
    ]


def test_cells_far_apart_make_a_table_of_two_columns(tmp_path: Path):
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in (["Key", "Value"], ["alpha", 1], ["beta", 2]):
        workbook.active.append([row[0]])
        workbook.active.cell(row=workbook.active.max_row, column=16384, value=row[1])  # XFD
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    (table,) = parse_file(path).tables
    assert (table.header, table.rows) == (["Key", "Value"], [["alpha", "1"], ["beta", "2"]])


def test_xls_is_read_with_dates_and_whole_numbers(tmp_path: Path):
    parsed = parse_file(make_xls(tmp_path / "staff.xls"))
    assert parsed.page_labels == ["Staff"]
    (table,) = parsed.tables
    assert table.header == list(STAFF[0])
    assert table.rows[1] == list(STAFF[2])  # the date cell reads as ISO
    assert table.rows[-1] == ["Headcount", "3", ""]  # 3.0 is 3


def test_csv_delimiter_and_encoding_are_detected(tmp_path: Path):
    path = tmp_path / "offices.csv"
    rows = [
        "城市;人数;备注",
        "北京;120;总部",
        "上海;85;含 2 个楼层",
        '"深圳";40;"新办公室; 2024 年启用"',
    ]
    path.write_bytes("\r\n".join(rows).encode("gbk"))
    parsed = parse_file(path)
    (table,) = parsed.tables
    assert table.header == ["城市", "人数", "备注"]
    assert table.rows[-1] == ["深圳", "40", "新办公室; 2024 年启用"]
    assert (table.first_row, table.caption, parsed.page_labels) == (2, "offices", [])


def test_a_huge_sheet_is_read_up_to_the_cell_limit_with_a_note(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(spreadsheet_parser, "MAX_CELLS", 9)
    parsed = parse_file(make_xlsx(tmp_path / "budget.xlsx"))
    assert len(parsed.tables[0].rows) == 1  # title (1) + header (4) + one row (4) = 9
    assert parsed.notes[0].startswith("Sheet 'Budget' was read up to row 4")
    assert parsed.notes[1] == "Sheet 'Staff' was not read: the cell limit (9) was reached."


def test_workbook_is_ingested_and_its_rows_found_by_sheet(db, tmp_path: Path, isolated_index):
    from retrieval.services import search

    document = ingest(make_xlsx(tmp_path / "budget.xlsx"))
    assert document.status == Document.Status.INDEXED, document.error
    staff = document.chunks.get(text__contains="Zorblax")
    assert (staff.kind, staff.page, staff.page_label, staff.rows) == ("table", 2, "Staff", "2–4")
    assert staff.text.startswith("| Name | Office | Started |\n|---|---|---|\n")
    assert staff.section == "Staff"
    budget = list(document.chunks.filter(page_label="Budget", kind="table").order_by("ordinal"))
    assert len(budget) > 1  # a long table is cut into several chunks, each under the header
    assert all(c.text.startswith("| Item | Amount | Due | Share |\n") for c in budget)
    assert budget[0].rows.startswith("4–") and budget[-1].rows.endswith(f"–{BUDGET_ROWS + 3}")
    hits = search(query="Which office is Bo Zorblax in?", k=3)
    assert hits[0].id == staff.pk


def _encrypted(path: Path) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with path.open("rb") as handle:
        OOXMLFile(handle).encrypt("secret", out)
    return out.getvalue()


def test_password_protected_workbook_is_refused_with_its_reason(db, tmp_path: Path):
    locked = tmp_path / "locked.xlsx"
    locked.write_bytes(_encrypted(make_xlsx(tmp_path / "budget.xlsx")))
    assert locked.read_bytes().startswith(b"\xd0\xcf\x11\xe0")  # an OLE container, not a ZIP
    with pytest.raises(ParseError, match="password-protected; upload an unencrypted copy") as e:
        parse_file(locked)
    assert e.value.code == "encrypted_office"
    with pytest.raises(ValidationError, match="password-protected"):
        create(locked)  # refused at upload, before it is stored
    assert not Document.objects.exists()


def test_old_workbook_renamed_xlsx_is_a_content_mismatch(tmp_path: Path):
    renamed = tmp_path / "staff.xlsx"
    renamed.write_bytes(make_xls(tmp_path / "staff.xls").read_bytes())
    with pytest.raises(ParseError, match=r"named .xlsx but its content is an old Office \(OLE\)"):
        parse_file(renamed)


def test_zip_bomb_workbook_is_refused_before_it_is_inflated(db, tmp_path: Path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("xl/workbook.xml", "<workbook/>")
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for _ in range(64):
                sheet.write(b"\0" * 1024 * 1024)
    assert bomb.stat().st_size < 100_000
    with pytest.raises(ParseError, match="refused as a possible ZIP bomb") as e:
        parse_file(bomb)
    assert e.value.code == "zip_bomb" and "xl/worksheets/sheet1.xml" in str(e.value)
    with pytest.raises(ValidationError, match="ZIP bomb"):
        create(bomb)


def test_zip_without_a_workbook_is_not_an_xlsx(tmp_path: Path):
    path = tmp_path / "fake.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ParseError, match=r"content is something other than an Excel"):
        parse_file(path)
