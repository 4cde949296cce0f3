"""CRDs over the wire: validation of the CRD itself, name conflicts, several versions sharing one
storage version, ``served: false``, selectable fields, cluster scope, defaults applied on read."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx
from apiserver_testlib import CRDS, crd_body, crd_conditions, create_established, wait_for

SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "color": {"type": "string"},
                "size": {"type": "integer"},
                "on": {"type": "boolean"},
            },
        }
    },
}


def widget_crd(group: str, **overrides: Any) -> dict[str, Any]:
    """``widgets.<group>`` with :data:`SCHEMA`; ``overrides`` replace fields of its spec."""
    body = crd_body(group, "widgets", "Widget", schema=SCHEMA)
    body["spec"].update(overrides)
    body["metadata"]["name"] = f"{body['spec']['names']['plural']}.{group}"
    return body


def new_group() -> str:
    return f"v{uuid.uuid4().hex[:6]}.example.com"


def causes(r: httpx.Response) -> list[tuple[str, str]]:
    assert r.status_code == 422, r.text
    return [(c["field"], c["message"]) for c in r.json()["details"]["causes"]]


def test_crd_validation(client: httpx.Client) -> None:
    group = new_group()
    bad_name = widget_crd(group)
    bad_name["metadata"]["name"] = f"things.{group}"
    assert (
        "metadata.name",
        f'Invalid value: "things.{group}": must be spec.names.plural+"."+spec.group',
    ) in (causes(client.post(CRDS, json=bad_name)))
    r = client.post(CRDS, json=widget_crd(group, scope="Global"))
    assert ("spec.scope", 'Unsupported value: "Global": supported values: "Cluster", "Namespaced"') in causes(
        r
    )
    r = client.post(
        CRDS, json=widget_crd(group, names={"plural": "widgets", "kind": "Widget", "shortNames": ["W!"]})
    )
    assert any(f == "spec.names.shortNames[0]" for f, _ in causes(r))
    two = widget_crd(group)
    two["spec"]["versions"].append(
        {"name": "v2", "served": True, "storage": True, "schema": {"openAPIV3Schema": SCHEMA}}
    )
    msgs = causes(client.post(CRDS, json=two))
    assert any(
        f == "spec.versions" and m.endswith("must have exactly one version marked as storage version")
        for f, m in msgs
    )
    no_schema = widget_crd(group)
    del no_schema["spec"]["versions"][0]["schema"]
    assert ("spec.versions[0].schema.openAPIV3Schema", "Required value: schemas are required") in causes(
        client.post(CRDS, json=no_schema)
    )
    untyped = widget_crd(group)
    untyped["spec"]["versions"][0]["schema"] = {
        "openAPIV3Schema": {"type": "object", "properties": {"spec": {"properties": {}}}}
    }
    assert (
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].type",
        "Required value: must not be empty for specified object fields",
    ) in causes(client.post(CRDS, json=untyped))
    r = client.post(CRDS, json=widget_crd("nodot"))
    assert ("spec.group", 'Invalid value: "nodot": should be a domain with at least one dot') in causes(r)
    assert r.json()["message"].startswith(
        'CustomResourceDefinition.apiextensions.k8s.io "widgets.nodot" is invalid'
    )
    assert client.get(f"{CRDS}/widgets.{group}").status_code == 404  # nothing was stored


def test_names_conflict_not_established(client: httpx.Client) -> None:
    group = new_group()
    create_established(client, widget_crd(group))
    clash = widget_crd(group, names={"plural": "gadgets", "singular": "gadget", "kind": "Widget"})
    assert client.post(CRDS, json=clash).status_code == 201
    name = f"gadgets.{group}"
    wait_for(lambda: crd_conditions(client, name).get("NamesAccepted", {}).get("status") == "False")
    conds = crd_conditions(client, name)
    assert conds["NamesAccepted"]["reason"] == "KindConflict"
    assert conds["NamesAccepted"]["message"] == '"Widget" is already in use'
    assert conds["Established"]["status"] == "False"
    assert client.get(f"/apis/{group}/v1/namespaces/default/gadgets").status_code == 404
    client.delete(f"{CRDS}/gadgets.{group}")
    client.delete(f"{CRDS}/widgets.{group}")


def test_multiple_versions_share_storage(client: httpx.Client) -> None:
    group = new_group()
    crd = widget_crd(group)
    crd["spec"]["versions"] = [
        {"name": "v1beta1", "served": True, "storage": False, "schema": {"openAPIV3Schema": SCHEMA}},
        {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": SCHEMA}},
        {"name": "v1alpha1", "served": False, "storage": False, "schema": {"openAPIV3Schema": SCHEMA}},
    ]
    name = create_established(client, crd)
    r = client.post(
        f"/apis/{group}/v1beta1/namespaces/default/widgets",
        json={
            "apiVersion": f"{group}/v1beta1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"size": 1},
        },
    )
    assert r.status_code == 201 and r.json()["apiVersion"] == f"{group}/v1beta1"
    got = client.get(f"/apis/{group}/v1/namespaces/default/widgets/w").json()
    assert got["apiVersion"] == f"{group}/v1" and got["spec"] == {"size": 1}
    listed = client.get(f"/apis/{group}/v1/widgets").json()
    assert listed["apiVersion"] == f"{group}/v1" and listed["kind"] == "WidgetList"
    assert [i["apiVersion"] for i in listed["items"]] == [f"{group}/v1"]
    assert client.get(f"/apis/{group}/v1alpha1/namespaces/default/widgets").status_code == 404
    group_doc = client.get(f"/apis/{group}").json()
    assert [v["version"] for v in group_doc["versions"]] == ["v1", "v1beta1"]
    assert group_doc["preferredVersion"]["version"] == "v1"
    paths = client.get("/openapi/v3").json()["paths"]
    assert f"apis/{group}/v1beta1" in paths and f"apis/{group}/v1alpha1" not in paths
    # stop serving v1beta1: discovery and routes follow the CRD
    crd = client.get(f"{CRDS}/{name}").json()
    crd["spec"]["versions"][0]["served"] = False
    assert client.put(f"{CRDS}/{name}", json=crd).status_code == 200
    wait_for(lambda: client.get(f"/apis/{group}/v1beta1/namespaces/default/widgets").status_code == 404)
    assert [v["version"] for v in client.get(f"/apis/{group}").json()["versions"]] == ["v1"]
    client.delete(f"{CRDS}/{name}")


def test_selectable_fields(client: httpx.Client) -> None:
    group = new_group()
    crd = widget_crd(group)
    crd["spec"]["versions"][0]["selectableFields"] = [
        {"jsonPath": ".spec.color"},
        {"jsonPath": ".spec.size"},
        {"jsonPath": ".spec.on"},
    ]
    name = create_established(client, crd)
    url = f"/apis/{group}/v1/namespaces/default/widgets"
    for wname, color, size, on in (("a", "red", 1, True), ("b", "blue", 2, False), ("c", "red", 3, False)):
        body = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": wname}}
        body["spec"] = {"color": color, "size": size, "on": on}
        assert client.post(url, json=body).status_code == 201

    def names(selector: str) -> list[str]:
        r = client.get(url, params={"fieldSelector": selector})
        assert r.status_code == 200, r.text
        return sorted(i["metadata"]["name"] for i in r.json()["items"])

    assert names("spec.color=red") == ["a", "c"]
    assert names("spec.color!=red,spec.size=2") == ["b"]
    assert names("spec.on=true") == ["a"]
    assert names("metadata.name=c") == ["c"]
    assert client.get(url, params={"fieldSelector": "spec.other=x"}).status_code == 400
    client.delete(f"{CRDS}/{name}")


def test_cluster_scoped(client: httpx.Client) -> None:
    group = new_group()
    name = create_established(client, widget_crd(group, scope="Cluster"))
    url = f"/apis/{group}/v1/widgets"
    body = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "cw"}, "spec": {"size": 5}}
    r = client.post(url, json=body)
    assert r.status_code == 201 and "namespace" not in r.json()["metadata"]
    assert client.get(f"{url}/cw").json()["spec"]["size"] == 5
    assert client.get(f"/apis/{group}/v1/namespaces/default/widgets").status_code == 404
    scope = client.get(f"/apis/{group}/v1").json()["resources"][0]["namespaced"]
    assert scope is False
    assert client.delete(f"{url}/cw").status_code == 200
    client.delete(f"{CRDS}/{name}")


def test_defaults_applied_on_read_after_schema_change(client: httpx.Client) -> None:
    group = new_group()
    name = create_established(client, widget_crd(group))
    url = f"/apis/{group}/v1/namespaces/default/widgets"
    body = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "old"}, "spec": {"size": 1}}
    assert client.post(url, json=body).status_code == 201
    crd = client.get(f"{CRDS}/{name}").json()
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["spec"]["properties"]["color"]["default"] = "green"
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = schema
    r = client.put(f"{CRDS}/{name}", json=crd)
    assert r.status_code == 200 and r.json()["metadata"]["generation"] == 2
    wait_for(lambda: client.get(f"{url}/old").json()["spec"].get("color") == "green")
    assert client.get(url).json()["items"][0]["spec"] == {"size": 1, "color": "green"}
    client.delete(f"{CRDS}/{name}")
