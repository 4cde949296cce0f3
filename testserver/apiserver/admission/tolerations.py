"""DefaultTolerationSeconds: pods tolerate ``not-ready`` and ``unreachable`` NoExecute taints
for 300 s unless they already say otherwise."""

from __future__ import annotations

from testserver.apiserver.admission.chain import CREATE, Attributes, Plugin

__all__ = ["DefaultTolerationSeconds"]

_KEYS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


class DefaultTolerationSeconds(Plugin):
    name = "DefaultTolerationSeconds"

    def __init__(self, seconds: int = 300) -> None:
        self.seconds = seconds

    def handles(self, a: Attributes) -> bool:
        return a.operation == CREATE and a.is_kind("", "Pod") and not a.subresource

    async def admit(self, a: Attributes) -> None:
        assert a.obj is not None
        spec = a.obj.get("spec")
        if not isinstance(spec, dict):
            return
        tolerations = spec.get("tolerations")
        if tolerations is None:
            tolerations = spec["tolerations"] = []
        if not isinstance(tolerations, list):
            return
        for key in _KEYS:
            covered = any(
                isinstance(t, dict)
                and (t.get("key") == key or (not t.get("key") and t.get("operator") == "Exists"))
                and t.get("effect") in (None, "", "NoExecute")
                for t in tolerations
            )
            if not covered:
                tolerations.append(
                    {
                        "key": key,
                        "operator": "Exists",
                        "effect": "NoExecute",
                        "tolerationSeconds": self.seconds,
                    }
                )
