"""In-process llama.cpp back end on a local GGUF file."""

from __future__ import annotations

import atexit
import logging
import threading
from pathlib import Path

from django.conf import settings

from llm.backends.base import LLMBackend, LLMUnavailable, Message
from llm.bundled import bundled_gguf_path

logger = logging.getLogger(__name__)


class LlamaCppBackend(LLMBackend):
    """One model per process, loaded on first use. llama.cpp contexts are not thread-safe, so
    requests are serialised by a lock: concurrent callers wait their turn instead of crashing it."""

    def __init__(
        self,
        model_path: str = "bundled",
        n_ctx: int = 4096,
        n_threads: int = 2,
        max_tokens: int = 384,
    ) -> None:
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.max_tokens = max_tokens
        self.name = Path(model_path).name if model_path != "bundled" else "bundled"
        self._llama = None
        self._lock = threading.Lock()

    def _resolve_path(self) -> Path:
        if self.model_path == "bundled":
            return bundled_gguf_path(Path(settings.MODEL_DIR))
        path = Path(self.model_path)
        if not path.is_file():
            raise LLMUnavailable(f"GGUF model file {path} does not exist")
        return path

    def _load(self):
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
            # Free the model before interpreter shutdown tears down what llama.cpp's __del__ uses.
            atexit.register(self._llama.close)
            logger.info("Loaded %s (n_ctx=%s, threads=%s)", path.name, self.n_ctx, self.n_threads)
        return self._llama

    def generate(self, messages: list[Message], *, max_tokens: int | None = None) -> str:
        with self._lock:
            llama = self._load()
            result = llama.create_chat_completion(
                messages=list(messages),
                max_tokens=max_tokens or self.max_tokens,
                temperature=0.0,
                top_k=1,
                repeat_penalty=1.0,
            )
        return (result["choices"][0]["message"]["content"] or "").strip()
