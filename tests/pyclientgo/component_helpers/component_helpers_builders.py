"""Small builders of typed pods and nodes for the component_helpers tests (camelCase dicts → models)."""

from __future__ import annotations

from typing import Any

from pyclientgo.api.core.v1 import Node, Pod


def container(
    name: str = "c",
    *,
    requests: dict[str, str] | None = None,
    limits: dict[str, str] | None = None,
    sidecar: bool = False,
) -> dict[str, Any]:
    """A container dict; ``sidecar`` sets ``restartPolicy: Always`` (for init containers)."""
    out: dict[str, Any] = {"name": name, "image": "busybox", "resources": {}}
    if requests is not None:
        out["resources"]["requests"] = requests
    if limits is not None:
        out["resources"]["limits"] = limits
    if sidecar:
        out["restartPolicy"] = "Always"
    return out


def pod(
    containers: list[dict[str, Any]] | None = None,
    *,
    init: list[dict[str, Any]] | None = None,
    overhead: dict[str, str] | None = None,
    spec: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Pod:
    """A typed pod."""
    body: dict[str, Any] = {"containers": containers if containers is not None else [container()]}
    if init is not None:
        body["initContainers"] = init
    if overhead is not None:
        body["overhead"] = overhead
    body.update(spec or {})
    obj: dict[str, Any] = {"metadata": metadata or {"name": "p", "namespace": "default"}, "spec": body}
    if status is not None:
        obj["status"] = status
    return Pod.from_dict(obj)


def node(
    name: str = "n1", labels: dict[str, str] | None = None, taints: list[dict[str, Any]] | None = None
) -> Node:
    """A typed node."""
    obj: dict[str, Any] = {"metadata": {"name": name, "labels": labels or {}}}
    if taints is not None:
        obj["spec"] = {"taints": taints}
    return Node.from_dict(obj)
