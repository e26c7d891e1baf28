"""The one-command start is safe by default: the local settings keep DEBUG off and make the
instance its own secret key, and the web server bin/start runs (bin/serve: gunicorn) serves the
static files, the site's JSON errors and the login page with them."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

PLACEHOLDER = "insecure-local-development-key-change-me"


def _embedded_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh bin/start: nothing set but the data directory."""
    unset = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "KBQA_DEV", "KBQA_BIND", "KBQA_DATA_DIR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "kbqa.settings.local",
        "KBQA_DATA_DIR": str(data_dir),
        **extra,
    }


def _local_settings(data_dir: Path, **extra: str) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from django.conf import settings; "
            "print(json.dumps({'debug': settings.DEBUG, 'key': settings.SECRET_KEY}))",
        ],
        cwd=REPO,
        env=_embedded_env(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_local_settings_keep_debug_off_and_make_their_own_secret_key(tmp_path: Path):
    first = _local_settings(tmp_path)
    assert first["debug"] is False
    key_file = tmp_path / "secret-key"
    assert first["key"] == key_file.read_text().strip()
    assert len(first["key"]) >= 50 and first["key"] != PLACEHOLDER
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _local_settings(tmp_path)["key"] == first["key"]  # stable across starts
    assert _local_settings(tmp_path / "other")["key"] != first["key"]  # per instance
    assert [p.name for p in tmp_path.iterdir() if "secret-key" in p.name] == ["secret-key"]

    chosen = _local_settings(tmp_path / "set", DJANGO_SECRET_KEY="k" * 50, DJANGO_DEBUG="1")
    assert chosen == {"debug": True, "key": "k" * 50}
    assert not (tmp_path / "set" / "secret-key").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[str]:
    """bin/serve, as bin/start runs it, on a free port and a fresh data directory."""
    assert "\nbin/serve" in (REPO / "bin" / "start").read_text()  # what bin/start runs
    port = _free_port()
    env = _embedded_env(
        tmp_path / "data",
        KBQA_BIND=f"127.0.0.1:{port}",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(REPO / "bin" / "serve")],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"bin/serve did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_the_web_server_serves_static_files_json_errors_and_pages_with_debug_off(web_server):
    status, headers, body = _get(f"{web_server}/static/chat/kbqa.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css") and body
    assert headers["Server"].startswith("gunicorn")

    status, headers, body = _get(f"{web_server}/api/v1/nope/")
    assert status == 404 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "not_found"  # not the debug page's URL list

    status, _, body = _get(f"{web_server}/accounts/login/")
    assert status == 200 and b"csrfmiddlewaretoken" in body
