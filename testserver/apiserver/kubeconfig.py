"""The admin kubeconfig the server writes: usable by kubectl and pyclientgo as is."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml

from testserver.apiserver.certs import Credentials

__all__ = ["write_kubeconfig"]


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(
    path: Path,
    server: str,
    creds: Credentials | None,
    *,
    token: str,
    name: str = "testserver",
    client_cert: bool = True,
) -> None:
    """Write (atomically) a kubeconfig with one cluster, one admin user and one current context."""
    cluster: dict[str, object] = {"server": server}
    user: dict[str, object] = {"token": token}
    if creds is not None:
        cluster["certificate-authority-data"] = _b64(creds.ca_cert)
        if client_cert:
            user["client-certificate-data"] = _b64(creds.admin_cert)
            user["client-key-data"] = _b64(creds.admin_key)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": f"{name}-admin", "user": user}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": f"{name}-admin", "namespace": "default"}}
        ],
        "current-context": name,
        "preferences": {},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    os.replace(tmp, path)
