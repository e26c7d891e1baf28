from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_chat_page_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_chat_page_shows_answer_and_sources(ingested_handbook, client, admin_user):
    client.force_login(admin_user)
    response = client.post("/", {"question": "When does the Zorblax cafeteria open?"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "7:45" in html
    assert 'id="citation-' in html
    assert "page 2" in html
