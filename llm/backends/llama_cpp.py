"""In-process llama.cpp back end on a local GGUF file.

Speed on a CPU: the fixed prefix of each prompt is evaluated once per process and its state kept
(`prefix_cache`), `warm` loads the model and prepares those prefixes before the first question,
and prompt-lookup decoding (`prompt_lookup`, off by default: see docs/speed.md) is one setting
away.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from llm.backends.base import LLMBackend, LLMTimeout, LLMUnavailable, Message
from llm.backends.prefix_cache import PrefixStates, common_length
from llm.bundled import BUNDLED, bundled_gguf_path, bundled_model
from llm.queue import FairQueue, Turn

logger = logging.getLogger(__name__)


class LlamaCppBackend(LLMBackend):
    """One model per process, loaded on first use.

    A llama.cpp context is not thread-safe and llama-cpp-python cannot batch or interleave two
    sequences on one, so requests take turns, first come first served (`llm.queue`): a concurrent
    caller waits (up to `queue_timeout` seconds, then gets LLMTimeout) instead of crashing the
    model. A stream holds its turn until it is exhausted or closed, so an abandoned stream frees
    the model as soon as its generator is closed.

    `prefix_cache`: how many prompt prefixes' states to keep (0: none, as before). `prompt_lookup`:
    draft tokens per step for prompt-lookup decoding (0: off).
    """

    def __init__(
        self,
        model_path: str = "bundled",
        n_ctx: int = 4096,
        n_threads: int = 2,
        max_tokens: int = 384,
        queue_timeout: float = 300.0,
        timeout: float = 300.0,
        prefix_cache: int = 4,
        prompt_lookup: int = 0,
    ) -> None:
        self.model_path = model_path
        self.n_ctx = n_ctx  # what the model is loaded with
        self.context_size = n_ctx  # what prompts are budgeted for
        self.n_threads = n_threads
        self.max_tokens = max_tokens
        self.queue_timeout = queue_timeout
        self.timeout = timeout
        self.name = (
            bundled_model(model_path).file_name if self._is_bundled else Path(model_path).name
        )
        self.prompt_lookup = prompt_lookup
        self.prefixes = PrefixStates(prefix_cache)
        self._llama = None
        self._queue = FairQueue()  # one generation at a time, in the order asked
        self._load_lock = threading.Lock()

    @property
    def _is_bundled(self) -> bool:
        return self.model_path == "bundled" or self.model_path in BUNDLED

    def _resolve_path(self) -> Path:
        if self._is_bundled:
            return bundled_gguf_path(Path(settings.MODEL_DIR), bundled_model(self.model_path))
        path = Path(self.model_path)
        if not path.is_file():
            raise LLMUnavailable(f"GGUF model file {path} does not exist")
        return path

    def load(self):
        """The loaded `llama_cpp.Llama` (loading it on first call)."""
        with self._load_lock:
            if self._llama is None:
                from llama_cpp import Llama

                path = self._resolve_path()
                self.name = path.name
                draft = {}
                if self.prompt_lookup:
                    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

                    draft["draft_model"] = LlamaPromptLookupDecoding(
                        num_pred_tokens=self.prompt_lookup
                    )
                try:
                    self._llama = Llama(
                        model_path=str(path),
                        n_ctx=self.n_ctx,
                        n_threads=self.n_threads,
                        verbose=False,
                        **draft,
                    )
                except (ValueError, RuntimeError) as exc:
                    raise LLMUnavailable(f"Could not load {path.name}: {exc}") from exc
                # Free the model before interpreter shutdown tears down what __del__ uses.
                atexit.register(self._llama.close)
                logger.info(
                    "Loaded %s (n_ctx=%s, threads=%s)", path.name, self.n_ctx, self.n_threads
                )
            return self._llama

    def count_tokens(self, text: str) -> int:
        return len(self.load().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count_prompt_tokens(self, messages: list[Message]) -> int:
        """Exactly what the model reads: the chat rendered by the GGUF's own template (as
        llama-cpp-python renders it to generate), in the model's tokens."""
        llama = self.load()
        formatter = self._chat_formatter(llama)
        if formatter is None:
            return super().count_prompt_tokens(messages)
        return len(self._prompt_tokens(llama, formatter(messages=list(messages)).prompt))

    @staticmethod
    def _prompt_tokens(llama, prompt: str) -> list[int]:
        return llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)

    def prefix_tokens(self, messages: list[Message]) -> list[int]:
        """The tokens every chat that differs from `messages` only in its last message's content
        starts with: the instructions and examples, up to where the last message's text begins."""
        llama = self.load()
        formatter = self._chat_formatter(llama)
        if formatter is None or not messages:
            return []
        full = formatter(messages=list(messages)).prompt
        blank = formatter(messages=[*messages[:-1], {**messages[-1], "content": ""}]).prompt
        prefix = self._prompt_tokens(llama, full[: common_length(full, blank)])
        # Where the text ends mid-token, the whole prompt tokenizes differently: stop before.
        return prefix[: common_length(prefix, self._prompt_tokens(llama, full))]

    def queue_turn(self) -> Turn:
        return self._queue.join()

    def warm(self, prefixes: list[list[Message]]) -> None:
        """Load the model and evaluate each chat's fixed prefix, keeping its state, so the first
        question reads only its own sources."""
        llama = self.load()
        for messages in prefixes:
            prefix = self.prefix_tokens(messages)
            with self._queue.join() as turn:
                turn.wait()
                self.prefixes.ensure(llama, prefix)

    def _chat_formatter(self, llama):
        if not hasattr(self, "_formatter"):
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = llama.metadata.get("tokenizer.chat_template")

            def token_text(token: int) -> str:
                return llama._model.token_get_text(token) if token != -1 else ""

            self._formatter = template and Jinja2ChatFormatter(
                template=template,
                eos_token=token_text(llama.token_eos()),
                bos_token=token_text(llama.token_bos()),
            )
        return self._formatter

    def stream(
        self, messages: list[Message], *, max_tokens: int | None = None, turn: Turn | None = None
    ) -> Iterator[str]:
        llama = self.load()
        own_turn = turn is None
        if turn is None:
            turn = self._queue.join()
        try:
            if not turn.wait(self.queue_timeout):
                raise LLMTimeout(
                    "The language model is busy with other questions (waited "
                    f"{self.queue_timeout:.0f} s); please try again shortly."
                )
            deadline = time.monotonic() + self.timeout
            self.prefixes.ensure(llama, self.prefix_tokens(messages))
            chunks = llama.create_chat_completion(
                messages=list(messages),
                max_tokens=max_tokens or self.max_tokens,
                temperature=0.0,
                top_k=1,
                repeat_penalty=1.0,
                stream=True,
            )
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
                if time.monotonic() > deadline:
                    raise LLMTimeout(
                        f"The language model took longer than {self.timeout:.0f} s to answer."
                    )
        finally:
            if own_turn:
                turn.release()
