"""httpx ``Auth`` flows, one per kind of credential, and :func:`auth_for` to pick one from a Config.

Each flow works for both ``httpx.Client`` and ``httpx.AsyncClient``. Flows that may re-send a request
after a 401 only do so when the body can be replayed (bytes, not a stream).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator

import httpx

from pyclientgo.config._exec import ExecCluster, ExecCredential, ExecCredentialProvider
from pyclientgo.config._types import Config
from pyclientgo.errors import ConfigError

__all__ = ["BearerTokenAuth", "ExecAuth", "TokenFileAuth", "auth_for"]

TOKEN_FILE_CACHE_SECONDS = 60.0


def _replayable(request: httpx.Request) -> bool:
    return isinstance(request.stream, httpx.ByteStream)


def _bearer(request: httpx.Request, token: str) -> None:
    request.headers["Authorization"] = f"Bearer {token}"


class BearerTokenAuth(httpx.Auth):
    """A static bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _bearer(request, self.token)
        yield request


class TokenFileAuth(httpx.Auth):
    """A bearer token read from a file, re-read at most every ``cache_seconds`` and after a 401.

    Like client-go's cached file token source: a rotated token (projected service account token)
    is picked up within a minute; while the file cannot be read the last good token (or
    ``fallback``) is used.
    """

    def __init__(
        self,
        path: str,
        *,
        fallback: str | None = None,
        cache_seconds: float = TOKEN_FILE_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._token = fallback
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def _read(self) -> str | None:
        try:
            with open(self.path, encoding="utf-8") as f:
                token = f.read().strip()
        except OSError:
            token = ""
        if token:
            self._token = token
        self._read_at = self._clock()
        return self._token

    def token(self, *, force: bool = False) -> str | None:
        """The current token, re-reading the file when the cache is older than ``cache_seconds``."""
        with self._lock:
            if force or self._read_at is None or self._clock() - self._read_at >= self._cache_seconds:
                return self._read()
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        if token:
            _bearer(request, token)
        response = yield request
        if response.status_code == 401 and _replayable(request):
            fresh = self.token(force=True)
            if fresh and fresh != token:
                _bearer(request, fresh)
                yield request


class ExecAuth(httpx.Auth):
    """Credentials from an exec plugin: cached until they expire, re-run once after a 401.

    A token goes in the ``Authorization`` header. A client certificate is not something an auth flow
    can apply: the REST client's transport reads it from :attr:`provider` (see ``pyclientgo.rest``).
    """

    def __init__(self, provider: ExecCredentialProvider) -> None:
        self.provider = provider

    @staticmethod
    def _apply(request: httpx.Request, cred: ExecCredential) -> None:
        if cred.token:
            _bearer(request, cred.token)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        cred = self.provider.get()
        self._apply(request, cred)
        response = yield request
        if response.status_code == 401:
            fresh = self.provider.refresh(cred)
            if fresh is not cred and _replayable(request):
                self._apply(request, fresh)
                yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        cred = await asyncio.to_thread(self.provider.get)
        self._apply(request, cred)
        response = yield request
        if response.status_code == 401:
            fresh = await asyncio.to_thread(self.provider.refresh, cred)
            if fresh is not cred and _replayable(request):
                self._apply(request, fresh)
                yield request


def exec_provider_for(config: Config) -> ExecCredentialProvider | None:
    """A new credential provider for ``config.exec_provider`` (None without one)."""
    if config.exec_provider is None:
        return None
    cluster = ExecCluster(
        server=config.host,
        tls_server_name=config.tls_server_name,
        insecure_skip_tls_verify=config.insecure_skip_tls_verify,
        ca_data=config.ca_data,
        proxy_url=config.proxy_url,
        config=config.exec_provider.cluster_config,
    )
    return ExecCredentialProvider(config.exec_provider, cluster)


def auth_for(config: Config) -> httpx.Auth | None:
    """The auth flow for a Config: exec plugin, else token file, else token, else basic auth."""
    has_token = bool(config.bearer_token or config.bearer_token_file)
    has_basic = bool(config.username or config.password)
    if has_token and has_basic:
        raise ConfigError("username/password or bearer token may be set, but not both")
    provider = exec_provider_for(config)
    if provider is not None:
        return ExecAuth(provider)
    if config.bearer_token_file:
        return TokenFileAuth(config.bearer_token_file, fallback=config.bearer_token)
    if config.bearer_token:
        return BearerTokenAuth(config.bearer_token)
    if has_basic:
        return httpx.BasicAuth(config.username or "", config.password or "")
    return None
