"""A certificate authority made for the test run, the certificate it signs for the test slapd,
and a second CA of the same name that signed nothing the server presents: what a company's CA
file, a directory server's certificate and a wrong CA file look like to libldap (GnuTLS on
Debian, which wants X.509 v3, SHA-256 and a CA marked as one)."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kbqa test directory CA")])


@dataclass(frozen=True)
class DirectoryCertificates:
    ca_file: Path  # signed the server's certificate
    other_ca_file: Path  # same name, own key: signed nothing the server presents
    server_cert: Path
    server_key: Path


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    # Starts in the past: a clock a little behind (or a second boundary) does not make the
    # certificate "not yet valid".
    return builder.not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(
        now + datetime.timedelta(days=30)
    )


def _certificate_authority() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _validity(x509.CertificateBuilder())
        .subject_name(CA_NAME)
        .issuer_name(CA_NAME)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return key, builder.sign(key, hashes.SHA256())


def _server_certificate(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    ca_key_id = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        _validity(x509.CertificateBuilder())
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id),
            critical=False,
        )
    )
    return key, builder.sign(ca_key, hashes.SHA256())


def write_directory_certificates(directory: Path) -> DirectoryCertificates:
    """PEM files under `directory`; the key is readable by this user only, which is the user
    slapd runs as."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca = _certificate_authority()
    server_key, server = _server_certificate(ca_key, ca)
    _, other_ca = _certificate_authority()
    found = DirectoryCertificates(
        ca_file=directory / "ca.pem",
        other_ca_file=directory / "other-ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
    )
    found.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.other_ca_file.write_bytes(other_ca.public_bytes(serialization.Encoding.PEM))
    found.server_cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    found.server_key.touch(mode=0o600)
    found.server_key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return found
