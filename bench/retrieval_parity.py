"""Retrieval parity of the two index back ends (issue 18): dense, BM25 and hybrid MRR@10 and
recall@10 of every set in `../shared/eval`, indexed as `manage.py evaluate` indexes it, once on the
files back end (FAISS + bm25s) and once on the PostgreSQL one (pgvector HNSW + BM25 tables).

One process and one embedder for both: passages go through the evaluation's embedding cache and
each question is embedded once, shared by both back ends and the three modes, so a run costs about
what one `evaluate` does (embedding is nearly all of it on a CPU). Search times are therefore not
compared here. `--json FILE` keeps the figures. e5 embeds scifact-train's long abstracts at under
one a second on two cores (nearly two hours); `KBQA_EMBEDDER_MODEL=use` compares the back ends on
USE's vectors in minutes (docs/scale.md, "Retrieval parity").

    DATABASE_URL=$(python bin/pgvector-server start /tmp/pgv) \
        python bench/retrieval_parity.py --embedding-cache /tmp/emb [--sets xquad-en hotpotqa-100]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="*", help="set names (default: all of ../shared/eval)")
    parser.add_argument("--embedding-cache", type=Path, help="passage embeddings kept between runs")
    parser.add_argument("--limit", type=int, help="first N questions of each set (a quick look)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to a PostgreSQL server with pgvector (bin/pgvector-server)")
    names = args.sets or sorted(p.parent.name for p in EVAL.glob("*/dataset.json"))

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("KBQA_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kbqa.settings.local"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.conf import settings
    from django.test import override_settings

    from infra.backends import get_backend
    from kbqa.evaluation.datasets import load_dataset
    from kbqa.evaluation.runner import evaluate_retrieval, throwaway_retriever

    backends = settings.KBQA_INDEX_BACKENDS
    embedder = get_backend("KBQA_EMBEDDER")
    # Each question once for both back ends and all modes (the vectors are only read).
    embedder.embed_query = functools.lru_cache(maxsize=None)(embedder.embed_query)

    figures: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    print(
        "| set | retriever | MRR@10 files | MRR@10 postgres | difference | R@10 files "
        "| R@10 postgres |"
    )
    print("|---|---|---|---|---|---|---|", flush=True)
    for name in names:
        dataset = load_dataset(EVAL / name, limit=args.limit)
        by_backend = {}
        for backend, configs in backends.items():
            with (
                override_settings(**configs),
                throwaway_retriever(
                    dataset, embedder=embedder, cache_dir=args.embedding_cache
                ) as retriever,
            ):
                by_backend[backend] = evaluate_retrieval(dataset, retriever)
        figures[name] = by_backend
        embedder.embed_query.cache_clear()
        if not any(q.gold for q in dataset.queries):
            print(
                f"| {name} | – | no question has a gold passage (a refusal set): nothing to rank |"
            )
            continue
        for mode, files in by_backend["files"].items():
            postgres = by_backend["postgres"][mode]
            print(
                f"| {name} | {mode} | {files['mrr@10']:.4f} | {postgres['mrr@10']:.4f} "
                f"| {postgres['mrr@10'] - files['mrr@10']:+.4f} | {files['recall@10']:.4f} "
                f"| {postgres['recall@10']:.4f} |",
                flush=True,
            )
    worst = max(
        (
            abs(b["postgres"][mode]["mrr@10"] - b["files"][mode]["mrr@10"])
            for b in figures.values()
            for mode in b["files"]
        ),
        default=0.0,
    )
    print(f"\nlargest MRR@10 difference: {worst:.4f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
