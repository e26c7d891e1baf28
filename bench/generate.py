"""Generation speed through our LLM back end versus raw llama_cpp, and where time to first token
goes.

In one run, on the same loaded model and the same prompt, alternating to share the machine's noise:
- decode tokens/s of `LlamaCppBackend.stream` vs `Llama.create_chat_completion(stream=True)`
  called directly (goal: ours >= 0.95 x raw);
- time to first token of a real question, split into retrieval, prompt evaluation (llama.cpp's own
  counter, with the prompt cache cleared) and the first token itself;
- with `--prompt-lookup N`: a question's answer with prompt-lookup decoding (N draft tokens a step,
  `KBQA_LLM_PROMPT_LOOKUP`) against without, on two instances of the model, alternating: time to
  first token and decode tokens/s (the answers must be the same: decoding is greedy).

    .venv/bin/python bench/generate.py [--runs 3] [--max-tokens 128] [--prompt-lookup 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _django import setup_throwaway_django

QUESTION = "When does the Zorblax cafeteria open?"
LONG_ANSWER = [
    {"role": "system", "content": "You are a helpful assistant."},
    {
        "role": "user",
        "content": "Write a detailed guide, of at least 300 words, to running a staff cafeteria.",
    },
]


def _decode_rate(pieces) -> tuple[float, int]:
    """Tokens/s from the first token to the last (prompt evaluation excluded), and token count."""
    first = last = None
    count = 0
    for _ in pieces:
        now = time.perf_counter()
        first = first or now
        last = now
        count += 1
    return (count - 1) / (last - first), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--prompt-lookup", type=int, default=0, help="compare N drafts a step")
    args = parser.parse_args()

    data_dir = setup_throwaway_django("kbqa-bench-generate-")
    import llama_cpp
    from django.core.files import File

    from ingestion.services.ingest import document_ingest
    from ingestion.services.uploads import document_create
    from llm.backends import get_llm
    from llm.pipeline import retrieve_readable
    from llm.prompts import Source, build_messages, fit_sources
    from tests.fixtures.pdf import HANDBOOK_PAGES, make_pdf

    pdf = make_pdf(data_dir / "handbook.pdf", HANDBOOK_PAGES)
    with pdf.open("rb") as handle:
        document = document_create(file=File(handle, name=pdf.name), enqueue=False)
    document_ingest(document_id=document.pk)

    backend = get_llm()
    llama = backend.load()
    print(f"model {backend.name}, n_ctx {backend.n_ctx}, threads {backend.n_threads}")

    # --- throughput: ours vs raw, alternating -------------------------------------------------
    ours, raw = [], []
    for _ in range(args.runs):
        rate, n_ours = _decode_rate(backend.stream(LONG_ANSWER, max_tokens=args.max_tokens))
        ours.append(rate)
        chunks = llama.create_chat_completion(
            messages=LONG_ANSWER,
            max_tokens=args.max_tokens,
            temperature=0.0,
            top_k=1,
            repeat_penalty=1.0,
            stream=True,
        )
        rate, n_raw = _decode_rate(c for c in chunks if c["choices"][0]["delta"].get("content"))
        raw.append(rate)
    ours_rate, raw_rate = statistics.median(ours), statistics.median(raw)
    print(f"decode tokens/s (median of {args.runs}, {n_ours} vs {n_raw} tokens):")
    print(f"  our back end {ours_rate:6.1f}   raw llama_cpp {raw_rate:6.1f}   "
          f"ratio {ours_rate / raw_rate:.3f} (goal >= 0.95)")  # fmt: skip

    # --- time to first token of a real question -----------------------------------------------
    splits = []
    for _ in range(args.runs):
        started = time.perf_counter()
        candidates = retrieve_readable(QUESTION, 4, user=None)
        retrieval = time.perf_counter() - started
        sources = fit_sources(
            backend,
            QUESTION,
            [Source(n, p.title, p.page, p.text, p.section) for n, p in enumerate(candidates, 1)],
            max_tokens=backend.max_tokens,
        )
        messages = build_messages(QUESTION, sources)
        llama.reset()  # no prompt cache: measure a cold prompt evaluation
        llama_cpp.llama_perf_context_reset(llama.ctx)
        mark = time.perf_counter()
        stream = backend.stream(messages)
        next(stream)
        first = time.perf_counter() - mark
        perf = llama_cpp.llama_perf_context(llama.ctx)
        stream.close()
        prompt_eval = perf.t_p_eval_ms / 1000
        splits.append((retrieval, prompt_eval, first - prompt_eval, perf.n_p_eval))
    retrieval, prompt_eval, first_token, n_prompt = (
        statistics.median(x) for x in zip(*splits, strict=True)
    )
    total = retrieval + prompt_eval + first_token
    print(f"time to first token (median of {args.runs}): {total:.2f} s = retrieval "
          f"{retrieval:.3f} s + prompt evaluation {prompt_eval:.2f} s ({n_prompt:.0f} tokens, "
          f"{n_prompt / prompt_eval:.0f} tok/s) + first token {first_token:.3f} s")  # fmt: skip

    if args.prompt_lookup:
        _compare_prompt_lookup(backend, messages, args)


def _compare_prompt_lookup(plain, messages, args) -> None:
    """Prompt-lookup decoding against plain decoding on the same RAG prompt, alternating."""
    from llm.backends.llama_cpp import LlamaCppBackend

    options = {
        "model_path": plain.model_path,
        "n_ctx": plain.n_ctx,
        "n_threads": plain.n_threads,
        "max_tokens": args.max_tokens,
        "prefix_cache": 0,
    }
    backends = {
        "plain": LlamaCppBackend(**options),
        f"lookup {args.prompt_lookup}": LlamaCppBackend(
            **options, prompt_lookup=args.prompt_lookup
        ),
    }
    figures: dict[str, list[tuple[float, float, str]]] = {name: [] for name in backends}
    for _ in range(args.runs):
        for name, backend in backends.items():
            backend.load().reset()  # read the whole prompt each time, both alike
            mark = time.perf_counter()
            pieces = []
            first = None
            for piece in backend.stream(messages, max_tokens=args.max_tokens):
                first = first or time.perf_counter()
                pieces.append(piece)
            ended = time.perf_counter()
            tokens = backend.count_tokens("".join(pieces))
            rate = (tokens - 1) / (ended - first) if first and ended > first else 0.0
            figures[name].append((first - mark if first else 0.0, rate, "".join(pieces)))
    print(f"prompt lookup (median of {args.runs}, same prompt, the model reading it whole):")
    for name, rows in figures.items():
        ttft = statistics.median(r[0] for r in rows)
        rate = statistics.median(r[1] for r in rows)
        print(f"  {name:10s} time to first token {ttft:6.2f} s   decode {rate:6.1f} tokens/s")
    answers = {rows[0][2] for rows in figures.values()}
    print(f"  same answer: {len(answers) == 1}")


if __name__ == "__main__":
    main()
