"""Facts of the generated registry data, checked against what kube-apiserver serves."""

from __future__ import annotations

from pyclientgo.api import builtin_registry
from pyclientgo.api._registry_data import RESOURCES
from pyclientgo.apimachinery.registry import GroupVersionKind, GroupVersionResource, ResourceInfo


def _get(group: str, version: str, plural: str) -> ResourceInfo:
    info = builtin_registry().get(GroupVersionResource(group, version, plural))
    assert info is not None, (group, version, plural)
    return info


def test_builtin_registry_is_cached_and_complete() -> None:
    assert builtin_registry() is builtin_registry()
    assert len(builtin_registry()) == len(RESOURCES)
    assert len({info.gvr for info in RESOURCES}) == len(RESOURCES)


def test_pods() -> None:
    pods = _get("", "v1", "pods")
    assert pods.namespaced and pods.kind == "Pod" and pods.singular == "pod"
    assert pods.list_kind == "PodList"
    assert set(pods.verbs) == {
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    }
    subs = {sub.name: sub for sub in pods.subresources}
    assert {
        "status",
        "binding",
        "eviction",
        "log",
        "ephemeralcontainers",
        "exec",
        "attach",
        "portforward",
    } <= set(subs)
    assert subs["status"].kind == "Pod" and set(subs["status"].verbs) == {"get", "patch", "update"}
    assert (subs["eviction"].group, subs["eviction"].version, subs["eviction"].kind) == (
        "policy",
        "v1",
        "Eviction",
    )
    assert subs["binding"].kind == "Binding" and subs["binding"].verbs == ("create",)
    assert subs["log"].kind == "Pod" and subs["log"].verbs == ("get",)
    assert pods.short_names == ("po",) and "all" in pods.categories
    assert pods.load_model().__name__ == "Pod" and pods.load_list_model().__name__ == "PodList"


def test_scale_subresources() -> None:
    for plural in ("deployments", "replicasets", "statefulsets"):
        scale = _get("apps", "v1", plural).subresource("scale")
        assert scale is not None
        assert (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")
    assert _get("apps", "v1", "daemonsets").subresource("scale") is None


def test_scopes() -> None:
    for plural in ("nodes", "namespaces", "persistentvolumes"):
        assert not _get("", "v1", plural).namespaced
    assert not _get("rbac.authorization.k8s.io", "v1", "clusterroles").namespaced
    assert _get("rbac.authorization.k8s.io", "v1", "roles").namespaced
    assert not _get("apiextensions.k8s.io", "v1", "customresourcedefinitions").namespaced


def test_short_names_and_categories() -> None:
    expected = {
        ("", "services"): ("svc",),
        ("apps", "deployments"): ("deploy",),
        ("", "configmaps"): ("cm",),
        ("", "persistentvolumeclaims"): ("pvc",),
        ("apiextensions.k8s.io", "customresourcedefinitions"): ("crd", "crds"),
        ("autoscaling", "horizontalpodautoscalers"): ("hpa",),
        ("batch", "cronjobs"): ("cj",),
        ("networking.k8s.io", "networkpolicies"): ("netpol",),
    }
    by_key = {(info.group, info.plural): info for info in RESOURCES}
    for key, names in expected.items():
        assert by_key[key].short_names == names, key
    all_category = {info.plural for info in RESOURCES if "all" in info.categories}
    assert all_category == {
        "pods",
        "services",
        "deployments",
        "replicasets",
        "statefulsets",
        "daemonsets",
        "jobs",
        "cronjobs",
        "replicationcontrollers",
        "horizontalpodautoscalers",
    }


def test_create_only_resources_have_no_list() -> None:
    review = _get("authorization.k8s.io", "v1", "selfsubjectaccessreviews")
    assert review.verbs == ("create",) and review.list_kind == "" and review.list_model == ""
    assert review.load_model().__name__ == "SelfSubjectAccessReview"


def test_every_model_path_loads() -> None:
    for info in RESOURCES:
        model = info.load_model()
        assert getattr(model, "KIND", None) == info.kind, info.gvr
        if info.list_model:
            assert info.load_list_model().__name__ == info.list_kind


def test_lookup_by_kind() -> None:
    info = builtin_registry().for_kind(GroupVersionKind("events.k8s.io", "v1", "Event"))
    assert info is not None and info.plural == "events" and info.group == "events.k8s.io"
    assert builtin_registry().group_versions()[0] == ("", "v1")
