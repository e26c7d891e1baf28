"""Several machines, on one: a web process (gunicorn, as bin/start and the Docker image run it)
and two Celery workers, each with its own empty KBQA_DATA_DIR, sharing only what a deployment on
several machines shares: PostgreSQL with pgvector (a fresh database, the index in it:
KBQA_INDEX_BACKEND=postgres), Redis (a queue of this test's own) and the upload store (a bucket on
a real S3 server). A PDF uploaded through the web's API is indexed by whichever worker takes it
and answered through the API with its citation to the right page; no machine keeps an index or
an upload of its own.

The one thing the "machines" share beyond those servers is the assembled answer model
(KBQA_MODEL_DIR, the test run's cache): models are per machine by design, each joined from the
pip packages, and joining the 490 MB again would only cost time.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from tests.conftest import REPO, _reachable, free_port
from tests.fixtures.pdf import HANDBOOK_PAGES, make_pdf

# Several processes and minutes of model time: once per bin/test, in its PostgreSQL pass (the
# machines share a database of their own on the pgvector server either way).
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="runs once, in bin/test's PostgreSQL pass",
    ),
]

REDIS_URL = "redis://127.0.0.1:6379/0"
S3_KEYS = {"KBQA_S3_ACCESS_KEY_ID": "kbqa-test", "KBQA_S3_SECRET_ACCESS_KEY": "kbqa-test-secret"}
WORKERS = ("machine-1", "machine-2")
ADMIN_PASSWORD = secrets.token_urlsafe(12)


@dataclass
class Cluster:
    web: str  # the web machine's base URL
    token: str
    database_url: str
    bucket: str
    s3_endpoint: str
    data_dirs: dict[str, Path]  # machine name -> its own KBQA_DATA_DIR
    logs: dict[str, Path]

    def log_tails(self) -> str:
        return "\n".join(
            f"--- {name}\n{path.read_text(errors='replace')[-3000:]}"
            for name, path in self.logs.items()
        )


def test_an_upload_to_the_web_is_indexed_by_a_worker_and_answered_with_its_citation(
    cluster: Cluster, tmp_path: Path
):
    import httpx

    pdf = make_pdf(tmp_path / "northwind-handbook.pdf", HANDBOOK_PAGES)
    notes = tmp_path / "parking.txt"
    notes.write_text("Northwind parking permits cost 40 euros per month at the reception desk.\n")
    headers = {"Authorization": f"Bearer {cluster.token}"}
    with httpx.Client(base_url=cluster.web, headers=headers, timeout=600) as web:
        ids = [_upload(web, pdf, "application/pdf"), _upload(web, notes, "text/plain")]
        for document_id in ids:
            status = _wait_indexed(web, document_id)
            assert status["status"] == "indexed", (status, cluster.log_tails())

        indexed_by = _indexed_by(cluster.database_url, ids)
        print("indexed by:", indexed_by)  # which worker took which (either may take both)
        assert set(indexed_by) == set(ids) and set(indexed_by.values()) <= set(WORKERS)

        _assert_answered_from(web, ids[0], cluster)

    # The web machine (which ingested nothing) renders the cited page and serves the download
    # from the store, keeping only its caches.
    with _signed_in(cluster.web) as browser:
        page = browser.get(f"/documents/{ids[0]}/pages/2.png")
        assert page.status_code == 200 and page.content.startswith(b"\x89PNG"), page.text[:500]
        download = browser.get(f"/documents/{ids[0]}/download/")
        assert download.status_code == 200 and download.content == pdf.read_bytes()
    web_dir = cluster.data_dirs["web"]
    assert any((web_dir / "pages").rglob("2.png")) and any((web_dir / "originals").iterdir())

    # The originals are in the shared store and nowhere else; no machine holds an index.
    stored = _bucket_keys(cluster)
    assert {Path(key).name for key in stored} >= {"northwind-handbook.pdf", "parking.txt"}
    for name, data_dir in cluster.data_dirs.items():
        kept = {path.name for path in data_dir.rglob("*") if path.is_file()}
        assert not kept & {"northwind-handbook.pdf", "parking.txt"}, (name, kept)
        assert not (data_dir / "index").exists() and not (data_dir / "bm25").exists(), name
        assert not (data_dir / "uploads").exists(), name


def _assert_answered_from(web, document_id: int, cluster: Cluster) -> None:
    """Asked through the web's API: the answer cites the handbook's page 2, which holds it."""
    answer = web.post("/api/v1/ask/", json={"question": "When does the Zorblax cafeteria open?"})
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert not data["refused"], (data, cluster.log_tails())
    assert "7:45" in data["answer"], data
    assert any(c["document_id"] == document_id and c["page"] == 2 for c in data["citations"]), data


@contextmanager
def _signed_in(web_url: str) -> Iterator:
    """A browser's session on the web machine: the login form, with its CSRF token."""
    import httpx

    with httpx.Client(base_url=web_url, timeout=600) as browser:
        form = browser.get("/accounts/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        fields = {"username": "admin", "password": ADMIN_PASSWORD, "csrfmiddlewaretoken": token}
        signed = browser.post("/accounts/login/", data=fields)
        assert signed.status_code == 302, signed.text[:500]
        yield browser


def _upload(web, path: Path, content_type: str) -> int:
    with path.open("rb") as handle:
        response = web.post("/api/v1/documents/", files={"file": (path.name, handle, content_type)})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _wait_indexed(web, document_id: int, timeout: float = 900) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = web.get(f"/api/v1/documents/{document_id}/").json()
        if body["status"] in ("indexed", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(1)


def _indexed_by(database_url: str, ids: list[int]) -> dict[int, str]:
    """The machine each document was ingested by: Document.worker is Celery's `name@host`."""
    import psycopg

    with psycopg.connect(_libpq(database_url)) as db:
        rows = db.execute(
            "SELECT id, worker FROM ingestion_document WHERE id = ANY(%s)", [ids]
        ).fetchall()
    return {pk: worker.split("@")[0] for pk, worker in rows}


def _bucket_keys(cluster: Cluster) -> set[str]:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=cluster.s3_endpoint,
        aws_access_key_id=S3_KEYS["KBQA_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_KEYS["KBQA_S3_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    listed = client.list_objects_v2(Bucket=cluster.bucket).get("Contents", [])
    return {item["Key"] for item in listed}


# --- the cluster ---------------------------------------------------------------------------------


@pytest.fixture
def cluster(pgvector_url: str, s3_server: str, tmp_path: Path) -> Iterator[Cluster]:
    if not _reachable("127.0.0.1", 6379):
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    run = uuid.uuid4().hex[:10]
    database_url = _fresh_database(pgvector_url, f"kbqa_machines_{run}")
    port = free_port()
    shared = {
        # What every machine of a deployment is given alike (README, "Running on several
        # machines"); the settings are the embedded default's (bin/start), not the test's.
        "DJANGO_SETTINGS_MODULE": "kbqa.settings.local",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "KBQA_CELERY_QUEUE": f"kbqa-machines-{run}",
        "KBQA_CACHE_PREFIX": f"kbqa-machines-{run}",
        "KBQA_INDEX_BACKEND": "postgres",
        "KBQA_S3_BUCKET": f"kbqa-machines-{run}",
        "KBQA_S3_ENDPOINT_URL": s3_server,
        "KBQA_S3_REGION": "us-east-1",
        **S3_KEYS,
        "KBQA_BIND": f"127.0.0.1:{port}",
        "KBQA_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PYTHONUNBUFFERED": "1",
    }
    data_dirs = {name: tmp_path / name for name in ("web", *WORKERS)}
    logs = {name: tmp_path / f"{name}.log" for name in data_dirs}
    processes: list[subprocess.Popen] = []
    try:
        web_env = _machine_env(shared, data_dirs["web"])
        for command in (
            ["migrate", "--noinput"],
            ["ensure_storage"],  # creates the bucket
            ["ensure_admin"],
        ):
            _manage(command, web_env)
        token = _manage(["create_api_token", "admin", "--scope", "manage"], web_env).strip()
        processes.append(
            _start(
                [sys.executable, "-m", "gunicorn", "--config", "kbqa/gunicorn.conf.py"],
                web_env,
                logs["web"],
            )
        )
        for name in WORKERS:
            command = [sys.executable, "-m", "celery", "-A", "kbqa", "worker"]
            command += ["--loglevel=INFO", "--concurrency=1", "-n", f"{name}@%h"]
            processes.append(_start(command, _machine_env(shared, data_dirs[name]), logs[name]))
        _wait_until(lambda: _reachable("127.0.0.1", port), processes, logs, "the web server")
        for name in WORKERS:
            ready = logs[name]
            _wait_until(lambda log=ready: " ready." in log.read_text(), processes, logs, name)
        yield Cluster(
            web=f"http://127.0.0.1:{port}",
            token=token,
            database_url=database_url,
            bucket=shared["KBQA_S3_BUCKET"],
            s3_endpoint=s3_server,
            data_dirs=data_dirs,
            logs=logs,
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        _drop_database(pgvector_url, database_url)


def _machine_env(shared: dict[str, str], data_dir: Path) -> dict[str, str]:
    """This process's environment as one machine's: its own data directory, the shared servers,
    and nothing of the test run's own (its data directory, database, index or store)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in _RUN_ONLY}
    return {**env, **shared, "KBQA_DATA_DIR": str(data_dir)}


_RUN_ONLY = {"KBQA_STORAGE_DIR", "KBQA_INDEX_DIR", "KBQA_S3_PREFIX", "DJANGO_ALLOWED_HOSTS"}


def _manage(arguments: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (arguments, done.stdout[-2000:], done.stderr[-3000:])
    return done.stdout


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as handle:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT)


def _wait_until(ready, processes, logs: dict[str, Path], what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        dead = [p for p in processes if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            tails = "\n".join(f"--- {n}\n{p.read_text()[-3000:]}" for n, p in logs.items())
            raise RuntimeError(f"{what} did not start:\n{tails}")
        time.sleep(0.3)


def _libpq(url: str) -> str:
    """A `postgres://` URL as libpq takes it (it reads the percent-encoded socket folder too)."""
    return url.replace("postgres://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _fresh_database(server_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(_libpq(server_url), autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(server_url, name)
    with psycopg.connect(_libpq(url), autocommit=True) as db:
        db.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return url


def _drop_database(server_url: str, url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_libpq(server_url), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
