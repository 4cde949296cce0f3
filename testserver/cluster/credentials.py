"""Each component's own identity: a client certificate signed by the cluster CA, in its own kubeconfig.

As kubeadm does, every component authenticates as itself (the API server reads the user from the
certificate's subject): ``system:kube-controller-manager``, ``system:kube-scheduler``,
``system:kube-proxy``, and each kubelet as ``system:node:<node name>`` in the group ``system:nodes``.
The certificates are issued once into ``DATA_DIR/pki/components`` and reused on restart; the
kubeconfigs go to ``DATA_DIR/kubeconfigs/<component>.kubeconfig``.

Without TLS (``--insecure``) there are no certificates: the kubeconfigs carry the admin token.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["ComponentIdentity", "write_component_kubeconfig"]

_VALIDITY = dt.timedelta(days=3650)


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentIdentity:
    """Who a component is to the API server."""

    user: str
    """The user name (the certificate's CN), e.g. ``system:kube-scheduler``."""
    groups: tuple[str, ...] = ()
    """The groups (the certificate's O attributes), e.g. ``("system:nodes",)``."""

    @classmethod
    def for_node(cls, node_name: str) -> ComponentIdentity:
        """A kubelet's identity: ``system:node:<node_name>`` in ``system:nodes``."""
        return cls(user=f"system:node:{node_name}", groups=("system:nodes",))


def _write(path: Path, data: bytes, *, private: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _file_stem(user: str) -> str:
    return user.replace(":", "-")


def _issue_client_certificate(pki: Path, identity: ComponentIdentity) -> tuple[Path, Path]:
    """The (certificate, key) paths of ``identity``, issued by ``pki/ca.{crt,key}`` if not there yet."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    cert_path = pki / "components" / f"{_file_stem(identity.user)}.crt"
    key_path = cert_path.with_suffix(".key")
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    ca_cert = x509.load_pem_x509_certificate((pki / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{pki / 'ca.key'}: expected an EC private key")
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in identity.groups]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, identity.user))
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write(
        key_path,
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        private=True,
    )
    _write(cert_path, cert.public_bytes(pem), private=False)
    return cert_path, key_path


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write_component_kubeconfig(
    path: Path, *, server: str, data_dir: Path, identity: ComponentIdentity, tls: bool
) -> Path:
    """Write (atomically) the kubeconfig ``identity`` talks to ``server`` with; returns ``path``.

    With ``tls`` it trusts ``DATA_DIR/pki/ca.crt`` and presents the identity's client certificate
    (issued on first use); without, it carries the admin token from ``DATA_DIR/pki/admin.token``.
    """
    pki = data_dir / "pki"
    cluster: dict[str, object] = {"server": server}
    user: dict[str, object] = {}
    if tls:
        cert_path, key_path = _issue_client_certificate(pki, identity)
        cluster["certificate-authority-data"] = _b64((pki / "ca.crt").read_bytes())
        user["client-certificate-data"] = _b64(cert_path.read_bytes())
        user["client-key-data"] = _b64(key_path.read_bytes())
    else:
        user["token"] = (pki / "admin.token").read_text().strip()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "testserver", "cluster": cluster}],
        "users": [{"name": identity.user, "user": user}],
        "contexts": [{"name": "default", "context": {"cluster": "testserver", "user": identity.user}}],
        "current-context": "default",
        "preferences": {},
    }
    _write(path, yaml.safe_dump(config, sort_keys=False).encode(), private=True)
    return path
