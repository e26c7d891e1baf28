"""OCR where people see it: the source viewer boxes an OCR passage on the page image (a scanned
PDF's rendered page, an image document's own picture), the console shows "OCR n/m pages" while a
scan is read, and the API exposes the counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingestion.models import Collection, Document
from tests.fixtures.scans import image_bytes, scanned_pdf, text_image
from tests.ingestion.helpers import create, ingest

pytestmark = pytest.mark.django_db

NOTICE = ["Fire drill on Thursday at 10:30.", "Assemble in the north car park."]
BOX = re.compile(r'class="box" style="left:([\d.]+)%;top:([\d.]+)%;width:([\d.]+)%')


@pytest.fixture
def staff_client(client, django_user_model):
    Collection.objects.filter(pk=Collection.objects.default().pk).update(everyone=True)
    client.force_login(django_user_model.objects.create_user("staff", password="pw-12345678"))
    return client


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_an_ocr_passage_is_boxed_on_the_scanned_page(staff_client, tmp_path: Path, isolated_index):
    pages = [["Travel and expenses", "Expense reports are due within 30 days of the trip."]]
    document = ingest(scanned_pdf(tmp_path / "scan.pdf", pages))
    chunk = document.chunks.get(page=1)
    assert chunk.ocr and chunk.boxes
    html = staff_client.get(f"/sources/{chunk.pk}/").content.decode()
    assert 'title="Read by OCR from the page image">OCR</span>' in html
    assert f'src="/documents/{document.pk}/pages/1.png"' in html
    boxes = [tuple(map(float, found)) for found in BOX.findall(html)]
    assert boxes == [(box[0], box[1], box[2]) for box in chunk.boxes]
    assert all(float(top) < 20 for _, top, _ in boxes)  # the text is at the top of the page


def test_an_image_document_shows_its_picture_with_the_boxes(staff_client, isolated_index):
    document = ingest(image_bytes(text_image(NOTICE, size=(900, 600)), "PNG"), "notice.png")
    assert document.status == Document.Status.INDEXED, document.error
    chunk = document.chunks.get()
    html = staff_client.get(f"/sources/{chunk.pk}/").content.decode()
    assert "Page 1 of the image" in html
    assert len(BOX.findall(html)) == 2  # one per line of the notice
    picture = staff_client.get(f"/documents/{document.pk}/pages/1.png")
    assert picture["Content-Type"] == "image/png"
    assert b"".join(picture.streaming_content).startswith(b"\x89PNG")
    assert staff_client.get(f"/documents/{document.pk}/pages/2.png").status_code == 404


def test_console_and_api_show_pages_ocred_out_of_pages_to_ocr(admin_client, admin_api):
    document = create(b"%PDF-1.4 stand-in", "scan.pdf")
    Document.objects.filter(pk=document.pk).update(
        status=Document.Status.PARSING, ocr_total=139, ocr_done=42, progress=30
    )
    row = admin_client.get("/console/documents/status/", {"ids": document.pk}).json()
    (row,) = row["documents"]
    assert (row["label"], row["ocr_done"], row["ocr_total"]) == ("OCR 42/139 pages", 42, 139)
    assert row["percent"] == 10 + round(60 * 42 / 139)
    chinese = admin_client.get(
        "/console/documents/status/", {"ids": document.pk}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()["documents"][0]
    assert chinese["label"] == "OCR 42/139 页"
    page = admin_client.get("/console/documents/").content.decode()
    assert "OCR 42/139 pages" in page

    body = admin_api.get(f"/api/v1/documents/{document.pk}/").json()
    assert (body["ocr_total"], body["ocr_done"]) == (139, 42)
