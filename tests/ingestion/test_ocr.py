"""OCR with the real bundled engine on files the tests make: scanned PDFs, garbled text layers,
PNG, JPEG (rotated by EXIF), multi-page TIFF, Chinese; hostile images; progress; the sandbox."""

from __future__ import annotations

import io
import socket
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from ingestion.models import Document
from ingestion.ocr import PageReader
from ingestion.ocr.rapid import RapidOcrEngine, bundled_models
from ingestion.parsers import ParseError, parse_file
from ingestion.parsers.sandbox import parse_isolated
from ingestion.services.ingest import document_ingest
from ingestion.services.uploads import documents_upload
from tests.fixtures.pdf import make_pdf
from tests.fixtures.scans import (
    MOJIBAKE,
    bomb_png,
    cjk_font,
    garbled_pdf,
    image_bytes,
    multipage_tiff,
    rotated_jpeg,
    scanned_pdf,
    text_image,
    too_tall_png,
)
from tests.ingestion.helpers import ingest

NOTICE = ["Fire drill on Thursday at 10:30.", "Assemble in the north car park."]
CHINESE = ["员工食堂位于三楼，早上七点开门。", "出差的员工可以报销火车票。"]
SCANNED_PAGES = [
    ["Quarterly safety notice", "The Zorblax cafeteria on the third floor opens at 7:45."],
    ["Travel and expenses", "Expense reports must be submitted within 30 days of the trip."],
]


def words(text: str) -> set[str]:
    return {word.strip(".,:;").lower() for word in text.split()}


