"""The admins' console: who may use it, the document list (search, filter, live states, re-index,
retry, delete) and the overview (totals, refused and voted-down questions)."""

from __future__ import annotations

import pytest

from ingestion.models import Document
from kbqa.chat.models import Conversation, Message
from tests.ingestion.helpers import create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


RETRY_BUTTON = "↻ Retry</button>"


def _document(name: str, status: str, **fields) -> Document:
    document = create(f"Text of {name}.".encode(), name)
    Document.objects.filter(pk=document.pk).update(status=status, **fields)
    document.refresh_from_db()
    return document


def test_staff_without_the_upload_permission_get_403_and_strangers_log_in(
    client, django_user_model
):
    assert client.get("/console/").status_code == 302
    staff = django_user_model.objects.create_user("staff", password="pw-12345678")
    client.force_login(staff)
    for url in ("/console/", "/console/documents/", "/console/overview/"):
        assert client.get(url).status_code == 403
    assert "/console/" not in client.get("/").content.decode()  # no link to it either


def test_document_list_searches_filters_and_shows_failures(admin_client):
    _document("leave-policy.txt", Document.Status.INDEXED)
    _document("travel.txt", Document.Status.FAILED, error="binary", error_code="not_text")
    _document("budget.txt", Document.Status.EMBEDDING, progress=40)

    page = admin_client.get("/console/documents/").content.decode()
    assert "leave-policy" in page and "travel" in page and "budget" in page
    assert "The file is named as text but holds binary data." in page
    assert '<progress max="100" value="55">' in page  # embedding 40% of the way: 25 + 0.75 * 40

    found = admin_client.get("/console/documents/", {"q": "leave"}).content.decode()
    assert "leave-policy" in found and "travel" not in found
    failed = admin_client.get("/console/documents/", {"status": "failed"}).content.decode()
    assert "travel" in failed and "leave-policy" not in failed
    assert RETRY_BUTTON not in failed  # the same file would fail the same way


def test_retry_is_offered_where_another_run_can_succeed_and_reasons_are_translated(admin_client):
    _document(
        "slow.txt", Document.Status.FAILED, error="Parsing took longer…",
        error_code="parse_timeout", error_params={"seconds": "300"},
    )  # fmt: skip
    locked = _document(
        "locked.txt", Document.Status.FAILED, error="The PDF is password-protected…",
        error_code="encrypted",
    )  # fmt: skip
    page = admin_client.get("/console/documents/", {"q": "slow"}).content.decode()
    assert "Parsing took longer than the 300 s limit" in page and RETRY_BUTTON in page
    page = admin_client.get("/console/documents/", {"q": "locked"}).content.decode()
    assert "password-protected" in page and RETRY_BUTTON not in page
    chinese = admin_client.get(
        "/console/documents/status/", {"ids": locked.pk}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()["documents"][0]
    assert chinese["error"] == "该 PDF 有密码保护；请上传未加密的副本。"
    assert chinese["retryable"] is False
    refused = admin_client.post(
        f"/console/documents/{locked.pk}/reindex/", {"retry": "1"}, HTTP_ACCEPT="application/json"
    )
    assert refused.status_code == 200  # asked for explicitly, a retry is still allowed


def test_status_endpoint_reports_live_states(admin_client):
    busy = _document("busy.txt", Document.Status.EMBEDDING, progress=80)
    failed = _document("bad.txt", Document.Status.FAILED, error="broken")
    body = admin_client.get("/console/documents/status/", {"ids": f"{busy.pk},{failed.pk},x"})
    rows = {row["id"]: row for row in body.json()["documents"]}
    assert rows[busy.pk]["busy"] is True and rows[busy.pk]["percent"] == 85
    assert rows[failed.pk]["status"] == "failed" and rows[failed.pk]["error"] == "broken"
    assert rows[failed.pk]["retryable"] is False


def test_retry_and_reindex_queue_again_but_not_twice(
    admin_client, django_capture_on_commit_callbacks
):
    failed = _document("bad.txt", Document.Status.FAILED, error="broken")
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(
            f"/console/documents/{failed.pk}/reindex/", HTTP_ACCEPT="application/json"
        )
    assert response.status_code == 200 and response.json()["document"]["status"] == "queued"
    assert len(queued) == 1  # the Celery task is sent once the transaction commits
    failed.refresh_from_db()
    assert (failed.status, failed.error) == (Document.Status.QUEUED, "")

    again = admin_client.post(
        f"/console/documents/{failed.pk}/reindex/", HTTP_ACCEPT="application/json"
    )
    assert again.status_code == 409
    assert "already being ingested" in again.json()["error"]["message"]

    indexed = _document("ok.txt", Document.Status.INDEXED)
    response = admin_client.post(f"/console/documents/{indexed.pk}/reindex/", follow=True)
    assert "is queued for indexing" in response.content.decode()  # form post: back to the list


def test_delete_removes_the_document(admin_client, django_capture_on_commit_callbacks):
    document = _document("old.txt", Document.Status.INDEXED)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/console/documents/{document.pk}/delete/", follow=True)
    assert "was deleted" in response.content.decode()
    assert not Document.objects.filter(pk=document.pk).exists()


def test_overview_counts_and_lists_refused_and_voted_down_questions(admin_client, admin_user):
    _document("a.txt", Document.Status.INDEXED)
    _document("b.txt", Document.Status.FAILED)
    conversation = Conversation.objects.create(user=admin_user, title="Gym")
    for question, fields in (
        ("Where is the gym?", {"refused": True}),
        ("When is payday?", {"rating": -1, "feedback_comment": "Wrong month"}),
        ("Who is the CEO?", {"rating": 1}),
    ):
        Message.objects.create(
            conversation=conversation,
            role="assistant",
            content="…",
            standalone_question=question,
            **fields,
        )
    Message.objects.filter(rating=1).update(
        timings={"retrieve_s": 0.2, "prompt_s": 3.0, "generate_s": 4.0, "total_s": 7.3}
    )
    page = admin_client.get("/console/overview/").content.decode()
    assert '<div class="value" id="total-documents">2</div>' in page
    assert "Over the last answer." in page and "<td>Reading the prompt</td><td>3.00 s</td>" in page
    assert "multilingual-e5-small" in page and "qwen2.5" in page.lower()
    assert "Where is the gym?" in page and "When is payday?" in page and "Wrong month" in page
    assert "Who is the CEO?" not in page


def test_upload_page_offers_drop_zone_and_recent_documents(admin_client):
    _document("recent.txt", Document.Status.PARSING)
    page = admin_client.get("/console/").content.decode()
    assert 'id="dropzone"' in page and 'data-upload-url="/api/v1/documents/"' in page
    assert "recent" in page
    accept = page.split('accept="', 1)[1].split('"', 1)[0].split(",")
    assert {".pdf", ".docx", ".xlsx", ".xls", ".csv", ".pptx", ".eml", ".zip"} <= set(accept)
