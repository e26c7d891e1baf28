"""Shared fixtures: real files, a real Celery worker process, API clients."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.fixtures.pdf import HANDBOOK_PAGES, make_pdf

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: a request with Accept-Language activates its
    language in the thread (LocaleMiddleware) and leaves it active after the response, so a
    Chinese page in one test made the next test's English messages Chinese."""
    yield
    from django.utils import translation

    translation.deactivate()


def pytest_sessionfinish(session, exitstatus) -> None:
    # The test settings made a fresh data directory for this run; nothing a test writes outlives it.
    data_dir = Path(settings.DATA_DIR)
    if data_dir.name.startswith("kbqa-test-"):
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def shared_docs() -> Path:
    docs = SHARED / "docs"
    if not docs.is_dir():
        pytest.skip(f"{docs} is absent: the real-document tests run where ../shared exists (CI)")
    return docs


@pytest.fixture
def handbook_pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "northwind-handbook.pdf", HANDBOOK_PAGES)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def database_url() -> str:
    """URL of the database this test run actually uses (the test database), for a worker."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = db.get("HOST") or "127.0.0.1"
    if host.startswith("/"):  # a Unix socket's folder (bin/pgvector-server listens on one)
        return f"postgres://{auth}{quote(host, safe='')}/{db['NAME']}"
    return f"postgres://{auth}{host}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def pgvector_url() -> Iterator[str]:
    """A real PostgreSQL server with pgvector: `KBQA_TEST_PGVECTOR_URL` (bin/test starts one), or
    one this run starts from the pgserver wheel (`bin/pgvector-server`); skips saying why when
    neither can be had."""
    url = os.environ.get("KBQA_TEST_PGVECTOR_URL")
    if url:
        yield url
        return
    # Not under pytest's temporary folder: it is private to the user running the tests (0700),
    # and pgserver runs PostgreSQL as a user of its own when that is root.
    folder = Path(tempfile.mkdtemp(prefix="kbqa-pgvector-"))
    script = [sys.executable, str(REPO / "bin" / "pgvector-server")]
    try:
        started = subprocess.run(
            [*script, "start", str(folder)], capture_output=True, text=True, timeout=180
        )
    except subprocess.TimeoutExpired:
        pytest.skip("the pgvector server (pgserver wheel) did not start within 3 minutes")
    if started.returncode != 0:
        reason = started.stderr[-500:]
        pytest.skip(f"the pgvector server (pgserver wheel) could not start: {reason}")
    yield started.stdout.strip()
    subprocess.run([*script, "stop", str(folder)], capture_output=True, timeout=120)
    shutil.rmtree(folder, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a real S3 HTTP server on 127.0.0.1 (moto's, from the dev
    requirements): the app reaches it through boto3 and django-storages exactly as it reaches a
    MinIO. Skips saying why when moto is not installed."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        pytest.skip("moto is not installed (requirements-dev.txt): no S3 server to test against")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not _reachable("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.skip("moto's S3 server did not start")
        time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def pgvector_database(db):
    """Django's test database, when it is PostgreSQL with the pgvector extension available
    (bin/test's PostgreSQL pass runs on bin/pgvector-server's); skips saying why otherwise."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL with pgvector: run with DATABASE_URL from `bin/pgvector-server start "
            "DIR` (bin/test's PostgreSQL pass does)"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        if cursor.fetchone() is None:
            host = connection.settings_dict.get("HOST") or "localhost"
            pytest.skip(
                f"the PostgreSQL server at {host} has no pgvector extension: run with "
                "DATABASE_URL from `bin/pgvector-server start DIR`"
            )
    return connection


@pytest.fixture
def pgvector_namespace(pgvector_database) -> Iterator[str]:
    """A fresh table namespace for the PostgreSQL index back ends, its tables dropped afterwards
    (a transactional test commits them)."""
    import uuid

    from retrieval.index.pgvector_store import PgVectorStore

    namespace = f"test_{uuid.uuid4().hex[:10]}"
    yield namespace
    PgVectorStore(namespace=namespace).drop()
    try:
        from retrieval.lexical.postgres_store import PostgresBM25Store
    except ImportError:
        return
    PostgresBM25Store(namespace=namespace).drop()


