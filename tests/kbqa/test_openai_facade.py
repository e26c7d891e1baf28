"""The OpenAI-compatible facade, driven by the real `openai` SDK against a live server: the answer
comes from the knowledge base with its citations in the documented `kbqa` field, streamed as
OpenAI chunks; errors arrive as the SDK's own exceptions."""

from __future__ import annotations

import openai
import pytest

from tests.conftest import api_client

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "When does the Zorblax cafeteria open?"


@pytest.fixture
def sdk(live_server, admin_user):
    from kbqa.api.tokens import token_create

    _, key = token_create(user=admin_user, name="sdk", scope="ask")
    return openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key, max_retries=0)


def test_streamed_completion_with_citations(ingested_handbook, sdk):
    assert [m.id for m in sdk.models.list()] == ["kbqa"]
    stream = sdk.chat.completions.create(
        model="kbqa", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "7:45" in text
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    kbqa = final.model_extra["kbqa"]
    assert kbqa["refused"] is False
    # What the stream showed is the verified answer: the same [n] the citations carry.
    assert text == kbqa["answer"]
    # Usage counts the prompt the model read (instructions, examples, sources) in its tokens.
    assert final.usage.prompt_tokens > 300 > len(QUESTION.split())
    assert final.usage.completion_tokens > 0
    assert any(
        c["document_id"] == ingested_handbook.pk and c["page"] == 2 for c in kbqa["citations"]
    )


def test_completion_when_the_model_is_down_and_errors_in_openai_shape(
    ingested_handbook, sdk, llm_server_down, live_server
):
    completion = sdk.chat.completions.create(
        model="kbqa",
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
        ],
    )
    assert completion.object == "chat.completion"
    assert "could not be generated" in completion.choices[0].message.content
    kbqa = completion.model_extra["kbqa"]
    assert "not reachable" in kbqa["error"]
    assert any(s["page"] == 2 and "7:45" in s["text"] for s in kbqa["sources"])

    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(
            model="kbqa", messages=[{"role": "assistant", "content": "Hello"}]
        )
    assert bad.value.body["type"] == "invalid_request_error"
    assert bad.value.body["param"] == "messages"
    stranger = openai.OpenAI(base_url=f"{live_server.url}/v1", api_key="kbqa_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        stranger.chat.completions.create(
            model="kbqa", messages=[{"role": "user", "content": QUESTION}]
        )


@pytest.mark.django_db
def test_a_manage_scope_is_not_needed_to_ask(admin_user):
    client = api_client(admin_user, scope="ask")
    response = client.post("/v1/chat/completions", {"messages": []}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
