"""Loading a :class:`Config` from kubeconfig files, from inside a pod, or whichever applies."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from pyclientgo.config._types import Config, ExecConfig, ImpersonationConfig
from pyclientgo.errors import ConfigError

__all__ = [
    "SERVICE_ACCOUNT_DIR",
    "default_kubeconfig_paths",
    "load_config",
    "load_incluster_config",
    "load_kubeconfig",
    "merge_kubeconfigs",
]

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
_NAMED_LISTS = ("clusters", "users", "contexts")
_LIST_KEYS = {"clusters": "cluster", "users": "user", "contexts": "context"}

PathLike = str | os.PathLike[str]


def default_kubeconfig_paths() -> list[Path]:
    """``$KUBECONFIG`` split on the path separator, else ``~/.kube/config``."""
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read kubeconfig {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid kubeconfig {path}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"invalid kubeconfig {path}: not a mapping")
    return data


def _resolve(value: Any, base: Path) -> Any:
    if isinstance(value, str) and value and not os.path.isabs(value):
        return str(base / value)
    return value


def _resolve_paths(kind: str, body: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make file references relative to the kubeconfig file absolute (client-go's ResolvePaths)."""
    body = dict(body)
    if kind == "clusters":
        body["certificate-authority"] = _resolve(body.get("certificate-authority"), base)
    elif kind == "users":
        for key in ("client-certificate", "client-key", "tokenFile"):
            body[key] = _resolve(body.get(key), base)
        exec_cfg = body.get("exec")
        if isinstance(exec_cfg, dict):
            command = exec_cfg.get("command")
            # A bare name is looked up on PATH; only a relative path is resolved.
            if isinstance(command, str) and os.sep in command:
                exec_cfg = dict(exec_cfg, command=_resolve(command, base))
                body["exec"] = exec_cfg
    return {k: v for k, v in body.items() if v is not None}


def merge_kubeconfigs(paths: Sequence[PathLike]) -> dict[str, Any]:
    """Merge kubeconfig files as client-go does: the first file to set a key (or a named cluster,
    user or context) wins; missing files are skipped."""
    merged: dict[str, Any] = {"clusters": {}, "users": {}, "contexts": {}}
    for raw_path in paths:
        path = Path(raw_path).expanduser()
        if not path.exists():
            continue
        data = _read(path)
        base = path.resolve().parent
        for key in _NAMED_LISTS:
            for entry in data.get(key) or ():
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    raise ConfigError(f"invalid kubeconfig {path}: {key} entry without a name")
                body = entry.get(_LIST_KEYS[key]) or {}
                if not isinstance(body, dict):
                    raise ConfigError(f"invalid kubeconfig {path}: {key} {entry['name']!r} is not a mapping")
                merged[key].setdefault(entry["name"], _resolve_paths(key, body, base))
        for key, value in data.items():
            if key not in _NAMED_LISTS and value not in (None, "") and key not in merged:
                merged[key] = value
    return merged


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"kubeconfig: {what} is not valid base64") from exc


def _file_bytes(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"kubeconfig: cannot read {what} {path}: {exc}") from exc


def _exec_config(data: Mapping[str, Any], cluster: Mapping[str, Any]) -> ExecConfig:
    command = data.get("command")
    if not isinstance(command, str) or not command:
        raise ConfigError("kubeconfig: exec plugin without a command")
    env: dict[str, str] = {}
    for item in data.get("env") or ():
        if isinstance(item, dict) and "name" in item:
            env[str(item["name"])] = str(item.get("value", ""))
    api_version = str(data.get("apiVersion") or "")
    if not api_version:
        raise ConfigError("kubeconfig: exec plugin without an apiVersion")
    mode = data.get("interactiveMode")
    if not mode:
        if api_version.endswith("/v1"):
            raise ConfigError("kubeconfig: exec plugin: interactiveMode must be specified for v1")
        mode = "IfAvailable"
    extension = None
    for ext in cluster.get("extensions") or ():
        if isinstance(ext, dict) and ext.get("name") == "client.authentication.k8s.io/exec":
            extension = ext.get("extension")
    return ExecConfig(
        command=command,
        args=[str(a) for a in data.get("args") or ()],
        env=env,
        api_version=api_version,
        provide_cluster_info=bool(data.get("provideClusterInfo")),
        interactive_mode=str(mode),
        install_hint=data.get("installHint"),
        cluster_config=extension,
    )


def load_kubeconfig(path: PathLike | Sequence[PathLike] | None = None, context: str | None = None) -> Config:
    """A Config from kubeconfig file(s): ``path`` (one or several), else ``$KUBECONFIG``, else
    ``~/.kube/config``; the context is ``context`` or the file's ``current-context``."""
    if path is None:
        paths: list[PathLike] = list(default_kubeconfig_paths())
    elif isinstance(path, (str, os.PathLike)):
        paths = [path]
        if not Path(path).expanduser().exists():
            raise ConfigError(f"kubeconfig {path} does not exist")
    else:
        paths = list(path)
    merged = merge_kubeconfigs(paths)
    return config_from_kubeconfig(merged, context, source=os.pathsep.join(map(str, paths)))


