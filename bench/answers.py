"""Answer speed and citations, today's ("classic") path against the new ("focused") one, in one run.

30 fixed questions with their gold pages: 15 in English over the FHS 3.0 (`fhs-3.0.pdf`), 15 in
Chinese over the Debian New Maintainers' Guide (`maint-guide.zh-cn.pdf`), both from
`../shared/docs/`. Both documents are ingested into a throw-away data directory with the configured
embedder; each path gets its own instance of the configured model (the same GGUF), so neither
disturbs the other's llama.cpp context, and the two paths alternate question by question (which
goes first alternates too) to share the machine's noise.

- classic: whole chunks, the earlier prompt, no prefix states kept (llama-cpp-python still reuses
  the prefix it shares with the question before, as it always did), no warm-up;
- focused: the sentences that bear on the question (KBQA_SOURCE_TOKENS, KBQA_PASSAGE_TOKENS), the
  short-answer prompt, prefix states, warmed up before the first question.

Per path: prompt tokens (what the prompt holds), evaluated tokens (what llama.cpp actually read:
the rest came from a kept state), time to the first model token (from the question, retrieval
included), total time, as p50 and p95, and the focused/classic ratio of each; then citation
precision (cited pages that are a gold page), refusals and answer length.

    .venv/bin/python bench/answers.py [--limit N] [--model bundled:1.5b] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _django import REPO, setup_throwaway_django

DOCS = REPO.parent / "shared" / "docs"
EN = "en/fhs-3.0.pdf"
ZH = "zh/maint-guide.zh-cn.pdf"

# (document, question, gold pages): written from the documents, answerable from those pages.
QUESTIONS: list[tuple[str, str, set[int]]] = [
    (EN, "Where must PID files be placed?", {21}),
    (ZH, "Debian 打包过程中采用的补丁管理工具是什么？", {19}),
    (EN, "What must a PID file contain?", {22}),
    (ZH, "compat 文件定义了什么？", {36}),
    (EN, "Can a program assume that files in /tmp are preserved between its invocations?", {24}),
    (ZH, "上游版本号只能包含哪些字符？", {17}),
    (EN, "How is /var/tmp different from /tmp?", {45}),
    (ZH, "rules 文件应使用哪个程序处理？", {29, 30}),
    (EN, "What is /opt reserved for?", {20}),
    (ZH, "Architecture: all 适用于什么样的二进制包？", {25}),
    (EN, "What is the /usr/local hierarchy for?", {28}),
    (ZH, "pbuilder 新构建的软件包被放在哪个目录？", {47}),
    (EN, "What does the /srv directory contain?", {23}),
    (ZH, "如何比较两个 Debian 源代码包的内容？", {52}),
    (EN, "Where are removable media such as CD-ROMs mounted?", {19}),
    (ZH, "第一次向仓库上传软件包时要包含哪个文件？", {58}),
    (EN, "What is the /mnt directory provided for?", {19}),
    (ZH, "dirs 文件指定了什么？", {37}),
    (EN, "What form must the mail spool files in /var/mail take?", {43}),
    (ZH, "如果不确定软件应该归入仓库的哪一个区，应该怎么做？", {14}),
    (EN, "Where is the FHS mailing list located?", {49}),
    (ZH, "如何在构建软件包时跳过上游的测试？", {34}),
    (EN, "What does the /boot directory contain?", {14}),
    (ZH, "Debian 软件包是否应当包含 .la Libtool 归档文件？", {60}),
    (EN, "When are the commands in /bin required?", {12}),
    (ZH, "package.default 文件会被安装到哪里？", {38}),
    (EN, "Where must the variable data of packages in /opt be installed?", {43}),
    (ZH, "目前应当把 debhelper 的兼容级别设置为多少？", {36}),
    (EN, "What is the proc filesystem used for on Linux?", {47}),
    (ZH, "上游版本号必须以什么开头？", {17}),
]


@dataclass
class Run:
    prompt_tokens: list[int] = field(default_factory=list)
    evaluated_tokens: list[int] = field(default_factory=list)
    ttft: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    citations_right: list[float] = field(default_factory=list)
    refused: int = 0
    sentences: list[int] = field(default_factory=list)
    answers: list[dict] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=len(QUESTIONS), help="first N questions")
    parser.add_argument("--model", default="", help="KBQA_LLM_MODEL_PATH (default: as set)")
    parser.add_argument("--json", type=Path, help="write every answer's figures here")
    args = parser.parse_args()
    if args.model:
        os.environ["KBQA_LLM_MODEL_PATH"] = args.model
    # A loaded machine must not turn a slow answer into a failure: the figures are the times.
    os.environ.setdefault("KBQA_LLM_TIMEOUT", "7200")

    data_dir = setup_throwaway_django("kbqa-bench-answers-")
    import llama_cpp
    from django.conf import settings
    from django.core.files import File

    from ingestion.services.ingest import document_ingest
    from ingestion.services.uploads import document_create
    from llm.backends.llama_cpp import LlamaCppBackend
    from llm.events import Run as EventRun
    from llm.events import TextAdded
    from llm.pipeline import AnswerPipeline, retrieve_readable
    from llm.prompts import CLASSIC, FOCUSED, build_messages, build_rewrite_messages

    started = time.perf_counter()
    documents = {}
    for name in (EN, ZH):
        with (DOCS / name).open("rb") as handle:
            document = document_create(file=File(handle, name=Path(name).name), enqueue=False)
        documents[name] = document_ingest(document_id=document.pk).pk
    print(f"ingested {len(documents)} documents in {time.perf_counter() - started:.0f} s")

    options = settings.KBQA_LLM["OPTIONS"]
    backends = {
        CLASSIC: LlamaCppBackend(**{**options, "prefix_cache": 0}),
        FOCUSED: LlamaCppBackend(**options),
    }
    for backend in backends.values():
        backend.load()
    backends[FOCUSED].warm([build_messages("?", [], mode=FOCUSED), build_rewrite_messages([], "?")])
    first = backends[FOCUSED]
    print(
        f"model {first.name}, n_ctx {first.n_ctx}, threads {first.n_threads}, "
        f"source budget {settings.KBQA_SOURCE_TOKENS} (passage {settings.KBQA_PASSAGE_TOKENS}), "
        f"prompt lookup {first.prompt_lookup}"
    )

    runs = {CLASSIC: Run(), FOCUSED: Run()}
    questions = QUESTIONS[: args.limit]
    for index, (doc, question, gold) in enumerate(questions):
        order = (CLASSIC, FOCUSED) if index % 2 == 0 else (FOCUSED, CLASSIC)
        for mode in order:
            backend = backends[mode]
            llama = backend.load()
            llama_cpp.llama_perf_context_reset(llama.ctx)
            pipeline = AnswerPipeline(
                question,
                history=[],
                top_k=settings.KBQA_TOP_K,
                retrieve=lambda q, k: retrieve_readable(q, k, user=None),
                llm=backend,
                mode=mode,
            )
            mark = time.perf_counter()
            shown_at = None
            run = EventRun(pipeline.run())
            for event in run:
                if isinstance(event, TextAdded) and shown_at is None:
                    shown_at = time.perf_counter() - mark
            answer = run.result
            evaluated = llama_cpp.llama_perf_context(llama.ctx).n_p_eval
            figures = runs[mode]
            figures.prompt_tokens.append(answer.usage.prompt_tokens)
            figures.evaluated_tokens.append(evaluated)
            figures.ttft.append(answer.timings.total_s - answer.timings.generate_s)
            figures.total.append(answer.timings.total_s)
            figures.refused += answer.refused
            cited = [(c.document_id, c.page) for c in answer.citations]
            for document_id, page in cited:
                figures.citations_right.append(
                    float(document_id == documents[doc] and page in gold)
                )
            if not answer.refused:
                figures.sentences.append(len(answer.sentences))
            figures.answers.append(
                {
                    "question": question,
                    "mode": mode,
                    "answer": answer.answer,
                    "refused": answer.refused,
                    "cited_pages": [p for _, p in cited],
                    "gold_pages": sorted(gold),
                    "prompt_tokens": answer.usage.prompt_tokens,
                    "evaluated_tokens": evaluated,
                    "ttft_s": round(answer.timings.total_s - answer.timings.generate_s, 3),
                    "first_text_s": round(shown_at, 3) if shown_at else None,
                    "total_s": round(answer.timings.total_s, 3),
                }
            )
            print(
                f"{index + 1:2d} {mode:8s} prompt {answer.usage.prompt_tokens:5d} "
                f"read {evaluated:5d} ttft {figures.ttft[-1]:6.2f}s total "
                f"{answer.timings.total_s:6.2f}s cited {[p for _, p in cited]} gold {sorted(gold)}"
                f"{' REFUSED' if answer.refused else ''}",
                flush=True,
            )

    print(f"\n{len(questions)} questions, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs")
    print(f"{'':26s}{'classic p50':>12s}{'p95':>9s}{'focused p50':>13s}{'p95':>9s}"
          f"{'ratio p50':>11s}{'ratio p95':>11s}")  # fmt: skip
    for label, attr, unit in (
        ("prompt tokens", "prompt_tokens", ""),
        ("evaluated prompt tokens", "evaluated_tokens", ""),
        ("time to first token", "ttft", "s"),
        ("total time", "total", "s"),
    ):
        old, new = getattr(runs[CLASSIC], attr), getattr(runs[FOCUSED], attr)
        a, b = percentile(old, 0.5), percentile(old, 0.95)
        c, d = percentile(new, 0.5), percentile(new, 0.95)
        digits = 2 if unit else 0
        print(
            f"{label:26s}{a:>12.{digits}f}{b:>9.{digits}f}{c:>13.{digits}f}{d:>9.{digits}f}"
            f"{c / a if a else float('nan'):>11.2f}{d / b if b else float('nan'):>11.2f}"
        )
    for mode in (CLASSIC, FOCUSED):
        figures = runs[mode]
        precision = (
            statistics.mean(figures.citations_right) if figures.citations_right else float("nan")
        )
        sentences = statistics.mean(figures.sentences) if figures.sentences else float("nan")
        print(
            f"{mode}: citation precision {precision:.2f} ({len(figures.citations_right)} "
            f"citations), refused {figures.refused}/{len(questions)}, "
            f"{sentences:.1f} sentences an answer"
        )
    if args.json:
        args.json.write_text(
            json.dumps([a for r in runs.values() for a in r.answers], ensure_ascii=False, indent=1)
        )
    print(f"(data in {data_dir})")


if __name__ == "__main__":
    main()
