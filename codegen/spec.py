"""Loading the input: an OpenAPI v2 document (file or a live server's ``/openapi/v2``), plus the
OpenAPI v3 per-group documents when available (they add the ``default`` values v2 leaves out).
"""

from __future__ import annotations

import base64
import gzip
import json
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

__all__ = ["Spec", "fetch_spec", "load_spec"]

Schema = dict[str, Any]


@dataclass(slots=True)
class Spec:
    """The parts of an OpenAPI document codegen reads."""

    definitions: dict[str, Schema]
    """OpenAPI v2 definitions by name (``io.k8s.api.core.v1.Pod``)."""
    paths: dict[str, dict[str, Any]]
    """OpenAPI v2 paths."""
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    """From OpenAPI v3: definition name → property name → declared default value."""

    @classmethod
    def from_documents(cls, v2: dict[str, Any], v3: list[dict[str, Any]] | None = None) -> Spec:
        spec = cls(definitions=dict(v2.get("definitions", {})), paths=dict(v2.get("paths", {})))
        for doc in v3 or ():
            for name, schema in doc.get("components", {}).get("schemas", {}).items():
                for prop, prop_schema in schema.get("properties", {}).items():
                    if isinstance(prop_schema, dict) and "default" in prop_schema:
                        spec.defaults.setdefault(name, {})[prop] = prop_schema["default"]
        return spec


def read_json_document(path: Path) -> Any:
    """A JSON document from ``path``; ``*.gz`` files are gunzipped first (the repository keeps the
    Kubernetes schemas compressed, see ``schemas/README.md``)."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return json.loads(data)


def _read_v3_dir(v3_dir: Path | None) -> list[dict[str, Any]]:
    if v3_dir is None or not v3_dir.is_dir():
        return []
    paths = sorted([*v3_dir.glob("*.json"), *v3_dir.glob("*.json.gz")])
    return [read_json_document(p) for p in paths]


def load_spec(path: Path, v3_dir: Path | None = None) -> Spec:
    """Read ``swagger.json`` (or ``swagger.json.gz``) and, when given and present, the v3 documents
    (``*.json``, ``*.json.gz``) in ``v3_dir``."""
    return Spec.from_documents(read_json_document(path), _read_v3_dir(v3_dir))


@dataclass(slots=True)
class _Credentials:
    headers: dict[str, str] = field(default_factory=dict)
    verify: ssl.SSLContext | bool = True


def _data_or_file(entry: dict[str, Any], key: str, base: Path) -> bytes | None:
    if entry.get(f"{key}-data"):
        return base64.b64decode(entry[f"{key}-data"])
    if entry.get(key):
        return (base / str(entry[key])).read_bytes()
    return None


def _kubeconfig_credentials(kubeconfig: Path, insecure: bool) -> _Credentials:
    """Bearer token, client certificate and CA of the kubeconfig's current context."""
    doc: dict[str, Any] = yaml.safe_load(kubeconfig.read_text()) or {}
    base = kubeconfig.parent

    def named(section: str, name: str, inner: str) -> dict[str, Any]:
        for item in doc.get(section) or ():
            if item.get("name") == name:
                return dict(item.get(inner) or {})
        return {}

    context = named("contexts", str(doc.get("current-context", "")), "context")
    cluster = named("clusters", str(context.get("cluster", "")), "cluster")
    user = named("users", str(context.get("user", "")), "user")
    creds = _Credentials()
    if user.get("token"):
        creds.headers["Authorization"] = f"Bearer {user['token']}"
    if insecure or cluster.get("insecure-skip-tls-verify"):
        creds.verify = False
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context()
        ca = _data_or_file(cluster, "certificate-authority", base)
        if ca is not None:
            ctx.load_verify_locations(cadata=ca.decode())
    cert = _data_or_file(user, "client-certificate", base)
    key = _data_or_file(user, "client-key", base)
    if cert is not None and key is not None:
        with tempfile.TemporaryDirectory() as tmp:
            cert_path, key_path = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
            cert_path.write_bytes(cert)
            key_path.write_bytes(key)
            ctx.load_cert_chain(cert_path, key_path)
    if creds.verify is not False or cert is not None:
        creds.verify = ctx
    return creds


def fetch_spec(
    url: str, *, kubeconfig: Path | None = None, insecure: bool = False, timeout: float = 60.0
) -> Spec:
    """GET ``<url>/openapi/v2`` (and the ``/openapi/v3`` documents it lists) from a live server."""
    creds = _kubeconfig_credentials(kubeconfig, insecure) if kubeconfig else _Credentials()
    if insecure:
        creds.verify = False
    base = url.rstrip("/")
    with httpx.Client(headers=creds.headers, verify=creds.verify, timeout=timeout) as client:
        response = client.get(f"{base}/openapi/v2", headers={"Accept": "application/json"})
        response.raise_for_status()
        v2 = response.json()
        v3: list[dict[str, Any]] = []
        index = client.get(f"{base}/openapi/v3", headers={"Accept": "application/json"})
        if index.status_code == 200:
            for _, entry in sorted(index.json().get("paths", {}).items()):
                doc = client.get(
                    f"{base}{entry['serverRelativeURL']}", headers={"Accept": "application/json"}
                )
                if doc.status_code == 200:
                    v3.append(doc.json())
    return Spec.from_documents(v2, v3)
