"""Conversations through the API: the streamed answer, a follow-up answered in context, storage,
privacy, and a model server that is down."""

from __future__ import annotations

import pytest

from kbqa.chat.models import Conversation, Message
from tests.conftest import api_client, sse_events


def test_streamed_answer_then_a_follow_up_in_the_same_conversation(
    ingested_handbook, admin_api, admin_user
):
    response = admin_api.post(
        "/api/v1/ask/stream/", {"question": "When does the Zorblax cafeteria open?"}, format="json"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    events = sse_events(response)
    names = [name for name, _ in events]
    assert names[:2] == ["conversation", "sources"]
    assert names[-1] == "done"
    # The answer arrives sentence by sentence, each once its citations are checked: a client that
    # shows only the stream shows the final answer, citation numbers included.
    streamed = "".join(data["text"] for name, data in events if name == "token")
    done = events[-1][1]
    assert streamed == done["answer"]
    assert "7:45" in streamed
    assert done["refused"] is False
    assert any(c["page"] == 2 for c in done["citations"])
    assert all("supported" in s for s in done["sentences"])
    assert done["timings"]["total_s"] >= done["timings"]["generate_s"] > 0
    conversation_id = events[0][1]["conversation_id"]
    assert done["conversation_id"] == conversation_id

    # "it" only makes sense with the conversation: the question is rewritten before retrieval.
    follow_up = admin_api.post(
        "/api/v1/ask/",
        {"question": "And when does it close?", "conversation_id": conversation_id},
        format="json",
    ).json()
    assert "cafeteria" in follow_up["standalone_question"].lower()
    assert follow_up["conversation_id"] == conversation_id
    # The rewritten question found the page that says when the cafeteria closes; whatever the
    # small model wrote, only citations verified against that page survive.
    assert any(s["page"] == 2 and "closes at 3" in s["text"] for s in follow_up["sources"])
    assert all(c["page"] == 2 for c in follow_up["citations"])

    conversation = Conversation.objects.get(pk=conversation_id)
    assert conversation.user == admin_user
    roles = list(conversation.messages.values_list("role", flat=True))
    assert roles == ["user", "assistant", "user", "assistant"]
    last = conversation.messages.last()
    assert last.pk == follow_up["message_id"]
    assert last.citations == follow_up["citations"]
    assert last.sentences == follow_up["sentences"]

    detail = admin_api.get(f"/api/v1/conversations/{conversation_id}/").json()
    assert [m["role"] for m in detail["messages"]] == roles
    assert detail["messages"][1]["citations"] == done["citations"]
    listed = admin_api.get("/api/v1/conversations/").json()
    assert [c["id"] for c in listed["results"]] == [conversation_id]


@pytest.mark.django_db
def test_another_users_conversation_is_not_found(admin_user, django_user_model):
    conversation = Conversation.objects.create(user=admin_user, title="private")
    Message.objects.create(conversation=conversation, role="user", content="secret question")
    other = django_user_model.objects.create_user("other", password="pw")
    client = api_client(other)
    assert client.get(f"/api/v1/conversations/{conversation.pk}/").status_code == 404
    response = client.post(
        "/api/v1/ask/", {"question": "hi", "conversation_id": conversation.pk}, format="json"
    )
    assert response.status_code == 404
    assert client.get("/api/v1/conversations/").json()["results"] == []
    assert conversation.messages.count() == 1


def test_model_server_down_gives_a_message_and_the_sources(
    ingested_handbook, admin_api, llm_server_down
):
    response = admin_api.post(
        "/api/v1/ask/", {"question": "When does the Zorblax cafeteria open?"}, format="json"
    )
    assert response.status_code == 200
    data = response.json()
    assert "not reachable" in data["error"]
    assert data["refused"] is True and data["citations"] == []
    assert any(s["page"] == 2 and "7:45" in s["text"] for s in data["sources"])
    stored = Message.objects.get(pk=data["message_id"])
    assert stored.error == data["error"]

    events = sse_events(
        admin_api.post(
            "/api/v1/ask/stream/",
            {"question": "When does it open?"},
            format="json",
            HTTP_ACCEPT="text/event-stream",  # as EventSource and SSE libraries send it
        )
    )
    assert [name for name, _ in events] == ["conversation", "sources", "done"]
    assert events[1][1]["sources"]
    assert "not reachable" in events[-1][1]["error"]


def test_chat_shows_the_error_and_opens_the_closest_passage(
    ingested_handbook, client, admin_user, llm_server_down
):
    client.force_login(admin_user)
    events = sse_events(
        client.post(
            "/api/v1/ask/stream/",
            {"question": "When does the Zorblax cafeteria open?"},
            content_type="application/json",
        )
    )
    done = events[-1][1]
    html = client.get(f"/answers/{done['message_id']}/").content.decode()
    assert "answer refused failed" in html and "not reachable" in html
    closest = done["closest_documents"][0]
    assert f'class="source-link" data-chunk="{closest["chunk_id"]}"' in html
    source = client.get(f"/sources/{closest['chunk_id']}/").content.decode()
    assert "7:45" in source  # the retrieved passage is still one click away


def test_the_stream_says_how_many_questions_are_ahead():
    from kbqa.api.streaming import answer_events
    from llm.events import Queued, Run

    def waiting():
        yield Queued(2)
        yield Queued(1)

    assert "".join(answer_events(Run(waiting()))) == (
        'event: queue\ndata: {"ahead": 2}\n\nevent: queue\ndata: {"ahead": 1}\n\n'
    )
