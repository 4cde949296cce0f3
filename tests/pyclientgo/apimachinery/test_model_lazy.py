"""Semantics of lazily decoded models that issue 20 pins: unset reads, lazy assignment, round trips."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from pyclientgo.api.core.v1 import Container, Pod, PodSpec
from pyclientgo.api.meta.v1 import ObjectMeta
from pyclientgo.apimachinery import model
from pyclientgo.apimachinery.model import is_lazy


def _pod_bytes() -> bytes:
    return orjson.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "web-0",
                "namespace": "default",
                "labels": {"app": "web"},
                "futureMetaField": {"x": 1},
            },
            "spec": {
                "containers": [
                    {"name": "app", "image": "nginx", "futureContainerField": True},
                    {"name": "side", "image": "busybox", "args": ["sleep", "1"]},
                ],
                "nodeName": "node-a",
            },
            "status": {"phase": "Running"},
        }
    )


class _CountingDecoder:
    """Wraps a class plan's header decoder and counts its decodes."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def decode(self, raw: Any) -> Any:
        self.calls += 1
        return self.inner.decode(raw)


@pytest.fixture
def container_decodes() -> Any:
    plan = model._plan(Container)
    counting = _CountingDecoder(plan.decoder)
    plan.decoder = counting  # type: ignore[assignment]
    try:
        yield counting
    finally:
        plan.decoder = counting.inner


def test_unset_field_read_again_does_not_decode_again(container_decodes: _CountingDecoder) -> None:
    raw = orjson.dumps({"name": "app", "image": "nginx", "args": ["a"]})
    c = Container.from_json(raw)
    for _ in range(5):
        assert c.liveness_probe is None
        assert c.working_dir is None
    first = container_decodes.calls
    assert first <= 2  # the first unset read decodes the header once (and once more for the mask)
    for _ in range(100):
        assert c.liveness_probe is None
        assert c.security_context is None
    assert container_decodes.calls == first
    # Set fields still read right after the mask is known.
    assert c.image == "nginx"
    assert c.args == ["a"]
    # The defaults were not recorded as set: the wire form is untouched.
    assert is_lazy(c)
    assert c.to_dict() == {"name": "app", "image": "nginx", "args": ["a"]}


def test_untouched_round_trip_is_byte_identical_after_reads() -> None:
    raw = _pod_bytes()
    pod = Pod.from_json(raw)
    assert pod.spec is not None and pod.spec.containers is not None
    assert pod.spec.containers[0].liveness_probe is None
    assert pod.spec.priority is None
    assert pod.metadata is not None and pod.metadata.deletion_timestamp is None
    assert orjson.loads(pod.to_json()) == orjson.loads(raw)
    assert Pod.from_json(raw).to_json() == raw


def test_single_setattr_does_not_materialise_and_update_is_identical_but_for_it() -> None:
    raw = _pod_bytes()
    pod = Pod.from_json(raw)
    assert pod.metadata is not None and pod.metadata.labels is not None
    pod.metadata.labels = {**pod.metadata.labels, "tier": "frontend"}
    assert is_lazy(pod) and is_lazy(pod.metadata)
    assert pod.spec is not None and is_lazy(pod.spec)
    expected = orjson.loads(raw)
    expected["metadata"]["labels"]["tier"] = "frontend"
    out = pod.to_json()
    assert out == orjson.dumps(expected)  # key order and unknown fields as the server sent them
    assert orjson.loads(out)["spec"]["containers"][0]["futureContainerField"] is True


def test_assigned_field_absent_from_the_wire_is_kept_as_set_on_materialising() -> None:
    pod = Pod.from_json(_pod_bytes())
    assert pod.spec is not None
    pod.spec.priority = 7
    assert is_lazy(pod.spec)
    assert pod.spec.priority == 7
    assert "priority" in pod.spec.model_fields_set  # materialises
    assert not is_lazy(pod.spec)
    dumped = pod.model_dump(by_alias=True, exclude_unset=True)
    assert dumped["spec"]["priority"] == 7
    assert dumped["metadata"]["futureMetaField"] == {"x": 1}
    assert pod.to_dict()["spec"]["priority"] == 7


def test_lazy_and_materialised_compare_equal_after_assignment() -> None:
    a = Pod.from_json(_pod_bytes())
    b = Pod.from_json(_pod_bytes())
    assert a.metadata is not None and b.metadata is not None
    a.metadata.name = "other"
    b.metadata.name = "other"
    assert a == b
    assert a.metadata.name == "other"


def test_unknown_name_assignment_materialises_into_extra() -> None:
    pod = Pod.from_json(_pod_bytes())
    assert pod.metadata is not None
    pod.metadata.future_field = 1
    assert not is_lazy(pod.metadata)
    assert pod.metadata.model_extra == {"futureMetaField": {"x": 1}, "future_field": 1}
    assert pod.metadata.name == "web-0"


def test_user_built_objects_raise_typed_errors() -> None:
    with pytest.raises(ValidationError):
        Pod(spec=PodSpec(containers="not a list"))
    with pytest.raises(ValidationError):
        ObjectMeta(labels=["a"])
    with pytest.raises(ValidationError):
        Pod.from_dict({"metadata": {"generation": "many"}})


def test_wrong_type_on_the_wire_raises_typed_error_on_read() -> None:
    pod = Pod.from_json(b'{"metadata": {"generation": "many"}}')
    assert pod.metadata is not None
    with pytest.raises(ValidationError):
        _ = pod.metadata.generation
