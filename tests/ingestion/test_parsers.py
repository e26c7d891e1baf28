from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.parsers import ParseError, parse_file
from tests.fixtures.pdf import HANDBOOK_PAGES


def test_pdf_pages_keep_their_text(handbook_pdf: Path):
    parsed = parse_file(handbook_pdf)
    assert len(parsed.pages) == len(HANDBOOK_PAGES)
    assert "Zorblax cafeteria" in parsed.pages[1]
    assert "Zorblax" not in parsed.pages[0] + parsed.pages[2]


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


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Hello 你好。".encode(), "Hello 你好。"),
        ("\ufeffBOM utf-8".encode(), "BOM utf-8"),
        ("UTF-16 文本".encode("utf-16"), "UTF-16 文本"),
    ],
)
def test_text_encodings(tmp_path: Path, data: bytes, expected: str):
    path = tmp_path / "note.txt"
    path.write_bytes(data)
    assert parse_file(path).pages == [expected]


def test_unsupported_type(tmp_path: Path):
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(ParseError, match="Unsupported file type"):
        parse_file(path)


def test_shared_hostile_pdfs(shared_docs: Path):
    hostile = shared_docs / "hostile"
    with pytest.raises(ParseError, match="not a readable PDF"):
        parse_file(hostile / "malformed_invalid_not_a_pdf.pdf")
    with pytest.raises(ParseError, match="password-protected"):
        parse_file(hostile / "encrypted_aes256_crazyones.pdf")
    assert parse_file(hostile / "encrypted_owner-only_r4-owner-password.pdf").pages
