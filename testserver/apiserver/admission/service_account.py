"""ServiceAccount admission: pods run as ``default`` unless told otherwise, the account must exist
(403 ``error looking up service account ns/x: serviceaccount "x" not found``), and the API
access token volume (``kube-api-access-*``) is mounted unless automounting is off.

With the stand-in controllers on (``--standin-controllers``) this module also plays kube's
serviceaccount controller: :func:`ensure_default_service_account` creates ``default`` in a namespace
(run for every namespace by the background loop, and on demand when a pod arrives first), so a pod
can be created right after ``kubectl create namespace``. Off (kube-apiserver alone), a pod waits
for the controller-manager's ServiceAccount and is refused with 403 until it exists.
"""

from __future__ import annotations

import random
from typing import Any

from testserver.apiserver.admission.chain import CREATE, Attributes, Plugin, forbidden
from testserver.apiserver.admission.objects import ObjectAccess

__all__ = ["ServiceAccount", "ensure_default_service_account"]

_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


async def ensure_default_service_account(objects: ObjectAccess, namespace: str) -> None:
    """Create ServiceAccount ``default`` in ``namespace`` if missing (the controller's job)."""
    if await objects.get("", "serviceaccounts", namespace, "default") is not None:
        return
    await objects.create_system(
        "",
        "serviceaccounts",
        {"metadata": {"name": "default", "namespace": namespace}},
        manager="kube-controller-manager",
    )


def _token_volume() -> dict[str, Any]:
    suffix = "".join(random.choice(_NAME_CHARS) for _ in range(5))
    return {
        "name": f"kube-api-access-{suffix}",
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
            "defaultMode": 420,
        },
    }


class ServiceAccount(Plugin):
    name = "ServiceAccount"

    def __init__(self, objects: ObjectAccess, *, create_default: bool = False) -> None:
        self.objects = objects
        self.create_default = create_default

    def handles(self, a: Attributes) -> bool:
        return a.operation == CREATE and a.is_kind("", "Pod") and not a.subresource

    async def admit(self, a: Attributes) -> None:
        assert a.obj is not None
        spec = a.obj.get("spec")
        if not isinstance(spec, dict):
            return
        annotations = a.obj["metadata"].get("annotations") or {}
        if isinstance(annotations, dict) and "kubernetes.io/config.mirror" in annotations:
            return
        name = spec.get("serviceAccountName") or "default"
        spec["serviceAccountName"] = name
        spec["serviceAccount"] = name
        account = await self.objects.get("", "serviceaccounts", a.namespace, name)
        if account is None and name == "default" and self.create_default and not a.dry_run:
            await ensure_default_service_account(self.objects, a.namespace)
            account = await self.objects.get("", "serviceaccounts", a.namespace, name)
        if account is None and name == "default" and self.create_default and a.dry_run:
            account = {"metadata": {"name": "default"}}
        if account is None:
            raise forbidden(
                a, f'error looking up service account {a.namespace}/{name}: serviceaccount "{name}" not found'
            )
        automount = spec.get("automountServiceAccountToken")
        if automount is None:
            automount = account.get("automountServiceAccountToken")
        if automount is False:
            return
        containers = [
            c for key in ("initContainers", "containers") for c in spec.get(key) or [] if isinstance(c, dict)
        ]
        if any(
            isinstance(m, dict) and m.get("mountPath") == _TOKEN_PATH
            for c in containers
            for m in c.get("volumeMounts") or []
        ):
            return
        volumes = spec.get("volumes")
        if volumes is None:
            volumes = spec["volumes"] = []
        if not isinstance(volumes, list):
            return
        volume = _token_volume()
        volumes.append(volume)
        for c in containers:
            mounts = c.get("volumeMounts")
            if mounts is None:
                mounts = c["volumeMounts"] = []
            if isinstance(mounts, list):
                mounts.append({"name": volume["name"], "readOnly": True, "mountPath": _TOKEN_PATH})
