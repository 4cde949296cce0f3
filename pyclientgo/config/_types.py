"""The client configuration: :class:`Config` and the exec-plugin and impersonation settings in it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Config", "ExecConfig", "ImpersonationConfig"]


@dataclass(kw_only=True, slots=True)
class ExecConfig:
    """An exec credential plugin (kubeconfig ``users[].user.exec``)."""

    command: str
    """The program to run (a path relative to the kubeconfig's directory is resolved against it)."""

    args: list[str] = field(default_factory=list)
    """Arguments passed to the command."""

    env: dict[str, str] = field(default_factory=dict)
    """Extra environment variables for the command (added to this process's environment)."""

    api_version: str = "client.authentication.k8s.io/v1"
    """ExecCredential version asked for: ``client.authentication.k8s.io/v1`` or ``.../v1beta1``."""

    provide_cluster_info: bool = False
    """Put the cluster (server, CA, ...) in ``KUBERNETES_EXEC_INFO`` for the plugin."""

    interactive_mode: str = "IfAvailable"
    """``Never``, ``IfAvailable`` or ``Always``. pyclientgo never gives the plugin a terminal, so
    ``Always`` fails and the other two run non-interactively."""

    install_hint: str | None = None
    """Shown in the error when the command cannot be found."""

    cluster_config: Any = None
    """``clusters[].cluster.extensions[client.authentication.k8s.io/exec].extension``, passed through."""


@dataclass(kw_only=True, slots=True)
class ImpersonationConfig:
    """Act as another user (``Impersonate-*`` headers)."""

    user_name: str = ""
    """``Impersonate-User``."""

    uid: str = ""
    """``Impersonate-Uid``."""

    groups: list[str] = field(default_factory=list)
    """One ``Impersonate-Group`` header each."""

    extra: dict[str, list[str]] = field(default_factory=dict)
    """``Impersonate-Extra-<key>`` headers."""


@dataclass(kw_only=True, slots=True)
class Config:
    """How to reach and authenticate to an API server (client-go's ``rest.Config``).

    Build one by hand, or with :func:`pyclientgo.config.load_config`, ``load_kubeconfig`` or
    ``load_incluster_config``. Durations are float seconds.
    """

    host: str
    """Base URL of the API server, e.g. ``https://127.0.0.1:6443``; may carry a path prefix."""

    bearer_token: str | None = None
    """A static bearer token. When :attr:`bearer_token_file` is also set, the file wins and this is
    only used while the file cannot be read."""

    bearer_token_file: str | None = None
    """A file holding the bearer token; re-read at most once a minute (and after a 401) so rotated
    tokens (projected service-account tokens) are picked up."""

    username: str | None = None
    """HTTP basic auth user."""

    password: str | None = None
    """HTTP basic auth password."""

    client_cert_data: bytes | None = None
    """PEM client certificate (not base64: the decoded PEM bytes)."""

    client_key_data: bytes | None = None
    """PEM client private key."""

    client_cert_file: str | None = None
    """Path of a PEM client certificate."""

    client_key_file: str | None = None
    """Path of a PEM client private key."""

    ca_data: bytes | None = None
    """PEM bundle of CAs trusted for the server certificate (replaces the system roots)."""

    ca_file: str | None = None
    """Path of a PEM CA bundle (replaces the system roots)."""

    insecure_skip_tls_verify: bool = False
    """Do not verify the server certificate. For tests only."""

    tls_server_name: str | None = None
    """Name to send as SNI and to verify the server certificate against, instead of the host's."""

    proxy_url: str | None = None
    """HTTP(S) proxy for every request. None uses the ``HTTPS_PROXY``/``NO_PROXY`` environment."""

    exec_provider: ExecConfig | None = None
    """Run this credential plugin to get a token or a client certificate."""

    impersonate: ImpersonationConfig | None = None
    """Act as another user."""

    qps: float = 5.0
    """Client-side rate limit, requests per second (token bucket). 0 means the default 5; a negative
    value disables rate limiting."""

    burst: int = 10
    """Token bucket size (requests allowed at once after a quiet period). 0 means the default 10."""

    timeout: float | None = None
    """Timeout of each request in seconds; None for none (watches and log streams run long)."""

    user_agent: str | None = None
    """User-Agent header; None gives ``pyclientgo/<version>``."""

    namespace: str = "default"
    """The current namespace (from the kubeconfig context or the service account)."""

    max_retries: int = 10
    """How many times a request that the server asked to retry (429/5xx with Retry-After) is retried."""

    def copy(self, **changes: Any) -> Config:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)
