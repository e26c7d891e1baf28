"""A real OpenLDAP server (Debian's slapd, started by python-ldap's `slapdtest`) for the sign-in
tests, with the ppolicy overlay so that an account can be locked the way OpenLDAP disables one
(`pwdAccountLockedTime`), and TLS (StartTLS on ldap://, and ldaps://) with a certificate from a CA
made for the run (tests/kbqa/accounts/tls.py). One server for the session; each test gets its own
subtree of users and groups, and the settings a deployment would get from `KBQA_LDAP_*` pointing
at it."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

ldap = pytest.importorskip("ldap", reason="python-ldap is not installed (requirements.txt)")
from ldap import modlist  # noqa: E402
from slapdtest import SlapdObject  # noqa: E402
from slapdtest._slapdtest import SLAPD_CONF_TEMPLATE  # noqa: E402

from tests.kbqa.accounts.tls import DirectoryCertificates, write_directory_certificates  # noqa: E402

PASSWORD = "directory-pw-1"
SERVICE_PASSWORD = "service-pw-1"
LOCKED_FOREVER = b"000001010000Z"  # ppolicy: locked until an administrator unlocks it
ACTIVE_FILTER = "(!(pwdAccountLockedTime=*))"

PPOLICY_CONFIG = r"""
dn: olcOverlay=ppolicy,olcDatabase={1}%(database)s,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: ppolicy
olcPPolicyDefault: cn=lockout,%(suffix)s
"""


class Slapd(SlapdObject):
    suffix = "dc=example,dc=com"
    openldap_schema_files = ("core.ldif", "cosine.ldif", "inetorgperson.ldif", "nis.ldif")
    slapd_loglevel = "0"
    slapd_conf_template = (
        SLAPD_CONF_TEMPLATE.replace(
            "olcModuleLoad: back_%(database)s",
            "olcModuleLoad: back_%(database)s\nolcModuleLoad: ppolicy",
        )
        + PPOLICY_CONFIG
    )

    def __init__(self, certificates: DirectoryCertificates) -> None:
        super().__init__()
        # The template's olcTLS* settings name these (slapdtest's own certificates otherwise).
        self.certificates = certificates
        self.cafile = str(certificates.ca_file)
        self.servercert = str(certificates.server_cert)
        self.serverkey = str(certificates.server_key)
        # 127.0.0.1, as in slapdtest's ldap_uri and the certificate's IP SAN: libldap checks a
        # URI's "localhost" against the machine's hostname instead.
        self.ldaps_uri = f"ldaps://{self.local_host}:{self._avail_tcp_port()}/"

    def _start_slapd(self) -> None:
        # slapdtest passes `slapd -h` its ldap:// and ldapi:// URIs only; ldaps:// joins them.
        ldapi_uri = self.ldapi_uri
        self.ldapi_uri = " ".join(filter(None, (ldapi_uri, self.ldaps_uri)))
        try:
            super()._start_slapd()
        finally:
            self.ldapi_uri = ldapi_uri


@pytest.fixture(scope="session")
def slapd(tmp_path_factory) -> Iterator[Slapd]:
    if shutil.which("slapd", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin") is None:
        pytest.skip(
            "slapd is not installed: bin/test installs it (apt-get install slapd ldap-utils)"
        )
    Slapd.TMPDIR = str(tmp_path_factory.mktemp("slapd"))
    server = Slapd(write_directory_certificates(Path(Slapd.TMPDIR) / "tls"))
    server.start()
    connection = ldap.initialize(server.ldap_uri)
    connection.simple_bind_s(server.root_dn, server.root_pw)
    for dn, attrs in (
        (
            server.suffix,
            {"objectClass": [b"dcObject", b"organization"], "dc": [b"example"], "o": [b"Example"]},
        ),
        (
            f"cn=lockout,{server.suffix}",
            {
                "objectClass": [b"organizationalRole", b"pwdPolicy"],
                "cn": [b"lockout"],
                "pwdAttribute": [b"userPassword"],
                "pwdLockout": [b"TRUE"],
            },
        ),
        (
            f"cn=kbqa-service,{server.suffix}",
            {
                "objectClass": [b"organizationalRole", b"simpleSecurityObject"],
                "cn": [b"kbqa-service"],
                "userPassword": [SERVICE_PASSWORD.encode()],
            },
        ),
    ):
        connection.add_s(dn, modlist.addModlist(attrs))
    connection.unbind_s()
    yield server
    server.stop()


_subtrees = itertools.count()


@dataclass
class Directory:
    """One test's part of the directory: `ou=people` and `ou=groups` under its own `ou`."""

    server: Slapd
    base: str
    connection: ldap.ldapobject.LDAPObject

    @property
    def people(self) -> str:
        return f"ou=people,{self.base}"

    @property
    def groups(self) -> str:
        return f"ou=groups,{self.base}"

    def user_dn(self, uid: str) -> str:
        return f"uid={ldap.dn.escape_dn_chars(uid)},{self.people}"

    def group_dn(self, cn: str) -> str:
        return f"cn={ldap.dn.escape_dn_chars(cn)},{self.groups}"

    def add_user(self, uid: str, *, password: str = PASSWORD, groups: tuple[str, ...] = ()) -> str:
        attrs = {
            "objectClass": [b"inetOrgPerson"],
            "uid": [uid.encode()],
            "cn": [f"{uid.title()} Example".encode()],
            "sn": [b"Example"],
            "givenName": [uid.title().encode()],
            "mail": [f"{uid}@example.com".encode()],
            "userPassword": [password.encode()],
        }
        self.connection.add_s(self.user_dn(uid), modlist.addModlist(attrs))
        for group in groups:
            self.add_member(group, self.user_dn(uid))
        return self.user_dn(uid)

    def add_group(self, cn: str, *members: str) -> str:
        """A groupOfNames; `members` are DNs (users or other groups: nesting)."""
        attrs = {
            "objectClass": [b"groupOfNames"],
            "cn": [cn.encode()],
            # groupOfNames must keep a member: the service account stands in for "nobody", so
            # the last user can be taken out.
            "member": [f"cn=kbqa-service,{self.server.suffix}".encode()]
            + [m.encode() for m in members],
        }
        self.connection.add_s(self.group_dn(cn), modlist.addModlist(attrs))
        return self.group_dn(cn)

    def add_member(self, group: str, member_dn: str) -> None:
        self.connection.modify_s(
            self.group_dn(group), [(ldap.MOD_ADD, "member", [member_dn.encode()])]
        )

    def remove_member(self, group: str, member_dn: str) -> None:
        self.connection.modify_s(
            self.group_dn(group), [(ldap.MOD_DELETE, "member", [member_dn.encode()])]
        )

    def lock(self, uid: str) -> None:
        """Disable the account the OpenLDAP way (ppolicy): binds fail from now on."""
        self.connection.modify_s(
            self.user_dn(uid), [(ldap.MOD_ADD, "pwdAccountLockedTime", [LOCKED_FOREVER])]
        )

    def unlock(self, uid: str) -> None:
        self.connection.modify_s(
            self.user_dn(uid), [(ldap.MOD_DELETE, "pwdAccountLockedTime", None)]
        )

    def delete_user(self, uid: str) -> None:
        self.connection.delete_s(self.user_dn(uid))


