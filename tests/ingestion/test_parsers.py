from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.parsers import ParseError, parse_file
from ingestion.parsers.sandbox import parse_isolated
from tests.fixtures.office import HTML, make_docx
from tests.fixtures.pdf import HANDBOOK_PAGES, make_parser_trap_pdf, make_pdf


def test_pdf_pages_keep_their_text(handbook_pdf: Path):
    parsed = parse_file(handbook_pdf)
    assert len(parsed.pages) == len(HANDBOOK_PAGES)
    assert "Zorblax cafeteria" in parsed.pages[1]
    assert "Zorblax" not in parsed.pages[0] + parsed.pages[2]
    assert parsed.notes == []


def test_pdf_pages_without_text_are_named(tmp_path: Path):
    """Blank pages are OCRed (tests/ingestion/test_ocr.py); OCR finds nothing on these."""
    path = make_pdf(tmp_path / "mixed.pdf", [["Some text."], [], [], ["More text."], []])
    assert parse_file(path).notes == ["pages 2–3, 5 have no text, not even by OCR"]


def test_pdf_without_any_text_fails_and_says_which_pages(tmp_path: Path):
    path = make_pdf(tmp_path / "blank.pdf", [[], []])
    with pytest.raises(ParseError, match=r"pages 1–2 have no usable text layer, and OCR found"):
        parse_file(path)


def test_truncated_pdf_is_a_parse_error(tmp_path: Path, handbook_pdf: Path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(handbook_pdf.read_bytes()[:200])
    with pytest.raises(ParseError, match="not a readable PDF"):
        parse_file(broken)


def test_password_protected_pdf_is_refused(tmp_path: Path, handbook_pdf: Path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(handbook_pdf))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(ParseError, match="password-protected"):
        parse_file(locked)


def test_owner_password_only_pdf_is_read(tmp_path: Path, handbook_pdf: Path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(handbook_pdf))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    restricted = tmp_path / "restricted.pdf"
    with restricted.open("wb") as handle:
        writer.write(handle)
    assert "Zorblax" in parse_file(restricted).pages[1]


def test_docx_headings_lists_and_tables(tmp_path: Path):
    parsed = parse_file(make_docx(tmp_path / "handbook.docx"))
    (text,) = parsed.pages
    assert "- Book leave two weeks ahead" in text
    (table,) = parsed.tables
    assert (table.header, table.rows, table.caption) == (["Grade", "Days"], [["Senior", "30"]], "")
    assert text[table.start : table.end] == "| Grade | Days |\n|---|---|\n| Senior | 30 |"
    assert [(h.level, h.title) for h in parsed.headings] == [
        (1, "Staff Handbook"),
        (1, "3 Leave"),
        (2, "3.2 Annual leave"),
        (1, "4 Travel"),
    ]
    for heading in parsed.headings:
        assert text[heading.offset :].startswith(heading.title)


def test_docx_table_captions_and_merged_cells(tmp_path: Path):
    import docx

    document = docx.Document()
    document.add_heading("5 Pay", level=1)
    document.add_paragraph("Table 2: Allowances by grade")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("Grade", "Meal", "Meal"), ("Junior", "10", "10"), ("", "", "")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(0, 1).merge(table.cell(0, 2))  # "Meal" spans two columns
    table.cell(0, 1).text = "Meal"
    document.add_paragraph("Paid monthly.")
    plain = document.add_table(rows=2, cols=1)
    plain.cell(0, 0).text, plain.cell(1, 0).text = "Note", "Under a heading, no caption"
    path = tmp_path / "pay.docx"
    document.save(str(path))
    parsed = parse_file(path)
    captioned, plain = parsed.tables
    # Equal neighbours stay two cells (10 and 10); the merged header keeps one; empty rows go.
    assert (captioned.header, captioned.rows) == (["Grade", "Meal", ""], [["Junior", "10", "10"]])
    assert captioned.caption == "5 Pay > Table 2: Allowances by grade"
    assert plain.caption == ""  # the chunk's section is then its heading path


def test_html_keeps_main_text_and_headings_and_drops_the_rest(tmp_path: Path):
    path = tmp_path / "policy.html"
    path.write_text(HTML, encoding="utf-8")
    parsed = parse_file(path)
    (text,) = parsed.pages
    assert "Claims are due within 30 days." in text
    assert "- Keep every receipt" in text and "Hotel | 120 EUR" in text
    for noise in ("do not index", "color: red", "About us", "Site banner", "Copyright footer"):
        assert noise not in text
    assert [(h.level, h.title) for h in parsed.headings] == [(1, "Expenses"), (2, "Receipts")]


def test_markdown_headings_but_not_hashes_in_code(tmp_path: Path):
    path = tmp_path / "notes.md"
    path.write_text(
        "# 3 Leave\n\nIntro.\n\n```\n# not a heading\n```\n\n## 3.2 Annual leave\n\n25 days.\n"
    )
    parsed = parse_file(path)
    assert [(h.level, h.title) for h in parsed.headings] == [
        (1, "3 Leave"),
        (2, "3.2 Annual leave"),
    ]
    assert parsed.pages[0][parsed.headings[1].offset :].startswith("## 3.2 Annual leave")


CHINESE = (
    "年假制度：员工每年享有二十五天带薪年假，须提前两周向直属主管申请。未使用的年假最多可结转五天。"
)
TRADITIONAL = (
    "年假制度：員工每年享有二十五天帶薪年假，須提前兩週向直屬主管申請。未使用的年假最多可結轉五天。"
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Hello 你好。".encode(), "Hello 你好。"),
        ("\ufeffBOM utf-8".encode(), "BOM utf-8"),
        ("UTF-16 文本".encode("utf-16"), "UTF-16 文本"),
        ("UTF-16 BE 文本".encode("utf-16-be").join([b"\xfe\xff", b""]), "UTF-16 BE 文本"),
        (CHINESE.encode("gb18030"), CHINESE),
        (CHINESE.encode("gbk"), CHINESE),
        (TRADITIONAL.encode("big5"), TRADITIONAL),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "gb18030", "gbk", "big5"],
)
def test_text_encodings(tmp_path: Path, data: bytes, expected: str):
    path = tmp_path / "note.txt"
    path.write_bytes(data)
    assert parse_file(path).pages == [expected]


