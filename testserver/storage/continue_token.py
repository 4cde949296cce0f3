"""Opaque list continue tokens, byte-compatible with Kubernetes'.

A token is the unpadded URL-safe base64 of ``{"v":"meta.k8s.io/v1","rv":N,"start":"<key>"}``
where ``rv`` is the snapshot revision of the first page and ``start`` is the key the next
page starts at, relative to the listed prefix (Kubernetes' ``k8s.io/apiserver/pkg/storage``
``EncodeContinue``/``DecodeContinue``). ``rv`` is ``-1`` (:data:`CONTINUE_FROM_LATEST`) in the
token that a 410 for an expired token carries: the next page is read from the latest state (an
inconsistent list), as in Kubernetes. Decoding defends against a client steering the start
key outside the listed prefix (``..`` segments), as Kubernetes does.

Typical use in a list handler::

    start, rv = decode_continue(token, prefix)           # InvalidContinue → 400
    page = await storage.list(prefix, revision=rv, limit=limit, continue_key=start)
    token = encode_continue(page.next_key, prefix, page.revision) if page.more else ""
"""

from __future__ import annotations

import base64
import binascii
import posixpath

import orjson

from testserver.storage.errors import InvalidContinue

__all__ = ["API_VERSION", "CONTINUE_FROM_LATEST", "decode_continue", "encode_continue"]

API_VERSION = "meta.k8s.io/v1"
CONTINUE_FROM_LATEST = -1
"""The revision of an inherited token (given with a 410 Expired): list from the latest state."""


def encode_continue(key: str, key_prefix: str, revision: int) -> str:
    """The token for a next page starting at ``key`` (inside ``key_prefix``) of the snapshot ``revision``
    (:data:`CONTINUE_FROM_LATEST` for "whatever is current when the next page is asked for")."""
    if not key.startswith(key_prefix) or key == key_prefix:
        raise InvalidContinue(f"continue key {key!r} is not inside prefix {key_prefix!r}")
    if revision <= 0 and revision != CONTINUE_FROM_LATEST:
        raise InvalidContinue(f"continue revision must be positive (or CONTINUE_FROM_LATEST), got {revision}")
    data = orjson.dumps({"v": API_VERSION, "rv": revision, "start": key[len(key_prefix) :]})
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_continue(token: str, key_prefix: str) -> tuple[str, int]:
    """``(start key, revision)`` of a token produced by :func:`encode_continue` for ``key_prefix``;
    the revision is :data:`CONTINUE_FROM_LATEST` (-1) for an inherited token.

    Raises :class:`~testserver.storage.errors.InvalidContinue` for anything malformed.
    """
    try:
        raw = token.encode("ascii")
        data = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
        obj = orjson.loads(data)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise InvalidContinue(f"continue key is not valid: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidContinue("continue key is not valid: not a JSON object")
    version = obj.get("v")
    if version != API_VERSION:
        raise InvalidContinue(f"continue key is not valid: unrecognized encoded version {version!r}")
    rv = obj.get("rv")
    if not isinstance(rv, int) or isinstance(rv, bool) or (rv <= 0 and rv != CONTINUE_FROM_LATEST):
        raise InvalidContinue(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        )
    start = obj.get("start")
    if not isinstance(start, str) or not start:
        raise InvalidContinue("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)")
    # Same defence as Kubernetes: the cleaned, rooted path must equal the given one, so the
    # start key cannot climb above key_prefix.
    rooted = start if start.startswith("/") else "/" + start
    if posixpath.normpath(rooted) != rooted or rooted.startswith("//"):
        raise InvalidContinue(f"continue key is not valid: {start!r}")
    return key_prefix + rooted[1:], rv
