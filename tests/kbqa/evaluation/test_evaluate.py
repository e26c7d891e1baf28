"""`manage.py evaluate` on small sets the tests write (passages and PDF files), with and without
`--answers`, and a short run on one shared set in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import SHARED
from tests.fixtures.pdf import HANDBOOK_PAGES, make_pdf

METRICS = {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "p50_ms", "p95_ms"}

PASSAGES = [
    {
        "id": "p1",
        "title": "Cafeteria",
        "text": "The Zorblax cafeteria opens at 7:45 in the morning.",
    },
    {"id": "p2", "title": "Expenses", "text": "Expense reports must be submitted within 30 days."},
    {
        "id": "p3",
        "title": "Parking",
        "text": "Staff parking is behind building C; bikes go in the shed.",
    },
    {"id": "p4", "title": "", "text": "员工食堂每天早上七点四十五分开门，周末不开放。"},
    {"id": "p5", "title": "", "text": "出差报销单必须在出差结束后三十天内提交给财务部。"},
]
QUERIES = [
    {
        "id": "q1",
        "question": "When does the Zorblax cafeteria open?",
        "gold_ids": ["p1"],
        "answers": ["7:45"],
    },
    {
        "id": "q2",
        "question": "How long do I have to hand in an expense report?",
        "gold_ids": ["p2"],
    },
    {"id": "q3", "question": "食堂几点开门？", "gold_ids": ["p4"]},
    {"id": "q4", "question": "出差报销单什么时候提交？", "gold_ids": ["p5"]},
    {"id": "q5", "question": "Who is the CEO?", "gold_ids": [], "answerable": False},
]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


@pytest.fixture
def passage_set(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-passages"
    folder.mkdir()
    (folder / "dataset.json").write_text(json.dumps({"name": "tiny-passages", "lang": "en+zh"}))
    write_jsonl(folder / "corpus.jsonl", PASSAGES)
    write_jsonl(folder / "queries.jsonl", QUERIES)
    return folder


@pytest.fixture
def file_set(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-files"
    (folder / "files").mkdir(parents=True)
    (folder / "dataset.json").write_text(json.dumps({"name": "tiny-files", "kind": "files"}))
    make_pdf(folder / "files" / "handbook.pdf", HANDBOOK_PAGES)
    write_jsonl(
        folder / "queries.jsonl",
        [
            {
                "id": "f1",
                "question": "When does the Zorblax cafeteria open?",
                "gold_pages": [{"file": "handbook.pdf", "page": 2}],
            },
            {
                "id": "f2",
                "question": "Deadline for expense reports after a trip?",
                "gold_pages": [{"file": "handbook.pdf", "page": 3}],
            },
        ],
    )
    return folder


def evaluate_json(*args: str, capsys) -> dict:
    call_command("evaluate", *args, "--json")
    return json.loads(capsys.readouterr().out)


def test_passage_set_reports_every_retriever_in_the_documented_shape(passage_set, capsys, db):
    result = evaluate_json("--dataset", str(passage_set), capsys=capsys)
    assert set(result) == {"dataset", "retrievers"}
    assert result["dataset"] == "tiny-passages"
    assert set(result["retrievers"]) == {"dense", "bm25", "hybrid"}
    for name, row in result["retrievers"].items():
        assert set(row) == METRICS, name
        assert 0.0 <= row["recall@1"] <= row["recall@5"] <= row["recall@10"] <= 1.0
        assert 0.0 < row["p50_ms"] <= row["p95_ms"]
    # Four easy questions with one gold passage each (the unanswerable one is not scored).
    assert result["retrievers"]["hybrid"]["recall@1"] == 1.0
    assert result["retrievers"]["hybrid"]["mrr@10"] == 1.0


def test_limit_and_file_sets_through_the_real_parser(file_set, capsys, db):
    result = evaluate_json("--dataset", str(file_set), "--limit", "1", capsys=capsys)
    assert result["dataset"] == "tiny-files"
    assert result["retrievers"]["hybrid"]["recall@1"] == 1.0
    assert result["retrievers"]["bm25"]["recall@1"] == 1.0


def test_table_output_and_bad_input(passage_set, tmp_path: Path, capsys, db):
    call_command("evaluate", "--dataset", str(passage_set))
    out = capsys.readouterr().out
    assert "recall@1" in out and "hybrid" in out
    with pytest.raises(CommandError, match="not an evaluation set"):
        call_command("evaluate", "--dataset", str(tmp_path / "nowhere"))
    with pytest.raises(CommandError, match="--limit"):
        call_command("evaluate", "--dataset", str(passage_set), "--limit", "0")


def test_short_run_on_a_shared_set(capsys, db):
    dataset = SHARED / "eval" / "xquad-zh2en"
    if not dataset.is_dir():
        pytest.skip(f"{dataset} is absent: shared evaluation sets run where ../shared exists (CI)")
    # Chinese questions over English passages, with the fast cross-lingual USE embedder so the
    # 120 passages embed in seconds; the weighted fusion must keep BM25 from drowning dense hits.
    result = evaluate_json(
        "--dataset",
        str(dataset),
        "--limit",
        "30",
        "--embedder",
        "retrieval.embedders.use.USEEmbedder",
        capsys=capsys,
    )
    retrievers = result["retrievers"]
    assert retrievers["bm25"]["recall@10"] < 0.5  # no shared words: lexical alone fails
    assert retrievers["hybrid"]["recall@10"] >= 0.8
    assert retrievers["hybrid"]["mrr@10"] >= retrievers["bm25"]["mrr@10"]


def test_answers_are_generated_and_scored_over_the_throwaway_index(passage_set, capsys, db):
    # One answerable question and one the corpus cannot answer, through the real bundled model,
    # in both answer modes (the classic one stays selectable to compare).
    write_jsonl(passage_set / "queries.jsonl", [QUERIES[0], QUERIES[4]])
    result = evaluate_json(
        "--dataset", str(passage_set), "--answers", "--answer-modes", "classic,focused",
        capsys=capsys,
    )  # fmt: skip
    assert set(result["answers"]) == {"classic", "focused"}
    for answers in result["answers"].values():
        assert set(answers) == {
            "exact_match",
            "f1",
            "citation_precision",
            "refusal_rate",
            "false_refusal_rate",
            "supported_share",
            "p50_s",
        }
        assert answers["false_refusal_rate"] == 0.0  # the cafeteria question was answered...
        assert answers["citation_precision"] == 1.0  # ...citing the cafeteria passage only
        assert answers["f1"] > 0.0  # "7:45" is in the answer, among other words
        assert answers["refusal_rate"] == 1.0  # and the CEO question was refused
        assert 0.0 < answers["supported_share"] <= 1.0
        assert answers["p50_s"] > 0.0


def test_an_unknown_answer_mode_is_refused(passage_set, capsys, db):
    with pytest.raises(CommandError, match="answer-modes"):
        call_command("evaluate", "--dataset", str(passage_set), "--answers", "--answer-modes", "x")


def test_the_throwaway_index_uses_the_postgres_back_end_and_is_dropped(
    passage_set, postgres_index, capsys
):
    """With KBQA_INDEX_BACKEND=postgres the evaluation indexes into a throw-away namespace of
    tables, drops them afterwards, and never touches the app's own index."""
    from django.db import connection

    def eval_tables() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'kbqa_eval_%%'")
            return [row[0] for row in cursor.fetchall()]

    from kbqa.evaluation.datasets import load_dataset
    from kbqa.evaluation.runner import throwaway_retriever
    from retrieval.index.pgvector_store import PgVectorStore

    before = eval_tables()
    with throwaway_retriever(load_dataset(passage_set)) as retriever:
        assert isinstance(retriever.vectors, PgVectorStore)
        assert retriever.vectors.namespace != postgres_index.namespace
        assert retriever.vectors.count() == retriever.lexical.count() == len(PASSAGES)
        assert set(eval_tables()) - set(before)
    assert eval_tables() == before
    result = evaluate_json("--dataset", str(passage_set), capsys=capsys)
    assert result["retrievers"]["hybrid"]["mrr@10"] == 1.0
    assert result["retrievers"]["dense"]["recall@5"] == 1.0
    assert eval_tables() == before
    assert postgres_index.count() == 0
