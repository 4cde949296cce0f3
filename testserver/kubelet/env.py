"""A container's environment as the kubelet builds it (kubelet_pods.go:makeEnvironmentVariables,
envvars/envvars.go, third_party/forked/golang/expansion).

``envFrom`` (configMapRef/secretRef, with ``prefix``) first, then ``env`` in order (``value`` with
``$(VAR)`` expansion, ``valueFrom`` configMapKeyRef/secretKeyRef/fieldRef/resourceFieldRef), then the
service variables of the pod's namespace (``enableServiceLinks``, default true) and always those of
``default/kubernetes``. A missing configMap/secret/key that is not ``optional`` is a
:class:`CreateContainerConfigError` with kube's message (``configmap "x" not found``,
``couldn't find key k in ConfigMap ns/x``). :func:`expand` applies kube's ``$(VAR)`` rules to
``command`` and ``args``.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from pyclientgo.apimachinery.quantity import Quantity
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset

__all__ = [
    "CreateContainerConfigError",
    "EnvSources",
    "expand",
    "make_environment_variables",
    "service_env",
]


class CreateContainerConfigError(Exception):
    """The container's config cannot be built (kube's ``CreateContainerConfigError``)."""


@dataclass(kw_only=True)
class EnvSources:
    """Where the environment's values come from: the API (configMaps, secrets) and the services
    informer's lister (a callable returning service dicts)."""

    clientset: AsyncClientset
    services: Callable[[], list[dict[str, Any]]]
    node_allocatable: dict[str, str]

    async def configmap(self, namespace: str, name: str) -> dict[str, str]:
        try:
            cm = await self.clientset.core_v1.configmaps(namespace).get(name)
        except NotFound as err:
            raise CreateContainerConfigError(f'configmap "{name}" not found') from err
        return dict(cm.data or {})

    async def secret(self, namespace: str, name: str) -> dict[str, str]:
        try:
            s = await self.clientset.core_v1.secrets(namespace).get(name)
        except NotFound as err:
            raise CreateContainerConfigError(f'secret "{name}" not found') from err
        out: dict[str, str] = {}
        for k, v in (s.to_dict().get("data") or {}).items():
            try:
                out[k] = base64.b64decode(v).decode("utf-8", "replace")
            except ValueError:
                out[k] = str(v)
        return out


def _var_name(name: str) -> str:
    return name.replace("-", "_").upper()


def service_env(services: list[dict[str, Any]], namespace: str, enable_service_links: bool) -> dict[str, str]:
    """The service variables a pod in ``namespace`` sees (getServiceEnvVarMap + FromServices)."""
    chosen: dict[str, dict[str, Any]] = {}
    for svc in services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        ip = spec.get("clusterIP") or ""
        if not ip or ip == "None" or not spec.get("ports"):
            continue
        name = meta.get("name", "")
        if meta.get("namespace") == "default" and name == "kubernetes":
            chosen.setdefault(name, svc)
        elif meta.get("namespace") == namespace and enable_service_links:
            chosen[name] = svc
    env: dict[str, str] = {}
    for name, svc in chosen.items():
        spec = svc["spec"]
        ip, ports = spec["clusterIP"], spec["ports"]
        prefix = _var_name(name)
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0].get("port"))
        for p in ports:
            if p.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_var_name(p['name'])}"] = str(p.get("port"))
        for i, p in enumerate(ports):
            proto = (p.get("protocol") or "TCP").upper()
            host_port = f"[{ip}]:{p.get('port')}" if ":" in ip else f"{ip}:{p.get('port')}"
            url = f"{proto.lower()}://{host_port}"
            if i == 0:
                env[f"{prefix}_PORT"] = url
            pp = f"{prefix}_PORT_{p.get('port')}_{proto}"
            env[pp] = url
            env[f"{pp}_PROTO"] = proto.lower()
            env[f"{pp}_PORT"] = str(p.get("port"))
            env[f"{pp}_ADDR"] = ip
    return env


