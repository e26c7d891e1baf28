"""`manage.py evaluate --dataset PATH [--json] [--limit N] [--answers]`: retrieval quality and
latency on an evaluation set, for dense, BM25 and hybrid retrieval, in a throw-away index; with
`--answers`, also the answers the real pipeline gives over that index.

"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from kbqa.evaluation.datasets import DatasetError, load_dataset
from kbqa.evaluation.runner import evaluate_dataset_answers, evaluate_retrieval, throwaway_retriever

METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "p50_ms", "p95_ms")
ANSWER_METRICS = (
    "exact_match",
    "f1",
    "citation_precision",
    "refusal_rate",
    "false_refusal_rate",
    "p50_s",
)


class Command(BaseCommand):
    help = "Evaluate dense, BM25 and hybrid retrieval (and, with --answers, the answers) on a set."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, type=Path, help="evaluation set folder")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--limit", type=int, help="evaluate only the first N questions")
        parser.add_argument(
            "--answers",
            action="store_true",
            help="also generate an answer to every question and score the answers (slow: "
            "seconds per question with the bundled model)",
        )
        parser.add_argument(
            "--embedder",
            help="dotted path of an Embedder class to use instead of KBQA_EMBEDDER (to compare)",
        )
        parser.add_argument(
            "--embedding-cache",
            type=Path,
            help="directory caching passage embeddings between runs (questions are never cached)",
        )

    def handle(self, *args, **options):
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        embedder = None
        if options["embedder"]:
            try:
                embedder = import_string(options["embedder"])()
            except ImportError as exc:
                raise CommandError(f"--embedder {options['embedder']!r}: {exc}") from exc
        progress = None if options["json"] else (lambda msg: self.stderr.write(msg))
        try:
            dataset = load_dataset(options["dataset"], limit=limit)
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        with throwaway_retriever(
            dataset, embedder=embedder, cache_dir=options["embedding_cache"], progress=progress
        ) as retriever:
            result = {
                "dataset": dataset.name,
                "retrievers": evaluate_retrieval(dataset, retriever, progress=progress),
            }
            if options["answers"]:
                answers = evaluate_dataset_answers(dataset, retriever, progress=progress)
                top_scores = answers.pop("top_scores")
                result["answers"] = answers
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"dataset: {result['dataset']}")
        self.stdout.write(f"{'retriever':<10}" + "".join(f"{m:>11}" for m in METRICS))
        for name, row in result["retrievers"].items():
            self.stdout.write(f"{name:<10}" + "".join(f"{row[m]:>11.3f}" for m in METRICS))
        if options["answers"]:
            figures = ", ".join(_figure(m, answers[m]) for m in ANSWER_METRICS)
            self.stdout.write(f"answers: {figures}")
            for kind, spread in top_scores.items():
                self.stdout.write(
                    f"best passage's dense score, {kind}: min {spread['min']:.3f} "
                    f"p50 {spread['p50']:.3f} max {spread['max']:.3f}"
                )


def _figure(name: str, value: float | None) -> str:
    return f"{name} {'n/a' if value is None else f'{value:.3f}'}"
