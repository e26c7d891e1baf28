"""Uploaded originals live in the configured store, not on the machine that took the upload: a
folder outside KBQA_DATA_DIR (what several machines mount) and an S3 bucket on a real S3 HTTP
server. Ingestion, the source viewer's page images and passage boxes, downloads and deletion all
go through the store."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from infra.storage import local_file
from ingestion.models import Document
from ingestion.services.documents import document_delete
from ingestion.services.ingest import document_ingest
from ingestion.services.uploads import document_create
from kbqa.chat import pdf_pages
from kbqa.settings.storage import s3_storage

pytestmark = pytest.mark.django_db


class Store:
    """The store a test runs on, read back through its own client (not through the app)."""

    def __init__(self, kind: str, folder: Path | None = None, client=None, bucket: str = ""):
        self.kind, self.folder, self.client, self.bucket = kind, folder, client, bucket

    def names(self) -> set[str]:
        if self.folder is not None:
            return {str(p.relative_to(self.folder)) for p in self.folder.rglob("*") if p.is_file()}
        listed = self.client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return {item["Key"] for item in listed}

    def read(self, name: str) -> bytes:
        if self.folder is not None:
            return (self.folder / name).read_bytes()
        return self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read()


@pytest.fixture(params=["folder", "s3"])
def store(request, settings, tmp_path_factory) -> Store:
    """STORAGES["default"] as KBQA_STORAGE_DIR or KBQA_S3_* make it; a fresh folder or bucket."""
    if request.param == "folder":
        folder = tmp_path_factory.mktemp("shared-store")
        assert not folder.is_relative_to(settings.DATA_DIR)
        settings.MEDIA_ROOT = str(folder)
        settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": _FILE_SYSTEM}}
        call_command("ensure_storage")
        return Store("folder", folder=folder)
    import boto3

    endpoint = request.getfixturevalue("s3_server")
    bucket = f"kbqa-{uuid.uuid4().hex[:12]}"
    keys = {"access_key": "kbqa-test", "secret_key": "kbqa-test-secret", "region": "us-east-1"}
    default = s3_storage(bucket=bucket, endpoint_url=endpoint, **keys)
    settings.STORAGES = {**settings.STORAGES, "default": default}
    call_command("ensure_storage")  # creates the bucket, as docker compose's start does
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=keys["access_key"],
        aws_secret_access_key=keys["secret_key"],
        region_name=keys["region"],
    )
    return Store("s3", client=client, bucket=bucket)


_FILE_SYSTEM = "django.core.files.storage.FileSystemStorage"


def _upload(path: Path) -> Document:
    with path.open("rb") as handle:
        return document_create(file=File(handle, name=path.name), enqueue=False)


def test_an_upload_is_ingested_viewed_downloaded_and_deleted_through_the_store(
    store: Store, handbook_pdf: Path, isolated_index, admin_user, client,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    document = _upload(handbook_pdf)
    assert store.names() == {document.file.name}
    assert store.read(document.file.name) == handbook_pdf.read_bytes()
    uploads = Path(settings.DATA_DIR) / "uploads"
    assert not uploads.exists() or not any(uploads.rglob("*.pdf"))  # nothing kept on the side

    document = document_ingest(document_id=document.pk)
    assert document.status == Document.Status.INDEXED, document.error
    chunk = document.chunks.get(page=2)
    assert "Zorblax" in chunk.text

    png = pdf_pages.page_png(document, 2)
    assert png.read_bytes().startswith(b"\x89PNG")
    assert pdf_pages.chunk_boxes(chunk)  # the passage located in the stored PDF's text layer

    client.force_login(admin_user)
    response = client.get(f"/documents/{document.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == handbook_pdf.read_bytes()

    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=document, by=None)
    assert store.names() == set()


def test_two_files_of_one_name_are_both_kept(store: Store, tmp_path: Path):
    """Two different files named alike: neither overwrites the other (on S3 each gets a folder of
    its own, so the name stays the file's own for downloads)."""
    first = _upload(_text_file(tmp_path / "a" / "notes.txt", "first file"))
    second = _upload(_text_file(tmp_path / "b" / "notes.txt", "second file"))
    assert first.file.name != second.file.name
    assert store.read(first.file.name) == b"first file"
    assert store.read(second.file.name) == b"second file"
    if store.kind == "s3":
        assert Path(first.file.name).name == Path(second.file.name).name == "notes.txt"


def test_an_original_missing_from_the_store_fails_the_document_with_its_reason(
    store: Store, handbook_pdf: Path, isolated_index
):
    document = _upload(handbook_pdf)
    default_storage.delete(document.file.name)
    document = document_ingest(document_id=document.pk)
    assert (document.status, document.error_code) == (Document.Status.FAILED, "file_missing")


def test_a_local_copy_holds_the_stored_bytes_and_goes_afterwards(store: Store):
    name = default_storage.save("documents/check/report.PDF", ContentFile(b"%PDF-1.4 bytes"))
    with local_file(default_storage, name) as path:
        assert path.read_bytes() == b"%PDF-1.4 bytes"
        assert path.suffix == ".PDF"  # the parsers go by the suffix
    if store.kind == "s3":
        assert not path.exists()  # a temporary copy
    else:
        assert path == store.folder / name  # the store's own file, not a copy


def _text_file(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
