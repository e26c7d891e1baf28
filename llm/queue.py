"""Taking turns at the one model: first come, first served, with each waiter's place in line.

A llama.cpp context answers one question at a time and llama-cpp-python cannot batch or interleave
two sequences on it, so concurrent questions wait. A plain lock would let any waiter win when it is
released (a question could wait behind several that came later); this line serves them in the
order they came, and tells each how many are ahead, so the chat can say so while it waits.
"""

from __future__ import annotations

import threading
from collections import deque


class Turn:
    """One caller's place in a `FairQueue`: wait for it, then `release()` when done (or to give
    up while still waiting). Releasing twice is harmless."""

    def __init__(self, queue: FairQueue) -> None:
        self._queue = queue

    @property
    def ahead(self) -> int:
        """Callers before this one (the one being served included); 0 once it is this one's turn,
        also after it is released."""
        return self._queue._ahead(self)

    def wait(self, timeout: float | None = None) -> bool:
        """True once it is this caller's turn; False when `timeout` seconds passed first."""
        return self._queue._wait(self, timeout)

    def release(self) -> None:
        self._queue._leave(self)

    def __enter__(self) -> Turn:
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


class FairQueue:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._line: deque[Turn] = deque()

    def join(self) -> Turn:
        """A place at the end of the line."""
        turn = Turn(self)
        with self._changed:
            self._line.append(turn)
        return turn

    @property
    def waiting(self) -> int:
        """Callers in line, the one being served included."""
        with self._changed:
            return len(self._line)

    def _ahead(self, turn: Turn) -> int:
        with self._changed:
            return self._line.index(turn) if turn in self._line else 0

    def _wait(self, turn: Turn, timeout: float | None) -> bool:
        with self._changed:
            self._changed.wait_for(lambda: turn not in self._line or self._line[0] is turn, timeout)
            return bool(self._line) and self._line[0] is turn

    def _leave(self, turn: Turn) -> None:
        with self._changed:
            if turn in self._line:
                self._line.remove(turn)
                self._changed.notify_all()


class Immediate(Turn):
    """The turn of a back end that queues on its own side (an OpenAI-compatible server batches
    requests): always granted at once."""

    def __init__(self) -> None:
        pass

    @property
    def ahead(self) -> int:
        return 0

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def release(self) -> None:
        pass
