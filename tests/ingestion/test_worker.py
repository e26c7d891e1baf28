"""Ingestion through a real Celery worker process on Redis: a hostile batch, and a worker killed
with SIGKILL in the middle of a document.

Each test gets its own vector index directory (passed to the worker as KBQA_INDEX_DIR), so counting
vectors is exact.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command

from ingestion.models import Document
from ingestion.parsers import parse_file
from ingestion.services.ingest import document_chunk
from tests.conftest import require_redis, start_worker, stop_worker, wait_for_status
from tests.fixtures.pdf import make_parser_trap_pdf

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_env(isolated_index, tmp_path: Path) -> dict[str, str]:
    require_redis()
    return {"KBQA_INDEX_DIR": str(isolated_index.path)}


def post_files(client, files: dict[str, bytes]):
    parts = [io.BytesIO(data) for data in files.values()]
    for part, name in zip(parts, files, strict=True):
        part.name = name
    return client.post("/api/v1/documents/", {"file": parts}, format="multipart")


def test_hostile_batch_each_ends_clear_and_the_worker_keeps_going(
    worker_env, admin_api, shared_docs: Path, handbook_pdf: Path, tmp_path: Path, settings
):
    settings.KBQA_MAX_UPLOAD_MB = 1  # the web side enforces the upload limit
    hostile = shared_docs / "hostile"
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.txt", b"\0" * (50 * 1024 * 1024))
    zip_named_pdf = io.BytesIO()
    with zipfile.ZipFile(zip_named_pdf, "w") as archive:
        archive.writestr("a.txt", "hello")
    files = {
        "encrypted.pdf": (hostile / "encrypted_aes256_crazyones.pdf").read_bytes(),
        "corrupt.pdf": (hostile / "malformed_invalid_not_a_pdf.pdf").read_bytes(),
        "scanned.pdf": (hostile / "scanned_en_cardinal.pdf").read_bytes(),
        "empty.txt": b"",
        "lying.pdf": zip_named_pdf.getvalue(),
        "hangs.pdf": make_parser_trap_pdf(tmp_path / "trap.pdf").read_bytes(),
        "bomb.zip": bomb.getvalue(),
        "too-big.txt": b"x" * (1024 * 1024 + 1),
        "handbook.pdf": handbook_pdf.read_bytes(),
    }
    expected = {
        "encrypted": "password-protected",
        "corrupt": "not a readable PDF",
        # Whichever stops the trap first, the time limit or pypdf's own parsing budget (it depends
        # on the machine's load; the time limit alone is tested in test_parsers).
        "hangs": ("longer than the 5 s limit", "Reached maximum number of tokens"),
    }
    # A short parse limit for the trap; the real documents here parse in well under a second, and
    # the scan has KBQA_OCR_PAGE_S more for each page it OCRs.
    worker = start_worker(tmp_path, broker_env={**worker_env, "KBQA_PARSE_TIMEOUT_S": "5"})
    try:
        response = post_files(admin_api, files)
        assert response.status_code == 201, response.content
        body = response.json()
        rejected = {r["file"]: r["error"] for r in body["rejected"]}
        assert "possible ZIP bomb" in rejected["bomb.zip"]
        assert "upload limit is 1 MB" in rejected["too-big.txt"]
        assert "The file is empty (0 bytes)" in rejected["empty.txt"]
        # Content contradicting the extension is refused at upload, before it is stored.
        assert "named .pdf but its content is a ZIP archive" in rejected["lying.pdf"]
        created = {d["title"]: d["id"] for d in body["created"]}
        assert set(created) == {*expected, "handbook", "scanned"}

        for title, message in expected.items():
            status = wait_for_status(admin_api, created[title])
            assert status["status"] == "failed", (title, status, worker.output())
            accepted = message if isinstance(message, tuple) else (message,)
            assert any(m in status["error"] for m in accepted), (title, status["error"])
        for title in ("handbook", "scanned"):  # the scan is read by OCR, within its time limit
            status = wait_for_status(admin_api, created[title])
            assert status["status"] == "indexed", (status, worker.output())
        assert (status["ocr_total"], status["ocr_done"]) == (4, 4)
        assert worker.process.poll() is None, "the worker survived the batch"
        assert Document.objects.filter(status="failed", chunks__isnull=False).count() == 0
        call_command("check_index")  # raises when any chunk or vector is out of place
    finally:
        stop_worker(worker)


def test_worker_killed_mid_document_ends_with_exactly_one_set(
    worker_env, admin_api, shared_docs: Path, tmp_path: Path
):
    """SIGKILL while embedding; the restarted worker (same node name) re-queues the documents it
    was working on, and ingestion, being idempotent, ends with one set of chunks and vectors."""
    path = shared_docs / "en" / "fhs-3.0.pdf"
    worker = start_worker(tmp_path, broker_env=worker_env)
    try:
        response = post_files(admin_api, {path.name: path.read_bytes()})
        assert response.status_code == 201, response.content
        document_id = response.json()["id"]
        deadline, seen = time.monotonic() + 300, set()
        while time.monotonic() < deadline:
            body = admin_api.get(f"/api/v1/documents/{document_id}/").json()
            seen.add((body["status"], body["progress"]))
            if body["status"] == "embedding" and 0 < body["progress"] < 100:
                break
            assert body["status"] not in ("indexed", "failed"), (body, worker.output())
            time.sleep(0.1)
        else:
            pytest.fail(f"never saw embedding progress: {seen}\n{worker.output()}")
        worker.process.kill()
        worker.process.wait()
    finally:
        stop_worker(worker) if worker.process.poll() is None else None

    document = Document.objects.get(pk=document_id)
    assert document.status == Document.Status.EMBEDDING  # stuck: nobody is working on it
    restarted = start_worker(tmp_path, broker_env=worker_env)
    try:
        status = wait_for_status(admin_api, document_id)
        assert status["status"] == "indexed", (status, restarted.output())
        assert "Re-queueing document" in restarted.output()
    finally:
        stop_worker(restarted)

    expected = document_chunk(parse_file(path))
    chunks = list(document.chunks.order_by("ordinal"))
    assert [c.text for c in chunks] == [spec.text for spec in expected]
    index = worker_env["KBQA_INDEX_DIR"]
    from retrieval.index.faiss_store import FaissIndexStore

    assert sorted(FaissIndexStore(index).ids().tolist()) == sorted(c.pk for c in chunks)
