"""The interface every kind of source implements: list what it holds, cheaply; fetch one."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO


class SourceError(Exception):
    """The source as a whole cannot be read (folder missing, start page unreachable): the sync
    stops and changes nothing, rather than taking every document for removed."""


@dataclass(frozen=True)
class Entry:
    """One document a source holds now."""

    key: str  # stable within the source: a relative path, a URL
    name: str  # the file name it is stored under (its suffix picks the parser)
    stamp: str = ""  # cheap change token (mtime and size, ETag); "" when there is none
    title: str = ""  # the document's title when the source knows one (a page's <title>)
    error: str = ""  # there, but could not be fetched this time: reported, its document kept


class SourceBackend(ABC):
    """Constructed with the source's `options` as keyword arguments."""

    @abstractmethod
    def entries(self) -> Iterator[Entry]:
        """Every document the source holds now. Raise SourceError when the source itself is
        unreachable; an entry that fails later is reported by `open`."""

    @abstractmethod
    def open(self, entry: Entry) -> BinaryIO:
        """The entry's content, a binary file the caller closes. Raises OSError when it cannot
        be read (gone since it was listed, unreadable)."""