def config_from_kubeconfig(
    merged: Mapping[str, Any], context: str | None = None, *, source: str = "kubeconfig"
) -> Config:
    """A Config from merged kubeconfig data (see :func:`merge_kubeconfigs`)."""
    context_name = context or merged.get("current-context")
    if not context_name:
        raise ConfigError(f"{source}: no context chosen and no current-context set")
    ctx = merged["contexts"].get(context_name)
    if ctx is None:
        raise ConfigError(f"{source}: context {context_name!r} does not exist")
    cluster = merged["clusters"].get(ctx.get("cluster"))
    if cluster is None:
        raise ConfigError(
            f"{source}: cluster {ctx.get('cluster')!r} of context {context_name!r} does not exist"
        )
    user_name = ctx.get("user")
    user = merged["users"].get(user_name, {}) if user_name else {}
    server = cluster.get("server")
    if not server:
        raise ConfigError(f"{source}: cluster {ctx.get('cluster')!r} has no server")

    ca_data = None
    if cluster.get("certificate-authority-data"):
        ca_data = _b64(cluster["certificate-authority-data"], "certificate-authority-data")
    cert_data = (
        _b64(user["client-certificate-data"], "client-certificate-data")
        if user.get("client-certificate-data")
        else None
    )
    key_data = _b64(user["client-key-data"], "client-key-data") if user.get("client-key-data") else None

    impersonate = None
    if user.get("as") or user.get("as-uid") or user.get("as-groups") or user.get("as-user-extra"):
        impersonate = ImpersonationConfig(
            user_name=str(user.get("as") or ""),
            uid=str(user.get("as-uid") or ""),
            groups=[str(g) for g in user.get("as-groups") or ()],
            extra={str(k): [str(x) for x in v] for k, v in (user.get("as-user-extra") or {}).items()},
        )
    if user.get("auth-provider"):
        raise ConfigError(
            f"{source}: user {user_name!r} uses auth-provider, which pyclientgo does not support; "
            "use an exec plugin instead"
        )
    exec_cfg = _exec_config(user["exec"], cluster) if user.get("exec") else None

    return Config(
        host=str(server),
        bearer_token=user.get("token") or None,
        bearer_token_file=user.get("tokenFile") or None,
        username=user.get("username") or None,
        password=user.get("password") or None,
        client_cert_data=cert_data,
        client_key_data=key_data,
        client_cert_file=user.get("client-certificate") or None,
        client_key_file=user.get("client-key") or None,
        ca_data=ca_data,
        ca_file=None if ca_data else cluster.get("certificate-authority") or None,
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify")),
        tls_server_name=cluster.get("tls-server-name") or None,
        proxy_url=cluster.get("proxy-url") or None,
        exec_provider=exec_cfg,
        impersonate=impersonate,
        namespace=str(ctx.get("namespace") or "default"),
    )


def load_incluster_config(service_account_dir: PathLike | None = None) -> Config:
    """A Config for a process running in a pod: the service host/port from the environment, the
    service account's token (re-read as it rotates), CA and namespace from ``service_account_dir``."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    port = os.environ.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        raise ConfigError(
            "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
            "KUBERNETES_SERVICE_PORT must be defined"
        )
    root = Path(service_account_dir or SERVICE_ACCOUNT_DIR)
    token_file = root / "token"
    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"unable to read the service account token {token_file}: {exc}") from exc
    ca_file = root / "ca.crt"
    try:
        namespace = (root / "namespace").read_text(encoding="utf-8").strip() or "default"
    except OSError:
        namespace = "default"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return Config(
        host=f"https://{host}:{port}",
        bearer_token=token,
        bearer_token_file=str(token_file),
        ca_file=str(ca_file) if ca_file.exists() else None,
        namespace=namespace,
    )


def load_config(
    kubeconfig: PathLike | Sequence[PathLike] | None = None, context: str | None = None
) -> Config:
    """The client-go default: the kubeconfig given, else ``$KUBECONFIG`` / ``~/.kube/config`` when
    such a file exists, else the in-cluster config."""
    if kubeconfig is not None:
        return load_kubeconfig(kubeconfig, context)
    paths = default_kubeconfig_paths()
    if any(p.exists() for p in paths):
        return load_kubeconfig(paths, context)
    if os.environ.get("KUBERNETES_SERVICE_HOST") and os.environ.get("KUBERNETES_SERVICE_PORT"):
        return load_incluster_config()
    raise ConfigError(
        "no configuration found: set KUBECONFIG, create ~/.kube/config, or run inside a cluster"
    )
