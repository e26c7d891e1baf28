"""The chat page and the endpoints its script calls: history with citation chips and support marks,
rename/delete, feedback, the source viewer (passage in context, PDF page with the passage boxed),
page images and downloads."""

from __future__ import annotations

import json
import re

import pytest

from ingestion.models import Collection, Document
from kbqa.chat.models import Conversation, Message
from kbqa.chat.rendering import answer_html


@pytest.fixture
def staff(django_user_model):
    """A signed-in employee with no special rights, who may read the default collection (where
    the handbook and the conversations' documents are): opened to everyone, as an admin would."""
    Collection.objects.filter(pk=Collection.objects.default().pk).update(everyone=True)
    return django_user_model.objects.create_user("staff", password="pw-12345678")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def _conversation(user, *, chunk_id: int = 7) -> tuple[Conversation, Message, Message]:
    handbook = Document.objects.create(
        title="Handbook", sha256="0" * 64, status=Document.Status.INDEXED
    )
    conversation = Conversation.objects.create(user=user, title="Cafeteria")
    Message.objects.create(conversation=conversation, role="user", content="When does it open?")
    answer = Message.objects.create(
        conversation=conversation,
        role="assistant",
        content="The cafeteria opens at **7:45** [1]. It serves free lunch on Fridays.",
        citations=[
            {
                "n": 1,
                "chunk_id": chunk_id,
                "document_id": handbook.pk,
                "title": "Handbook",
                "page": 2,
                "text": "opens at 7:45",
                "section": "",
            }
        ],
        sentences=[
            {"text": "The cafeteria opens at 7:45.", "citations": [1], "supported": True},
            {"text": "It serves free lunch on Fridays.", "citations": [], "supported": False},
        ],
    )
    Message.objects.create(conversation=conversation, role="user", content="And the gym?")
    refusal = Message.objects.create(
        conversation=conversation,
        role="assistant",
        content="I could not find this in the documents.",
        refused=True,
        closest_documents=[
            {"document_id": handbook.pk, "title": "Handbook", "page": 3, "score": 0.2}
        ],
    )
    return conversation, answer, refusal


@pytest.mark.django_db
def test_chat_page_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_answer_html_escapes_scripts_and_turns_markers_into_chips():
    text = (
        "Opens at 7:45 [1]. <script>alert('doc')</script> <img src=x onerror=alert(1)> "
        "[click](javascript:alert(2)) [ok](https://example.com) Closed on Sundays."
    )
    html, missing = answer_html(
        text,
        citations=[{"n": 1, "chunk_id": 42}],
        sentences=[{"text": "Closed on Sundays.", "supported": False}],
    )
    # Raw HTML and script links come out as visible text, never as elements or live links.
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'data-chunk="42"' in html and 'class="cite"' in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in html
    assert '<mark class="unsupported"' in html and "Closed on Sundays.</mark>" in html
    assert missing == []


def test_a_marker_without_a_citation_stays_plain_text():
    html, _ = answer_html("See [3].", citations=[{"n": 1, "chunk_id": 5}], sentences=[])
    assert "[3]" in html and "cite" not in html


@pytest.mark.django_db
def test_history_shows_chips_unsupported_marks_and_refusals(staff_client, staff):
    conversation, answer, refusal = _conversation(staff)
    html = staff_client.get(f"/c/{conversation.pk}/").content.decode()
    assert 'class="cite" data-n="1" data-chunk="7"' in html
    assert "<strong>7:45</strong>" in html
    assert '<mark class="unsupported"' in html and "1 sentence is not supported" in html
    assert f'id="answer-{refusal.pk}"' in html and "answer refused" in html
    assert "Not found in the documents" in html
    handbook = answer.citations[0]["document_id"]
    assert f'data-url="/documents/{handbook}/pages/3/"' in html  # closest document opens its page
    assert 'aria-current="page">Cafeteria</a>' in html  # sidebar, current conversation