class WorkerProcess:
    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_worker(
    tmp_path: Path, *, broker_env: dict[str, str | None], extra_args: tuple[str, ...] = ()
) -> WorkerProcess:
    """A real `celery worker` process on this run's queue, data directory and test database
    (`extra_args=("--beat",)`: with Celery beat inside, as bin/start runs it)."""
    env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1"}
    for key, value in broker_env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    log = tmp_path / f"worker-{time.monotonic_ns()}.log"
    handle = log.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "kbqa",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            *extra_args,
        ],
        cwd=REPO,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    worker = WorkerProcess(process, log)
    deadline = time.monotonic() + 120
    while " ready." not in worker.output():
        if process.poll() is not None:
            raise RuntimeError(
                f"Celery worker exited with {process.returncode}:\n{worker.output()}"
            )
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"Celery worker did not become ready:\n{worker.output()}")
        time.sleep(0.2)
    return worker


def stop_worker(worker: WorkerProcess) -> None:
    worker.process.terminate()
    try:
        worker.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.process.kill()
        worker.process.wait()


def require_redis() -> None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        pytest.skip("REDIS_URL is not set: the Redis-broker tests run under bin/test")
    if not _reachable("127.0.0.1", 6379):
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")


@pytest.fixture
def redis_worker(tmp_path: Path) -> Iterator[WorkerProcess]:
    """A worker consuming from Redis at REDIS_URL (bin/test sets it to 127.0.0.1:6379)."""
    require_redis()
    worker = start_worker(tmp_path, broker_env={})
    yield worker
    stop_worker(worker)


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", password="pw-for-tests")


def api_client(user, *, scope: str = "manage"):
    """An API client authenticated with a fresh named token of `user`."""
    from rest_framework.test import APIClient

    from kbqa.api.tokens import token_create

    _, key = token_create(user=user, name=f"test {time.monotonic_ns()}", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def admin_api(admin_user):
    return api_client(admin_user)


def wait_for_status(client, document_id: int, timeout: float = 600) -> dict:
    """Poll the status endpoint until the document reaches indexed or failed."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/v1/documents/{document_id}/").json()
        if body["status"] in ("indexed", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


@pytest.fixture
def isolated_index(settings, tmp_path: Path):
    """Fresh, empty vector and BM25 indexes for tests that count vectors."""
    settings.KBQA_INDEX = {
        "BACKEND": "retrieval.index.faiss_store.FaissIndexStore",
        "OPTIONS": {"path": str(tmp_path / "index")},
    }
    settings.KBQA_LEXICAL_INDEX = {
        "BACKEND": "retrieval.lexical.bm25_store.BM25Store",
        "OPTIONS": {"path": str(tmp_path / "bm25")},
    }
    from retrieval.services import get_index

    return get_index()


@pytest.fixture
def postgres_index(settings, pgvector_namespace):
    """Both indexes in PostgreSQL (what KBQA_INDEX_BACKEND=postgres selects), in a fresh namespace;
    skips where the test database is not PostgreSQL with pgvector."""
    pytest.importorskip(
        "retrieval.lexical.postgres_store", reason="PostgresBM25Store has not landed on this branch"
    )
    settings.KBQA_INDEX = {
        "BACKEND": "retrieval.index.pgvector_store.PgVectorStore",
        "OPTIONS": {"namespace": pgvector_namespace},
    }
    settings.KBQA_LEXICAL_INDEX = {
        "BACKEND": "retrieval.lexical.postgres_store.PostgresBM25Store",
        "OPTIONS": {"namespace": pgvector_namespace},
    }
    from retrieval.services import get_index

    return get_index()


@pytest.fixture
def ingested_handbook(db, handbook_pdf: Path, isolated_index):
    """The handbook PDF ingested synchronously with the real embedder."""
    from django.core.files import File

    from ingestion.services.ingest import document_ingest
    from ingestion.services.uploads import document_create

    with handbook_pdf.open("rb") as handle:
        document = document_create(file=File(handle, name=handbook_pdf.name), enqueue=False)
    return document_ingest(document_id=document.pk)


@pytest.fixture
def llm_server_down(settings):
    """The LLM is an OpenAI-compatible server on a port nobody listens on: answers come back at
    once with `error` set and the retrieved sources (what retrieval saw, without generation)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.KBQA_LLM = {
        "BACKEND": "llm.backends.openai_compat.OpenAICompatibleBackend",
        "OPTIONS": {"base_url": f"http://127.0.0.1:{port}/v1", "timeout": 5},
    }


def sse_events(response) -> list[tuple[str, dict]]:
    """(event, data) pairs of a streamed kbqa SSE response."""
    import json

    body = b"".join(response.streaming_content).decode()
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events
