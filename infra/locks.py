"""Locks that a killed holder never leaves held.

`exclusive(name)` is the lock for work that must not run twice at once anywhere (one document's
ingestion, one source's sync): on PostgreSQL an advisory lock, which holds across every machine
sharing the database; on SQLite (one machine by nature) a file lock under KBQA_DATA_DIR/locks.
`file_lock` is for what belongs to one machine (a model file it assembles, its own index files).
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# How soon PostgreSQL notices that a lock holder's machine is gone (no FIN: power cut, network
# split) and releases its locks: idle seconds before the first probe, seconds between probes,
# probes lost. About 90 s, far below the broker's redelivery of the dead worker's task.
KEEPALIVE = {"tcp_keepalives_idle": 60, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}


class LockBusy(Exception):
    """Another process holds the lock (raised only by a non-blocking attempt)."""


@contextmanager
def lock_or_raise(path: Path, error: Exception) -> Iterator[None]:
    """Hold the lock at `path` without waiting; raise `error` when another process holds it."""
    try:
        with file_lock(path, blocking=False):
            yield
    except LockBusy:
        raise error from None


@contextmanager
def file_lock(path: Path, *, blocking: bool = True) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` (created if missing) for the duration of the block.
    `blocking=False` raises LockBusy at once instead of waiting for the holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            raise LockBusy(f"{path} is held by another process") from None
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


@contextmanager
def exclusive(name: str, error: Exception, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Hold the lock `name` without waiting, against every process on every machine that shares
    database `using`; raise `error` when another holds it."""
    if connections[using].vendor == "postgresql":
        with advisory_lock(name, error, using=using):
            yield
    else:
        with lock_or_raise(Path(settings.DATA_DIR) / "locks" / f"{name}.lock", error):
            yield


def advisory_key(name: str) -> int:
    """The signed 64-bit key PostgreSQL's advisory locks take, from the lock's name (prefixed:
    other software on the same database may use advisory locks too)."""
    digest = hashlib.blake2b(f"kbqa:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def advisory_lock(name: str, error: Exception, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """A session-level `pg_try_advisory_lock` on a connection of its own, held for the block and
    closed after it. Its own connection because Django's may be closed under the holder (Celery
    closes stale connections between tasks; a database error reconnects), which would release
    the lock silently, and because a transaction-level lock would bind the block to one
    transaction. PostgreSQL releases the lock when the session ends: when the holder process
    dies (its socket closes) or its machine does (the keepalives above). Needs a session of its
    own on the server: not through a pooler in transaction mode."""
    holder = connections[using].copy()
    try:
        with holder.cursor() as cursor:
            for parameter, value in KEEPALIVE.items():
                cursor.execute("SELECT set_config(%s, %s, false)", [parameter, str(value)])
            cursor.execute("SELECT set_config('application_name', %s, false)", [f"kbqa {name}"])
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [advisory_key(name)])
            (taken,) = cursor.fetchone()
        if not taken:
            raise error
        yield
    finally:
        holder.close()  # ends the session, and with it the lock
