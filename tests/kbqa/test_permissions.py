"""Collections never leak: a user without access to a collection never sees a word of its
documents, through any endpoint (answers, citations, sources, refusals' closest documents, search,
documents, collections, history, the OpenAI facade), and losing access takes effect on the next
question and on stored history.

Two real documents are ingested with the real embedder: the handbook (default collection, open to
everyone) and board minutes (collection "Board", readable by the group "board" only) whose
facts ("812 million", "6 May") appear nowhere else. Most asks run with the LLM down: the answer
then carries the retrieved `sources`, exactly what retrieval let through; one real answer shows
the refusal itself.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile

from ingestion.models import Collection
from ingestion.services.ingest import document_ingest
from ingestion.services.uploads import document_create
from kbqa.chat.models import Conversation, Message
from tests.conftest import api_client, sse_events

SECRET_TEXT = (
    "# Board minutes\n\n"
    "The board approved the Quillfeather acquisition at a price of 812 million euros. "
    "The deal is announced to staff on 6 May.\n"
)
# Phrases, not bare digits: "812" alone turns up in timestamps and hashes by chance.
SECRETS = ("812 million", "812m", "812 m", "6 May", "Board minutes", "board-minutes")
QUESTION = "At what price did the board approve the Quillfeather acquisition?"


def assert_no_secret(payload) -> None:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked: {text[:2000]}"


@pytest.fixture
def library(ingested_handbook, django_user_model):
    """Handbook open to everyone; board minutes readable by the group "board" only."""
    general = ingested_handbook.collection
    general.everyone = True
    general.save()
    board_group = Group.objects.create(name="board")
    board = Collection.objects.create(name="Board")
    board.reader_groups.add(board_group)
    minutes = document_create(
        file=ContentFile(SECRET_TEXT.encode(), name="board-minutes.md"),
        collection=board,
        enqueue=False,
    )
    minutes = document_ingest(document_id=minutes.pk)
    assert minutes.status == "indexed", minutes.error
    insider = django_user_model.objects.create_user("insider", password="pw-12345678")
    insider.groups.add(board_group)
    outsider = django_user_model.objects.create_user("outsider", password="pw-12345678")
    return {
        "minutes": minutes,
        "board": board,
        "board_group": board_group,
        "insider": insider,
        "outsider": outsider,
    }


def test_no_endpoint_shows_a_restricted_document(library, llm_server_down):
    minutes, board = library["minutes"], library["board"]
    insider = api_client(library["insider"])
    outsider = api_client(library["outsider"])

    # The insider's search finds the minutes: the test can fail.
    hits = insider.post("/api/v1/search/", {"query": QUESTION}, format="json").json()["results"]
    assert hits[0]["document_id"] == minutes.pk and "812 million" in hits[0]["text"]
    asked = insider.post("/api/v1/ask/", {"question": QUESTION}, format="json").json()
    assert any(s["document_id"] == minutes.pk for s in asked["sources"])

    search = outsider.post("/api/v1/search/", {"query": QUESTION, "k": 100}, format="json")
    assert search.status_code == 200
    assert search.json()["results"]  # the handbook is still searchable...
    assert_no_secret(search.json())  # ...the minutes are not, even at k=100
    only_minutes = {"query": QUESTION, "document_ids": [minutes.pk]}
    assert outsider.post("/api/v1/search/", only_minutes, format="json").json()["results"] == []

    answer = outsider.post("/api/v1/ask/", {"question": QUESTION}, format="json").json()
    assert answer["sources"] and answer["citations"] == []
    assert all(s["document_id"] != minutes.pk for s in answer["sources"])
    assert_no_secret({k: v for k, v in answer.items() if k != "standalone_question"})
    events = sse_events(outsider.post("/api/v1/ask/stream/", {"question": QUESTION}, format="json"))
    assert events[-1][0] == "done"
    assert_no_secret([data for name, data in events if name != "conversation"])

    completion = outsider.post(
        "/v1/chat/completions",
        {"model": "kbqa", "messages": [{"role": "user", "content": QUESTION}]},
        format="json",
    ).json()
    assert completion["kbqa"]["sources"]
    assert_no_secret(completion["kbqa"]["sources"])
    assert_no_secret(completion["choices"])

    documents = outsider.get("/api/v1/documents/").json()
    assert documents["count"] == 1
    assert_no_secret(documents)
    assert outsider.get("/api/v1/documents/", {"collection": board.pk}).json()["results"] == []
    for method, url in (
        ("get", f"/api/v1/documents/{minutes.pk}/"),
        ("patch", f"/api/v1/documents/{minutes.pk}/"),
        ("delete", f"/api/v1/documents/{minutes.pk}/"),
        ("post", f"/api/v1/documents/{minutes.pk}/reindex/"),
        ("get", f"/api/v1/collections/{board.pk}/"),
    ):
        response = getattr(outsider, method)(url, {}, format="json")
        assert response.status_code in (403, 404), (url, response.status_code)
        assert_no_secret(response.json())
    collections = outsider.get("/api/v1/collections/").json()
    assert [c["name"] for c in collections["results"]] == ["General"]

    # Uploading the same file as the minutes does not reveal that document either.
    manager = library["outsider"]
    manager.user_permissions.add(*_permissions("add_document"))
    duplicate = api_client(manager).post(
        "/api/v1/documents/",
        {"file": ContentFile(SECRET_TEXT.encode(), name="copy.md")},
        format="multipart",
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["document"] is None
    assert_no_secret(duplicate.json())


def _permissions(*codenames: str):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="ingestion", codename__in=codenames)


def test_a_real_answer_to_an_outsider_is_a_refusal_without_a_trace(library):
    response = api_client(library["outsider"]).post(
        "/api/v1/ask/", {"question": QUESTION}, format="json"
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["refused"] is True, answer
    assert answer["citations"] == []
    assert all(s["document_id"] != library["minutes"].pk for s in answer["sources"])
    assert all(d["document_id"] != library["minutes"].pk for d in answer["closest_documents"])
    assert_no_secret({k: v for k, v in answer.items() if k != "standalone_question"})


def test_revoked_access_hides_the_collection_from_the_next_question_and_from_history(
    library, llm_server_down, admin_user
):
    minutes = library["minutes"]
    insider = api_client(library["insider"])
    first = insider.post("/api/v1/ask/", {"question": QUESTION}, format="json").json()
    assert any(s["document_id"] == minutes.pk for s in first["sources"])
    conversation_id = first["conversation_id"]
    # What a real answer from the minutes stores (the LLM is down here): its citations.
    message = Message.objects.get(pk=first["message_id"])
    message.content = "The price was 812 million euros [1]."
    message.refused = False
    message.citations = [s for s in first["sources"] if s["document_id"] == minutes.pk]
    message.sentences = [
        {"text": message.content, "citations": [1], "supported": True, "score": 1.0}
    ]
    message.save()
    history = insider.get(f"/api/v1/conversations/{conversation_id}/").json()
    assert "812 million" in json.dumps(history)

    # An admin takes the group off the collection, through the API.
    admin = api_client(admin_user)
    response = admin.patch(
        f"/api/v1/collections/{library['board'].pk}/", {"reader_groups": []}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["reader_groups"] == []

    follow_up = insider.post(
        "/api/v1/ask/",
        {"question": QUESTION, "conversation_id": conversation_id},
        format="json",
    ).json()
    assert follow_up["sources"]
    assert all(s["document_id"] != minutes.pk for s in follow_up["sources"])
    assert_no_secret({k: v for k, v in follow_up.items() if k != "standalone_question"})
    hits = insider.post("/api/v1/search/", {"query": QUESTION, "k": 100}, format="json").json()
    assert_no_secret(hits)

    detail = insider.get(f"/api/v1/conversations/{conversation_id}/").json()
    withheld = [m for m in detail["messages"] if m["withheld"]]
    assert [m["id"] for m in withheld] == [message.pk]
    assert withheld[0]["citations"] == [] and withheld[0]["sentences"] == []
    page = insider.get(f"/api/v1/conversations/{conversation_id}/messages/").json()
    for body in (detail, page):
        assert_no_secret([m for m in body.get("messages", body.get("results", []))])
    # The history a further follow-up would give the model is filtered the same way.
    from kbqa.chat.services import conversation_history

    turns = conversation_history(conversation=Conversation.objects.get(pk=conversation_id))
    assert_no_secret([t["content"] for t in turns])
    # The stored message itself is untouched: access comes back, so does the answer.
    library["board"].reader_groups.add(library["board_group"])
    again = insider.get(f"/api/v1/conversations/{conversation_id}/").json()
    assert "812 million" in json.dumps(again)


def test_the_ask_command_answers_as_a_user_when_told(library, llm_server_down, capsys):
    from django.core.management import call_command

    call_command("ask", QUESTION, "--json", "--user", "outsider")
    as_outsider = json.loads(capsys.readouterr().out)
    assert as_outsider["sources"]
    assert all(s["document_id"] != library["minutes"].pk for s in as_outsider["sources"])
    call_command("ask", QUESTION, "--json")  # the trusted command line reads everything
    assert any(
        s["document_id"] == library["minutes"].pk
        for s in json.loads(capsys.readouterr().out)["sources"]
    )