def test_cjk_radicals_become_the_ideographs_they_look_like(tmp_path: Path):
    # Kangxi radicals (⼀, ⼦) and radicals-supplement forms (⻅, ⻣), one for one.
    path = tmp_path / "note.txt"
    path.write_text("\u2f00个分\u2f26，常\u2ec5的\u2ee3架。", encoding="utf-8")
    assert parse_file(path).pages == ["一个分子，常见的骨架。"]


def test_a_nul_in_a_pdf_text_layer_becomes_a_space(tmp_path: Path):
    # PostgreSQL refuses NUL in text columns; the offsets of the rest must not move.
    pdf = make_pdf(tmp_path / "nul.pdf", [["Hello\x00world, ten days of leave a year."]])
    assert parse_file(pdf).pages == ["Hello world, ten days of leave a year."]


def test_pdf_written_with_radical_code_points_reads_as_ideographs(shared_docs: Path):
    # This poster's producer wrote 分子 as 分⼦ (U+2F26): search for 分子 must find it.
    parsed = parse_file(shared_docs / "zh" / "mineru-chemistry-introduction.pdf")
    text = "".join(parsed.pages)
    assert "分子" in text and "常见" in text
    assert not any("\u2e80" <= char <= "\u2fdf" for char in text)


def test_unsupported_type(tmp_path: Path):
    path = tmp_path / "sheet.ods"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(ParseError, match="Unsupported file type"):
        parse_file(path)


def test_empty_file(tmp_path: Path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(ParseError, match="empty"):
        parse_file(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.pdf", b"PK\x03\x04" + b"\0" * 100, "named .pdf but its content is a ZIP archive"),
        ("notes.txt", b"%PDF-1.4\n" + b"x" * 100, "named .txt but its content is a PDF document"),
        ("page.html", b"MZ\x90\x00" + b"\0" * 100, "named .html but its content is a Windows"),
        ("letter.docx", b"%PDF-1.4\n", "named .docx but its content is a PDF document"),
        ("sheet.xls", b"PK\x03\x04" + b"\0" * 100, "named .xls but its content is a ZIP archive"),
        ("data.csv", b"\x7fELF" + b"\0" * 100, "named .csv but its content is a Linux"),
        ("deck.pptx", b"\x89PNG" + b"\0" * 100, "named .pptx but its content is a PNG image"),
    ],
)
def test_extension_that_lies_about_the_content(tmp_path: Path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ParseError, match=message):
        parse_file(path)


def test_parser_that_hangs_is_stopped_by_the_time_limit(tmp_path: Path):
    trap = make_parser_trap_pdf(tmp_path / "trap.pdf")
    assert trap.stat().st_size < 100_000
    with pytest.raises(ParseError, match="longer than the 2 s limit"):
        parse_isolated(trap, name="trap.pdf", timeout_s=2, memory_mb=2048)


def test_isolated_parse_returns_the_same_document(handbook_pdf: Path):
    isolated = parse_isolated(handbook_pdf, name="h.pdf", timeout_s=120, memory_mb=2048)
    assert isolated == parse_file(handbook_pdf)


def test_shared_hostile_pdfs(shared_docs: Path):
    hostile = shared_docs / "hostile"
    with pytest.raises(ParseError, match="not a readable PDF"):
        parse_file(hostile / "malformed_invalid_not_a_pdf.pdf")
    for name in ("encrypted_aes256_crazyones.pdf", "encrypted_libreoffice-writer-password.pdf"):
        with pytest.raises(ParseError, match="password-protected"):
            parse_file(hostile / name)
    assert parse_file(hostile / "encrypted_owner-only_r4-owner-password.pdf").pages


def test_pdf_numbered_headings_start_at_chapter_one(tmp_path: Path):
    """A street address or a table line before chapter 1 is no heading: it would otherwise be
    every later chunk's section (seen in real 10-K filings)."""
    path = make_pdf(
        tmp_path / "report.pdf",
        [
            ["Acme Holdings plc", "83 Tower Road North", "Annual report 2023"],
            ["1 Overview", "Acme makes packaging.", "13 Weeks Ended"],
            ["2 Results", "Net sales rose 4 percent.", "2.1 Margins", "Margins held."],
        ],
    )
    titles = [h.title for h in parse_file(path).headings]
    assert titles == ["1 Overview", "2 Results", "2.1 Margins"]
