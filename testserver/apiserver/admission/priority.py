"""Priority admission: ``priorityClassName`` → ``spec.priority`` and ``preemptionPolicy``; the
global default class for pods that name none; unknown classes refused (403); one global default.

The two system classes exist from the start (:data:`SYSTEM_PRIORITY_CLASSES`, created at startup).
"""

from __future__ import annotations

from typing import Any

from testserver.apiserver.admission.chain import CREATE, UPDATE, Attributes, Plugin, forbidden
from testserver.apiserver.admission.objects import ObjectAccess

__all__ = ["SYSTEM_PRIORITY_CLASSES", "Priority"]

_GROUP = "scheduling.k8s.io"
SYSTEM_PRIORITY_CLASSES: tuple[dict[str, Any], ...] = (
    {
        "metadata": {"name": "system-node-critical"},
        "value": 2000001000,
        "description": "Used for system critical pods that must not be moved from their current node.",
        "preemptionPolicy": "PreemptLowerPriority",
    },
    {
        "metadata": {"name": "system-cluster-critical"},
        "value": 2000000000,
        "description": "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
        "preemptionPolicy": "PreemptLowerPriority",
    },
)


class Priority(Plugin):
    name = "Priority"

    def __init__(self, objects: ObjectAccess) -> None:
        self.objects = objects

    def handles(self, a: Attributes) -> bool:
        if a.subresource:
            return False
        if a.is_kind("", "Pod"):
            return a.operation == CREATE
        return a.is_kind("scheduling.k8s.io", "PriorityClass") and a.operation in (CREATE, UPDATE)

    async def _default_class(self) -> dict[str, Any] | None:
        defaults = [
            pc for pc in await self.objects.list(_GROUP, "priorityclasses", None) if pc.get("globalDefault")
        ]
        if not defaults:
            return None
        return min(defaults, key=lambda pc: int(pc.get("value") or 0))

    async def admit(self, a: Attributes) -> None:
        assert a.obj is not None
        if a.is_kind("scheduling.k8s.io", "PriorityClass"):
            return
        spec = a.obj.get("spec")
        if not isinstance(spec, dict):
            return
        class_name = spec.get("priorityClassName")
        if class_name:
            pc = await self.objects.get(_GROUP, "priorityclasses", None, class_name)
            if pc is None:
                raise forbidden(a, f"no PriorityClass with name {class_name} was found")
        else:
            pc = await self._default_class()
            if pc is not None:
                spec["priorityClassName"] = pc["metadata"]["name"]
        value = int(pc.get("value") or 0) if pc is not None else 0
        policy = (pc or {}).get("preemptionPolicy") or "PreemptLowerPriority"
        given = spec.get("priority")
        if given is not None and given != value:
            raise forbidden(
                a,
                f"the integer value of priority ({given}) must not be provided in pod spec; priority "
                f"admission controller computed {value} from the given PriorityClass name",
            )
        spec["priority"] = value
        given_policy = spec.get("preemptionPolicy")
        if given_policy is not None and given_policy != policy:
            raise forbidden(
                a,
                f"the string value of PreemptionPolicy ({given_policy}) must not be provided in pod spec; "
                f"priority admission controller computed {policy} from the given PriorityClass name",
            )
        spec["preemptionPolicy"] = policy

    async def validate(self, a: Attributes) -> None:
        if (
            not a.is_kind("scheduling.k8s.io", "PriorityClass")
            or a.obj is None
            or not a.obj.get("globalDefault")
        ):
            return
        for pc in await self.objects.list(_GROUP, "priorityclasses", None):
            if pc.get("globalDefault") and pc["metadata"]["name"] != a.name:
                raise forbidden(
                    a,
                    f"PriorityClass {pc['metadata']['name']} is already marked as default. Only one default can exist",
                )
