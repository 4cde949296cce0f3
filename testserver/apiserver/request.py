"""The request and response values handlers work with (a thin layer over raw ASGI)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson

__all__ = ["JSON", "Request", "Response", "User"]

JSON = b"application/json"


class User:
    __slots__ = ("groups", "name")

    def __init__(self, name: str, groups: tuple[str, ...]) -> None:
        self.name = name
        self.groups = groups


class Request:
    __slots__ = ("_body", "_receive", "headers", "method", "path", "query", "query_multi", "scope", "user")

    def __init__(self, scope: dict[str, Any], receive: Any) -> None:
        self.scope = scope
        self._receive = receive
        self._body: bytes | None = None
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.headers: dict[bytes, bytes] = dict(scope["headers"])
        self.query: dict[str, str] = {}
        self.query_multi: dict[str, list[str]] = {}
        qs = scope.get("query_string") or b""
        if qs:
            for k, v in parse_qsl(qs.decode("latin-1"), keep_blank_values=True):
                self.query[k] = v
                self.query_multi.setdefault(k, []).append(v)
        self.user: User | None = None

    def header(self, name: bytes) -> str:
        value = self.headers.get(name)
        return value.decode("latin-1") if value is not None else ""

    @property
    def content_type(self) -> str:
        return self.header(b"content-type").split(";", 1)[0].strip().lower()

    @property
    def accept(self) -> str:
        return self.header(b"accept")

    async def body(self) -> bytes:
        if self._body is None:
            chunks: list[bytes] = []
            while True:
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            self._body = b"".join(chunks)
        return self._body

    @property
    def receive(self) -> Any:
        return self._receive


class Response:
    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: bytes = JSON,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers

    @classmethod
    def json(cls, status: int, data: Any, headers: list[tuple[bytes, bytes]] | None = None) -> Response:
        return cls(status, orjson.dumps(data), JSON, headers)


class StreamResponse:
    """A streamed body: the app calls ``run(send)`` after sending the headers."""

    __slots__ = ("content_type", "run", "status")

    def __init__(self, status: int, content_type: bytes, run: Any) -> None:
        self.status = status
        self.content_type = content_type
        self.run = run
