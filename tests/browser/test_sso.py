"""Single sign-on in a real browser: on the login page a staff member clicks "Sign in with
Keycloak", signs in at the provider (a real OpenID Connect provider process on 127.0.0.1), lands
in the chat, and sees only the collections of the groups the provider says they are in. No
question is asked (that would load the LLM): the collections are what the groups decide."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from ingestion.models import Collection
from kbqa.accounts.models import AccountEvent
from tests.kbqa.accounts.conftest import oidc_provider  # noqa: F401  (the provider fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_with_the_company_provider_shows_only_its_groups_collections(
    live_server,
    oidc_provider,  # noqa: F811
    page_factory,
    screenshot,
):
    for name in ("finance", "hr"):
        collection = Collection.objects.create(name=name.title())
        collection.reader_groups.add(Group.objects.create(name=name))
    oidc_provider.user(
        "8d2e-mei", preferred_username="mei", email="mei@example.com", groups=["/finance"]
    )
    base = live_server.url

    page = page_factory()
    page.goto(f"{base}/")
    page.wait_for_url(f"{base}/accounts/login/?next=/")
    screenshot(page, "login")
    sso = page.locator("#sso")
    assert sso.inner_text() == "Sign in with Keycloak"
    sso.click()

    page.wait_for_url(f"{oidc_provider.url}/oauth2/authorize*")
    page.get_by_placeholder("sub").fill("8d2e-mei")
    screenshot(page, "provider")
    page.get_by_role("button", name="Authorize").click()

    page.wait_for_url(f"{base}/")
    page.wait_for_load_state()
    screenshot(page, "chat")
    assert "mei" in page.locator("body").inner_text()
    response = page.request.get(f"{base}/api/v1/collections/")
    assert response.status == 200
    assert [c["name"] for c in response.json()["results"]] == ["Finance"]
    assert AccountEvent.objects.filter(kind="signed_in", username="mei", source="oidc").exists()
