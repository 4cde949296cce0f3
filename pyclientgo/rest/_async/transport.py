"""An httpx transport that presents the client certificate an exec plugin returned.

The exec auth flow runs (or reuses) the plugin before each request; this transport reads the
credential it cached and, when the certificate changed, builds a new connection pool with it. Pools
of older certificates stay open until the client closes (a running watch keeps its connection).
"""

from __future__ import annotations

import httpx

from pyclientgo.config import Config, ExecCredentialProvider, ssl_context_for

__all__ = ["AsyncExecCertTransport"]


class AsyncExecCertTransport(httpx.AsyncBaseTransport):
    def __init__(self, config: Config, provider: ExecCredentialProvider, limits: httpx.Limits) -> None:
        self._config = config
        self._provider = provider
        self._limits = limits
        self._key: tuple[bytes, bytes] | None = None
        self._current: httpx.AsyncBaseTransport | None = None
        self._old: list[httpx.AsyncBaseTransport] = []

    def _transport(self) -> httpx.AsyncBaseTransport:
        cred = self._provider.cached()
        key = None
        if cred is not None and cred.client_certificate_data and cred.client_key_data:
            key = (cred.client_certificate_data, cred.client_key_data)
        if self._current is None or key != self._key:
            if self._current is not None:
                self._old.append(self._current)
            verify = ssl_context_for(self._config, client_cert=key)
            self._current = httpx.AsyncHTTPTransport(
                verify=verify, limits=self._limits, proxy=self._config.proxy_url
            )
            self._key = key
        return self._current

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport().handle_async_request(request)

    async def aclose(self) -> None:
        transports = [*self._old, *([self._current] if self._current is not None else [])]
        self._old, self._current = [], None
        for transport in transports:
            await transport.aclose()
