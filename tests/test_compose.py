"""docker-compose.yml cannot run here (no Docker in CI): its shape is checked instead, for what
`docker compose up --scale web=2 --scale worker=3` needs (README, "Running on several machines")."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import REPO

APP = ("migrate", "web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_app_containers_share_nothing_but_the_servers(compose: dict):
    services = compose["services"]
    for name in APP:
        service = services[name]
        assert "volumes" not in service, f"{name} has a volume: it would be per machine"
        env = service["environment"]
        assert env["KBQA_INDEX_BACKEND"] == "postgres"
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["KBQA_S3_BUCKET"] and "minio" in env["KBQA_S3_ENDPOINT_URL"]
        assert "?" in env["DJANGO_SECRET_KEY"]  # required, one for all (no per-machine key)
    assert services["postgres"]["image"].startswith("pgvector/pgvector:")


def test_web_and_worker_scale_behind_one_proxy_and_one_beat(compose: dict):
    services = compose["services"]
    assert "ports" not in services["web"]  # two replicas cannot both publish a host port
    assert "container_name" not in services["web"] and "container_name" not in services["worker"]
    assert "web" in services["proxy"]["depends_on"]
    nginx = (REPO / "docker" / "nginx.conf").read_text()
    assert "proxy_pass $web" in nginx and "resolver 127.0.0.11" in nginx
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert "ensure_storage" in services["migrate"]["command"]  # creates the bucket
    beats = [n for n, s in services.items() if re.search(r"\bbeat\b", str(s.get("command", "")))]
    assert beats == ["beat"]


def test_docker_compose_accepts_the_file():
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed: only the file's shape is checked")
    env = {"DJANGO_SECRET_KEY": "x", "MINIO_ROOT_PASSWORD": "12345678", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [binary, "config", "--quiet"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
