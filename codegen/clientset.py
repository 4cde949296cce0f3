"""Emit the typed async clientset, ``pyclientgo/kubernetes/_async/clientset.py``.

Only bindings: one class per resource binding the hand-written generic ``AsyncResourceClient`` (and
an expansion mixin where there is one) to its models and registry entry; one class per group/version
with a method per resource; and ``AsyncClientset`` with an attribute per group/version. The sync
twin is derived from this file by ``codegen.sync_twins``.
"""

from __future__ import annotations

from collections import Counter

from codegen.models import BANNER, literal
from codegen.naming import GA_GROUP_VERSIONS, GroupVersion, camel_plural, snake_case
from codegen.resources import registry_constant
from codegen.tables import EXPANSIONS
from pyclientgo.apimachinery.registry import ResourceInfo

__all__ = ["client_class_name", "method_name", "render_clientset"]

PATH = "pyclientgo/kubernetes/_async/clientset.py"


def method_name(info: ResourceInfo) -> str:
    """client-go's method name, snake_cased: ``config_maps``, ``horizontal_pod_autoscalers``."""
    return snake_case(camel_plural(info.kind, info.plural))


def client_class_name(info: ResourceInfo, ambiguous: set[str]) -> str:
    """``AsyncPodClient``; kinds served by several group/versions get the group/version in the name."""
    if info.kind in ambiguous:
        return f"Async{GroupVersion(info.group, info.version).pascal}{info.kind}Client"
    return f"Async{info.kind}Client"


def _module_ref(path: str) -> tuple[str, str]:
    """``pyclientgo.api.core.v1:Pod`` → (``core_v1``, ``core_v1.Pod``)."""
    module, _, name = path.partition(":")
    package, version = module.split(".")[-2:]
    alias = f"{package}_{version}"
    return alias, f"{alias}.{name}"


def render_clientset(resources: list[ResourceInfo]) -> str:
    kinds = Counter(info.kind for info in resources)
    ambiguous = {kind for kind, n in kinds.items() if n > 1}
    aliases: set[str] = set()
    expansions: set[str] = set()
    uses_k8s_model = False
    classes: list[str] = []
    for info in resources:
        alias, model = _module_ref(info.model)
        aliases.add(alias)
        if info.list_model:
            list_model = _module_ref(info.list_model)[1]
        else:
            list_model, uses_k8s_model = "K8sModel", True
        expansion = EXPANSIONS.get((info.group, info.plural))
        bases = f"AsyncResourceClient[{model}, {list_model}]"
        if expansion:
            expansions.add(expansion)
            bases = f"{expansion}, {bases}"
        scope = "namespaced" if info.namespaced else "cluster-scoped"
        where = info.group_version if info.group else "core/v1"
        classes.append(
            "\n".join(
                [
                    f"class {client_class_name(info, ambiguous)}({bases}):",
                    f'    """Typed client of {info.plural} ({where}, {scope})."""',
                    "",
                    f"    INFO = _registry_data.{registry_constant(info)}",
                    f"    MODEL = {model}",
                    f"    LIST_MODEL = {list_model}",
                ]
            )
        )

    groups: list[str] = []
    attributes: list[tuple[str, str]] = []
    for gv in GA_GROUP_VERSIONS:
        members = [r for r in resources if (r.group, r.version) == (gv.group, gv.version)]
        if not members:
            continue
        name = f"Async{gv.pascal}Client"
        attributes.append((gv.alias, name))
        lines = [
            f"class {name}:",
            f'    """Clients of the resources of {gv.api_version if gv.group else "core/v1"}."""',
            "",
            "    def __init__(self, rest: AsyncRESTClient) -> None:",
            "        self.rest = rest",
        ]
        for info in members:
            cls = client_class_name(info, ambiguous)
            method = method_name(info)
            lines.append("")
            if info.namespaced:
                lines += [
                    f"    def {method}(self, namespace: str | None = None) -> {cls}:",
                    f'        """{info.plural} in ``namespace`` (all namespaces when None, for list and watch)."""',
                    f"        return {cls}(self.rest, namespace)",
                ]
            else:
                lines += [
                    f"    def {method}(self) -> {cls}:",
                    f'        """{info.plural} (cluster-scoped)."""',
                    f"        return {cls}(self.rest)",
                ]
            if method != info.plural:
                lines += ["", f"    {info.plural} = {method}"]
        groups.append("\n".join(lines))

    clientset = [
        "class AsyncClientset(AsyncClientsetBase):",
        '    """Typed clients of every built-in group/version: ``cs.core_v1.pods("ns").get("x")``."""',
        "",
        "    def __init__(self, config: Config | None = None, *, rest: AsyncRESTClient | None = None) -> None:",
        "        super().__init__(config, rest=rest)",
    ]
    for attr, cls in attributes:
        clientset.append(f"        self.{attr} = {cls}(self.rest)")

    head = [
        BANNER,
        '"""Typed clients of the built-in resources: bindings of the generic client to the generated models.',
        "",
        "The sync twin (``pyclientgo.kubernetes._sync.clientset``) is generated from this file.",
        '"""',
        "",
        "from pyclientgo.api import _registry_data",
    ]
    for alias in sorted(aliases):
        package, version = alias.rsplit("_", 1)
        head.append(f"from pyclientgo.api.{package} import {version} as {alias}")
    if uses_k8s_model:
        head.append("from pyclientgo.apimachinery.model import K8sModel")
    head += [
        "from pyclientgo.config import Config",
        "from pyclientgo.kubernetes._async.clientset_base import AsyncClientsetBase",
        f"from pyclientgo.kubernetes._async.expansions import {', '.join(sorted(expansions))}",
        "from pyclientgo.kubernetes._async.resource import AsyncResourceClient",
        "from pyclientgo.rest import AsyncRESTClient",
        "",
    ]
    exported = ["AsyncClientset", *(cls for _, cls in attributes)]
    exported += [client_class_name(info, ambiguous) for info in resources]
    head.append(f"__all__ = {literal(exported)}")
    body = [*classes, *groups, "\n".join(clientset)]
    return "\n".join(head) + "\n\n\n" + "\n\n\n".join(body) + "\n"