def test_the_engine_uses_its_bundled_models_and_never_the_network(monkeypatch):
    """rapidocr resolves a download URL for any model path left unset: all are set to the files
    inside the wheel, and a fresh engine reads a page with every connection refused."""
    paths = bundled_models()
    assert {path.name for path in paths.values()} == {
        "PP-OCRv6_det_small.onnx",
        "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        "PP-OCRv6_rec_small.onnx",
    }

    def refuse(*args, **kwargs):
        raise AssertionError("OCR tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    lines = RapidOcrEngine().read(text_image(NOTICE))
    assert "fire drill on thursday at 10:30" in " ".join(line.text.lower() for line in lines)
    assert all(0.5 <= line.score <= 1 and line.right > line.left for line in lines)


def test_a_scanned_pdf_is_read_by_ocr_with_boxes(tmp_path: Path):
    progress: list[tuple[int, int]] = []
    path = scanned_pdf(tmp_path / "scan.pdf", SCANNED_PAGES)
    assert not any(page.extract_text().strip() for page in PdfReader(path).pages)  # image only
    parsed = parse_file(path, ocr=PageReader(on_progress=lambda *p: progress.append(p)))
    assert "zorblax" in words(parsed.pages[0]) and "expense" in words(parsed.pages[1])
    assert parsed.ocr_pages == [1, 2]
    assert parsed.notes == ["pages 1–2 have no text layer (scanned?): read by OCR"]
    assert progress == [(0, 2), (1, 2), (2, 2)]
    for box in parsed.boxes:
        assert parsed.pages[box.page - 1][box.start : box.end].strip()
        assert 0 <= box.left < box.left + box.width <= 100
        assert 0 <= box.top < box.top + box.height <= 100
    title = next(b for b in parsed.boxes if parsed.pages[0][b.start : b.end] == SCANNED_PAGES[0][0])
    # make_pdf sets the first baseline 52 pt below the top of a 792 pt page (6.6 %), at 72 pt
    # from the left (11.8 %); a box reaches a little above the capitals.
    assert 4 < title.top < 8 and 10 < title.left < 14


def test_only_the_pages_without_text_are_rendered_and_ocred(tmp_path: Path):
    writer = PdfWriter()
    writer.append(make_pdf(tmp_path / "text.pdf", [["A page with a real text layer."]]))
    writer.append(scanned_pdf(tmp_path / "scan.pdf", SCANNED_PAGES[:1]))
    writer.write(tmp_path / "mixed.pdf")
    parsed = parse_file(tmp_path / "mixed.pdf")
    assert parsed.pages[0].strip() == "A page with a real text layer."
    assert parsed.ocr_pages == [2]
    assert {box.page for box in parsed.boxes} == {2}
    assert parsed.notes == ["page 2 has no text layer (scanned?): read by OCR"]


def test_a_garbled_text_layer_is_replaced_by_ocr(tmp_path: Path):
    path = garbled_pdf(tmp_path / "garbled.pdf", NOTICE)
    assert MOJIBAKE[:5] in PdfReader(path).pages[0].extract_text()
    parsed = parse_file(path)
    assert parsed.ocr_pages == [1]
    assert not set(MOJIBAKE) & set(parsed.pages[0])
    assert {"fire", "drill", "thursday", "assemble"} <= words(parsed.pages[0])
    assert parsed.notes == ["page 1 has a garbled text layer: read by OCR instead"]


def test_a_pdf_of_blank_scans_fails_saying_ocr_found_nothing(tmp_path: Path):
    from PIL import Image

    path = tmp_path / "blank-scan.pdf"
    Image.new("RGB", (400, 500), "white").save(path, "PDF", resolution=72)
    with pytest.raises(ParseError, match="no usable text layer, and OCR found no text") as caught:
        parse_file(path)
    assert caught.value.code == "no_text_layer"


def test_png_jpeg_and_multipage_tiff_are_ocred(tmp_path: Path):
    png = tmp_path / "notice.png"
    png.write_bytes(image_bytes(text_image(NOTICE), "PNG"))
    parsed = parse_file(png)
    assert {"fire", "drill", "assemble"} <= words(parsed.pages[0])
    assert parsed.ocr_pages == [1] and parsed.boxes

    photo = tmp_path / "photo.jpg"  # stored sideways; its EXIF says how to turn it
    photo.write_bytes(rotated_jpeg(text_image(NOTICE)))
    parsed = parse_file(photo)
    assert {"fire", "drill", "assemble"} <= words(parsed.pages[0])
    # Upright, the lines run across the page: their boxes are wider than tall.
    assert all(box.width > box.height for box in parsed.boxes)

    tiff = tmp_path / "fax.tif"
    tiff.write_bytes(multipage_tiff([text_image(NOTICE), text_image(SCANNED_PAGES[1])]))
    parsed = parse_file(tiff)
    assert len(parsed.pages) == 2 and parsed.ocr_pages == [1, 2]
    assert "fire" in words(parsed.pages[0]) and "expense" in words(parsed.pages[1])
    assert {box.page for box in parsed.boxes} == {1, 2}


def test_chinese_is_read():
    font = cjk_font()
    if font is None:
        pytest.skip("no Chinese font installed (apt-get install fonts-wqy-microhei)")
    image = text_image(CHINESE, font=font)
    text, boxes = PageReader().read(image, 1)
    expected = "".join(CHINESE)
    found = "".join(text.split())
    assert sum(char in found for char in expected) >= 0.9 * len(expected), text
    assert len(boxes) == 2


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (bomb_png(), "image_bomb", "possible decompression bomb: 20,000 × 20,000 pixels"),
        (too_tall_png(), "image_too_large", "at most 10,000 pixels on a side"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "unreadable_image", "not a readable image"),
    ],
)
def test_hostile_images_are_refused_with_their_reason(tmp_path: Path, data, code, message):
    path = tmp_path / "hostile.png"
    path.write_bytes(data)
    with pytest.raises(ParseError, match=message) as caught:
        parse_file(path)
    assert caught.value.code == code


