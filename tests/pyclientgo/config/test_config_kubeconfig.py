from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
import yaml

from pyclientgo.config import (
    Config,
    load_config,
    load_incluster_config,
    load_kubeconfig,
    merge_kubeconfigs,
)
from pyclientgo.errors import ConfigError


def write(path: Path, data: dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def kubeconfig(
    *,
    current: str | None,
    clusters: dict[str, dict[str, object]],
    users: dict[str, dict[str, object]],
    contexts: dict[str, dict[str, object]],
) -> dict[str, object]:
    data: dict[str, object] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": k, "cluster": v} for k, v in clusters.items()],
        "users": [{"name": k, "user": v} for k, v in users.items()],
        "contexts": [{"name": k, "context": v} for k, v in contexts.items()],
    }
    if current:
        data["current-context"] = current
    return data


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_single_file_with_data_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config",
        kubeconfig(
            current="dev",
            clusters={
                "c": {
                    "server": "https://1.2.3.4:6443",
                    "certificate-authority-data": b64(b"CA PEM"),
                    "tls-server-name": "kubernetes",
                    "proxy-url": "http://proxy:3128",
                }
            },
            users={"u": {"client-certificate-data": b64(b"CERT"), "client-key-data": b64(b"KEY")}},
            contexts={"dev": {"cluster": "c", "user": "u", "namespace": "team"}},
        ),
    )
    cfg = load_kubeconfig(path)
    assert cfg.host == "https://1.2.3.4:6443"
    assert cfg.ca_data == b"CA PEM" and cfg.ca_file is None
    assert cfg.client_cert_data == b"CERT" and cfg.client_key_data == b"KEY"
    assert cfg.tls_server_name == "kubernetes" and cfg.proxy_url == "http://proxy:3128"
    assert cfg.namespace == "team"
    assert cfg.qps == 5.0 and cfg.burst == 10


def test_relative_paths_resolve_against_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "sub" / "config",
        kubeconfig(
            current="x",
            clusters={"c": {"server": "https://h", "certificate-authority": "ca.crt"}},
            users={
                "u": {
                    "client-certificate": "certs/u.crt",
                    "client-key": "/abs/u.key",
                    "tokenFile": "tok",
                    "exec": {
                        "command": "./bin/plugin",
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "interactiveMode": "Never",
                    },
                }
            },
            contexts={"x": {"cluster": "c", "user": "u"}},
        ),
    )
    base = str(tmp_path.resolve() / "sub")
    cfg = load_kubeconfig(path)
    assert cfg.ca_file == os.path.join(base, "ca.crt")
    assert cfg.client_cert_file == os.path.join(base, "certs/u.crt")
    assert cfg.client_key_file == "/abs/u.key"
    assert cfg.bearer_token_file == os.path.join(base, "tok")
    assert cfg.exec_provider is not None
    assert cfg.exec_provider.command == os.path.join(base, "bin/plugin")
    assert cfg.namespace == "default"


def test_kubeconfig_env_merges_first_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write(
        tmp_path / "a" / "config",
        kubeconfig(
            current=None,
            clusters={"shared": {"server": "https://first"}},
            users={"u1": {"token": "t1"}},
            contexts={"one": {"cluster": "shared", "user": "u1", "namespace": "n1"}},
        ),
    )
    second = write(
        tmp_path / "b" / "config",
        kubeconfig(
            current="two",
            clusters={"shared": {"server": "https://second"}, "other": {"server": "https://other"}},
            users={"u1": {"token": "ignored"}, "u2": {"username": "bob", "password": "pw"}},
            contexts={"two": {"cluster": "other", "user": "u2"}, "one": {"cluster": "other"}},
        ),
    )
    third = write(tmp_path / "c" / "config", {"current-context": "one"})
    missing = tmp_path / "missing"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(map(str, [first, missing, "", second, third])))
    cfg = load_config()
    # current-context comes from the first file setting it (the second).
    assert cfg.host == "https://other" and cfg.username == "bob" and cfg.password == "pw"
    one = load_config(context="one")
    assert one.host == "https://first" and one.bearer_token == "t1" and one.namespace == "n1"
    merged = merge_kubeconfigs([first, second])
    assert merged["clusters"]["shared"]["server"] == "https://first"
    assert merged["current-context"] == "two"


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_kubeconfig(tmp_path / "nope")
    path = write(tmp_path / "config", kubeconfig(current=None, clusters={}, users={}, contexts={}))
    with pytest.raises(ConfigError, match="current-context"):
        load_kubeconfig(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_kubeconfig(path, context="ghost")
    bad = tmp_path / "bad"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ConfigError):
        load_kubeconfig(bad)
    v1_no_mode = write(
        tmp_path / "v1",
        kubeconfig(
            current="x",
            clusters={"c": {"server": "https://h"}},
            users={"u": {"exec": {"command": "p", "apiVersion": "client.authentication.k8s.io/v1"}}},
            contexts={"x": {"cluster": "c", "user": "u"}},
        ),
    )
    with pytest.raises(ConfigError, match="interactiveMode"):
        load_kubeconfig(v1_no_mode)


def test_exec_config_parsed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config",
        kubeconfig(
            current="x",
            clusters={
                "c": {
                    "server": "https://h",
                    "extensions": [
                        {"name": "client.authentication.k8s.io/exec", "extension": {"audience": "k8s"}}
                    ],
                }
            },
            users={
                "u": {
                    "exec": {
                        "command": "plugin",
                        "args": ["get", "token"],
                        "env": [{"name": "A", "value": "1"}],
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "provideClusterInfo": True,
                    }
                }
            },
            contexts={"x": {"cluster": "c", "user": "u"}},
        ),
    )
    ex = load_kubeconfig(path).exec_provider
    assert ex is not None
    assert ex.command == "plugin" and ex.args == ["get", "token"] and ex.env == {"A": "1"}
    assert ex.api_version.endswith("v1beta1") and ex.interactive_mode == "IfAvailable"
    assert ex.provide_cluster_info and ex.cluster_config == {"audience": "k8s"}


def incluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str = "10.0.0.1") -> Path:
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token\n")
    (sa / "ca.crt").write_text("CA")
    (sa / "namespace").write_text("kube-system")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    return sa


def test_incluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sa = incluster(tmp_path, monkeypatch)
    cfg = load_incluster_config(sa)
    assert cfg.host == "https://10.0.0.1:443"
    assert cfg.bearer_token == "sa-token" and cfg.bearer_token_file == str(sa / "token")
    assert cfg.ca_file == str(sa / "ca.crt") and cfg.namespace == "kube-system"
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    assert load_incluster_config(sa).host == "https://[fd00::1]:443"


def test_incluster_requires_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ConfigError, match="KUBERNETES_SERVICE_HOST"):
        load_incluster_config(tmp_path)


def test_load_config_falls_back_to_incluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sa = incluster(tmp_path, monkeypatch)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "does-not-exist"))
    monkeypatch.setattr("pyclientgo.config._kubeconfig.SERVICE_ACCOUNT_DIR", str(sa))
    assert load_config().namespace == "kube-system"
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    with pytest.raises(ConfigError, match="no configuration"):
        load_config()


def test_config_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        Config("https://h")  # type: ignore[misc]
    cfg = Config(host="https://h")
    assert cfg.copy(qps=1.0).qps == 1.0 and cfg.qps == 5.0
