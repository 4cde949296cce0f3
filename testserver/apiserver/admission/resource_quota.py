"""ResourceQuota: a create that would push a namespace past a quota's ``spec.hard`` is refused
(403 ``exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2``), and
``status.hard``/``status.used`` are kept current by :class:`QuotaStatusUpdater` (kube's quota
controller; there is no controller-manager yet).

Tracked: ``pods``, ``services``, ``services.nodeports``, ``services.loadbalancers``,
``configmaps``, ``secrets``, ``persistentvolumeclaims``, ``replicationcontrollers``,
``resourcequotas``, ``requests.*``/``limits.*``/``cpu``/``memory`` of pods, ``requests.storage``
of claims and ``count/<resource>[.<group>]`` for any resource. Usage is computed from storage at
admission time (no status lag, restarts need no state).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from fractions import Fraction
from typing import Any

import orjson

from pyclientgo.apimachinery.quantity import Format, Quantity, QuantityParseError, parse_quantity
from testserver.apiserver import objects as ob
from testserver.apiserver.admission.chain import CREATE, Attributes, Plugin, forbidden
from testserver.apiserver.admission.objects import ObjectAccess
from testserver.apiserver.admission.quota_scopes import quota_matches
from testserver.apiserver.registry.values import as_dict
from testserver.apiserver.resources import ResourceRoute
from testserver.storage.errors import NotFoundError
from testserver.storage.guaranteed_update import guaranteed_update
from testserver.storage.model import KeyValue

__all__ = ["QuotaStatusUpdater", "ResourceQuota", "object_usage"]

log = logging.getLogger("testserver.apiserver.admission")

_NAMED = {
    "pods": ("", "pods"),
    "services": ("", "services"),
    "configmaps": ("", "configmaps"),
    "secrets": ("", "secrets"),
    "persistentvolumeclaims": ("", "persistentvolumeclaims"),
    "replicationcontrollers": ("", "replicationcontrollers"),
    "resourcequotas": ("", "resourcequotas"),
    "services.nodeports": ("", "services"),
    "services.loadbalancers": ("", "services"),
    "requests.storage": ("", "persistentvolumeclaims"),
}
_POD_COMPUTE = ("requests.", "limits.", "cpu", "memory", "ephemeral-storage")


def _q(value: Any) -> Fraction:
    try:
        return parse_quantity(str(value)).as_fraction()
    except QuantityParseError:
        return Fraction(0)


def _source(resource_name: str) -> tuple[str, str] | None:
    """The (group, plural) whose objects count towards ``resource_name``."""
    if resource_name in _NAMED:
        return _NAMED[resource_name]
    if resource_name.startswith("count/"):
        plural, _, group = resource_name[len("count/") :].partition(".")
        return group, plural
    if resource_name.startswith(_POD_COMPUTE):
        return "", "pods"
    return None


def _pod_terminal(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def object_usage(route: ResourceRoute, obj: dict[str, Any]) -> dict[str, Fraction]:
    """What one object adds to its namespace's usage."""
    plural, group = route.plural, route.group
    usage: dict[str, Fraction] = {f"count/{plural}" + (f".{group}" if group else ""): Fraction(1)}
    if group == "" and plural in _NAMED:
        usage[plural] = Fraction(1)
    spec = as_dict(obj.get("spec"))
    if group == "" and route.kind == "Pod":
        if _pod_terminal(obj):
            return {}
        requests: dict[str, Fraction] = {}
        limits: dict[str, Fraction] = {}
        for c in spec.get("containers") or []:
            res = as_dict(as_dict(c).get("resources"))
            for section, acc in (("requests", requests), ("limits", limits)):
                for name, value in as_dict(res.get(section)).items():
                    acc[name] = acc.get(name, Fraction(0)) + _q(value)
        for name, value in requests.items():
            usage[f"requests.{name}"] = value
            if name in ("cpu", "memory", "ephemeral-storage"):
                usage[name] = value
        for name, value in limits.items():
            usage[f"limits.{name}"] = value
    elif group == "" and route.kind == "Service":
        stype = spec.get("type")
        if stype in ("NodePort", "LoadBalancer"):
            usage["services.nodeports"] = Fraction(
                len([p for p in spec.get("ports") or [] if isinstance(p, dict)])
            )
        if stype == "LoadBalancer":
            usage["services.loadbalancers"] = Fraction(1)
    elif group == "" and route.kind == "PersistentVolumeClaim":
        res = as_dict(spec.get("resources"))
        storage = (
            (res.get("requests") or {}).get("storage") if isinstance(res.get("requests"), dict) else None
        )
        if storage is not None:
            usage["requests.storage"] = _q(storage)
    return usage


def _format(value: Fraction, like: str) -> str:
    try:
        fmt = parse_quantity(like).format
    except QuantityParseError:
        fmt = Format.DECIMAL_SI
    return Quantity.from_fraction(value, fmt).canonical()


def _pretty(values: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(values.items()))


