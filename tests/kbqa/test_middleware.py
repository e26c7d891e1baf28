"""NUL characters in request text are refused with 400 and the error body naming the field, for
every view (API, facade, chat, console), before any of it reaches the database: PostgreSQL text
cannot hold NUL, so each of these was a 500 there (found by schemathesis)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ingestion.models import Collection, Document
from kbqa.chat.models import Conversation, Message

BOUNDARY = "nul-test-boundary"


def _refused(response, field: str) -> str:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field], error
    assert "NUL" in error["fields"][field][0] and error["message"].startswith(f"{field}: ")
    return error["fields"][field][0]


@pytest.mark.django_db
def test_query_strings_and_form_fields_of_any_method(admin_api):
    _refused(admin_api.get("/api/v1/documents/", {"title": "a\x00b"}), "title")
    _refused(admin_api.get("/api/v1/collections/", {"everyone\x00": "true"}), "everyone\\x00")
    before = Collection.objects.count()
    # The schemathesis case: a form field of POST /collections/ (reader_groups is looked up by
    # name, which PostgreSQL refused with a 500).
    for fmt in ("multipart", None):
        data = {"name": "Legal", "reader_groups": "x\x00"}
        response = (
            admin_api.post("/api/v1/collections/", data, format=fmt)
            if fmt
            else admin_api.post(
                "/api/v1/collections/",
                "name=Legal&reader_groups=x%00",
                content_type="application/x-www-form-urlencoded",
            )
        )
        _refused(response, "reader_groups")
    assert Collection.objects.count() == before
    # PATCH bodies, which Django leaves unparsed (REST framework parses them later).
    collection = Collection.objects.create(name="Legal")
    _refused(
        admin_api.patch(
            f"/api/v1/collections/{collection.pk}/",
            "description=a%00",
            content_type="application/x-www-form-urlencoded",
        ),
        "description",
    )
    _refused(
        admin_api.patch(
            f"/api/v1/collections/{collection.pk}/", {"description": "a\x00"}, format="multipart"
        ),
        "description",
    )
    collection.refresh_from_db()
    assert collection.description == ""


@pytest.mark.django_db
def test_json_bodies_at_any_depth_keys_included(admin_api):
    completion = {"messages": [{"role": "user", "content": "hi\x00"}]}
    response = admin_api.post("/v1/chat/completions", completion, format="json")
    assert response.status_code == 400
    error = response.json()["error"]  # in OpenAI's shape under /v1/, which its SDKs read
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "invalid",
        "messages[0].content",
    )
    _refused(
        admin_api.post("/api/v1/search/", {"query": "x", "filters": {"a\x00": 1}}, format="json"),
        "filters.a\\x00",
    )
    _refused(admin_api.post("/api/v1/search/", ["\x00"], format="json"), "[0]")
    # A body that is not JSON is left to the view, which says so.
    broken = admin_api.post("/api/v1/search/", "{", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "parse_error"


def _multipart(filename_header: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; {filename_header}\r\n'
        f"Content-Type: text/plain\r\n\r\nQuarterly figures.\r\n--{BOUNDARY}--\r\n"
    ).encode()


@pytest.mark.django_db
def test_a_nul_in_an_upload_name_is_refused_not_dropped(admin_api):
    """Django's multipart parser deletes control characters from file names: `report\\x00.exe.txt`
    used to be stored as the document "report.exe", and a name of NUL alone made the file part
    vanish (400 "file: required", not saying why)."""
    upload = SimpleUploadedFile("report\x00.exe.txt", b"Quarterly figures.")
    message = _refused(admin_api.post("/api/v1/documents/", {"file": upload}), "file")
    assert "File names" in message
    for header in ('filename="\x00"', "filename*=UTF-8''report%00.exe.txt"):
        response = admin_api.generic(
            "POST",
            "/api/v1/documents/",
            _multipart(header),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )
        _refused(response, "file")
    assert not Document.objects.exists()
    # Other control characters are still just removed from the name, as before.
    upload = SimpleUploadedFile("report\x01.txt", b"Quarterly figures.")
    assert admin_api.post("/api/v1/documents/", {"file": upload}).json()["title"] == "report"


@pytest.mark.django_db
def test_chat_and_console_endpoints_and_cookies(admin_user):
    browser = Client()
    browser.force_login(admin_user)
    conversation = Conversation.objects.create(user=admin_user, title="Hours")
    answer = Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, content="At 8."
    )
    feedback = browser.post(
        f"/answers/{answer.pk}/feedback/",
        json.dumps({"rating": -1, "comment": "wrong\x00"}),
        content_type="application/json",
    )
    _refused(feedback, "comment")
    answer.refresh_from_db()
    assert answer.rating == 0 and answer.feedback_comment == ""
    _refused(browser.post(f"/c/{conversation.pk}/rename/", {"title": "a\x00"}), "title")
    _refused(browser.get("/console/documents/", {"q": "\x00"}), "q")
    browser.cookies["sessionid"] = "x\x00" * 20
    _refused(browser.get("/"), "cookie sessionid")


@pytest.mark.django_db
def test_bodies_it_cannot_read_are_a_parse_error_not_a_server_error(admin_api):
    deep = "[" * 100_000 + "]" * 100_000  # deeper than any JSON parser recurses
    response = admin_api.post("/api/v1/search/", deep, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"
    broken = admin_api.generic(
        "POST", "/api/v1/documents/", b"no parts", content_type="multipart/form-data; boundary="
    )
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "parse_error"
