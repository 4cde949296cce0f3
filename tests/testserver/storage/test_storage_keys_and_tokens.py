"""Key layout and continue tokens."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from testserver.storage import (
    CONTINUE_FROM_LATEST,
    InvalidContinue,
    decode_continue,
    encode_continue,
    key_for,
    prefix_for,
    storage_resource,
)
from testserver.storage._sortedkeys import SortedKeys


def test_key_layout_matches_kubernetes() -> None:
    assert key_for("pods", "default", "web-0") == "/registry/pods/default/web-0"
    assert key_for("namespaces", None, "default") == "/registry/namespaces/default"
    assert prefix_for("pods") == "/registry/pods/"
    assert prefix_for("pods", "default") == "/registry/pods/default/"
    assert storage_resource("deployments", "apps") == "deployments"
    assert storage_resource("services") == "services/specs"
    assert storage_resource("endpoints") == "services/endpoints"
    assert storage_resource("nodes") == "minions"
    assert storage_resource("ingresses", "networking.k8s.io") == "ingress"
    assert storage_resource("customresourcedefinitions", "apiextensions.k8s.io") == (
        "apiextensions.k8s.io/customresourcedefinitions"
    )
    assert (
        key_for(storage_resource("widgets", "example.com"), "ns", "w") == "/registry/example.com/widgets/ns/w"
    )
    assert key_for(storage_resource("services"), "ns", "s") == "/registry/services/specs/ns/s"


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "a\x00"])
def test_bad_key_segments_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        key_for("pods", "ns", bad)
    if bad:
        with pytest.raises(ValueError):
            prefix_for("pods", bad)


def test_continue_token_is_kubernetes_format() -> None:
    token = encode_continue("/registry/pods/ns/b\x00", "/registry/pods/", 42)
    assert "=" not in token
    raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert raw == {"v": "meta.k8s.io/v1", "rv": 42, "start": "ns/b\x00"}
    assert decode_continue(token, "/registry/pods/") == ("/registry/pods/ns/b\x00", 42)


@given(st.text(alphabet="abcdefghij-.", min_size=1, max_size=20), st.integers(min_value=1, max_value=2**62))
def test_continue_token_round_trip(name: str, rv: int) -> None:
    if name in (".", "..") or name.startswith(".."):
        return
    start = f"/registry/pods/ns/{name}\x00"
    assert decode_continue(encode_continue(start, "/registry/pods/", rv), "/registry/pods/") == (start, rv)


def _token(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "not base64!!",
        "e30",  # {}
        _token([1, 2]),
        _token({"v": "meta.k8s.io/v2", "rv": 1, "start": "a"}),
        _token({"v": "meta.k8s.io/v1", "rv": 0, "start": "a"}),
        _token({"v": "meta.k8s.io/v1", "rv": -2, "start": "a"}),
        _token({"v": "meta.k8s.io/v1", "rv": "1", "start": "a"}),
        _token({"v": "meta.k8s.io/v1", "rv": 1, "start": ""}),
        _token({"v": "meta.k8s.io/v1", "rv": 1, "start": "../secrets/x"}),
        _token({"v": "meta.k8s.io/v1", "rv": 1, "start": "ns/../../secrets"}),
        _token({"v": "meta.k8s.io/v1", "rv": 1, "start": "ns//x"}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_malformed_continue_tokens_are_rejected(token: str) -> None:
    with pytest.raises(InvalidContinue):
        decode_continue(token, "/registry/pods/")


def test_inherited_token_lists_from_latest() -> None:
    token = encode_continue("/registry/pods/ns/b", "/registry/pods/", CONTINUE_FROM_LATEST)
    assert decode_continue(token, "/registry/pods/") == ("/registry/pods/ns/b", CONTINUE_FROM_LATEST)
    with pytest.raises(InvalidContinue):
        encode_continue("/registry/pods/ns/b", "/registry/pods/", 0)


def test_encode_rejects_keys_outside_the_prefix() -> None:
    with pytest.raises(InvalidContinue):
        encode_continue("/registry/secrets/x", "/registry/pods/", 1)


@given(st.lists(st.tuples(st.booleans(), st.text(alphabet="abcxyz/", max_size=6)), max_size=300))
def test_sorted_keys_behaves_like_a_sorted_set(ops: list[tuple[bool, str]]) -> None:
    keys = SortedKeys()
    model: set[str] = set()
    for add, k in ops:
        if add and k not in model:
            keys.add(k)
            model.add(k)
        elif not add:
            keys.discard(k)
            model.discard(k)
    assert list(keys) == sorted(model) and len(keys) == len(model)
    for start in ("", "a", "b/", "z"):
        assert list(keys.iter_from(start)) == [k for k in sorted(model) if k >= start]


def test_sorted_keys_splits_large_sublists() -> None:
    keys = SortedKeys()
    for i in reversed(range(5000)):
        keys.add(f"{i:05}")
    for i in range(0, 5000, 2):
        keys.discard(f"{i:05}")
    assert list(keys) == [f"{i:05}" for i in range(1, 5000, 2)]
    assert next(keys.iter_from("02500")) == "02501"


def test_package_exports_are_complete() -> None:
    import importlib

    import testserver.storage as pkg

    assert sorted(pkg.__all__) == pkg.__all__
    for name in pkg.__all__:
        assert hasattr(pkg, name), name
    exported = set(pkg.__all__)
    # guaranteed_update the module is shadowed by guaranteed_update the function on the package.
    for name in (
        "continue_token",
        "errors",
        "guaranteed_update",
        "interface",
        "memory",
        "model",
        "sqlite",
        "keys",
    ):
        module = importlib.import_module(f"testserver.storage.{name}")
        missing = set(module.__all__) - exported - {"API_VERSION", "BUILTIN_GROUPS", "REGISTRY_ROOT"}
        assert not missing, f"{module.__name__} exports {missing} but the package does not"
