"""Answering with the real bundled embedder and the real bundled GGUF model."""

from __future__ import annotations

import json

from django.core.management import call_command

from llm.services import answer_question


def test_answer_cites_the_page_that_holds_the_fact(ingested_handbook):
    answer = answer_question("When does the Zorblax cafeteria open?")
    assert not answer.refused
    assert "7:45" in answer.answer
    cited = {(c.document_id, c.page) for c in answer.citations}
    assert (ingested_handbook.pk, 2) in cited
    for citation in answer.citations:
        chunk = ingested_handbook.chunks.get(pk=citation.chunk_id)
        assert (citation.text, citation.page) == (chunk.text, chunk.page)


def test_empty_knowledge_base_refuses(db, isolated_index):
    answer = answer_question("When does the Zorblax cafeteria open?")
    assert answer.refused
    assert answer.citations == []


def test_ask_command_prints_the_api_json(ingested_handbook, capsys):
    call_command("ask", "How soon must expense reports be submitted?", "--json")
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"answer", "refused", "citations"}
    assert "30" in data["answer"]
    assert data["citations"], data
    citation = data["citations"][0]
    assert set(citation) == {"n", "document_id", "title", "page", "chunk_id", "text"}
    assert citation["page"] == 3
