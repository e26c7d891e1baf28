"""Evaluating a prompt's fixed prefix once per process: llama.cpp's state (its KV cache) right after
the prefix, saved once and restored whenever the context holds something else.

Every answer prompt starts with the same instructions and examples (`llm.prompts.prompt_prefix`),
and every follow-up rewrite with its own. llama-cpp-python already reuses the longest common prefix
with whatever the context evaluated last, so consecutive answers share theirs for free; but a
rewrite in between, or the other answer mode, replaces the context, and the next answer would read
its instructions again. Restoring a saved state costs a memory copy (about 29 KB a token for the
1.5B model) instead of seconds of prompt evaluation.

`Llama.save_state` would also copy the logits buffer (n_batch × vocabulary floats: 311 MB for
Qwen2.5, unused when logits are not kept) and scan it again on load, so the state is taken with
llama.cpp's own `llama_state_get_data`/`llama_state_set_data`, and the few Python-side fields
`Llama.load_state` sets are set here (llama-cpp-python is pinned: requirements-llm.txt).
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence

logger = logging.getLogger(__name__)

MIN_PREFIX_TOKENS = 16  # shorter prefixes are not worth a state


def common_length(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class PrefixStates:
    """Saved states of a llama context right after each of a few prefixes (least recently used
    dropped beyond `capacity`). Callers hold the model's turn: a context is not thread-safe."""

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._states: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.restored = 0  # counts, for tests and logs
        self.evaluated = 0

    def ensure(self, llama, prefix: Sequence[int]) -> None:
        """Make the context start with `prefix`: already there, restored, or evaluated (and
        saved). What follows the prefix in the context is kept when it already matched; the
        generation that follows evaluates only the tokens after the prefix."""
        if self.capacity <= 0 or len(prefix) < MIN_PREFIX_TOKENS:
            return
        current = list(llama.input_ids[: llama.n_tokens])
        if common_length(current, prefix) >= len(prefix):
            return
        key = tuple(prefix)
        with self._lock:
            state = self._states.get(key)
            if state is not None:
                self._states.move_to_end(key)
        if state is not None:
            self._restore(llama, prefix, state)
            self.restored += 1
            return
        self._evaluate(llama, prefix, common_length(current, prefix))
        state = self._save(llama)
        self.evaluated += 1
        with self._lock:
            self._states[key] = state
            while len(self._states) > self.capacity:
                self._states.popitem(last=False)
        logger.info(
            "Saved the state after a %d-token prompt prefix (%d bytes)", len(key), len(state)
        )

    @staticmethod
    def _evaluate(llama, prefix: Sequence[int], matched: int) -> None:
        # Keep what already matches (at least one token is re-evaluated when all matched, as
        # llama-cpp-python does, so the logits are fresh), drop the rest, evaluate the remainder.
        keep = min(matched, len(prefix) - 1)
        llama.n_tokens = keep  # `eval` removes the KV cells from here on
        llama.eval(list(prefix[keep:]))

    @staticmethod
    def _save(llama) -> bytes:
        import llama_cpp

        size = llama_cpp.llama_state_get_size(llama._ctx.ctx)
        buffer = (ctypes.c_uint8 * int(size))()
        written = llama_cpp.llama_state_get_data(llama._ctx.ctx, buffer, size)
        return bytes(buffer)[: int(written)]

    @staticmethod
    def _restore(llama, prefix: Sequence[int], state: bytes) -> None:
        import llama_cpp

        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_set_data(llama._ctx.ctx, buffer, len(state)) != len(state):
            raise RuntimeError("llama.cpp did not accept the saved prefix state")
        llama.input_ids[: len(prefix)] = prefix
        llama.n_tokens = len(prefix)
        llama._requires_eval = True  # the next step decodes before it samples
