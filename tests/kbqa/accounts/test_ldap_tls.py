"""Signing in and the periodic re-check over TLS against the real slapd: StartTLS on ldap:// and
ldaps://, the server's certificate checked against `KBQA_LDAP_CA_FILE` (the CA made for the run),
and a CA file that did not sign it refusing the directory (no password crosses an unchecked
connection), with the audit record naming the certificate as a likely cause."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from kbqa.accounts.models import AccountEvent
from kbqa.accounts.tasks import directory_recheck
from tests.kbqa.accounts.conftest import apply_signin_environment
from tests.kbqa.accounts.test_ldap import DIRECTORY_DOWN, WRONG, groups_of, page_text, sign_in

pytestmark = pytest.mark.django_db

TRANSPORTS = ["starttls", "ldaps"]
CERTIFICATE_HINT = "does not chain to KBQA_LDAP_CA_FILE"


def use_tls(settings, monkeypatch, directory, transport: str, ca_file: Path) -> None:
    server = directory.server
    environment = {"KBQA_LDAP_CA_FILE": str(ca_file)}
    if transport == "starttls":
        environment |= {"KBQA_LDAP_URI": server.ldap_uri, "KBQA_LDAP_START_TLS": "1"}
    else:
        environment |= {"KBQA_LDAP_URI": server.ldaps_uri}
    apply_signin_environment(settings, monkeypatch, environment)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_directory_user_signs_in_over_tls_with_the_company_ca_file(
    client, directory, settings, monkeypatch, transport
):
    ivan = directory.add_user("ivan")
    directory.add_group("finance", ivan)
    use_tls(settings, monkeypatch, directory, transport, directory.server.certificates.ca_file)

    response = sign_in(client, "ivan")
    assert response.status_code == 302, page_text(response)[:2000]
    assert groups_of("ivan") == {"finance"}
    assert AccountEvent.objects.filter(kind="signed_in", username="ivan", source="ldap").exists()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_server_certificate_the_ca_file_did_not_sign_is_refused(
    client, directory, settings, monkeypatch, transport
):
    """The other CA has the same name as the one that signed the server's certificate: only
    the signature tells them apart. The refusal, then the same sign-in with the right CA file,
    show the certificate is checked (so StartTLS did happen)."""
    directory.add_user("judy")
    use_tls(
        settings, monkeypatch, directory, transport, directory.server.certificates.other_ca_file
    )

    response = sign_in(client, "judy")
    assert response.status_code == 200
    page = page_text(response)
    assert DIRECTORY_DOWN in page and WRONG not in page
    assert not User.objects.filter(username="judy").exists()
    event = AccountEvent.objects.get(kind="directory_unreachable")
    assert event.username == "judy" and CERTIFICATE_HINT in event.detail

    use_tls(settings, monkeypatch, directory, transport, directory.server.certificates.ca_file)
    assert sign_in(client, "judy").status_code == 302  # the same server, trusted


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_recheck_reads_the_directory_over_tls_and_refuses_the_wrong_ca(
    client, directory, settings, monkeypatch, transport
):
    kim = directory.add_user("kim")
    directory.add_group("finance", kim)
    directory.add_group("hr", kim)
    use_tls(settings, monkeypatch, directory, transport, directory.server.certificates.ca_file)
    assert sign_in(client, "kim").status_code == 302

    directory.remove_member("finance", kim)
    assert directory_recheck.apply().get() == {"checked": 1, "deactivated": 0, "skipped": 0}
    assert groups_of("kim") == {"hr"}

    directory.remove_member("hr", kim)
    use_tls(
        settings, monkeypatch, directory, transport, directory.server.certificates.other_ca_file
    )
    assert CERTIFICATE_HINT in directory_recheck.apply().get()["unreachable"]
    assert groups_of("kim") == {"hr"}  # nothing changed on a directory it could not trust
