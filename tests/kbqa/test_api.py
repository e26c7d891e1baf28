from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from ingestion.models import Document
from kbqa.api.models import ApiToken
from tests.conftest import api_client


@pytest.mark.django_db
def test_api_requires_a_token():
    client = APIClient()
    assert client.post("/api/v1/ask/", {"question": "hi"}, format="json").status_code == 401
    assert client.get("/api/v1/documents/1/").status_code == 401


@pytest.mark.django_db
def test_create_api_token_prints_a_working_token_once(admin_user, capsys):
    call_command("create_api_token", "admin", "--name", "wiki bot")
    key = capsys.readouterr().out.strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/documents/").status_code == 200
    token = ApiToken.objects.get(name="wiki bot")
    assert key not in (token.key_hash, token.prefix) and key.startswith(token.prefix)
    call_command("create_api_token", "admin", "--name", "other")
    assert capsys.readouterr().out.strip() != key  # a new token each time, never re-shown


@pytest.mark.django_db
def test_upload_rejects_unsupported_type_with_a_message(admin_api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("tool.exe", b"MZ...", content_type="application/octet-stream")
    response = admin_api.post("/api/v1/documents/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "Unsupported file type" in error["fields"]["file"][0]
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_upload_needs_document_permission(django_user_model, handbook_pdf: Path):
    user = django_user_model.objects.create_user("staffer", password="pw")
    client = api_client(user)
    with handbook_pdf.open("rb") as handle:
        response = client.post("/api/v1/documents/", {"file": handle}, format="multipart")
    assert response.status_code == 403


@pytest.mark.django_db
def test_ask_validates_input(admin_api):
    response = admin_api.post("/api/v1/ask/", {"question": "  "}, format="json")
    assert response.status_code == 400
    assert "question" in response.json()["error"]["fields"]


def test_ask_answers_with_citations(ingested_handbook, admin_api):
    response = admin_api.post(
        "/api/v1/ask/", {"question": "When does the Zorblax cafeteria open?"}, format="json"
    )
    assert response.status_code == 200
    data = response.json()
    assert data["refused"] is False
    assert any(
        c["document_id"] == ingested_handbook.pk and c["page"] == 2 for c in data["citations"]
    )


@pytest.mark.django_db
def test_upload_of_an_identical_file_says_which_document_it_matches(admin_api, handbook_pdf):
    with handbook_pdf.open("rb") as handle:
        first = admin_api.post("/api/v1/documents/", {"file": handle}, format="multipart")
    assert first.status_code == 201
    assert first.json()["status"] == "queued"
    with handbook_pdf.open("rb") as handle:
        again = admin_api.post("/api/v1/documents/", {"file": handle}, format="multipart")
    assert again.status_code == 409
    assert again.json()["document"]["id"] == first.json()["id"]
    assert Document.objects.count() == 1


@pytest.mark.django_db
def test_upload_of_several_files_reports_each(admin_api, handbook_pdf):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [
        SimpleUploadedFile("a.txt", b"Alpha."),
        SimpleUploadedFile("b.md", b"# Beta"),
        SimpleUploadedFile("a-copy.txt", b"Alpha."),
        SimpleUploadedFile("c.exe", b"MZ"),
    ]
    response = admin_api.post("/api/v1/documents/", {"file": files}, format="multipart")
    assert response.status_code == 201
    body = response.json()
    assert [d["title"] for d in body["created"]] == ["a", "b"]
    assert body["duplicates"][0]["file"] == "a-copy.txt"
    assert body["duplicates"][0]["document"]["title"] == "a"
    assert body["rejected"][0]["file"] == "c.exe"


def test_upload_where_every_file_is_refused_is_a_400_listing_the_reasons(admin_api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [SimpleUploadedFile("c.exe", b"MZ"), SimpleUploadedFile("empty.txt", b"")]
    response = admin_api.post("/api/v1/documents/", {"file": files}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid"
    reasons = body["error"]["fields"]["file"]
    assert any("c.exe: Unsupported file type" in r for r in reasons)
    assert any("empty.txt: The file is empty" in r for r in reasons)
    assert [r["file"] for r in body["rejected"]] == ["c.exe", "empty.txt"]
    assert not Document.objects.exists()


def test_search_returns_ranked_chunks_with_their_source(ingested_handbook, admin_api):
    response = admin_api.post(
        "/api/v1/search/", {"query": "When does the Zorblax cafeteria open?", "k": 2}, format="json"
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert 1 <= len(results) <= 2
    top = results[0]
    assert set(top) == {
        "rank",
        "chunk_id",
        "document_id",
        "title",
        "page",
        "page_end",
        "section",
        "score",
        "text",
        "kind",
        "ocr",
        "rows",
        "page_label",
    }
    assert (top["rank"], top["document_id"], top["page"]) == (1, ingested_handbook.pk, 2)
    assert (top["kind"], top["ocr"], top["rows"], top["page_label"]) == ("text", False, "", "")
    assert "Zorblax" in top["text"]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_search_filters_by_document_and_validates(ingested_handbook, admin_api):
    other = ingested_handbook.pk + 1000
    response = admin_api.post(
        "/api/v1/search/", {"query": "cafeteria", "document_ids": [other]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["results"] == []
    response = admin_api.post(
        "/api/v1/search/",
        {"query": "cafeteria", "document_ids": [ingested_handbook.pk]},
        format="json",
    )
    assert {r["document_id"] for r in response.json()["results"]} == {ingested_handbook.pk}
    # An empty list is no documents, so no results (the schema allows it; it used to be a 400).
    none = admin_api.post(
        "/api/v1/search/", {"query": "cafeteria", "document_ids": []}, format="json"
    )
    assert none.status_code == 200 and none.json()["results"] == []
    for bad in ({"query": " "}, {"query": "x", "k": 0}, {"query": "x", "document_ids": [0]}):
        assert admin_api.post("/api/v1/search/", bad, format="json").status_code == 400, bad
    assert APIClient().post("/api/v1/search/", {"query": "x"}, format="json").status_code == 401
