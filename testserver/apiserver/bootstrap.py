"""What kube-apiserver itself writes at start (its post-start hooks), before it reports ready:

- the system namespaces ``default``, ``kube-system``, ``kube-public``, ``kube-node-lease``
  (``poststarthook/bootstrap-controller``);
- ``kube-system/extension-apiserver-authentication``, the client CA that delegated
  authenticators (every component's ``/metrics`` and ``/healthz``) trust
  (``poststarthook/start-apiserver-admission-initializer``'s ClientCARegistrationHook); rewritten
  at every start, as kube does, so a new CA is published. No front proxy is configured here, so the
  ``requestheader-*`` keys are absent, as kube-apiserver omits them without
  ``--requestheader-client-ca-file``;
- ``kube-system/kube-apiserver-legacy-service-account-token-tracking`` with the date
  (``YYYY-MM-DD``) legacy token tracking started; written once, never changed.

The Service ``kubernetes`` and the system PriorityClasses are made by
:meth:`testserver.apiserver.admission.Admission.start`.
"""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

import orjson

from testserver.apiserver import objects as ob
from testserver.apiserver.admission.objects import ObjectAccess
from testserver.storage.errors import NotFoundError
from testserver.storage.guaranteed_update import guaranteed_update
from testserver.storage.model import KeyValue

__all__ = [
    "AUTHENTICATION_CONFIGMAP",
    "BOOTSTRAP_NAMESPACES",
    "TOKEN_TRACKING_CONFIGMAP",
    "bootstrap",
]

BOOTSTRAP_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
AUTHENTICATION_CONFIGMAP = "extension-apiserver-authentication"
TOKEN_TRACKING_CONFIGMAP = "kube-apiserver-legacy-service-account-token-tracking"


async def bootstrap(objects: ObjectAccess, *, client_ca: bytes | None) -> None:
    """Write the system namespaces and kube-system ConfigMaps that kube-apiserver writes at start."""
    for name in BOOTSTRAP_NAMESPACES:
        if await objects.get("", "namespaces", None, name) is not None:
            continue
        await objects.create_system(
            "",
            "namespaces",
            {
                "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            },
        )
    if objects.route("", "configmaps") is None:
        return
    data: dict[str, str] = {}
    if client_ca:
        data["client-ca-file"] = client_ca.decode()
    await _ensure_configmap(objects, AUTHENTICATION_CONFIGMAP, data, replace=True)
    since = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    await _ensure_configmap(objects, TOKEN_TRACKING_CONFIGMAP, {"since": since}, replace=False)


async def _ensure_configmap(objects: ObjectAccess, name: str, data: dict[str, str], *, replace: bool) -> None:
    body: dict[str, Any] = {"metadata": {"name": name, "namespace": "kube-system"}, "data": data}
    if await objects.create_system("", "configmaps", body) or not replace:
        return
    route = objects.route("", "configmaps")
    assert route is not None

    def fn(cur: KeyValue | None) -> bytes | None:
        if cur is None:
            return None
        obj = orjson.loads(cur.value)
        if obj.get("data") == data:
            return None
        obj["data"] = data
        return ob.encode_for_storage(obj)

    with contextlib.suppress(NotFoundError):
        await guaranteed_update(objects.storage, route.key("kube-system", name), fn)
