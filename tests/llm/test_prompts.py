"""The prompt's token budget, measured with the bundled model's own tokenizer."""

from __future__ import annotations

import pytest

from llm.backends import get_llm
from llm.prompts import (
    ANSWER_IN_CHINESE,
    CLASSIC,
    FOCUSED,
    PromptTooLong,
    Source,
    build_messages,
    fit_sources,
)

SENTENCE = "The Zorblax cafeteria on the third floor opens at 7:45 in the morning. "


@pytest.fixture(scope="module")
def llm():
    return get_llm()


def _sources() -> list[Source]:
    small = [Source(n, f"Doc {n}", n, SENTENCE * 4, section="2 Facilities") for n in range(1, 9)]
    small.insert(2, Source(99, "Huge", 1, SENTENCE * 200))  # ~3000 tokens: never fits below
    return small


def test_as_many_whole_sources_as_fit_and_never_a_truncated_prompt(llm, monkeypatch):
    monkeypatch.setattr(llm, "context_size", 1000)
    question = "When does the cafeteria open?"
    fitted = fit_sources(llm, question, _sources(), max_tokens=200)
    assert 2 < len(fitted) < 8
    assert [s.n for s in fitted] == list(range(1, len(fitted) + 1))  # renumbered in rank order
    assert "Huge" not in {s.title for s in fitted}  # left out whole, later ones still taken
    assert all(s.text == SENTENCE * 4 for s in fitted)  # nothing cut
    prompt = build_messages(question, fitted)
    assert llm.count_message_tokens(prompt) + 200 <= 1000
    assert "section 2 Facilities" in prompt[-1]["content"]
    # One more source would not have fitted: the budget is used, not wasted.
    more = [*fitted, Source(len(fitted) + 1, "Doc", 1, SENTENCE * 4)]
    assert llm.count_message_tokens(build_messages(question, more)) + 200 > 1000


def test_the_real_template_stays_within_the_count(llm):
    """count_message_tokens is an upper bound of what the chat template really feeds the model."""
    messages = build_messages("When does the cafeteria open?", _sources()[:3])
    template = llm.load().metadata["tokenizer.chat_template"]
    from jinja2 import Template

    rendered = Template(template).render(messages=messages, add_generation_prompt=True)
    real = len(llm.load().tokenize(rendered.encode(), add_bos=False, special=True))
    assert real <= llm.count_message_tokens(messages)


def test_a_question_longer_than_the_context_is_refused(llm, monkeypatch):
    monkeypatch.setattr(llm, "context_size", 300)
    with pytest.raises(PromptTooLong):
        fit_sources(llm, "When? " * 10, _sources(), max_tokens=200)


def test_a_chinese_question_is_asked_to_be_answered_in_chinese_after_the_fixed_prefix():
    sources = [Source(1, "员工手册", 3, "年假为每年 25 天。")]
    chinese = build_messages("年假有几天？", sources, mode=FOCUSED)
    english = build_messages("How many days of leave?", sources, mode=FOCUSED)
    assert chinese[-1]["content"].endswith("Question: 年假有几天？\n" + ANSWER_IN_CHINESE)
    assert ANSWER_IN_CHINESE not in english[-1]["content"]
    assert chinese[:-1] == english[:-1]  # the prefix llama.cpp keeps is untouched
    assert (
        ANSWER_IN_CHINESE
        not in build_messages("年假有几天？", sources, mode=CLASSIC)[-1]["content"]
    )
