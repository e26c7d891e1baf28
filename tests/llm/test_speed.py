"""What makes answers fast, seen from outside, with the real bundled model: the model reads the
sentences that bear on the question (and citations still point at the right chunk and page, with
the sentences used), every prompt starts with the same bytes and that prefix is read once per
process, a question waiting for the model is told its place, and the classic path stays
selectable. No timings are asserted: the tokens the model reads are counted instead."""

from __future__ import annotations

import threading

import llama_cpp
import pytest

from llm.backends import get_llm
from llm.events import Queued, SourcesFound, TextAdded
from llm.focus import quote_of
from llm.pipeline import answer_question, answer_stream
from llm.prompts import (
    CLASSIC,
    FOCUSED,
    SHORT_SYSTEM_PROMPT,
    SYSTEM_PROMPT,
    Source,
    build_messages,
    build_rewrite_messages,
    prompt_prefix,
)

QUESTION = "When does the Zorblax cafeteria open?"


@pytest.fixture
def llm():
    return get_llm()


def _rendered(llm, messages) -> str:
    return llm._chat_formatter(llm.load())(messages=messages).prompt


def test_the_model_reads_the_sentences_that_matter_and_citations_keep_chunk_page_and_sentence(
    ingested_handbook,
):
    answer = answer_question(QUESTION, user=None, mode=FOCUSED)
    assert not answer.refused and "7:45" in answer.answer
    cafeteria = next(s for s in answer.sources if "7:45" in s.text)
    # What the model read of the page is the cafeteria sentence and its neighbours, not the
    # visitors' rule two sentences on; the spans say where in the chunk it is.
    assert "Zorblax cafeteria" in cafeteria.quote and "Visitors" not in cafeteria.quote
    assert "Visitors" in cafeteria.text  # the citation still holds the whole chunk
    assert all(cafeteria.text[a:b] in cafeteria.quote for a, b in cafeteria.spans)
    cited = next(c for c in answer.citations if c.chunk_id == cafeteria.chunk_id)
    chunk = ingested_handbook.chunks.get(pk=cited.chunk_id)
    assert (cited.page, cited.text) == (2, chunk.text)
    # The citation carries the sentences the answer used (among those read), which the viewer
    # marks: the one with the opening time among them, the visitors' rule not.
    used = [chunk.text[a:b] for a, b in cited.spans]
    assert any("opens at 7:45" in sentence for sentence in used)
    assert set(cited.spans) <= set(cafeteria.spans)
    assert cited.quote == quote_of(chunk.text, cited.spans)
    assert "Visitors" not in cited.quote


def test_the_classic_path_is_still_selectable(ingested_handbook, llm):
    answer = answer_question(QUESTION, user=None, mode=CLASSIC)
    assert not answer.refused and "7:45" in answer.answer
    assert all(s.quote == "" and s.spans == [] for s in answer.sources)  # whole chunks
    assert prompt_prefix(CLASSIC)[0]["content"] == SYSTEM_PROMPT
    assert prompt_prefix(FOCUSED)[0]["content"] == SHORT_SYSTEM_PROMPT
    with pytest.raises(ValueError, match="answer mode"):
        prompt_prefix("verbose")


def test_every_prompt_starts_with_the_same_bytes(llm):
    sources = [Source(1, "Handbook", 2, "The cafeteria opens at 7:45.")]
    other = [Source(1, "Guide", 9, "Badges are worn visibly."), Source(2, "FAQ", 1, "Yes.")]
    for mode in (FOCUSED, CLASSIC):
        prefix = _rendered(llm, [*prompt_prefix(mode), {"role": "user", "content": ""}])
        prefix = prefix[: prefix.rindex("<|im_start|>user\n")]
        first = _rendered(llm, build_messages(QUESTION, sources, mode=mode))
        second = _rendered(llm, build_messages("食堂几点开门？", other, mode=mode))
        assert first.startswith(prefix) and second.startswith(prefix)
        assert "7:45" not in prefix and QUESTION not in prefix  # nothing that varies before it
        # The tokens the back end keeps a state for are that prefix's, the same for both.
        tokens = llm.prefix_tokens(build_messages(QUESTION, sources, mode=mode))
        assert tokens == llm.prefix_tokens(build_messages("食堂几点开门？", other, mode=mode))
        assert len(tokens) > 100
        assert llm.load().detokenize(tokens, special=True).decode().startswith(prefix)


def test_the_prefix_is_read_once_and_restored_after_other_prompts(llm):
    llama = llm.load()
    messages = build_messages(
        QUESTION, [Source(1, "Handbook", 2, "It opens at 7:45.")], mode=FOCUSED
    )
    rewrite = build_rewrite_messages([{"role": "user", "content": "Hi"}], "and then?")
    llm.warm([build_messages("?", [], mode=FOCUSED), build_rewrite_messages([], "?")])
    prefix = len(llm.prefix_tokens(messages))
    whole = llm.count_prompt_tokens(messages)
    for _ in range(2):
        llm.generate(rewrite, max_tokens=4)  # another prompt replaces the context in between
        llama_cpp.llama_perf_context_reset(llama.ctx)
        llm.generate(messages, max_tokens=4)
        read = llama_cpp.llama_perf_context(llama.ctx).n_p_eval
        assert read <= whole - prefix + 1  # only what follows the prefix
    assert llm.prefixes.restored >= 2


def test_a_question_waiting_for_the_model_is_told_its_place(ingested_handbook, llm):
    holder = llm.queue_turn()  # another question holds the model
    assert holder.wait(0)
    run = answer_stream(QUESTION, user=None)
    stream = iter(run)
    events: list = [next(stream)]  # retrieval reads the test's database: in this thread
    worker = threading.Thread(target=lambda: events.extend(stream))
    worker.start()
    try:
        deadline = threading.Event()
        while not any(isinstance(e, Queued) for e in events) and worker.is_alive():
            deadline.wait(0.05)
    finally:
        holder.release()
    worker.join(600)
    kinds = [type(e) for e in events]
    assert kinds[0] is SourcesFound
    assert Queued in kinds and kinds.index(Queued) < kinds.index(TextAdded)
    assert [e.ahead for e in events if isinstance(e, Queued)] == [1, 0]  # waiting, then its turn
    assert "7:45" in run.result.answer
