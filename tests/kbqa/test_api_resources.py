"""Documents, collections and feedback through the API: pagination, filters, management actions,
permissions, and the one error body."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from ingestion.models import Collection, Document
from kbqa.chat.models import Conversation, Message
from tests.conftest import api_client


def _upload(client, name: str, content: bytes, **extra):
    upload = SimpleUploadedFile(name, content)
    return client.post("/api/v1/documents/", {"file": upload, **extra}, format="multipart")


@pytest.mark.django_db
def test_documents_are_listed_paginated_and_filtered(admin_api):
    legal = admin_api.post("/api/v1/collections/", {"name": "Legal"}, format="json").json()
    for i in range(3):
        assert _upload(admin_api, f"memo-{i}.txt", f"Memo {i}.".encode()).status_code == 201
    contract = _upload(admin_api, "contract.txt", b"Contract.", collection=legal["id"]).json()
    assert contract["collection"] == legal["id"] and contract["collection_name"] == "Legal"

    page = admin_api.get("/api/v1/documents/", {"page_size": 2}).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    assert page["results"][0]["title"] == "contract"  # newest first
    rest = admin_api.get(page["next"]).json()
    assert len(rest["results"]) == 2 and rest["next"] is None
    by_collection = admin_api.get("/api/v1/documents/", {"collection": legal["id"]}).json()
    assert [d["title"] for d in by_collection["results"]] == ["contract"]
    by_title = admin_api.get("/api/v1/documents/", {"title": "MEMO-1"}).json()
    assert [d["title"] for d in by_title["results"]] == ["memo-1"]
    assert admin_api.get("/api/v1/documents/", {"status": "queued"}).json()["count"] == 4
    bad = admin_api.get("/api/v1/documents/", {"status": "nonsense"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]
    assert admin_api.get("/api/v1/documents/", {"page": 99}).json()["error"]["code"] == "not_found"
    # Offsets PostgreSQL cannot store (beyond ±15:59) and dates that overflow in UTC (found by
    # schemathesis) are compared in UTC or refused, never a server error.
    far = admin_api.get("/api/v1/documents/", {"created_after": "6824-04-03T10:04:18+17:43"})
    assert far.status_code == 200 and far.json()["count"] == 0
    early = admin_api.get("/api/v1/documents/", {"created_before": "0001-01-01T00:00:00+05:00"})
    assert early.status_code == 400 and early.json()["error"]["code"] == "invalid"

    unknown = _upload(admin_api, "x.txt", b"X.", collection=999999)
    assert unknown.status_code == 400
    assert "collection" in unknown.json()["error"]["fields"]


@pytest.mark.django_db
def test_reindex_move_and_delete_a_document(admin_api):
    document = _upload(admin_api, "memo.txt", b"Memo.").json()
    url = f"/api/v1/documents/{document['id']}/"
    busy = admin_api.post(url + "reindex/")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "conflict"  # still queued
    Document.objects.filter(pk=document["id"]).update(status=Document.Status.FAILED)
    again = admin_api.post(url + "reindex/")
    assert again.status_code == 202 and again.json()["status"] == "queued"

    legal = Collection.objects.create(name="Legal")
    moved = admin_api.patch(url, {"collection": legal.pk, "title": "Memo"}, format="json")
    assert moved.status_code == 200
    assert (moved.json()["collection"], moved.json()["title"]) == (legal.pk, "Memo")

    assert admin_api.delete(url).status_code == 204
    assert not Document.objects.filter(pk=document["id"]).exists()
    gone = admin_api.get(url)
    assert gone.status_code == 404
    assert gone.json() == {"error": {"code": "not_found", "message": "Not found."}}
    put = admin_api.put(url, {}, format="json")
    assert put.status_code == 405 and put.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_collections_are_managed_by_those_allowed(admin_api, django_user_model):
    Group.objects.create(name="legal-team")
    created = admin_api.post(
        "/api/v1/collections/",
        {"name": "Legal", "reader_groups": ["legal-team"], "description": "Contracts"},
        format="json",
    )
    assert created.status_code == 201, created.content
    legal = created.json()
    assert legal["reader_groups"] == ["legal-team"] and legal["everyone"] is False
    no_group = admin_api.post(
        "/api/v1/collections/", {"name": "X", "reader_groups": ["nobody"]}, format="json"
    )
    assert "reader_groups" in no_group.json()["error"]["fields"]

    Document.objects.create(title="NDA", sha256="1" * 64, collection_id=legal["id"])
    blocked = admin_api.delete(f"/api/v1/collections/{legal['id']}/")
    assert blocked.status_code == 409 and "documents" in blocked.json()["error"]["message"]
    default = Collection.objects.default()
    assert admin_api.delete(f"/api/v1/collections/{default.pk}/").status_code == 409

    # A member of the group reads the collection but may not change it.
    member = django_user_model.objects.create_user("member", password="pw-12345678")
    member.groups.add(Group.objects.get(name="legal-team"))
    client = api_client(member)
    assert [c["name"] for c in client.get("/api/v1/collections/").json()["results"]] == ["Legal"]
    assert [d["title"] for d in client.get("/api/v1/documents/").json()["results"]] == ["NDA"]
    change = client.patch(f"/api/v1/collections/{legal['id']}/", {"everyone": True}, format="json")
    assert change.status_code == 403
    # A staff admin given the collection permissions manages every collection.
    member.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_collection", "view_collection"])
    )
    member = django_user_model.objects.get(pk=member.pk)  # fresh permission cache
    client = api_client(member)
    change = client.patch(f"/api/v1/collections/{legal['id']}/", {"everyone": True}, format="json")
    assert change.status_code == 200 and change.json()["everyone"] is True
    assert len(client.get("/api/v1/collections/").json()["results"]) == 2  # General too


@pytest.mark.django_db
def test_feedback_on_an_answer(django_user_model):
    user = django_user_model.objects.create_user("asker", password="pw-12345678")
    conversation = Conversation.objects.create(user=user, title="Cafeteria")
    question = Message.objects.create(conversation=conversation, role="user", content="When?")
    answer = Message.objects.create(conversation=conversation, role="assistant", content="7:45")
    client = api_client(user, scope="ask")
    url = f"/api/v1/messages/{answer.pk}/feedback/"
    response = client.post(url, {"rating": -1, "comment": " wrong page "}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["rating"], response.json()["feedback_comment"]) == (-1, "wrong page")
    answer.refresh_from_db()
    assert answer.rating == -1
    bad = client.post(url, {"rating": 5}, format="json")
    assert bad.status_code == 400 and "rating" in bad.json()["error"]["fields"]
    on_question = client.post(
        f"/api/v1/messages/{question.pk}/feedback/", {"rating": 1}, format="json"
    )
    assert on_question.status_code == 400
    assert "answers" in on_question.json()["error"]["message"]
    other = django_user_model.objects.create_user("other", password="pw-12345678")
    assert api_client(other).post(url, {"rating": 1}, format="json").status_code == 404
    messages = client.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()
    assert [m["role"] for m in messages["results"]] == ["user", "assistant"]
    assert client.delete(f"/api/v1/conversations/{conversation.pk}/").status_code == 204
    assert not Conversation.objects.filter(pk=conversation.pk).exists()


@pytest.mark.django_db
def test_schema_and_docs_page(admin_api, admin_user):
    schema = admin_api.get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/ask/",
        "/api/v1/ask/stream/",
        "/api/v1/search/",
        "/api/v1/documents/",
        "/api/v1/documents/{id}/reindex/",
        "/api/v1/collections/",
        "/api/v1/conversations/{id}/messages/",
        "/api/v1/messages/{id}/feedback/",
        "/api/v1/tokens/",
        "/v1/chat/completions",
    ):
        assert path in paths, path
    browser = Client()
    browser.force_login(admin_user)
    docs = browser.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()  # assets are served locally (air-gapped)


@pytest.mark.django_db
def test_the_schema_and_its_pages_need_a_signed_in_user_or_a_token(admin_user, admin_api):
    for params in ({}, {"format": "json"}):
        refused = APIClient().get("/api/v1/schema/", params)
        assert refused.status_code == 401 and refused["Content-Type"] == "application/json"
        assert refused.json()["error"]["code"] == "not_authenticated"
    assert admin_api.get("/api/v1/schema/").content.startswith(b"openapi:")  # YAML, by token
    browser = Client()
    browser.force_login(admin_user)
    assert "paths" in browser.get("/api/v1/schema/", {"format": "json"}).json()
    for page in ("/api/v1/docs/", "/api/v1/redoc/"):
        anonymous = Client().get(page)
        assert anonymous.status_code == 302
        assert anonymous["Location"] == f"/accounts/login/?next={page}"
        assert browser.get(page).status_code == 200


@pytest.mark.django_db
def test_list_parameters_are_refused_when_unreadable_not_ignored(admin_api):
    """A value a filter or the pagination cannot read used to be ignored (the whole list came
    back as if it had matched; found by schemathesis): now it is a 400 naming the parameter."""
    Collection.objects.bulk_create(
        Collection(name=f"c{i:03}", everyone=i % 3 == 0) for i in range(104)
    )
    opened = Collection.objects.filter(everyone=True).count()
    for value, expected in (("true", opened), ("1", opened), ("0", 105 - opened)):
        assert (
            admin_api.get("/api/v1/collections/", {"everyone": value}).json()["count"] == expected
        )

    def refused(params: dict, field: str) -> None:
        response = admin_api.get("/api/v1/collections/", params)
        assert response.status_code == 400, (params, response.content)
        assert list(response.json()["error"]["fields"]) == [field]

    for value in (str(2**80), "yes", "True", ""):
        refused({"everyone": value}, "everyone")
    for value in ("null", "0", "-1", "1.5", "", "abc", "٣"):
        refused({"page_size": value}, "page_size")
    # Empty values are refused, not read as "no filter" (found by bin/fuzz).
    for parameter in ("title", "status", "collection", "created_after"):
        response = admin_api.get("/api/v1/documents/", {parameter: ""})
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == [parameter]
    for value in ("xml", ""):
        refused({"format": value}, "format")
    # Above the maximum, page_size is cut to it (as documented), however long the number.
    for value in ("1000", "9" * 5000):
        page = admin_api.get("/api/v1/collections/", {"page_size": value}).json()
        assert len(page["results"]) == 100 and page["count"] == 105
    for page in ("last", "", "0", "9"):
        missing = admin_api.get("/api/v1/collections/", {"page": page})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