def expand(value: str, *sources: dict[str, str]) -> str:
    """kube's ``$(VAR)`` expansion: a defined VAR is replaced, an undefined one kept as written,
    ``$$`` is an escaped ``$``."""
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = value[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            end = value.find(")", i + 2)
            if end < 0:
                out.append(value[i:])
                break
            name = value[i + 2 : end]
            for src in sources:
                if name in src:
                    out.append(src[name])
                    break
            else:
                out.append(value[i : end + 1])
            i = end + 1
        else:
            out.append(ch)
            out.append(nxt)
            i += 2
    return "".join(out)


def _format_map(m: dict[str, str]) -> str:
    return "\n".join(f'{k}="{v}"' for k, v in sorted(m.items()))


def _field_value(pod: dict[str, Any], path: str, pod_ip: str, host_ip: str) -> str:
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
    }
    if path in simple:
        return str(simple[path])
    for kind in ("labels", "annotations"):
        whole = f"metadata.{kind}"
        values = meta.get(kind) or {}
        if path == whole:
            return _format_map(values)
        if path.startswith(whole + "['") and path.endswith("']"):
            return str(values.get(path[len(whole) + 2 : -2], ""))
    raise CreateContainerConfigError(f'unsupported fieldPath: "{path}"')


def _resource_value(ref: dict[str, Any], container: dict[str, Any], allocatable: dict[str, str]) -> str:
    resource = ref.get("resource", "")
    kind, _, name = resource.partition(".")
    res = container.get("resources") or {}
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    if kind == "limits":
        raw = limits.get(name) or allocatable.get(name, "0")
    elif kind == "requests":
        raw = requests.get(name) or "0"
    else:
        raise CreateContainerConfigError(f"unsupported container resource : {resource!r}")
    value = Quantity.parse(str(raw)).as_fraction()
    divisor = Quantity.parse(str(ref.get("divisor") or "1")).as_fraction()
    if divisor == 0:
        divisor = Fraction(1)
    return str(math.ceil(value / divisor))


async def make_environment_variables(
    pod: dict[str, Any],
    container: dict[str, Any],
    sources: EnvSources,
    *,
    pod_ip: str,
    host_ip: str,
) -> dict[str, str]:
    """The container's environment (module docstring); raises :class:`CreateContainerConfigError`."""
    namespace = (pod.get("metadata") or {}).get("namespace", "default")
    links = (pod.get("spec") or {}).get("enableServiceLinks", True)
    svc_env = service_env(sources.services(), namespace, links is not False)
    configmaps: dict[str, dict[str, str] | None] = {}
    secrets: dict[str, dict[str, str] | None] = {}

    async def get(kind: str, name: str, optional: bool) -> dict[str, str] | None:
        cache = configmaps if kind == "configmap" else secrets
        if name not in cache:
            try:
                cache[name] = await (
                    sources.configmap(namespace, name)
                    if kind == "configmap"
                    else sources.secret(namespace, name)
                )
            except CreateContainerConfigError:
                if optional:
                    cache[name] = None
                else:
                    raise
        return cache[name]

    env: dict[str, str] = {}
    for ef in container.get("envFrom") or []:
        prefix = ef.get("prefix") or ""
        for kind, key in (("configmap", "configMapRef"), ("secret", "secretRef")):
            ref = ef.get(key)
            if ref:
                data = await get(kind, ref.get("name", ""), bool(ref.get("optional")))
                for k, v in (data or {}).items():
                    env[prefix + k] = v
    for e in container.get("env") or []:
        name = e.get("name", "")
        value_from = e.get("valueFrom")
        if e.get("value"):
            env[name] = expand(str(e["value"]), env, svc_env)
        elif value_from:
            if value_from.get("fieldRef"):
                env[name] = _field_value(pod, value_from["fieldRef"].get("fieldPath", ""), pod_ip, host_ip)
            elif value_from.get("resourceFieldRef"):
                env[name] = _resource_value(
                    value_from["resourceFieldRef"], container, sources.node_allocatable
                )
            elif value_from.get("configMapKeyRef") or value_from.get("secretKeyRef"):
                is_cm = bool(value_from.get("configMapKeyRef"))
                ref = value_from["configMapKeyRef" if is_cm else "secretKeyRef"]
                optional, cname, key = bool(ref.get("optional")), ref.get("name", ""), ref.get("key", "")
                data = await get("configmap" if is_cm else "secret", cname, optional)
                if data is None:
                    continue
                if key not in data:
                    if optional:
                        continue
                    what = "ConfigMap" if is_cm else "Secret"
                    raise CreateContainerConfigError(f"couldn't find key {key} in {what} {namespace}/{cname}")
                env[name] = data[key]
        else:
            env[name] = ""
    for k, v in svc_env.items():
        env.setdefault(k, v)
    return env
