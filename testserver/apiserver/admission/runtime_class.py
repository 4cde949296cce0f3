"""RuntimeClass admission (kube's plugin/pkg/admission/runtimeclass): a Pod created with
``spec.runtimeClassName`` gets the class's ``overhead`` and ``scheduling`` (node selector merged,
tolerations merged as kube's ``tolerations.MergeTolerations``); a class that does not exist, an
overhead that disagrees with the class's or a conflicting node selector is Forbidden."""

from __future__ import annotations

import copy
from typing import Any

from pyclientgo.apimachinery.quantity import Quantity, QuantityParseError
from testserver.apiserver.admission.chain import CREATE, Attributes, Plugin, forbidden
from testserver.apiserver.admission.objects import ObjectAccess

__all__ = ["RuntimeClass", "merge_tolerations"]

_GROUP = "node.k8s.io"


def _quantity(value: Any) -> Quantity | str:
    try:
        return Quantity.parse(str(value))
    except QuantityParseError:
        return str(value)


def _same_resources(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """``apiequality.Semantic.DeepEqual`` of two ResourceLists: same names, equal quantities."""
    return a.keys() == b.keys() and all(_quantity(a[k]) == _quantity(b[k]) for k in a)


def _operator(t: dict[str, Any]) -> str:
    return str(t.get("operator") or "Equal")


def _is_superset(ss: dict[str, Any], t: dict[str, Any]) -> bool:
    """Whether toleration ``ss`` tolerates everything ``t`` does (kube's ``isSuperset``)."""
    if ss == t:
        return True
    if t.get("key", "") != ss.get("key", "") and (ss.get("key", "") != "" or _operator(ss) != "Exists"):
        return False
    if t.get("effect", "") != ss.get("effect", "") and ss.get("effect", "") != "":
        return False
    if ss.get("effect") == "NoExecute" and ss.get("tolerationSeconds") is not None:
        seconds = t.get("tolerationSeconds")
        if seconds is None or int(seconds) > int(ss["tolerationSeconds"]):
            return False
    if _operator(ss) == "Equal":
        return _operator(t) == "Equal" and t.get("value", "") == ss.get("value", "")
    return _operator(ss) == "Exists"


def merge_tolerations(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Both lists' tolerations without the ones another toleration already covers
    (kube's ``pkg/util/tolerations.MergeTolerations``)."""
    every = [*first, *second]
    merged: list[dict[str, Any]] = []
    for i, t in enumerate(every):
        if any(_is_superset(m, t) for m in merged):
            continue
        if any(t != later and _is_superset(later, t) for later in every[i + 1 :]):
            continue
        merged.append(t)
    return merged


class RuntimeClass(Plugin):
    """The ``RuntimeClass`` admission plugin (mutating and validating, Pod create only)."""

    name = "RuntimeClass"

    def __init__(self, objects: ObjectAccess) -> None:
        self.objects = objects

    def handles(self, a: Attributes) -> bool:
        return not a.subresource and a.operation == CREATE and a.is_kind("", "Pod")

    async def _runtime_class(self, a: Attributes, spec: dict[str, Any]) -> dict[str, Any] | None:
        name = spec.get("runtimeClassName")
        if not name:
            return None
        rc = await self.objects.get(_GROUP, "runtimeclasses", None, str(name))
        if rc is None:
            raise forbidden(a, f'pod rejected: RuntimeClass "{name}" not found')
        return rc

    async def admit(self, a: Attributes) -> None:
        spec = (a.obj or {}).get("spec")
        if not isinstance(spec, dict):
            return
        rc = await self._runtime_class(a, spec)
        if rc is None:
            return
        overhead = (rc.get("overhead") or {}).get("podFixed")
        if isinstance(overhead, dict):
            given = spec.get("overhead")
            if isinstance(given, dict) and given and not _same_resources(given, overhead):
                raise forbidden(
                    a, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"
                )
            spec["overhead"] = copy.deepcopy(overhead)
        scheduling = rc.get("scheduling")
        if not isinstance(scheduling, dict):
            return
        selector = spec.get("nodeSelector")
        class_selector = scheduling.get("nodeSelector") or {}
        if not isinstance(selector, dict):
            selector = dict(class_selector) if class_selector else None
        else:
            for key, value in class_selector.items():
                if key in selector and selector[key] != value:
                    raise forbidden(
                        a,
                        f"conflict: runtimeClass.scheduling.nodeSelector[{key}] = {value}; "
                        f"pod.spec.nodeSelector[{key}] = {selector[key]}",
                    )
                selector[key] = value
        if selector is not None:
            spec["nodeSelector"] = selector
        tolerations = merge_tolerations(
            list(spec.get("tolerations") or []), copy.deepcopy(list(scheduling.get("tolerations") or []))
        )
        if tolerations:
            spec["tolerations"] = tolerations

    async def validate(self, a: Attributes) -> None:
        spec = (a.obj or {}).get("spec")
        if not isinstance(spec, dict):
            return
        rc = await self._runtime_class(a, spec)
        overhead = ((rc or {}).get("overhead") or {}).get("podFixed")
        if isinstance(overhead, dict):
            if not _same_resources(spec.get("overhead") or {}, overhead):
                raise forbidden(
                    a, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"
                )
        elif spec.get("overhead") is not None:
            raise forbidden(
                a, "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"
            )
