"""What RBAC authorization costs per request, measured in process. Prints one JSON object.

Two real :class:`testserver.apiserver.app.ApiServerApp` instances (memory storage) are called as ASGI
applications, without sockets: one with ``--authorization-mode AlwaysAllow``, one with ``RBAC`` holding
``--bindings`` RoleBindings (and as many Roles) for other users besides the one granting the caller
get/list on ConfigMaps. The caller is a client-certificate user (not system:masters, so the RBAC
authorizer really runs). GET of one ConfigMap and LIST of 20 run in alternating rounds so a busy
machine slows both alike; the figures are medians over the rounds, and ``*_throughput_ratio`` is
RBAC requests/s over AlwaysAllow requests/s (target >= 0.9); ``authorize_us_*`` is the authorizer
call alone (the load-independent part).

Run: ``uv run python tests/benchmarks/apiserver_authz.py [--requests N] [--rounds R] [--bindings B]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pyclientgo.api import builtin_registry
from testserver.apiserver.app import ApiServerApp
from testserver.apiserver.authz.attributes import Attributes
from testserver.apiserver.request import User
from testserver.storage.memory import MemoryStorage

TOKEN = "bench-token"
USER = "bench-user"
ASGICall = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
RBAC = "/apis/rbac.authorization.k8s.io/v1/namespaces/default"


def scope(method: str, path: str, *, admin: bool, content_type: bytes = b"") -> dict[str, Any]:
    headers = [(b"accept", b"application/json")]
    if content_type:
        headers.append((b"content-type", content_type))
    out: dict[str, Any] = {"type": "http", "method": method, "path": path, "query_string": b""}
    if admin:
        headers.append((b"authorization", b"Bearer " + TOKEN.encode()))
    else:  # a verified client certificate, as the TLS protocol reports it
        out["extensions"] = {"tls": {"client_subject": {"CN": USER, "O": ["bench"]}}}
    out["headers"] = headers
    return out


async def run(call: ASGICall, request: dict[str, Any], body: bytes, n: int) -> tuple[float, list[int]]:
    """Seconds per request for ``n`` sequential requests, and the statuses."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    t0 = time.perf_counter()
    for _ in range(n):
        await call(request, receive, send)
    return (time.perf_counter() - t0) / n, statuses


async def post(app: ApiServerApp, path: str, obj: dict[str, Any]) -> None:
    _, statuses = await run(
        app, scope("POST", path, admin=True, content_type=b"application/json"), json.dumps(obj).encode(), 1
    )
    if statuses[0] != 201:
        raise RuntimeError(f"POST {path}: {statuses[0]}")


def role(name: str, resources: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name},
        "rules": [{"apiGroups": [""], "resources": resources, "verbs": ["get", "list"]}],
    }


def binding(name: str, role_name: str, user: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role_name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }


async def main(requests: int, rounds: int, bindings: int) -> dict[str, Any]:
    apps = {
        mode: ApiServerApp(
            storage_factory=MemoryStorage,
            registry_factory=builtin_registry,
            token=TOKEN,
            authorization_mode=mode,
        )
        for mode in ("AlwaysAllow", "RBAC")
    }
    for app in apps.values():
        await app.startup()
    try:
        cms = "/api/v1/namespaces/default/configmaps"
        for app in apps.values():
            for i in range(20):
                await post(
                    app, cms, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}}
                )
        rbac = apps["RBAC"]
        for i in range(bindings):
            await post(rbac, f"{RBAC}/roles", role(f"other-{i}", ["secrets", "pods"]))
            await post(rbac, f"{RBAC}/rolebindings", binding(f"other-{i}", f"other-{i}", f"user-{i}"))
        await post(rbac, f"{RBAC}/roles", role("cm-reader", ["configmaps"]))
        await post(rbac, f"{RBAC}/rolebindings", binding("bench", "cm-reader", USER))
        deadline = time.monotonic() + 30
        while (await run(rbac, scope("GET", cms, admin=False), b"", 1))[1] != [200]:  # the index caught up
            if time.monotonic() > deadline:
                raise RuntimeError("the RBAC index never granted the benchmark user")
            await asyncio.sleep(0.01)
        index = rbac._rbac.index  # every Role and RoleBinding indexed before measuring
        while len(index.objects["roles"]) <= bindings or len(index.objects["rolebindings"]) <= bindings:
            if time.monotonic() > deadline:
                raise RuntimeError("the RBAC index never caught up")
            await asyncio.sleep(0.01)
        denied = (await run(rbac, scope("GET", "/api/v1/namespaces/default/secrets", admin=False), b"", 1))[1]
        cases = {"get": scope("GET", f"{cms}/cm-1", admin=False), "list_20": scope("GET", cms, admin=False)}
        out: dict[str, Any] = {
            "requests_per_round": requests,
            "rounds": rounds,
            "other_bindings": bindings,
            "secrets_status_for_user": denied[0],
        }
        attrs = Attributes(
            User(USER, ("bench", "system:authenticated")),
            "get",
            True,
            "default",
            "",
            "configmaps",
            "",
            "cm-1",
        )
        for mode, app in apps.items():
            t0 = time.perf_counter()
            for _ in range(requests * 10):
                app._authorize(attrs)
            out[f"authorize_us_{mode}"] = round((time.perf_counter() - t0) / (requests * 10) * 1e6, 2)
        for name, request in cases.items():
            times: dict[str, list[float]] = {mode: [] for mode in apps}
            for app in apps.values():
                await run(app, request, b"", requests)  # warm up
            for _ in range(rounds):
                for mode, app in apps.items():
                    per, statuses = await run(app, request, b"", requests)
                    if set(statuses) != {200}:
                        raise RuntimeError(f"{mode} {name}: statuses {sorted(set(statuses))}")
                    times[mode].append(per)
            allow, rbac_t = statistics.median(times["AlwaysAllow"]), statistics.median(times["RBAC"])
            out[f"{name}_us_always_allow"] = round(allow * 1e6, 1)
            out[f"{name}_us_rbac"] = round(rbac_t * 1e6, 1)
            out[f"{name}_throughput_ratio"] = round(allow / rbac_t, 3)
        return out
    finally:
        for app in apps.values():
            await app.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--bindings", type=int, default=500)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.requests, args.rounds, args.bindings))))
