"""The site's error answers: the error body for the API, the facade and requests asking for JSON,
a small page for browsers; never Django's default pages (which list URL patterns in DEBUG)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path

from kbqa import urls as site_urls


def _boom(request):
    raise RuntimeError("a bug")


# This module doubles as a URLconf: the site's patterns and handlers, plus a view that fails.
urlpatterns = [*site_urls.urlpatterns, path("boom/", _boom), path("api/v1/boom/", _boom)]
handler400, handler403 = site_urls.handler400, site_urls.handler403
handler404, handler500 = site_urls.handler404, site_urls.handler500


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error


def _page(response, status: int, title: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert f"<h1>{title}" in html and 'class="topbar"' in html  # the site's layout
    return html


@pytest.mark.django_db
def test_unknown_addresses_answer_404_json_for_programs_and_a_page_for_browsers():
    client = Client()
    for url in ("/api/v1/nope/", "/api/v2/"):
        _error(client.get(url), 404, "not_found")
    # Under /v1/ (the OpenAI-compatible facade) in OpenAI's shape, which its SDKs read.
    assert _error(client.get("/v1/nope"), 404, "not_found")["type"] == "invalid_request_error"
    _error(client.get("/nope/", headers={"Accept": "application/json"}), 404, "not_found")
    browser = client.get("/nope/", headers={"Accept": "text/html,application/xhtml+xml,*/*"})
    html = _page(browser, 404, "Not found")
    assert "api/v1/" not in html  # no list of URL patterns


@pytest.mark.django_db
def test_403_and_400_from_plain_django_views(django_user_model):
    staff = Client()
    staff.force_login(django_user_model.objects.create_user("reader", password="pw"))
    _page(staff.get("/console/"), 403, "Permission denied")
    _error(staff.get("/console/", headers={"Accept": "application/json"}), 403, "permission_denied")
    # Django's own request limits (here DATA_UPLOAD_MAX_NUMBER_FIELDS) are bad requests.
    many = "&".join(f"f{i}=1" for i in range(1100))
    error = _error(staff.get(f"/api/v1/documents/?{many}"), 400, "bad_request")
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in error["message"]
    _page(Client().get(f"/accounts/login/?{many}"), 400, "Bad request")


@pytest.mark.django_db
def test_a_failed_csrf_check_answers_the_error_body_to_scripts(admin_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    script = browser.post("/c/1/rename/", {"title": "x"}, headers={"Accept": "application/json"})
    assert "CSRF" in _error(script, 403, "permission_denied")["message"]
    form = browser.post("/c/1/rename/", {"title": "x"})
    assert form.status_code == 403 and b"CSRF" in form.content


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_server_errors_say_so_without_details():
    client = Client(raise_request_exception=False)
    error = _error(client.get("/api/v1/boom/"), 500, "server_error")
    assert "bug" not in error["message"]
    html = _page(client.get("/boom/"), 500, "Server error")
    assert "a bug" not in html and "Traceback" not in html
