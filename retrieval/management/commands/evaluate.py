"""`manage.py evaluate --dataset PATH [--json] [--limit N]`: retrieval quality and latency on an
evaluation set, for dense, BM25 and hybrid retrieval, in a throw-away index."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from retrieval.evaluation.datasets import DatasetError
from retrieval.evaluation.runner import evaluate_dataset

METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "p50_ms", "p95_ms")


class Command(BaseCommand):
    help = "Evaluate dense, BM25 and hybrid retrieval on a dataset (../shared/eval format)."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, type=Path, help="evaluation set folder")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--limit", type=int, help="evaluate only the first N questions")
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
        dataset, limit = options["dataset"], options["limit"]
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
            result = evaluate_dataset(
                dataset,
                limit=limit,
                embedder=embedder,
                cache_dir=options["embedding_cache"],
                progress=progress,
            )
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"dataset: {result['dataset']}")
        self.stdout.write(f"{'retriever':<10}" + "".join(f"{m:>11}" for m in METRICS))
        for name, row in result["retrievers"].items():
            self.stdout.write(f"{name:<10}" + "".join(f"{row[m]:>11.3f}" for m in METRICS))
