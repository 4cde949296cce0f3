"""Exec credential plugins (client.authentication.k8s.io v1 and v1beta1).

The plugin is run with ``subprocess`` (blocking; the async auth flow runs it in a worker thread).
Its ExecCredential is cached until ``status.expirationTimestamp`` (forever when absent) and re-run
when the server rejects the credential with a 401.
"""

from __future__ import annotations

import base64
import datetime as _dt
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from pyclientgo.config._types import ExecConfig
from pyclientgo.errors import ExecPluginError

__all__ = ["ExecCluster", "ExecCredential", "ExecCredentialProvider"]

SUPPORTED_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")


@dataclass(frozen=True, slots=True)
class ExecCluster:
    """What ``provideClusterInfo`` hands the plugin (``spec.cluster`` of KUBERNETES_EXEC_INFO)."""

    server: str
    tls_server_name: str | None = None
    insecure_skip_tls_verify: bool = False
    ca_data: bytes | None = None
    proxy_url: str | None = None
    config: Any = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"server": self.server}
        if self.tls_server_name:
            out["tls-server-name"] = self.tls_server_name
        if self.insecure_skip_tls_verify:
            out["insecure-skip-tls-verify"] = True
        if self.ca_data:
            out["certificate-authority-data"] = base64.b64encode(self.ca_data).decode()
        if self.proxy_url:
            out["proxy-url"] = self.proxy_url
        if self.config is not None:
            out["config"] = self.config
        return out


@dataclass(frozen=True, slots=True)
class ExecCredential:
    """The ``status`` of an ExecCredential the plugin printed."""

    token: str | None = None
    client_certificate_data: bytes | None = None
    client_key_data: bytes | None = None
    expiration: float | None = None
    """Expiry as a UNIX timestamp (seconds), None when the credential does not expire."""


def _parse_time(value: str) -> float:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ExecPluginError(f"exec plugin: invalid expirationTimestamp {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    return parsed.timestamp()


def parse_exec_credential(output: bytes, api_version: str) -> ExecCredential:
    """Decode the plugin's stdout and check it answers the version that was asked for."""
    try:
        data = orjson.loads(output)
    except orjson.JSONDecodeError as exc:
        raise ExecPluginError(f"exec plugin: output is not JSON: {output[:200]!r}") from exc
    if not isinstance(data, dict) or data.get("kind") != "ExecCredential":
        raise ExecPluginError("exec plugin: output is not an ExecCredential")
    if data.get("apiVersion") != api_version:
        raise ExecPluginError(
            f"exec plugin is configured to use API version {api_version}, "
            f"plugin returned version {data.get('apiVersion')}"
        )
    status = data.get("status")
    if not isinstance(status, dict):
        raise ExecPluginError("exec plugin didn't return a status field")
    token = status.get("token") or None
    cert = status.get("clientCertificateData") or None
    key = status.get("clientKeyData") or None
    if token is None and cert is None:
        raise ExecPluginError("exec plugin didn't return a token or cert/key pair")
    if (cert is None) != (key is None):
        raise ExecPluginError("exec plugin returned only one of clientCertificateData and clientKeyData")
    expiry = status.get("expirationTimestamp")
    return ExecCredential(
        token=str(token) if token is not None else None,
        client_certificate_data=str(cert).encode() if cert is not None else None,
        client_key_data=str(key).encode() if key is not None else None,
        expiration=_parse_time(str(expiry)) if expiry else None,
    )


class ExecCredentialProvider:
    """Runs an exec plugin and caches its credential; safe to share between threads and clients."""

    def __init__(
        self,
        config: ExecConfig,
        cluster: ExecCluster | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
        timeout: float | None = 60.0,
    ) -> None:
        if config.api_version not in SUPPORTED_API_VERSIONS:
            raise ExecPluginError(f"exec plugin: invalid apiVersion {config.api_version!r}")
        if config.interactive_mode not in ("Never", "IfAvailable", "Always"):
            raise ExecPluginError(f"exec plugin: invalid interactiveMode {config.interactive_mode!r}")
        self.config = config
        self.cluster = cluster
        self._wall_clock = wall_clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._cached: ExecCredential | None = None
        #: How many times the plugin has been run (for tests and metrics).
        self.runs = 0

    def _expired(self, cred: ExecCredential) -> bool:
        return cred.expiration is not None and self._wall_clock() >= cred.expiration

    def cached(self) -> ExecCredential | None:
        """The cached credential, without running anything (may be expired)."""
        return self._cached

    def get(self) -> ExecCredential:
        """The cached credential, or a fresh one from the plugin when there is none or it expired."""
        with self._lock:
            cred = self._cached
            if cred is None or self._expired(cred):
                cred = self._cached = self._run()
            return cred

    def refresh(self, rejected: ExecCredential | None) -> ExecCredential:
        """After a 401: re-run the plugin unless another caller already replaced ``rejected``."""
        with self._lock:
            if self._cached is None or self._cached is rejected or self._expired(self._cached):
                self._cached = self._run()
            return self._cached

    def _exec_info(self) -> bytes:
        spec: dict[str, Any] = {"interactive": False}
        if self.config.provide_cluster_info and self.cluster is not None:
            spec["cluster"] = self.cluster.to_wire()
        return orjson.dumps({"apiVersion": self.config.api_version, "kind": "ExecCredential", "spec": spec})

    def _run(self) -> ExecCredential:
        cfg = self.config
        if cfg.interactive_mode == "Always":
            raise ExecPluginError(
                "exec plugin cannot support interactive mode: standard input is not a terminal"
            )
        if shutil.which(cfg.command) is None and not os.path.isfile(cfg.command):
            hint = f"\n\n{cfg.install_hint}" if cfg.install_hint else ""
            raise ExecPluginError(f"exec plugin: executable {cfg.command} not found{hint}")
        env = dict(os.environ)
        env.update(cfg.env)
        env["KUBERNETES_EXEC_INFO"] = self._exec_info().decode()
        self.runs += 1
        try:
            proc = subprocess.run(
                [cfg.command, *cfg.args],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self._timeout,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ExecPluginError(f"exec plugin: running {cfg.command}: {exc}") from exc
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace").strip()[:500]
            raise ExecPluginError(
                f"exec plugin: {cfg.command} exited with status {proc.returncode}: {stderr}"
            )
        return parse_exec_credential(proc.stdout, cfg.api_version)
