"""The CLI's --from-server input (OpenAPI read over HTTP, mocked with respx)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import httpx
import pytest
import respx

from codegen import cli
from codegen.output import render
from codegen.spec import Spec, fetch_spec, load_spec


@respx.mock
def test_fetch_spec_reads_v2_and_v3(spec_path: Path) -> None:
    v3_doc = spec_path.parent / "v3" / "api__v1_openapi.json.gz"
    respx.get("https://k8s.test/openapi/v2").mock(
        return_value=httpx.Response(200, content=gzip.decompress(spec_path.read_bytes()))
    )
    respx.get("https://k8s.test/openapi/v3").mock(
        return_value=httpx.Response(
            200, json={"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=1"}}}
        )
    )
    respx.get("https://k8s.test/openapi/v3/api/v1").mock(
        return_value=httpx.Response(200, content=gzip.decompress(v3_doc.read_bytes()))
    )
    fetched = fetch_spec("https://k8s.test/", insecure=True)
    local = load_spec(spec_path, None)
    assert fetched.definitions == local.definitions and fetched.paths == local.paths
    assert fetched.defaults["io.k8s.api.core.v1.ContainerPort"]["protocol"] == "TCP"


def test_from_server_generates_the_same_as_the_file(spec: Spec, spec_path: Path, tmp_path: Path) -> None:
    with respx.mock:
        respx.get("http://k8s.test/openapi/v2").mock(
            return_value=httpx.Response(200, content=gzip.decompress(spec_path.read_bytes()))
        )
        respx.get("http://k8s.test/openapi/v3").mock(return_value=httpx.Response(404))
        fetched = fetch_spec("http://k8s.test")
    from_file = load_spec(spec_path, None)
    assert render(fetched) == render(from_file)


def test_kubeconfig_token_is_sent(spec_path: Path, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        json.dumps(
            {
                "current-context": "c",
                "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
                "clusters": [
                    {"name": "k", "cluster": {"server": "https://k8s.test", "insecure-skip-tls-verify": True}}
                ],
                "users": [{"name": "u", "user": {"token": "secret-token"}}],
            }
        )
    )
    with respx.mock:
        route = respx.get("https://k8s.test/openapi/v2").mock(
            return_value=httpx.Response(200, json={"definitions": {}, "paths": {}})
        )
        respx.get("https://k8s.test/openapi/v3").mock(return_value=httpx.Response(404))
        fetch_spec("https://k8s.test", kubeconfig=kubeconfig)
    assert route.calls.last.request.headers["Authorization"] == "Bearer secret-token"


def test_generate_into_a_fresh_root(
    spec_path: Path, tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_bytes((repo_root / "pyproject.toml").read_bytes())
    args = ["--root", str(tmp_path), "--spec", str(spec_path)]
    monkeypatch.setattr(cli, "_sync_twins", lambda: None)  # only codegen's own files here
    assert cli.main(["generate", *args]) == 0
    assert cli.main(["check", *args]) == 0
    for rel in (
        "pyclientgo/api/core/v1.py",
        "pyclientgo/api/_registry_data.py",
        "pyclientgo/kubernetes/_async/clientset.py",
    ):
        assert (tmp_path / rel).read_text() == (repo_root / rel).read_text()
