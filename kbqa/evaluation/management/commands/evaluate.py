"""`manage.py evaluate --dataset PATH [--json] [--limit N] [--answers [--answer-modes M,...]]`:
retrieval quality and latency on an evaluation set, for dense, BM25 and hybrid retrieval, in a
throw-away index; with `--answers`, also the answers the real pipeline gives over that index, in
each answer mode asked for (`--answer-modes classic,focused` compares them in one run).

"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from kbqa.evaluation.datasets import DatasetError, load_dataset
from kbqa.evaluation.runner import evaluate_dataset_answers, evaluate_retrieval, throwaway_retriever
from llm.prompts import ANSWER_MODES

METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "p50_ms", "p95_ms")
ANSWER_METRICS = (
    "exact_match",
    "f1",
    "citation_precision",
    "refusal_rate",
    "false_refusal_rate",
    "supported_share",
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
            "--answer-modes",
            default="",
            help="with --answers: comma-separated answer modes to run one after the other "
            "(focused, classic; default: KBQA_ANSWER_MODE)",
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
        modes = [m.strip() for m in options["answer_modes"].split(",") if m.strip()] or [
            settings.KBQA_ANSWER_MODE
        ]
        if unknown := set(modes) - set(ANSWER_MODES):
            raise CommandError(f"--answer-modes: unknown {sorted(unknown)}; use {ANSWER_MODES}")
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
                by_mode = {}
                for mode in modes:
                    by_mode[mode] = evaluate_dataset_answers(
                        dataset, retriever, progress=progress, mode=mode
                    )
                    top_scores = by_mode[mode].pop("top_scores")
                # One mode: as before; several: one object per mode.
                result["answers"] = by_mode[modes[0]] if len(modes) == 1 else by_mode
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"dataset: {result['dataset']}")
        self.stdout.write(f"{'retriever':<10}" + "".join(f"{m:>11}" for m in METRICS))
        for name, row in result["retrievers"].items():
            self.stdout.write(f"{name:<10}" + "".join(f"{row[m]:>11.3f}" for m in METRICS))
        if options["answers"]:
            for mode in modes:
                figures = ", ".join(_figure(m, by_mode[mode][m]) for m in ANSWER_METRICS)
                self.stdout.write(f"answers ({mode}): {figures}")
            for kind, spread in top_scores.items():
                self.stdout.write(
                    f"best passage's dense score, {kind}: min {spread['min']:.3f} "
                    f"p50 {spread['p50']:.3f} max {spread['max']:.3f}"
                )


def _figure(name: str, value: float | None) -> str:
    return f"{name} {'n/a' if value is None else f'{value:.3f}'}"
