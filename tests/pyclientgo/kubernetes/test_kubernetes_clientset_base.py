"""The clientset base (REST client ownership, discovery, kubeconfig) and the public export lists."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import respx

from pyclientgo.config import Config
from pyclientgo.discovery import AsyncDiscoveryClient
from pyclientgo.kubernetes import AsyncClientset, Clientset
from pyclientgo.rest import AsyncRESTClient

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://k8s.test"}
users:
- name: u
  user: {token: "t0k"}
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: ns}
current-context: ctx
"""


async def test_shared_rest_client(config: Config) -> None:
    async with AsyncRESTClient(config) as rest:
        cs = AsyncClientset(rest=rest)
        assert cs.rest is rest and cs.core_v1.rest is rest
        assert isinstance(cs.discovery, AsyncDiscoveryClient) and cs.discovery.rest is rest
    with pytest.raises(ValueError, match="not both"):
        AsyncClientset(config, rest=rest)


async def test_from_kubeconfig(tmp_path: Path, router: respx.MockRouter) -> None:
    path = tmp_path / "config"
    path.write_text(KUBECONFIG)
    route = router.get("/api/v1/namespaces/ns/configmaps/x").respond(
        json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    )
    async with AsyncClientset.from_kubeconfig(str(path), context="ctx") as cs:
        await cs.core_v1.config_maps("ns").get("x")
    assert route.calls.last.request.headers["authorization"] == "Bearer t0k"
    with Clientset.from_kubeconfig(str(path)) as sync_cs:
        sync_cs.core_v1.config_maps("ns").get("x")
    assert route.call_count == 2


@pytest.mark.parametrize("module", ["pyclientgo.kubernetes", "pyclientgo.dynamic", "pyclientgo.discovery"])
def test_exports_are_complete_and_sorted(module: str) -> None:
    mod = importlib.import_module(module)
    exported = mod.__all__
    assert sorted(exported) == exported
    for name in exported:
        assert getattr(mod, name) is not None
    public = {
        name
        for name in vars(mod)
        if not name.startswith("_") and not isinstance(getattr(mod, name), type(mod))
    }
    assert public <= set(exported), public - set(exported)


async def test_shared_rest_client_stays_open_after_close() -> None:
    from pyclientgo.config import Config
    from pyclientgo.kubernetes import AsyncClientset
    from pyclientgo.rest import AsyncRESTClient

    rest = AsyncRESTClient(Config(host="https://k8s.test"))
    async with AsyncClientset(rest=rest):
        pass
    assert not rest._http.is_closed, "a REST client passed in belongs to the caller"
    async with AsyncClientset(Config(host="https://k8s.test")) as owned:
        pass
    assert owned.rest._http.is_closed
    await rest.aclose()