def apply_signin_environment(settings, monkeypatch, environment: dict[str, str]) -> None:
    """Set these variables and the sign-in settings exactly as kbqa/settings/signin.py makes
    them from the environment."""
    from kbqa.settings.signin import (
        authentication_backends,
        ldap_settings,
        local_settings,
        oidc_settings,
    )

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    values = local_settings() | ldap_settings() | oidc_settings()
    for name, value in values.items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = authentication_backends(
        ldap=values["KBQA_LDAP_ENABLED"], oidc=values["KBQA_OIDC_ENABLED"]
    )


@pytest.fixture
def directory(slapd, settings, monkeypatch) -> Iterator[Directory]:
    """This test's subtree, with kbqa configured (from the environment) to sign in against it."""
    base = f"ou=t{next(_subtrees)},{slapd.suffix}"
    connection = ldap.initialize(slapd.ldap_uri)
    connection.simple_bind_s(slapd.root_dn, slapd.root_pw)
    for dn, ou in (
        (base, base.split(",")[0][3:]),
        (f"ou=people,{base}", "people"),
        (f"ou=groups,{base}", "groups"),
    ):
        connection.add_s(
            dn, modlist.addModlist({"objectClass": [b"organizationalUnit"], "ou": [ou.encode()]})
        )
    found = Directory(slapd, base, connection)
    apply_signin_environment(
        settings,
        monkeypatch,
        {
            "KBQA_LDAP_URI": slapd.ldap_uri,
            "KBQA_LDAP_BIND_DN": f"cn=kbqa-service,{slapd.suffix}",
            "KBQA_LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "KBQA_LDAP_USER_BASE": found.people,
            "KBQA_LDAP_GROUP_BASE": found.groups,
            "KBQA_LDAP_ACTIVE_FILTER": ACTIVE_FILTER,
            "KBQA_DIRECTORY_GROUPS": "",
        },
    )
    yield found
    connection.unbind_s()


@dataclass
class OidcProvider:
    """oidc-provider-mock: a real OpenID Connect provider (authorization code flow, signed ID
    tokens, user info, JWKS) on 127.0.0.1; `user()` sets the claims it will vouch for."""

    url: str

    def user(self, sub: str, **claims) -> None:
        import httpx

        response = httpx.put(f"{self.url}/users/{quote(sub, safe='')}", json=claims)
        assert response.status_code == 204, response.text


@pytest.fixture
def oidc_provider(settings, monkeypatch) -> Iterator[OidcProvider]:
    """The provider, and kbqa configured (from the environment) to offer "Sign in with Keycloak"
    against it, with the endpoints its discovery document names."""
    provider_mock = pytest.importorskip(
        "oidc_provider_mock", reason="oidc-provider-mock is not installed (requirements-dev.txt)"
    )
    import httpx

    with provider_mock.run_server_in_thread() as server:
        url = f"http://localhost:{server.server_port}"
        discovery = httpx.get(f"{url}/.well-known/openid-configuration").json()
        apply_signin_environment(
            settings,
            monkeypatch,
            {
                "KBQA_OIDC_NAME": "Keycloak",
                "KBQA_OIDC_CLIENT_ID": "kbqa",
                "KBQA_OIDC_CLIENT_SECRET": "kbqa-client-secret",
                "KBQA_OIDC_AUTHORIZATION_ENDPOINT": discovery["authorization_endpoint"],
                "KBQA_OIDC_TOKEN_ENDPOINT": discovery["token_endpoint"],
                "KBQA_OIDC_USERINFO_ENDPOINT": discovery["userinfo_endpoint"],
                "KBQA_OIDC_JWKS_ENDPOINT": discovery["jwks_uri"],
                "KBQA_OIDC_VERIFY_KID": "0",  # its one key has no `kid` (RFC 7517 allows that)
            },
        )
        yield OidcProvider(url)
