"""The LLM back-end interface and the errors callers handle."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TypedDict

from llm.queue import Immediate, Turn


class Message(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


class LLMError(Exception):
    """Base for back-end failures that the user should hear about in plain words."""


class LLMUnavailable(LLMError):
    """The model could not be loaded or reached."""


class LLMTimeout(LLMError):
    """The model did not answer (or did not get its turn) within the configured time."""


# Chat templates wrap each message in a few special tokens (Qwen: "<|im_start|>role\n ...
# <|im_end|>\n" is 5); counting 8 per message keeps the budget on the safe side of any template.
TOKENS_PER_MESSAGE = 8


class LLMBackend(ABC):
    """Generation with a chat model. Decoding is greedy so answers are reproducible."""

    name: str
    context_size: int  # tokens the model sees: prompt plus answer
    max_tokens: int  # default answer length

    @abstractmethod
    def stream(
        self, messages: list[Message], *, max_tokens: int | None = None, turn: Turn | None = None
    ) -> Iterator[str]:
        """The assistant's reply, piece by piece as it is generated. `turn`: a place in this back
        end's queue the caller already waited for (`queue_turn`); without one the stream waits
        for its own."""

    def queue_turn(self) -> Turn:
        """A place in line for the model. Back ends that serve one request at a time queue
        callers in order; a server that batches requests has no line here (granted at once)."""
        return Immediate()

    def warm(self, prefixes: list[list[Message]]) -> None:
        """Get ready to answer at once: load the model and prepare the chats' fixed parts (the
        messages before each one's last). Nothing to do for a remote server."""
        return None

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes in this model's own tokenizer."""

    def generate(self, messages: list[Message], *, max_tokens: int | None = None) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens)).strip()

    def count_message_tokens(self, messages: list[Message]) -> int:
        """Tokens a whole chat takes, template overhead included (an upper bound)."""
        return sum(self.count_tokens(m["content"]) + TOKENS_PER_MESSAGE for m in messages)

    def count_prompt_tokens(self, messages: list[Message]) -> int:
        """Tokens the model reads for this chat, as reported in an answer's usage. Back ends that
        know their chat template count exactly; the estimate above is the fallback."""
        return self.count_message_tokens(messages)