def test_the_sandbox_reports_ocr_progress_and_grows_its_time_limit(tmp_path: Path):
    """A base limit too short for OCR: the child says how many pages it will read, and the limit
    grows by the per-page allowance, so the scan is read rather than killed."""
    progress: list[tuple[int, int]] = []
    tiff = tmp_path / "three.tiff"
    tiff.write_bytes(multipage_tiff([text_image(NOTICE)] * 3))
    parsed = parse_isolated(
        tiff,
        name="three.tiff",
        timeout_s=15,
        memory_mb=2048,
        ocr={"BACKEND": "ingestion.ocr.rapid.RapidOcrEngine", "OPTIONS": {}},
        ocr_page_s=120,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert parsed.ocr_pages == [1, 2, 3]
    assert all("fire" in words(page) for page in parsed.pages)


def test_what_libraries_print_on_stdout_does_not_break_the_sandbox_result(tmp_path: Path):
    """onnxruntime prints an "EP Error" banner on stdout when a provider fails (seen under the
    memory limit on a CI machine): the child's result is read from stdout, so that must stay
    clean."""
    image = tmp_path / "notice.png"
    image.write_bytes(image_bytes(text_image(NOTICE), "PNG"))
    chatty = {"BACKEND": "tests.fixtures.scans.ChattyRapidOcrEngine", "OPTIONS": {}}
    parsed = parse_isolated(image, name="notice.png", timeout_s=120, memory_mb=2048, ocr=chatty)
    assert "fire" in words(parsed.pages[0])


def test_the_sandbox_stops_ocr_at_its_limit(tmp_path: Path):
    tiff = tmp_path / "slow.tiff"
    tiff.write_bytes(multipage_tiff([text_image(NOTICE)] * 3))
    with pytest.raises(ParseError, match="longer than the 1 s limit") as caught:
        parse_isolated(tiff, name="slow.tiff", timeout_s=1, memory_mb=2048, ocr=None)
    assert caught.value.code == "parse_timeout"


@pytest.mark.django_db
def test_ingested_scan_has_ocr_chunks_with_boxes_and_its_ocr_progress(
    tmp_path: Path, isolated_index
):
    document = ingest(scanned_pdf(tmp_path / "scan.pdf", SCANNED_PAGES))
    assert document.status == Document.Status.INDEXED, document.error
    assert (document.ocr_total, document.ocr_done) == (2, 2)
    chunks = list(document.chunks.order_by("ordinal"))
    assert chunks and all(chunk.ocr and chunk.boxes for chunk in chunks)
    cafeteria = next(chunk for chunk in chunks if "Zorblax" in chunk.text)
    assert cafeteria.page == 1
    assert all(len(box) == 4 and 0 <= box[1] <= 100 for box in cafeteria.boxes)
    assert "read by OCR" in document.notes


@pytest.mark.django_db
def test_a_zip_with_a_bomb_image_indexes_the_others(isolated_index):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("notice.png", image_bytes(text_image(NOTICE), "PNG"))
        bundle.writestr("bomb.png", bomb_png())
        bundle.writestr("strip.png", too_tall_png())
        bundle.writestr("readme.txt", "The north car park is behind building B.")
    from django.core.files import File

    result = documents_upload(
        files=[File(io.BytesIO(archive.getvalue()), name="batch.zip")], by=None, enqueue=False
    )
    assert not result.rejected
    ended = {
        Path(d.file.name).name.split("_")[0].split(".")[0]: document_ingest(document_id=d.pk)
        for d in result.created
    }
    assert ended["notice"].status == ended["readme"].status == Document.Status.INDEXED
    assert ended["notice"].chunks.filter(ocr=True).exists()
    assert (ended["bomb"].status, ended["bomb"].error_code) == ("failed", "image_bomb")
    assert (ended["strip"].status, ended["strip"].error_code) == ("failed", "image_too_large")
    assert "decompression bomb" in ended["bomb"].error


def test_ocr_out_of_memory_in_the_sandbox_is_said_so(tmp_path: Path):
    """onnxruntime reports a failed allocation as a RuntimeError naming std::bad_alloc (or the
    child dies): either way the reason is the memory limit, not a parser bug."""
    path = scanned_pdf(tmp_path / "scan.pdf", SCANNED_PAGES[:1])
    with pytest.raises(ParseError, match="600 MB") as caught:
        parse_isolated(path, name="scan.pdf", timeout_s=300, memory_mb=600, ocr=None)
    assert caught.value.code == "parse_memory"


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("scan.tiff", image_bytes(text_image(NOTICE), "PNG"), "a PNG image"),
        ("photo.jpg", b"%PDF-1.4\n", "a PDF document"),
        ("notice.png", b"Just some text, not an image.", "something else"),
    ],
)
def test_an_image_whose_content_is_something_else_is_refused(tmp_path: Path, name, data, kind):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ParseError, match=f"named {Path(name).suffix} but its content is {kind}"):
        parse_file(path)
