"""Security basics: CSRF on session requests, security headers, production settings that refuse
to start without secrets and hosts from the environment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client

from tests.conftest import REPO


@pytest.mark.django_db
def test_session_posts_need_the_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(
        "/api/v1/collections/", {"name": "Legal"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    login_page = Client(enforce_csrf_checks=True).get("/accounts/login/")
    assert b"csrfmiddlewaretoken" in login_page.content


@pytest.mark.django_db
def test_security_headers(admin_api):
    response = admin_api.get("/api/v1/collections/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def _import_production(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS, "
            "settings.SESSION_COOKIE_SECURE)",
        ],
        cwd=REPO,
        env={**clean, "DJANGO_SETTINGS_MODULE": "kbqa.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_need_secrets_and_hosts_from_the_environment():
    missing_key = _import_production({"DJANGO_ALLOWED_HOSTS": "kb.example.com"})
    assert missing_key.returncode != 0 and "DJANGO_SECRET_KEY" in missing_key.stderr
    missing_hosts = _import_production({"DJANGO_SECRET_KEY": "s" * 50})
    assert missing_hosts.returncode != 0 and "DJANGO_ALLOWED_HOSTS" in missing_hosts.stderr
    ok = _import_production(
        {
            "DJANGO_SECRET_KEY": "s" * 50,
            "DJANGO_ALLOWED_HOSTS": "kb.example.com",
            "DJANGO_DEBUG": "1",
        }
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "False ['kb.example.com'] True"  # DEBUG stays off