@pytest.mark.django_db
def test_an_answers_stage_times_are_shown_on_request(staff_client, staff):
    _, answer, _ = _conversation(staff)
    answer.timings = {
        "rewrite_s": 0.0, "retrieve_s": 0.12, "prompt_s": 4.5, "generate_s": 2.25, "total_s": 6.9
    }  # fmt: skip
    answer.save()
    html = staff_client.get(f"/answers/{answer.pk}/").content.decode()
    assert '<details class="timings">' in html and "Answered in 6.9 s" in html
    assert "<dt>Reading the sources</dt><dd>4.50 s</dd>" in html
    assert "Understanding the follow-up" not in html  # not a follow-up: no rewrite step
    chinese = staff_client.get(f"/answers/{answer.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "用时 6.9 秒" in chinese.content.decode()


@pytest.mark.django_db
def test_someone_elses_conversation_and_answers_are_not_found(client, staff, django_user_model):
    conversation, answer, _ = _conversation(staff)
    other = django_user_model.objects.create_user("other", password="pw-12345678")
    client.force_login(other)
    assert client.get(f"/c/{conversation.pk}/").status_code == 404
    assert client.get(f"/answers/{answer.pk}/").status_code == 404
    assert client.post(f"/c/{conversation.pk}/delete/").status_code == 404
    response = client.post(
        f"/answers/{answer.pk}/feedback/", {"rating": 1}, content_type="application/json"
    )
    assert response.status_code == 404
    assert Conversation.objects.filter(pk=conversation.pk).exists()


@pytest.mark.django_db
def test_rename_and_delete_a_conversation(staff_client, staff):
    conversation, _, _ = _conversation(staff)
    response = staff_client.post(
        f"/c/{conversation.pk}/rename/",
        {"title": "  Opening   hours "},
        HTTP_ACCEPT="application/json",
    )
    assert response.json() == {"id": conversation.pk, "title": "Opening hours"}
    assert staff_client.post(f"/c/{conversation.pk}/rename/", {"title": " "}).status_code == 400
    conversation.refresh_from_db()
    assert conversation.title == "Opening hours"

    response = staff_client.post(f"/c/{conversation.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()


@pytest.mark.django_db
def test_feedback_is_stored_with_the_answer(staff_client, staff):
    _, answer, _ = _conversation(staff)
    url = f"/answers/{answer.pk}/feedback/"
    body = {"rating": -1, "comment": "The gym is on floor 2."}
    response = staff_client.post(url, body, content_type="application/json")
    assert response.json() == {"rating": -1, "comment": "The gym is on floor 2."}
    answer.refresh_from_db()
    assert (answer.rating, answer.feedback_comment) == (-1, "The gym is on floor 2.")
    bad = staff_client.post(url, {"rating": 7}, content_type="application/json")
    assert bad.status_code == 400
    fragment = staff_client.get(f"/answers/{answer.pk}/").content.decode()
    assert 'data-rating="-1" aria-pressed="true"' in fragment
    assert "The gym is on floor 2.</textarea>" in fragment


def test_source_viewer_shows_the_passage_in_context_and_on_the_page(
    ingested_handbook, staff_client
):
    chunk = ingested_handbook.chunks.get(page=2)
    html = staff_client.get(f"/sources/{chunk.pk}/").content.decode()
    passage = re.search(r'<mark class="passage" id="passage">(.*?)</mark>', html, re.S)
    assert passage and "Zorblax cafeteria" in passage.group(1)
    assert "page 2" in html
    assert f'src="/documents/{ingested_handbook.pk}/pages/2.png"' in html
    boxes = re.findall(r'class="box" style="left:([\d.]+)%;top:([\d.]+)%', html)
    assert boxes, html  # the passage was located on the rendered page
    # The passage starts near the top of the page (the text is set from y=740 of 792).
    assert all(float(top) < 30 for _, top in boxes)
    assert f'href="/documents/{ingested_handbook.pk}/download/"' in html

    image = staff_client.get(f"/documents/{ingested_handbook.pk}/pages/2.png")
    assert image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")
    assert staff_client.get(f"/documents/{ingested_handbook.pk}/pages/9.png").status_code == 404

    download = staff_client.get(f"/documents/{ingested_handbook.pk}/download/")
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_source_viewer_marks_the_sentences_the_answer_used(ingested_handbook, staff_client):
    chunk = ingested_handbook.chunks.get(page=2)
    sentence = "The Zorblax cafeteria on the third floor opens at 7:45 in the morning."
    start = chunk.text.index(sentence)
    spans = f"{start}-{start + len(sentence)},oops,9-3"  # malformed parts are ignored
    html = staff_client.get(f"/sources/{chunk.pk}/?spans={spans}").content.decode()
    used = re.findall(r'<mark class="used"[^>]*>(.*?)</mark>', html, re.S)
    assert used == [sentence]
    passage = re.search(r'<mark class="passage" id="passage">(.*?)</mark></div>', html, re.S)
    assert passage and "Visitors must sign in" in passage.group(1)  # the rest, unmarked


def test_chips_and_source_links_carry_the_used_spans_to_the_viewer():
    html, _ = answer_html(
        "Opens at 7:45 [1].",
        citations=[{"n": 1, "chunk_id": 42, "spans": [[10, 50], [52, 80]]}],
        sentences=[],
    )
    assert 'data-chunk="42" data-spans="10-50,52-80"' in html


def test_source_viewer_refuses_what_is_not_readable(ingested_handbook, client, staff):
    chunk = ingested_handbook.chunks.first()
    assert client.get(f"/sources/{chunk.pk}/").status_code == 302  # signed out: log in first
    client.force_login(staff)
    Document.objects.filter(pk=ingested_handbook.pk).update(status=Document.Status.EMBEDDING)
    assert client.get(f"/sources/{chunk.pk}/").status_code == 404  # not indexed (re-ingesting)
    assert client.get("/sources/999999/").status_code == 404
    assert client.get("/documents/999999/download/").status_code == 404


def _events(response) -> list[tuple[str, dict]]:
    text = b"".join(response.streaming_content).decode()
    found = re.findall(r"event: (\w+)\ndata: (.*)\n\n", text)
    return [(name, json.loads(data)) for name, data in found]


@pytest.mark.django_db(transaction=True)  # closing a response closes the request's connection
def test_stopped_stream_frees_the_model_and_the_next_answer_renders(
    ingested_handbook, staff_client
):
    """Stop generation: the browser aborts the request, the server closes the stream mid-answer.
    The model must be free for the next question, whose stored answer renders with chips."""
    question = {"question": "When does the Zorblax cafeteria open?"}
    response = staff_client.post("/api/v1/ask/stream/", question, content_type="application/json")
    stream = iter(response.streaming_content)
    assert b"event: conversation" in next(stream)
    while b"event: token" not in next(stream):
        pass
    response.close()  # what the server does when the client goes away
    del stream

    response = staff_client.post("/api/v1/ask/stream/", question, content_type="application/json")
    events = _events(response)
    assert [name for name, _ in events][-1] == "done", events
    done = events[-1][1]
    assert done["refused"] is False, done
    fragment = staff_client.get(f"/answers/{done['message_id']}/").content.decode()
    assert "7:45" in fragment
    assert (
        'class="cite"' in fragment
        and f'data-chunk="{done["citations"][0]["chunk_id"]}"' in fragment
    )


@pytest.mark.django_db
def test_the_ui_language_follows_the_browser_and_the_switcher(client, staff):
    login = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in login and "用户名" in login and "登录" in login
    assert (
        "Username" in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    )

    client.force_login(staff)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "向知识库提问" in page and "新对话" in page  # the choice beats the browser's
    strings = json.loads(
        re.search(r'<script id="strings" type="application/json">(.*?)</script>', page).group(1)
    )
    assert strings["stop"] == "停止"  # the script's texts are translated too
