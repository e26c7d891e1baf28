"""The answer pipeline's streaming contract: a client that shows only the stream shows the final,
verified answer, citation numbers included; nothing is streamed that a refusal takes back."""

from __future__ import annotations

import re

import pytest

from llm.pipeline import answer_stream


@pytest.fixture
def scripted(settings):
    def use(answer: str) -> None:
        settings.KBQA_LLM = {
            "BACKEND": "tests.llm.scripted.ScriptedBackend",
            "OPTIONS": {"answer": answer},
        }

    return use


def _run(question: str):
    run = answer_stream(question, user=None)
    events = list(run)
    return events, run.result


def test_a_wrong_citation_number_is_streamed_corrected(ingested_handbook, scripted):
    script = (
        "The Zorblax cafeteria opens at 7:45 in the morning [9]. "
        "Visitors must sign in at the reception desk [1]."
    )
    scripted(script)
    events, answer = _run("When does the Zorblax cafeteria open?")
    assert next(e.kind for e in events) == "sources"
    streamed = "".join(e.delta() for e in events)
    assert streamed == answer.answer
    cafeteria = next(c for c in answer.sources if "7:45" in c.text)
    assert streamed.startswith(
        f"The Zorblax cafeteria opens at 7:45 in the morning [{cafeteria.n}]."
    )
    assert "[9]" not in streamed
    assert {int(n) for n in re.findall(r"\[(\d+)\]", streamed)} == {c.n for c in answer.citations}
    assert answer.usage.prompt_tokens > 0 and answer.usage.completion_tokens == len(script.split())
    assert answer.timings.total_s >= answer.timings.generate_s >= 0


def test_unsupported_sentences_wait_for_a_supported_one(ingested_handbook, scripted):
    scripted("Good question. The Zorblax cafeteria opens at 7:45 in the morning.")
    events, answer = _run("When does the Zorblax cafeteria open?")
    texts = [e.delta() for e in events if e.delta()]
    assert len(texts) == 1  # held until the supported sentence arrived, then shown together
    assert texts[0] == answer.answer
    assert texts[0].startswith("Good question. The Zorblax cafeteria opens at 7:45")
    assert [s.supported for s in answer.sentences] == [False, True]


def test_a_refusal_streams_nothing(ingested_handbook, scripted):
    scripted("Not found in the knowledge base.")
    events, answer = _run("Who founded Zorblax?")
    assert [e.kind for e in events] == ["sources"]
    assert answer.refused and answer.answer == "Not found in the knowledge base."
    assert answer.closest_documents


def test_the_models_own_not_found_sentence_is_not_part_of_an_answer(ingested_handbook, scripted):
    scripted("The Zorblax cafeteria opens at 7:45 in the morning. Not found in the knowledge base.")
    events, answer = _run("When does the cafeteria open and who runs it?")
    assert not answer.refused
    assert "".join(e.delta() for e in events) == answer.answer
    assert "Not found" not in answer.answer
