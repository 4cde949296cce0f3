"""What the API server proxies to kubelets: ``pods/log`` (pkg/registry/core/pod/rest/log.go,
pod/strategy.go:LogLocation, apiserver's generic LocationStreamer and response checker).

The pod's node is looked up in storage; the kubelet is reached at its first ``InternalIP`` (then
``ExternalIP``, then ``Hostname``: node names here are not DNS names, unlike kube's default
``--kubelet-preferred-address-types`` order) on ``status.daemonEndpoints.kubeletEndpoint.Port``,
over HTTPS without verifying the kubelet's certificate (kube-apiserver without
``--kubelet-certificate-authority``). The kubelet's body is streamed through as ``text/plain``
(``follow`` included) until the kubelet ends it or the client goes away; a kubelet 400 becomes a
``BadRequest`` with the kubelet's text as message (``container "c" in pod "p" is waiting to
start: ContainerCreating``), other failures keep their code. A pod without a node gets an empty log.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import orjson

from testserver.apiserver import status as st
from testserver.apiserver.request import Request, Response, StreamResponse
from testserver.storage.interface import Storage
from testserver.storage.keys import key_for, storage_resource

__all__ = ["LOG_QUERY_PARAMS", "proxy_pod_log"]

LOG_QUERY_PARAMS = (
    "follow",
    "previous",
    "sinceSeconds",
    "sinceTime",
    "timestamps",
    "tailLines",
    "limitBytes",
    "stream",
    "insecureSkipTLSVerifyBackend",
)
"""The PodLogOptions passed on to the kubelet."""

_ADDRESS_ORDER = ("InternalIP", "ExternalIP", "Hostname", "InternalDNS", "ExternalDNS")
_MAX_ERROR_BODY = 64 * 1024

_client: httpx.AsyncClient | None = None


def _http() -> httpx.AsyncClient:
    global _client
    if _client is None:
        _client = httpx.AsyncClient(
            verify=False,
            timeout=httpx.Timeout(10.0, read=None),
            limits=httpx.Limits(max_keepalive_connections=20),
        )
    return _client


def _validate(query: dict[str, str]) -> None:
    """PodLogOptions validation (core/validation ValidatePodLogOptions)."""
    causes: list[str] = []
    for name, minimum, text in (
        ("tailLines", 0, "must be greater than or equal to 0"),
        ("limitBytes", 1, "must be greater than 0"),
        ("sinceSeconds", 1, "must be greater than 0"),
    ):
        raw = query.get(name)
        if raw is None or raw == "":
            continue
        try:
            value = int(raw)
        except ValueError as err:
            raise st.bad_request(f"invalid {name} {raw!r}: must be an integer") from err
        if value < minimum:
            causes.append(f"{name}: Invalid value: {value}: {text}")
    if query.get("sinceSeconds") and query.get("sinceTime"):
        causes.append("[]: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified")
    if causes:
        joined = causes[0] if len(causes) == 1 else "[" + ", ".join(causes) + "]"
        raise st.invalid_plain(f'PodLogOptions "" is invalid: {joined}')


def _kubelet_address(node: dict[str, Any]) -> tuple[str, int] | None:
    status = node.get("status") or {}
    port = int(((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or 0)
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or [] if a.get("address")}
    for kind in _ADDRESS_ORDER:
        if kind in addresses and port:
            return str(addresses[kind]), port
    return None


async def proxy_pod_log(
    req: Request, storage: Storage, pod: dict[str, Any], container: str
) -> Response | StreamResponse:
    """``GET pods/log`` of ``pod``'s ``container`` through its kubelet (module docstring)."""
    _validate(req.query)
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
    node_name = spec.get("nodeName") or ""
    if not node_name:
        return Response(200, b"", b"text/plain")
    kv = await storage.get(key_for(storage_resource("nodes"), None, node_name))
    if kv is None:
        raise st.not_found("nodes", node_name)
    where = _kubelet_address(orjson.loads(kv.value))
    if where is None:
        raise st.internal_error(f"node {node_name} has no kubelet address and port")
    host, port = where
    host = f"[{host}]" if ":" in host else host
    params = {k: req.query[k] for k in LOG_QUERY_PARAMS if k in req.query}
    url = f"https://{host}:{port}/containerLogs/{quote(namespace)}/{quote(name)}/{quote(container)}"
    if params:
        url += "?" + urlencode(params)
    client = _http()
    try:
        resp = await client.send(client.build_request("GET", url), stream=True)
    except httpx.HTTPError as err:
        raise st.internal_error(f'Get "{url}": {err}') from err
    if resp.status_code != 200:
        try:
            body = (await resp.aread())[:_MAX_ERROR_BODY].decode("utf-8", "replace")
        finally:
            await resp.aclose()
        if resp.status_code == 400:
            raise st.bad_request(body)
        if resp.status_code == 404:
            raise st.StatusError(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": body,
                    "reason": "NotFound",
                    "details": {"name": name, "kind": "pods/log"},
                    "code": 404,
                }
            )
        raise st.internal_error(body)

    async def run(send: Any) -> None:
        async def pump() -> None:
            async for chunk in resp.aiter_raw():
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})

        async def disconnected() -> None:
            while (await req.receive())["type"] != "http.disconnect":
                pass

        tasks = [asyncio.create_task(pump()), asyncio.create_task(disconnected())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(BaseException):
                    await t
            await resp.aclose()

    return StreamResponse(200, b"text/plain", run)
