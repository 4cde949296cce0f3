"""LimitRanger: container requests/limits defaulted from the namespace's LimitRanges, then the
min/max (and maxLimitRequestRatio) of Container, Pod and PersistentVolumeClaim items enforced (403)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from pyclientgo.apimachinery.quantity import QuantityParseError, parse_quantity
from testserver.apiserver.admission.chain import CREATE, UPDATE, Attributes, Plugin, forbidden
from testserver.apiserver.admission.objects import ObjectAccess
from testserver.apiserver.registry.values import as_dict

__all__ = ["LimitRanger"]


def _q(value: Any) -> Fraction | None:
    try:
        return parse_quantity(str(value)).as_fraction()
    except QuantityParseError:
        return None


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    spec = as_dict(pod.get("spec"))
    return [c for key in ("containers", "initContainers") for c in spec.get(key) or [] if isinstance(c, dict)]


def _resources(c: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    res = c.get("resources")
    if not isinstance(res, dict):
        res = c["resources"] = {}
    req = as_dict(res.get("requests"))
    lim = as_dict(res.get("limits"))
    return req, lim


class LimitRanger(Plugin):
    name = "LimitRanger"

    def __init__(self, objects: ObjectAccess) -> None:
        self.objects = objects

    def handles(self, a: Attributes) -> bool:
        return (
            a.operation in (CREATE, UPDATE)
            and not a.subresource
            and a.is_kind("", "Pod", "PersistentVolumeClaim")
        )

    async def _items(self, namespace: str, kind: str) -> list[dict[str, Any]]:
        items = []
        for lr in await self.objects.list("", "limitranges", namespace):
            for item in (lr.get("spec") or {}).get("limits") or []:
                if isinstance(item, dict) and item.get("type") == kind:
                    items.append(item)
        return items

    async def admit(self, a: Attributes) -> None:
        if not a.is_kind("", "Pod") or a.operation != CREATE or a.obj is None:
            return
        items = await self._items(a.namespace, "Container")
        if not items:
            return
        notes: list[str] = []
        for item in items:
            defaults = item.get("default") or {}
            default_requests = item.get("defaultRequest") or {}
            for c in _containers(a.obj):
                res = c.get("resources")
                if not isinstance(res, dict):
                    res = c["resources"] = {}
                req, lim = _resources(c)
                for name, value in defaults.items():
                    if name not in lim:
                        lim[name] = value
                        res["limits"] = lim
                        notes.append(f"{name} limit for container {c.get('name')}")
                for name, value in default_requests.items():
                    if name not in req:
                        req[name] = value
                        res["requests"] = req
                        notes.append(f"{name} request for container {c.get('name')}")
        if notes:
            annotations = a.obj["metadata"].get("annotations")
            if annotations is None:
                annotations = a.obj["metadata"]["annotations"] = {}
            if isinstance(annotations, dict):
                annotations["kubernetes.io/limit-ranger"] = "LimitRanger plugin set: " + "; ".join(notes)

    async def validate(self, a: Attributes) -> None:
        if a.obj is None:
            return
        errors: list[str] = []
        if a.is_kind("", "Pod"):
            if a.operation != CREATE:
                return
            for item in await self._items(a.namespace, "Container"):
                for c in _containers(a.obj):
                    req, lim = _resources(c)
                    errors.extend(_check(item, req, lim, "Container"))
            for item in await self._items(a.namespace, "Pod"):
                req_sum: dict[str, Fraction] = {}
                lim_sum: dict[str, Fraction] = {}
                for c in _containers(a.obj):
                    req, lim = _resources(c)
                    for src, dst in ((req, req_sum), (lim, lim_sum)):
                        for name, value in src.items():
                            q = _q(value)
                            if q is not None:
                                dst[name] = dst.get(name, Fraction(0)) + q
                errors.extend(
                    _check(
                        item,
                        {k: _fmt(v) for k, v in req_sum.items()},
                        {k: _fmt(v) for k, v in lim_sum.items()},
                        "Pod",
                    )
                )
        else:
            spec = as_dict(a.obj.get("spec"))
            res = as_dict(spec.get("resources"))
            req = as_dict(res.get("requests"))
            lim = as_dict(res.get("limits"))
            for item in await self._items(a.namespace, "PersistentVolumeClaim"):
                errors.extend(_check(item, req, lim, "PersistentVolumeClaim"))
        if errors:
            raise forbidden(a, errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")


def _fmt(value: Fraction) -> str:
    from pyclientgo.apimachinery.quantity import Quantity

    return Quantity.from_fraction(value).canonical()


def _check(item: dict[str, Any], req: dict[str, Any], lim: dict[str, Any], kind: str) -> list[str]:
    errors: list[str] = []
    for name, bound in (item.get("min") or {}).items():
        b = _q(bound)
        r, lv = req.get(name), lim.get(name)
        if r is None and kind != "PersistentVolumeClaim":
            errors.append(f"minimum {name} usage per {kind} is {bound}.  No request is specified")
        elif r is not None and b is not None and (_q(r) or 0) < b:
            errors.append(f"minimum {name} usage per {kind} is {bound}, but request is {r}")
        if lv is not None and b is not None and (_q(lv) or 0) < b:
            errors.append(f"minimum {name} usage per {kind} is {bound}, but limit is {lv}")
    for name, bound in (item.get("max") or {}).items():
        b = _q(bound)
        lv = lim.get(name)
        if kind == "PersistentVolumeClaim":
            r = req.get(name)
            if r is not None and b is not None and (_q(r) or 0) > b:
                errors.append(f"maximum {name} usage per {kind} is {bound}, but request is {r}")
            continue
        if lv is None:
            errors.append(f"maximum {name} usage per {kind} is {bound}.  No limit is specified")
        elif b is not None and (_q(lv) or 0) > b:
            errors.append(f"maximum {name} usage per {kind} is {bound}, but limit is {lv}")
    for name, ratio in (item.get("maxLimitRequestRatio") or {}).items():
        r, lv = _q(req.get(name)) if name in req else None, _q(lim.get(name)) if name in lim else None
        bound = _q(ratio)
        if r and lv and bound is not None and lv / r > bound:
            errors.append(
                f"{name} max limit to request ratio per {kind} is {ratio}, but provided ratio is {float(lv / r):f}"
            )
    return errors
