"""The events of an answer as it is produced, for a client to show while it waits: the sources
found, its place in the model's queue while other questions are answered, then the answer's text
sentence by sentence, each with its checked citations.

Each event names its `kind` (the Server-Sent Events name) and says what text it adds (`delta()`),
so a consumer handles every event the same way. A `Run` yields the events and keeps what the
producing generator returned (the final `Answer`) once it is exhausted.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from llm.answer import Citation

R = TypeVar("R")


@dataclass(frozen=True)
class AnswerEvent:
    kind: ClassVar[str]

    def delta(self) -> str:
        """Text this event adds to the answer being shown."""
        return ""


@dataclass(frozen=True)
class SourcesFound(AnswerEvent):
    """The passages the model reads, numbered as the answer will cite them."""

    kind: ClassVar[str] = "sources"
    question: str  # the standalone question that was searched
    sources: list[Citation]


@dataclass(frozen=True)
class Queued(AnswerEvent):
    """The model is busy with other questions: `ahead` of this one (the one being answered
    included). Sent when the wait starts, whenever the number changes, and with 0 when its turn
    comes; none when the model is free. Questions are served in the order they came
    (`llm.queue`)."""

    kind: ClassVar[str] = "queue"
    ahead: int


@dataclass(frozen=True)
class TextAdded(AnswerEvent):
    """Checked sentences of the answer: their citations are the ones the final answer keeps."""

    kind: ClassVar[str] = "token"
    text: str

    def delta(self) -> str:
        return self.text


class Run(Generic[R]):
    """Iterating gives the events; `result` is the generator's return value once it has ended.
    Closing the run (or the iterator) closes the generator at once, and with it the model's
    stream: a client that goes away frees the model for the next question."""

    def __init__(self, generator: Generator[AnswerEvent, None, R]) -> None:
        self._generator = generator
        self.result: R | None = None

    def __iter__(self) -> Iterator[AnswerEvent]:
        self.result = yield from self._generator

    def close(self) -> None:
        self._generator.close()

    def finish(self) -> R:
        """Run to the end without looking at the events; the result."""
        for _event in self:
            pass
        assert self.result is not None
        return self.result
