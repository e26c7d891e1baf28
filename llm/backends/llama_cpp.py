"""In-process llama.cpp back end on a local GGUF file."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from llm.backends.base import LLMBackend, LLMTimeout, LLMUnavailable, Message
from llm.bundled import BUNDLED, bundled_gguf_path, bundled_model

logger = logging.getLogger(__name__)


class LlamaCppBackend(LLMBackend):
    """One model per process, loaded on first use.

    A llama.cpp context is not thread-safe, so requests take turns behind a lock: a concurrent
    caller
    waits (up to `queue_timeout` seconds, then gets LLMTimeout) instead of crashing the model. A
    stream holds the lock until it is exhausted or closed, so an abandoned stream frees the model as
    soon as its generator is closed.
    """

    def __init__(
        self,
        model_path: str = "bundled",
        n_ctx: int = 4096,
        n_threads: int = 2,
        max_tokens: int = 384,
        queue_timeout: float = 300.0,
        timeout: float = 300.0,
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
        self._llama = None
        self._lock = threading.Lock()  # one generation at a time
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
                try:
                    self._llama = Llama(
                        model_path=str(path),
                        n_ctx=self.n_ctx,
                        n_threads=self.n_threads,
                        verbose=False,
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
        prompt = formatter(messages=list(messages)).prompt
        return len(llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))

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

    def stream(self, messages: list[Message], *, max_tokens: int | None = None) -> Iterator[str]:
        llama = self.load()
        if not self._lock.acquire(timeout=self.queue_timeout):
            raise LLMTimeout(
                f"The language model is busy with other questions (waited {self.queue_timeout:.0f}"
                " s); please try again shortly."
            )
        try:
            deadline = time.monotonic() + self.timeout
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
            self._lock.release()
