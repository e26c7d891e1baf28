"""A back end that writes a fixed answer, word by word: for tests of what the pipeline does with
an answer (citation numbers the model got wrong, a refusal), which a real small model will not
produce on demand. Every other test uses the real bundled model."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llm.backends.base import LLMBackend, Message
from llm.queue import Turn


class ScriptedBackend(LLMBackend):
    name = "scripted"

    def __init__(self, answer: str, context_size: int = 4096, max_tokens: int = 256) -> None:
        self.answer = answer
        self.context_size = context_size
        self.max_tokens = max_tokens

    def stream(
        self, messages: list[Message], *, max_tokens: int | None = None, turn: Turn | None = None
    ) -> Iterator[str]:
        yield from re.findall(r"\s*\S+", self.answer)

    def count_tokens(self, text: str) -> int:
        return len(text.split())
