"""LLM back ends (`base.LLMBackend`): llama.cpp in process, or an OpenAI-compatible server."""

from __future__ import annotations

from infra.backends import get_backend
from llm.backends.base import LLMBackend


def get_llm() -> LLMBackend:
    """The configured back end (settings.KBQA_LLM), one instance per process."""
    return get_backend("KBQA_LLM")
