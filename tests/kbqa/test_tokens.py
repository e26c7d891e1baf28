"""Named API tokens: stored hashed, shown once, scoped, expiring, revocable; throttled per token in
the cache (Redis under bin/test)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from kbqa.api.models import ApiToken, token_hash
from kbqa.api.tokens import token_create
from tests.conftest import api_client


def _bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.mark.django_db
def test_a_token_is_created_in_a_session_shown_once_and_stored_hashed(django_user_model):
    user = django_user_model.objects.create_user("dev", password="pw-12345678")
    browser = APIClient()
    browser.force_login(user)
    response = browser.post(
        "/api/v1/tokens/", {"name": "wiki bot", "scope": "ask", "days": 30}, format="json"
    )
    assert response.status_code == 201, response.content
    created = response.json()
    key = created["key"]
    token = ApiToken.objects.get(pk=created["id"])
    assert token.key_hash == token_hash(key) and key not in token.key_hash
    assert key.startswith(created["prefix"])
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert LogEntry.objects.filter(object_id=str(token.pk)).exists()  # audited

    listed = browser.get("/api/v1/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["wiki bot"]
    assert "key" not in listed[0] and key not in str(listed)
    assert browser.get(f"/api/v1/tokens/{token.pk}/").json()["is_active"] is True

    client = _bearer(key)
    assert client.get("/api/v1/documents/").status_code == 200
    # A token cannot mint tokens; names are unique per user.
    assert client.post("/api/v1/tokens/", {"name": "x"}, format="json").status_code == 403
    again = browser.post("/api/v1/tokens/", {"name": "wiki bot"}, format="json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid"

    assert browser.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    denied = client.get("/api/v1/documents/")
    assert denied.status_code == 401
    assert denied.json()["error"]["code"] == "authentication_failed"


@pytest.mark.django_db
def test_expired_tokens_and_tokens_of_inactive_users_do_not_work(django_user_model):
    user = django_user_model.objects.create_user("dev", password="pw-12345678")
    client = api_client(user)
    assert client.get("/api/v1/conversations/").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/conversations/").status_code == 401
    ApiToken.objects.update(expires_at=timezone.now() + timedelta(days=1))
    user.is_active = False
    user.save()
    assert client.get("/api/v1/conversations/").status_code == 401
    assert _bearer("kbqa_not-a-real-token").get("/api/v1/conversations/").status_code == 401


@pytest.mark.django_db
def test_an_ask_scoped_token_cannot_manage_documents_even_for_an_admin(admin_user):
    reader = api_client(admin_user, scope="ask")
    assert reader.get("/api/v1/documents/").status_code == 200
    response = reader.post("/api/v1/collections/", {"name": "Legal"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    manager = api_client(admin_user, scope="manage")
    assert manager.post("/api/v1/collections/", {"name": "Legal"}, format="json").status_code == 201


@pytest.mark.django_db
def test_requests_are_throttled_per_token(django_user_model, settings):
    settings.KBQA_API_RATES = {"api": "3/min", "ask": "1/min"}
    user = django_user_model.objects.create_user("dev", password="pw-12345678")
    first, second = api_client(user), api_client(user)
    statuses = [first.get("/api/v1/conversations/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = first.get("/api/v1/conversations/")
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert second.get("/api/v1/conversations/").status_code == 200  # its own budget
    # Asking has its own, tighter budget on top (the question is invalid: nothing is generated).
    assert second.post("/api/v1/ask/", {"question": " "}, format="json").status_code == 400
    assert second.post("/api/v1/ask/", {"question": " "}, format="json").status_code == 429


def test_the_throttle_counts_in_redis_when_redis_url_is_set(settings):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the Redis cache runs under bin/test")
    from django.core.cache import cache

    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("kbqa-test-probe", 1, 5)
    import redis

    keys = redis.Redis.from_url(settings.REDIS_URL).keys("*kbqa-test-probe")
    assert keys and all(settings.CACHES["default"]["KEY_PREFIX"].encode() in k for k in keys)


@pytest.mark.django_db
def test_a_token_cannot_revoke_itself_but_another_token_or_the_admin_can(admin_user):
    token, key = token_create(user=admin_user, name="nightly import", scope="manage")
    script, other = _bearer(key), api_client(admin_user)

    refused = script.delete(f"/api/v1/tokens/{token.pk}/")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "conflict"
    assert "signed-in session" in error["message"] and "another token" in error["message"]
    token.refresh_from_db()
    assert token.revoked_at is None
    assert script.get("/api/v1/tokens/").status_code == 200  # still working

    assert other.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    assert script.get("/api/v1/tokens/").status_code == 401

    # The admin's Revoke action (a session, no token) is unaffected.
    second = ApiToken.objects.exclude(pk=token.pk).get()
    admin = Client()
    admin.force_login(admin_user)
    response = admin.post(
        "/admin/api/apitoken/", {"action": "revoke", "_selected_action": [second.pk]}
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.revoked_at is not None
