"""The permissions suite's leak test (tests/kbqa/test_permissions.py) run through directory
users: the board minutes are readable by the group "board" only, and that group is now what the
directory says. A member reads them; a non-member never sees a word of them; a member taken out of
the group in the directory stops seeing them at the re-check (open session and API token alike)
and at their next sign-in."""

from __future__ import annotations

import pytest

from kbqa.accounts.tasks import directory_recheck
from tests.conftest import api_client
from tests.kbqa.accounts.test_ldap import groups_of, sign_in
from tests.kbqa.test_permissions import QUESTION, assert_no_secret, library  # noqa: F401

pytestmark = pytest.mark.django_db


def search(client, **extra):
    response = client.post("/api/v1/search/", {"query": QUESTION, "k": 100}, format="json", **extra)
    assert response.status_code == 200, response.content
    return response.json()


def test_directory_groups_decide_who_reads_the_board_minutes(
    library,  # noqa: F811
    directory,
    llm_server_down,
    client,
    django_user_model,
):
    minutes = library["minutes"]
    irene = directory.add_user("irene")
    directory.add_user("jack")
    directory.add_group("board", irene)

    assert sign_in(client, "irene").status_code == 302
    assert groups_of("irene") == {"board"}  # the existing Django group, now the directory's
    irene_token = api_client(django_user_model.objects.get(username="irene"))
    hits = search(irene_token)["results"]
    assert hits[0]["document_id"] == minutes.pk and "812 million" in hits[0]["text"]
    session_hits = client.post(
        "/api/v1/search/", {"query": QUESTION}, content_type="application/json"
    ).json()
    assert session_hits["results"][0]["document_id"] == minutes.pk

    from django.test import Client

    jack = Client()
    assert sign_in(jack, "jack").status_code == 302
    jack_token = api_client(django_user_model.objects.get(username="jack"))
    assert_no_secret(search(jack_token))
    answer = jack_token.post("/api/v1/ask/", {"question": QUESTION}, format="json").json()
    assert answer["sources"] and all(s["document_id"] != minutes.pk for s in answer["sources"])
    assert_no_secret({k: v for k, v in answer.items() if k != "standalone_question"})
    assert jack.get(f"/documents/{minutes.pk}/download/").status_code == 404

    # IT takes irene out of the board group; the re-check carries it to her session and token.
    directory.remove_member("board", irene)
    directory_recheck.apply().get()
    assert groups_of("irene") == set()
    assert_no_secret(search(irene_token))
    session_search = client.post(
        "/api/v1/search/", {"query": QUESTION, "k": 100}, content_type="application/json"
    )
    assert session_search.status_code == 200
    assert_no_secret(session_search.json())
    answer = irene_token.post("/api/v1/ask/", {"question": QUESTION}, format="json").json()
    assert all(s["document_id"] != minutes.pk for s in answer["sources"])
    assert client.get(f"/documents/{minutes.pk}/download/").status_code == 404

    # Put back in the directory: her next sign-in restores it.
    directory.add_member("board", irene)
    client.post("/accounts/logout/")
    assert sign_in(client, "irene").status_code == 302
    assert search(irene_token)["results"][0]["document_id"] == minutes.pk
