"""Atomic publishing and file locks: a reader never sees half a file or a version without its
snapshot, and one writer at a time holds a lock that a second process cannot take."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infra.locks import LockBusy, file_lock
from infra.publish import VersionedSnapshots, atomic_write, atomic_write_text
from tests.conftest import REPO


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.gguf"
    atomic_write_text(target, "old")

    def broken(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.gguf"]


def test_versions_are_published_one_after_another_and_old_ones_removed(tmp_path):
    snapshots = VersionedSnapshots(tmp_path, prefix="bm25", key="dir")
    assert snapshots.current() == {"version": 0, "dir": None}
    with snapshots.lock():
        snapshots.publish(lambda path: path.mkdir(), count=1)
        meta = snapshots.publish(lambda path: (path.mkdir(), (path / "ids").write_text("2")))
    assert meta == {"version": 2, "dir": "bm25-2"}
    assert json.loads((tmp_path / "current.json").read_text()) == meta
    assert sorted(p.name for p in tmp_path.glob("bm25-*")) == ["bm25-2"]
    opened, current = snapshots.load(lambda path: (path / "ids").read_text())
    assert (opened, current["version"]) == ("2", 2)
    with snapshots.lock():
        empty = snapshots.publish(None, model=None)
    assert snapshots.load(lambda path: 1) == (None, empty) and not list(tmp_path.glob("bm25-*"))


def test_a_lock_held_by_another_process_is_busy_until_it_is_released(tmp_path):
    lock = tmp_path / "locks" / "document-1.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from infra.locks import file_lock\n"
            f"with file_lock(Path({str(lock)!r})):\n    print('held', flush=True); time.sleep(30)",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusy), file_lock(lock, blocking=False):
            pass
    finally:
        holder.kill()
        holder.wait()
    with file_lock(lock, blocking=False):  # the kernel released it with the process
        pass