async def namespace_usage(
    objects: ObjectAccess, namespace: str, names: list[str], quota: dict[str, Any] | None = None
) -> dict[str, Fraction]:
    """Current usage of ``names`` in ``namespace``, computed from storage (of the objects
    ``quota``'s scopes match, when given)."""
    by_source: dict[tuple[str, str], list[str]] = {}
    for name in names:
        src = _source(name)
        if src is not None:
            by_source.setdefault(src, []).append(name)
    used = {name: Fraction(0) for name in names}
    for (group, plural), wanted in by_source.items():
        route = objects.route(group, plural)
        if route is None:
            continue
        for obj in await objects.list_route(route, namespace):
            if quota is not None and not quota_matches(quota, route.group, route.kind, obj):
                continue
            contribution = object_usage(route, obj)
            for name in wanted:
                used[name] += contribution.get(name, Fraction(0))
    return used


class ResourceQuota(Plugin):
    name = "ResourceQuota"

    def __init__(self, objects: ObjectAccess, updater: QuotaStatusUpdater | None = None) -> None:
        self.objects = objects
        self.updater = updater
        self._locks: dict[str, asyncio.Lock] = {}

    def handles(self, a: Attributes) -> bool:
        return a.operation == CREATE and a.route.namespaced and not a.subresource

    async def validate(self, a: Attributes) -> None:
        assert a.obj is not None
        quotas = await self.objects.list("", "resourcequotas", a.namespace)
        if not quotas:
            return
        delta = object_usage(a.route, a.obj)
        for quota in quotas:
            if not quota_matches(quota, a.route.group, a.route.kind, a.obj):
                continue
            hard = (quota.get("spec") or {}).get("hard") or {}
            if a.is_kind("", "Pod") and not _pod_terminal(a.obj):
                missing = _missing_compute(a.obj, hard)
                if missing:
                    raise forbidden(a, f"failed quota: {quota['metadata']['name']}: must specify {missing}")
            affected = [name for name in hard if delta.get(name)]
            if not affected:
                continue
            used = await namespace_usage(self.objects, a.namespace, affected, quota)
            failed = [name for name in affected if used[name] + delta[name] > _q(hard[name])]
            if failed:
                qname = quota["metadata"]["name"]
                requested = {n: _format(delta[n], str(hard[n])) for n in failed}
                now = {n: _format(used[n], str(hard[n])) for n in failed}
                limited = {n: str(hard[n]) for n in failed}
                raise forbidden(
                    a,
                    f"exceeded quota: {qname}, requested: {_pretty(requested)}, used: {_pretty(now)}, "
                    f"limited: {_pretty(limited)}",
                )
        if self.updater is not None and not a.dry_run:
            self.updater.touch(a.namespace)


def _missing_compute(pod: dict[str, Any], hard: dict[str, Any]) -> str:
    tracked = [n for n in hard if n.startswith(("requests.", "limits.")) or n in ("cpu", "memory")]
    parts = []
    for name in sorted(tracked):
        section, _, res = name.partition(".")
        if not res:
            section, res = "requests", name
        if res not in ("cpu", "memory"):
            continue
        lacking = [
            str(c.get("name"))
            for c in (pod.get("spec") or {}).get("containers") or []
            if isinstance(c, dict) and res not in ((c.get("resources") or {}).get(section) or {})
        ]
        if lacking:
            parts.append(f"{name} for: {','.join(lacking)}")
    return "; ".join(parts)


class QuotaStatusUpdater:
    """Keeps every ResourceQuota's ``status`` ({hard, used}) current: namespaces are marked dirty by
    writes (:meth:`touch`) and recomputed shortly after, in one background task."""

    def __init__(self, objects: ObjectAccess) -> None:
        self.objects = objects
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def touch(self, namespace: str) -> None:
        self._dirty.add(namespace)
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(0.02)  # coalesce bursts of writes
            dirty, self._dirty = self._dirty, set()
            for namespace in dirty:
                try:
                    await self.recompute(namespace)
                except Exception:  # never let the loop die
                    log.exception("quota status update failed in %s", namespace)

    async def recompute(self, namespace: str) -> None:
        route = self.objects.route("", "resourcequotas")
        if route is None:
            return
        for quota in await self.objects.list_route(route, namespace):
            hard = (quota.get("spec") or {}).get("hard") or {}
            used = await namespace_usage(self.objects, namespace, list(hard), quota)
            status = {"hard": dict(hard), "used": {n: _format(v, str(hard[n])) for n, v in used.items()}}

            def fn(cur: KeyValue | None, status: dict[str, Any] = status) -> bytes | None:
                if cur is None:
                    return None
                obj = orjson.loads(cur.value)
                if obj.get("status") == status:
                    return None
                obj["status"] = status
                return ob.encode_for_storage(obj)

            with contextlib.suppress(NotFoundError):
                await guaranteed_update(
                    self.objects.storage, route.key(namespace, quota["metadata"]["name"]), fn
                )
