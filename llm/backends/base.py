"""The LLM back-end interface and the errors callers handle."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TypedDict


class Message(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


class LLMError(Exception):
    """Base for back-end failures that the user should hear about in plain words."""


class LLMUnavailable(LLMError):
    """The model could not be loaded or reached."""


class LLMBackend(ABC):
    name: str

    @abstractmethod
    def generate(self, messages: list[Message], *, max_tokens: int | None = None) -> str:
        """The assistant's reply to a chat, decoded greedily so answers are reproducible."""
