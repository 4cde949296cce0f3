"""codegen.informers: which resources get typed informers and listers, and what the bindings say."""

from __future__ import annotations

from codegen.informers import INFORMERS_PATH, LISTERS_PATH, informable, render_informer_files
from codegen.models import BANNER
from codegen.output import GENERATED_FILES
from codegen.resources import extract_resources
from codegen.spec import Spec


def test_only_list_and_watch_resources_of_ga_groups(spec: Spec) -> None:
    resources = extract_resources(spec)
    chosen = {(r.group, r.version, r.plural) for r in informable(resources)}
    assert ("", "v1", "pods") in chosen and ("apps", "v1", "deployments") in chosen
    assert ("", "v1", "nodes") in chosen  # cluster-scoped too
    assert ("", "v1", "bindings") not in chosen  # create-only
    assert ("authentication.k8s.io", "v1", "tokenreviews") not in chosen
    assert all("watch" in r.verbs and "list" in r.verbs for r in informable(resources))


def test_generated_bindings(spec: Spec) -> None:
    files = render_informer_files(extract_resources(spec))
    assert set(files) == {LISTERS_PATH, INFORMERS_PATH} <= set(GENERATED_FILES)
    for text in files.values():
        assert text.startswith(BANNER + "\n")
    informers, listers = files[INFORMERS_PATH], files[LISTERS_PATH]
    assert "class PodInformer(TypedInformer[core_v1.Pod, listers.PodLister]):" in informers
    assert "    CLIENT = clients.AsyncPodClient" in informers
    assert "    def config_maps(self) -> ConfigMapInformer:" in informers
    assert "    configmaps = config_maps" in informers
    assert "    def core_v1(self) -> CoreV1Informers:" in informers
    # kinds served by two group/versions are told apart as the typed clients are
    assert "class CoreV1EventInformer(" in informers and "class EventsV1EventInformer(" in informers
    assert "    def pods(self, namespace: str) -> GenericNamespaceLister[core_v1.Pod]:" in listers
    assert "class NodeLister(GenericLister[core_v1.Node]):" in listers
    node_lister = listers.split("class NodeLister(")[1].split("\n\n\nclass ")[0]
    assert "namespace" not in node_lister.split('"""')[2]  # no per-namespace accessor


def test_generated_modules_expose_every_informer() -> None:
    from pyclientgo.apimachinery.registry import GroupVersionResource
    from pyclientgo.informers import SharedInformerFactory, TypedInformer
    from pyclientgo.informers import _generated as gen

    informer_classes = [
        getattr(gen, n) for n in gen.__all__ if n.endswith("Informer") and n != "TypedInformer"
    ]
    assert informer_classes and all(issubclass(c, TypedInformer) for c in informer_classes)
    assert set(SharedInformerFactory.INFORMERS.values()) == set(informer_classes)
    assert (
        SharedInformerFactory.INFORMERS[GroupVersionResource("apps", "v1", "deployments")]
        is gen.DeploymentInformer
    )
