"""Reading less: the sentences of each passage that bear on the question, their neighbours, within a
budget; and the sentences an answer used, for the source viewer."""

from __future__ import annotations

from llm.focus import GAP, focus_passages, quote_of, used_spans


def words(text: str) -> int:
    return len(text.split())


CAFETERIA = (
    "Office hours and facilities. The building opens at 7:00. "
    "The Zorblax cafeteria on the third floor opens at 7:45 in the morning. "
    "It closes at 3 in the afternoon on weekdays. Visitors must sign in at the reception desk. "
    "Parking permits are issued by facilities. Bicycles go in the basement."
)
TRAVEL = (
    "Employees who travel for work are reimbursed for economy class train tickets. "
    "Expense reports must be submitted within 30 days of the trip."
)


def test_the_sentence_with_the_question_terms_and_its_neighbours_are_read():
    (cafeteria, travel) = focus_passages(
        "When does the Zorblax cafeteria open?",
        [CAFETERIA, TRAVEL],
        count_tokens=words,
        budget=200,
        per_passage=100,
    )
    assert travel is None  # nothing in it bears on the question
    assert cafeteria is not None
    assert "Zorblax cafeteria on the third floor opens at 7:45" in cafeteria.text
    assert "The building opens at 7:00." in cafeteria.text  # the neighbour before
    assert "It closes at 3" in cafeteria.text  # and after
    assert "Bicycles" not in cafeteria.text and "Parking" not in cafeteria.text
    # The spans are the kept sentences, in the passage: the viewer can mark them.
    assert [CAFETERIA[a:b] for a, b in cafeteria.spans] == [
        "The building opens at 7:00.",
        "The Zorblax cafeteria on the third floor opens at 7:45 in the morning.",
        "It closes at 3 in the afternoon on weekdays.",
    ]
    assert cafeteria.text == quote_of(CAFETERIA, cafeteria.spans)
    assert words(cafeteria.text) < words(CAFETERIA)


def test_runs_apart_are_joined_by_a_gap_and_the_budget_holds():
    text = " ".join(f"Sentence {i} is filler text here." for i in range(10))
    text += " The badge office is in room 12. " + " ".join(
        f"More filler {i} sits here." for i in range(10)
    )
    text += " Lost badges go to the badge office."
    (focus,) = focus_passages(
        "Where is the badge office?", [text], count_tokens=words, budget=40, per_passage=40
    )
    assert focus is not None
    assert GAP in focus.text
    assert "room 12" in focus.text and "Lost badges" in focus.text
    assert sum(words(text[a:b]) for a, b in focus.spans) <= 40


def test_a_sentence_read_in_an_earlier_overlapping_chunk_is_not_read_again():
    first = "The gym opens at 6 am on weekdays. It has a pool."
    second = "It has a pool. The gym opens at 6 am on weekdays. Towels cost 2 euros."
    focus = focus_passages(
        "When does the gym open?", [first, second], count_tokens=words, budget=100, per_passage=50
    )
    assert focus[0] is not None and "6 am" in focus[0].text
    assert focus[1] is None or "6 am" not in focus[1].text


def test_chinese_sentences_are_scored_by_character_bigrams():
    text = (
        "员工每年有二十五天年假。出差需要经理批准。食堂早上七点四十五分开门。停车证由行政部发放。"
    )
    (focus,) = focus_passages(
        "食堂几点开门？", [text], count_tokens=len, budget=100, per_passage=30
    )
    assert focus is not None
    assert "食堂早上七点四十五分开门。" in focus.text
    assert "员工每年有二十五天年假" not in focus.text  # two sentences away


def test_with_no_word_of_the_question_anywhere_the_leads_of_the_first_passages_are_read():
    passages = ["Alpha beta gamma. Delta epsilon.", "Zeta eta. Theta iota.", "Kappa lambda."]
    focus = focus_passages("Quelle heure?", passages, count_tokens=words, budget=100, per_passage=2)
    assert [f.text if f else None for f in focus] == ["Alpha beta gamma.", "Zeta eta.", None]


def test_the_sentences_an_answer_used_are_those_that_support_it():
    spans = used_spans(CAFETERIA, [], ["The Zorblax cafeteria opens at 7:45 in the morning."])
    assert [CAFETERIA[a:b] for a, b in spans] == [
        "The Zorblax cafeteria on the third floor opens at 7:45 in the morning."
    ]
    # Among what the model read only; everything read when no claim shares a word with it.
    read = [(0, 28), (29, 56)]
    assert used_spans(CAFETERIA, read, ["Nothing in common."]) == tuple(read)


def test_the_whole_budget_holds_across_passages_even_with_long_sentences():
    long = "The badge rule: " + " ".join(["badges"] * 60) + "."
    passages = [long, long.replace("rule", "policy"), "Badges are blue. Badges are green."]
    focus = focus_passages(
        "What is the badge rule?", passages, count_tokens=words, budget=80, per_passage=30
    )
    assert focus[0] is not None  # the first passage's best sentence, although longer than 30
    read = sum(words(f.text) for f in focus if f is not None)
    assert read <= 80
