"""A folder sync through a real Celery worker process on Redis, SIGKILLed in the middle of the
sync: the restarted worker (same node name) resumes it, and the folder ends as exactly its
documents, each with one version and one set of vectors; then a changed file goes through the
worker as a new version."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.management import call_command

from ingestion.models import Collection, Document, DocumentVersion, Source
from ingestion.selectors import index_consistency
from ingestion.services.sync import source_sync_queue
from tests.conftest import require_redis, start_worker, stop_worker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FILES = 40


def _wait(condition, worker, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited ({worker.process.returncode}):\n{worker.output()}")
        if time.monotonic() > deadline:
            states = list(Document.objects.values_list("pk", "status", "worker", "updated_at"))
            pytest.fail(f"{what} did not happen: {states}\n{worker.output()[-3000:]}")
        time.sleep(0.2)


def _all_indexed() -> bool:
    states = list(Document.objects.values_list("status", flat=True))
    return len(states) == FILES and all(s == Document.Status.INDEXED for s in states)


def test_a_worker_killed_mid_sync_resumes_and_ends_with_exactly_the_folder(
    isolated_index, tmp_path: Path
):
    require_redis()
    env = {"KBQA_INDEX_DIR": str(isolated_index.path)}
    folder = tmp_path / "share"
    folder.mkdir()
    for i in range(FILES):
        (folder / f"policy-{i:03d}.txt").write_text(
            f"Policy {i}. Rule number {i} applies to department {i % 7} from {2000 + i}."
        )
    source = Source.objects.create(
        name="share",
        kind="folder",
        collection=Collection.objects.default(),
        options={"path": str(folder)},
    )
    worker = start_worker(tmp_path, broker_env=env)
    try:
        source_sync_queue(source=source, by=None)
        progress: list[int] = []

        def mid_sync() -> bool:
            source.refresh_from_db()
            progress.append(source.progress.get("added", 0))
            if source.last_finished_at is not None:
                pytest.fail(f"the sync finished before it could be killed: {progress}")
            return source.running_since is not None and source.progress.get("added", 0) >= 3

        deadline = time.monotonic() + 120
        while not mid_sync():
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.005)
        worker.process.kill()  # SIGKILL
        worker.process.wait()
    finally:
        stop_worker(worker) if worker.process.poll() is None else None

    source.refresh_from_db()
    killed_at = source.progress["added"]
    assert source.running_since is not None and 3 <= killed_at < FILES
    restarted = start_worker(tmp_path, broker_env=env)
    try:
        _wait(lambda: Source.objects.get(pk=source.pk).last_finished_at is not None, restarted,
              "the resumed sync")  # fmt: skip
        assert "Resuming the interrupted sync" in restarted.output()
        source.refresh_from_db()
        assert source.last_report["added"] == FILES  # the killed run's counts carried on
        assert source.last_report["failed"] == 0, source.last_report
        _wait(_all_indexed, restarted, "every document indexed")

        assert source.items.count() == FILES
        assert Document.objects.count() == FILES
        assert DocumentVersion.objects.count() == FILES
        assert index_consistency().problems() == []  # one vector per chunk, none stray
        call_command("check_index")

        (folder / "policy-007.txt").write_text("Policy 7. Rule number 7 was withdrawn in 2024.")
        document = source.items.get(key="policy-007.txt").document
        source_sync_queue(source=source, by=None)
        _wait(
            lambda: document.versions.filter(status=DocumentVersion.Status.CURRENT, number=2)
            .exists(),
            restarted,
            "version 2 of the changed file",
        )  # fmt: skip
    finally:
        stop_worker(restarted)
    source.refresh_from_db()
    assert {k: source.last_report[k] for k in ("added", "updated", "unchanged")} == {
        "added": 0,
        "updated": 1,
        "unchanged": FILES - 1,
    }
    assert "withdrawn" in document.chunks.get(version__number=2).text
    assert index_consistency().problems() == []
