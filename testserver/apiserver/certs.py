"""The server's PKI: a CA, a serving certificate and an admin client certificate, plus an admin token.

Everything is generated once into the data directory and reused on restart, so a kubeconfig written
by an earlier run keeps working. Keys are EC P-256 (fast to generate: the whole set takes a few ms).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Credentials", "ensure_credentials"]

_VALIDITY = dt.timedelta(days=3650)


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """Paths (and the token) of the server's identity material."""

    ca_cert: Path
    """PEM CA certificate; clients trust it, and it signs client certificates the server accepts."""
    serving_cert: Path
    """PEM serving certificate (SANs 127.0.0.1, ::1, localhost)."""
    serving_key: Path
    """PEM key of the serving certificate."""
    admin_cert: Path
    """PEM client certificate of the admin user (CN admin, O system:masters)."""
    admin_key: Path
    """PEM key of the admin client certificate."""
    admin_token: str
    """Bearer token of the admin user."""


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def ensure_credentials(data_dir: Path, extra_sans: tuple[str, ...] = ()) -> Credentials:
    """Load the PKI from ``data_dir/pki``, generating whatever is missing."""
    pki = Path(data_dir) / "pki"
    creds = Credentials(
        ca_cert=pki / "ca.crt",
        serving_cert=pki / "apiserver.crt",
        serving_key=pki / "apiserver.key",
        admin_cert=pki / "admin.crt",
        admin_key=pki / "admin.key",
        admin_token="",
    )
    token_path = pki / "admin.token"
    paths = (
        creds.ca_cert,
        pki / "ca.key",
        creds.serving_cert,
        creds.serving_key,
        creds.admin_cert,
        creds.admin_key,
        token_path,
    )
    if not all(p.exists() for p in paths):
        pki.mkdir(parents=True, exist_ok=True)
        _generate(pki, extra_sans)
        _write(token_path, secrets.token_urlsafe(32).encode(), private=True)
    token = token_path.read_text().strip()
    return Credentials(
        ca_cert=creds.ca_cert,
        serving_cert=creds.serving_cert,
        serving_key=creds.serving_key,
        admin_cert=creds.admin_cert,
        admin_key=creds.admin_key,
        admin_token=token,
    )


def _generate(pki: Path, extra_sans: tuple[str, ...]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)

    def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def name(cn: str, org: str | None = None) -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attrs)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("pyclientgo-testserver-ca")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(
        subject: x509.Name, usage: x509.ObjectIdentifier, sans: list[x509.GeneralName] | None
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_encipherment=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    content_commitment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return key, builder.sign(ca_key, hashes.SHA256())

    sans: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
        x509.DNSName("kubernetes"),
        x509.DNSName("kubernetes.default"),
        x509.DNSName("kubernetes.default.svc"),
    ]
    for extra in extra_sans:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(extra)))
        except ValueError:
            sans.append(x509.DNSName(extra))
    serving_key, serving = leaf(name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, sans)
    admin_key, admin = leaf(name("admin", "system:masters"), ExtendedKeyUsageOID.CLIENT_AUTH, None)

    pem = serialization.Encoding.PEM
    _write(pki / "ca.key", key_pem(ca_key), private=True)
    _write(pki / "apiserver.key", key_pem(serving_key), private=True)
    _write(pki / "admin.key", key_pem(admin_key), private=True)
    _write(pki / "apiserver.crt", serving.public_bytes(pem))
    _write(pki / "admin.crt", admin.public_bytes(pem))
    _write(pki / "ca.crt", ca.public_bytes(pem))  # last: its presence marks a complete set
