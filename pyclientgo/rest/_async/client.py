"""``AsyncRESTClient``: rate-limited, retrying HTTP to the API server, with JSON-lines watch decoding."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying, stop_after_attempt

from pyclientgo.clock import AsyncClock, AsyncSystemClock
from pyclientgo.config import Config, ExecAuth, auth_for, ssl_context_for
from pyclientgo.errors import error_from_response
from pyclientgo.rest._async.flowcontrol import AsyncRateLimiter, rate_limiter_for
from pyclientgo.rest._async.transport import AsyncExecCertTransport
from pyclientgo.rest._request import Body, QueryParams, build_url, encode_body, encode_query, header_list
from pyclientgo.rest._retry import (
    Retry,
    is_connection_reset,
    retry_after_for_response,
    retry_wait,
    should_retry,
    transport_error,
)
from pyclientgo.rest._watch import WatchDecoder, WatchEvent

__all__ = ["AsyncRESTClient"]

T = TypeVar("T")

#: Connection pool sized for controllers: every watch holds a connection, so there is no cap on
#: connections. Idle ones are not capped either, only expired after 90 s: httpcore compares *all*
#: connections (watches included) with ``max_keepalive_connections``, so a cap such as client-go's
#: MaxIdleConnsPerHost (25) closed the idle connection after every request of a client holding more
#: than 25 watches, and each next request paid a new TLS handshake.
DEFAULT_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=None, keepalive_expiry=90.0)
#: Connect timeout when the Config sets no timeout.
CONNECT_TIMEOUT = 30.0
#: Added to a watch's ``timeoutSeconds`` to get its read timeout (a silent, half-open watch ends).
WATCH_READ_GRACE = 30.0


class AsyncRESTClient:
    """HTTP to one API server as a :class:`~pyclientgo.config.Config` describes it.

    Every request waits on the client-side rate limiter, is retried as client-go retries (see
    ``pyclientgo.rest._retry``) and raises an :class:`~pyclientgo.errors.ApiError` subclass for a
    non-2xx answer or a :class:`~pyclientgo.errors.TransportError` when no answer came.
    """

    def __init__(
        self,
        config: Config,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limiter: AsyncRateLimiter | None = None,
        clock: AsyncClock | None = None,
    ) -> None:
        """``transport`` replaces the network (tests); ``rate_limiter`` replaces the Config's token
        bucket; ``clock`` is used for rate limiting and retry sleeps."""
        self.config = config
        self.clock: AsyncClock = clock if clock is not None else AsyncSystemClock()
        self.rate_limiter: AsyncRateLimiter | None = (
            rate_limiter
            if rate_limiter is not None
            else rate_limiter_for(config.qps, config.burst, clock=self.clock)
        )
        self.max_retries = config.max_retries
        auth = auth_for(config)
        if transport is None and isinstance(auth, ExecAuth):
            transport = AsyncExecCertTransport(config, auth.provider, DEFAULT_LIMITS)
        secure = config.host.startswith("https:")
        self._timeout = httpx.Timeout(
            config.timeout, connect=config.timeout if config.timeout is not None else CONNECT_TIMEOUT
        )
        self._http = httpx.AsyncClient(
            auth=auth,
            headers=header_list(config),
            timeout=self._timeout,
            limits=DEFAULT_LIMITS,
            verify=ssl_context_for(config) if secure and transport is None else True,
            proxy=config.proxy_url if transport is None else None,
            transport=transport,
            follow_redirects=False,
        )
        self._extensions: dict[str, Any] = {}
        if config.tls_server_name:
            self._extensions["sni_hostname"] = config.tls_server_name

    def url(self, path: str) -> str:
        """The absolute URL of an API path."""
        return build_url(self.config.host, path)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None,
        body: Body | AsyncIterable[bytes] | None,
        content_type: str | None,
        accept: str | None,
        headers: Mapping[str, str] | None,
        timeout: httpx.Timeout | float | None,
        stream: bool,
    ) -> httpx.Response:
        method = method.upper()
        url = self.url(path)
        content, replayable = encode_body(body)
        request_headers: dict[str, str] = {}
        if accept:
            request_headers["Accept"] = accept
        if body is not None:
            request_headers["Content-Type"] = content_type or "application/json"
        if headers:
            request_headers.update(headers)
        query = encode_query(params)
        request_timeout = self._timeout if timeout is None else timeout
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1 if replayable else 1),
            wait=retry_wait,
            retry=should_retry,
            sleep=self.clock.sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if self.rate_limiter is not None:
                        await self.rate_limiter.wait()
                    request = self._http.build_request(
                        method,
                        url,
                        params=query,
                        content=content if replayable else body,  # type: ignore[arg-type]
                        headers=request_headers,
                        timeout=request_timeout,
                        extensions=self._extensions,
                    )
                    try:
                        response = await self._http.send(request, stream=True)
                    except httpx.TransportError as exc:
                        error = transport_error(exc, method, url)
                        if method == "GET" and is_connection_reset(exc):
                            error.__cause__ = exc
                            raise Retry(error, 1.0) from exc
                        raise error from exc
                    if response.is_success:
                        if not stream:
                            await self._read(response, method, url)
                        return response
                    data = await self._read(response, method, url)
                    await response.aclose()
                    api_error = error_from_response(
                        response.status_code, response.headers, data, method=method, url=url
                    )
                    delay = retry_after_for_response(response.status_code, response.headers)
                    if delay is not None:
                        raise Retry(api_error, float(delay))
                    raise api_error
        except Retry as signal:
            raise signal.error from signal.error.__cause__
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    async def _read(response: httpx.Response, method: str, url: str) -> bytes:
        try:
            return await response.aread()
        except httpx.TransportError as exc:
            await response.aclose()
            raise transport_error(exc, method, url) from exc

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        body: Body | AsyncIterable[bytes] | None = None,
        content_type: str | None = None,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send a request and read the whole answer. ``body`` is bytes, text, JSON-ready data or a
        model (JSON, retried when the server asks) or a byte stream (never retried)."""
        return await self._send(
            method,
            path,
            params=params,
            body=body,
            content_type=content_type,
            accept=accept,
            headers=headers,
            timeout=timeout,
            stream=False,
        )

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Send a request; yield the answer before its body is read (watches, log follow)."""
        response = await self._send(
            method,
            path,
            params=params,
            body=None,
            content_type=None,
            accept=accept,
            headers=headers,
            timeout=timeout,
            stream=True,
        )
        try:
            yield response
        finally:
            await response.aclose()

    async def watch(
        self, path: str, params: QueryParams | None, decode: Callable[[bytes], T]
    ) -> AsyncIterator[WatchEvent[T]]:
        """Watch ``path``: yields events until the server ends the stream.

        ``params`` pass through (resourceVersion, timeoutSeconds, allowWatchBookmarks,
        sendInitialEvents, resourceVersionMatch, labelSelector, fieldSelector); ``watch=true`` is
        added. ``decode`` turns an event object's raw JSON bytes into ``T``. An ERROR event raises
        its ApiError (410 → ResourceExpired / Gone). Leaving the loop early leaves the stream open
        until the generator is closed: use ``contextlib.aclosing`` (or ``aclose()``) to close it at once.
        """
        query: dict[str, Any] = dict(params or {})
        query["watch"] = True
        timeout_seconds = query.get("timeoutSeconds")
        read = float(timeout_seconds) + WATCH_READ_GRACE if timeout_seconds else None
        timeout = httpx.Timeout(read, connect=self._timeout.connect)
        decoder = WatchDecoder(decode)
        url = self.url(path)
        async with self.stream("GET", path, params=query, timeout=timeout) as response:
            try:
                async for chunk in response.aiter_bytes():
                    for event in decoder.feed(chunk):
                        yield event
            except httpx.TransportError as exc:
                raise transport_error(exc, "GET", url) from exc
            for event in decoder.close():
                yield event

    async def aclose(self) -> None:
        """Close every connection."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRESTClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
