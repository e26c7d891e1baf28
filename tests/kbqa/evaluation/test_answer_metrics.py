"""The answer metrics on hand-made cases whose right figures are known."""

from __future__ import annotations

import pytest

from kbqa.evaluation.answer_metrics import evaluate_answers, exact_match, f1, normalize, tokens


def test_normalisation_drops_case_punctuation_and_articles():
    assert normalize("The  Panthers' defense!") == "panthers defense"
    assert normalize("“深圳”，中国。") == "深圳 中国"


def test_exact_match_is_normalised():
    assert exact_match("The 308.", ["308"]) == 1.0
    assert exact_match("308 points", ["308"]) == 0.0
    assert exact_match("北京 大学", ["北京大学"]) == 1.0


def test_token_f1_english_words_and_chinese_characters():
    assert f1("Denver Broncos", ["the Denver Broncos"]) == 1.0
    assert f1("Denver", ["Denver Broncos"]) == pytest.approx(2 / 3)
    assert tokens("2022年北京") == ["2022", "年", "北", "京"]
    # 3 of 4 characters right in a 4-character answer: P = R = 3/4.
    assert f1("北京大雪", ["北京大学"]) == pytest.approx(0.75)
    assert f1("anything", ["北京"]) == 0.0


QUERIES = [
    {"question": "q1", "answers": ["308"], "answerable": True, "gold_ids": ["p1"]},
    {"question": "q2", "answers": ["Denver Broncos"], "answerable": True, "gold_ids": ["p2"]},
    {"question": "q3", "answers": [], "answerable": False, "gold_ids": []},
    {"question": "q4", "answers": [], "answerable": False, "gold_ids": []},
]

ANSWERS = {
    # right answer, one gold citation and one citation of a passage that holds the answer anyway
    "q1": {
        "answer": "308 [1][2].",
        "refused": False,
        "citations": [
            {"passage_id": "p1", "text": "They gave up 308 points."},
            {"passage_id": "p9", "text": "Another article: 308 points in total."},
        ],
    },
    # a false refusal of an answerable question
    "q2": {"answer": "Not found in the knowledge base.", "refused": True, "citations": []},
    # one unanswerable question refused, one answered with a wrong citation
    "q3": {"answer": "Not found.", "refused": True, "citations": []},
    "q4": {
        "answer": "Made up [1].",
        "refused": False,
        "citations": [{"passage_id": "p7", "text": "unrelated"}],
    },
}


def test_evaluate_answers_combines_the_metrics():
    asked: list[str] = []

    def answer_fn(question: str) -> dict:
        asked.append(question)
        return ANSWERS[question]

    result = evaluate_answers(QUERIES, answer_fn)
    assert asked == ["q1", "q2", "q3", "q4"]
    assert result["exact_match"] == 0.5  # q1 right (markers stripped), q2 refused
    assert result["f1"] == 0.5
    # Only citations of answerable questions have gold to be judged by: both of q1's are right.
    assert result["citation_precision"] == 1.0
    assert result["refusal_rate"] == 0.5
    assert result["false_refusal_rate"] == 0.5
    assert result["p50_s"] >= 0


def test_wrong_citations_and_file_sets():
    queries = [
        {
            "question": "q",
            "answers": ["42"],
            "answerable": True,
            "gold_pages": [{"file": "report.pdf", "page": 7}],
        }
    ]
    citations = [
        {"file": "report.pdf", "page": 7, "text": "Revenue rose."},  # gold page
        {"file": "report.pdf", "page": 8, "text": "Costs fell."},  # wrong page, no answer
    ]

    def answer_fn(question: str) -> dict:
        return {"answer": "It is 42 [1].", "refused": False, "citations": citations}

    result = evaluate_answers(queries, answer_fn, citation_keys=lambda c: [(c["file"], c["page"])])
    assert result["citation_precision"] == 0.5
    assert result["f1"] == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))  # "it is 42" vs "42"
    assert result["refusal_rate"] is None  # no unanswerable question in the set
