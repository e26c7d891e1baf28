"""A back end for any server that speaks the OpenAI chat-completions protocol (vLLM, Ollama,
llama.cpp's server, llama-cpp-python's server), over plain HTTP with the standard library.

The API key is read from an environment variable (named in the options) so it never sits in
settings files. Token counting asks the server's own tokenizer (llama.cpp and vLLM expose one);
when the server has none it falls back to a deliberately high estimate, so a prompt is never
truncated by the server for lack of room.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from llm.backends.base import LLMBackend, LLMError, LLMTimeout, LLMUnavailable, Message
from llm.queue import Turn

logger = logging.getLogger(__name__)


def estimate_tokens(text: str) -> int:
    """An upper bound when no tokenizer is reachable: BPE vocabularies spend at most about one
    token per two UTF-8 bytes on ordinary text (Latin words ~4 bytes/token, CJK ~3 bytes/token)."""
    return len(text.encode("utf-8")) // 2 + 1


class OpenAICompatibleBackend(LLMBackend):
    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080/v1",
        model: str = "default",
        api_key_env: str = "KBQA_LLM_API_KEY",
        n_ctx: int = 4096,
        max_tokens: int = 384,
        connect_timeout: float = 5.0,
        timeout: float = 120.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = model
        self.api_key_env = api_key_env
        self.context_size = n_ctx
        self.max_tokens = max_tokens
        self.connect_timeout = connect_timeout
        self.timeout = timeout  # for the whole answer, and for any silence between two tokens
        self._tokenize_url: str | None = None  # found on first count; "" when the server has none

    # --- HTTP ---------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        key = os.environ.get(self.api_key_env, "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _post(self, url: str, payload: dict[str, Any], *, timeout: float):
        request = urllib.request.Request(
            url, data=json.dumps(payload).encode(), headers=self._headers(), method="POST"
        )
        try:
            return urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace")
            raise LLMError(f"The language model server answered {exc.code}: {detail}") from exc
        except TimeoutError as exc:
            raise LLMTimeout(
                f"The language model server at {self.base_url} did not respond in {timeout:.0f} s."
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise LLMUnavailable(
                f"The language model server at {self.base_url} is not reachable "
                f"({getattr(exc, 'reason', exc)})."
            ) from exc

    # --- interface ------------------------------------------------------------------------------
    def stream(
        self, messages: list[Message], *, max_tokens: int | None = None, turn: Turn | None = None
    ) -> Iterator[str]:
        payload = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": 0.0,
            "stream": True,
        }
        deadline = time.monotonic() + self.timeout
        response = self._post(f"{self.base_url}/chat/completions", payload, timeout=self.timeout)
        with response:
            try:
                for raw in response:
                    if time.monotonic() > deadline:
                        raise LLMTimeout(
                            f"The language model took longer than {self.timeout:.0f} s to answer."
                        )
                    line = raw.decode("utf-8").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    event = json.loads(data)
                    if "error" in event:
                        raise LLMError(f"The language model server failed: {event['error']}")
                    choices = event.get("choices") or [{}]
                    piece = (choices[0].get("delta") or {}).get("content")
                    if piece:
                        yield piece
            except TimeoutError as exc:
                raise LLMTimeout(
                    f"The language model server stopped sending for {self.timeout:.0f} s."
                ) from exc
            except (ConnectionError, urllib.error.URLError) as exc:
                raise LLMUnavailable(f"Lost the connection to {self.base_url}: {exc}") from exc

    def count_tokens(self, text: str) -> int:
        if self._tokenize_url is None:
            self._tokenize_url = self._find_tokenizer()
        if not self._tokenize_url:
            return estimate_tokens(text)
        return len(self._tokenize(self._tokenize_url, text))

    # --- the server's tokenizer -------------------------------------------------------------------
    def _tokenize(self, url: str, text: str) -> list[int]:
        # llama-cpp-python takes {"input"}, llama.cpp {"content"}, vLLM {"prompt"}: send all three.
        payload = {"model": self.model, "input": text, "content": text, "prompt": text}
        with self._post(url, payload, timeout=self.connect_timeout + 10) as response:
            body = json.loads(response.read())
        tokens = body.get("tokens")
        if not isinstance(tokens, list):
            raise LLMError(f"{url} returned no token list")
        return tokens

    def _find_tokenizer(self) -> str:
        root = self.base_url.removesuffix("/v1")
        for url in (f"{root}/extras/tokenize", f"{root}/tokenize"):
            try:
                self._tokenize(url, "probe")
            except LLMUnavailable:
                raise
            except (LLMError, ValueError):
                continue
            logger.info("Counting tokens with the server's tokenizer at %s", url)
            return url
        logger.warning(
            "%s exposes no tokenizer: prompt budgets use a conservative estimate", self.base_url
        )
        return ""
