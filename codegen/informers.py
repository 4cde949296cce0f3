"""Emit the typed listers and informers: ``pyclientgo/listers/_generated.py`` and
``pyclientgo/informers/_generated.py``.

Only bindings, as in :mod:`codegen.clientset`: per resource that can be listed and watched, a lister
class binding :class:`pyclientgo.listers.generic.GenericLister` to its model (with a
``pods(namespace)``-style accessor for namespaced resources) and an informer class binding
:class:`pyclientgo.informers.factory.TypedInformer` to the model, the typed client and the lister;
per group/version a class of informer accessors; and ``SharedInformerFactory`` with one cached
attribute per group/version (``factory.core_v1.pods()``).
"""

from __future__ import annotations

from collections import Counter

from codegen.clientset import client_class_name, method_name
from codegen.models import BANNER, literal
from codegen.naming import GA_GROUP_VERSIONS, GroupVersion
from codegen.resources import registry_constant
from pyclientgo.apimachinery.registry import ResourceInfo

__all__ = ["INFORMERS_PATH", "LISTERS_PATH", "informable", "render_informer_files"]

LISTERS_PATH = "pyclientgo/listers/_generated.py"
INFORMERS_PATH = "pyclientgo/informers/_generated.py"


def informable(resources: list[ResourceInfo]) -> list[ResourceInfo]:
    """Resources of the GA group/versions that can be listed and watched (client-go's informer set)."""
    served = {(gv.group, gv.version) for gv in GA_GROUP_VERSIONS}
    return [
        r
        for r in resources
        if (r.group, r.version) in served and "list" in r.verbs and "watch" in r.verbs and r.list_model
    ]


def _model(info: ResourceInfo) -> str:
    """``core_v1.Pod``."""
    module, _, name = info.model.partition(":")
    package, version = module.split(".")[-2:]
    return f"{package}_{version}.{name}"


def _base_name(info: ResourceInfo, ambiguous: set[str]) -> str:
    """``Pod``; ``CoreV1Event`` when several group/versions serve the kind (as the client classes)."""
    return client_class_name(info, ambiguous).removeprefix("Async").removesuffix("Client")


def _where(info: ResourceInfo) -> str:
    return info.group_version if info.group else "core/v1"


def _imports(infos: list[ResourceInfo]) -> list[str]:
    aliases = sorted({_model(i).split(".")[0] for i in infos})
    lines = []
    for alias in aliases:
        package, version = alias.rsplit("_", 1)
        lines.append(f"from pyclientgo.api.{package} import {version} as {alias}")
    return lines


def render_listers(infos: list[ResourceInfo], ambiguous: set[str]) -> str:
    classes: list[str] = []
    exported: list[str] = []
    for info in infos:
        name = f"{_base_name(info, ambiguous)}Lister"
        exported.append(name)
        model = _model(info)
        scope = (
            f"``{method_name(info)}(namespace)`` for one namespace" if info.namespaced else "cluster-scoped"
        )
        lines = [
            f"class {name}(GenericLister[{model}]):",
            f'    """Reads {info.plural} ({_where(info)}) from an informer\'s cache; {scope}."""',
            "",
            f"    INFO = _registry_data.{registry_constant(info)}",
        ]
        if info.namespaced:
            method = method_name(info)
            lines += [
                "",
                f"    def {method}(self, namespace: str) -> GenericNamespaceLister[{model}]:",
                f'        """The {info.plural} of ``namespace``."""',
                "        return self.by_namespace(namespace)",
            ]
            if method != info.plural:
                lines += ["", f"    {info.plural} = {method}"]
        classes.append("\n".join(lines))
    head = [
        BANNER,
        '"""Typed listers of the built-in resources: bindings of :mod:`pyclientgo.listers.generic`."""',
        "",
        "from pyclientgo.api import _registry_data",
        *_imports(infos),
        "from pyclientgo.listers.generic import GenericLister, GenericNamespaceLister",
        "",
        f"__all__ = {literal(sorted(exported))}",
    ]
    return "\n".join(head) + "\n\n\n" + "\n\n\n".join(classes) + "\n"


def render_informers(infos: list[ResourceInfo], ambiguous: set[str]) -> str:
    classes: list[str] = []
    exported: list[str] = []
    for info in infos:
        base = _base_name(info, ambiguous)
        name = f"{base}Informer"
        exported.append(name)
        model = _model(info)
        classes.append(
            "\n".join(
                [
                    f"class {name}(TypedInformer[{model}, listers.{base}Lister]):",
                    f'    """Shared informer and typed lister of {info.plural} ({_where(info)})."""',
                    "",
                    f"    INFO = _registry_data.{registry_constant(info)}",
                    f"    MODEL = {model}",
                    f"    CLIENT = clients.{client_class_name(info, ambiguous)}",
                    f"    LISTER = listers.{base}Lister",
                ]
            )
        )
    groups: list[str] = []
    attributes: list[tuple[GroupVersion, str]] = []
    for gv in GA_GROUP_VERSIONS:
        members = [i for i in infos if (i.group, i.version) == (gv.group, gv.version)]
        if not members:
            continue
        cls = f"{gv.pascal}Informers"
        exported.append(cls)
        attributes.append((gv, cls))
        lines = [
            f"class {cls}:",
            f'    """Informers of {gv.api_version if gv.group else "core/v1"}."""',
            "",
            "    def __init__(self, factory: SharedInformerFactoryBase) -> None:",
            "        self._factory = factory",
        ]
        for info in members:
            method = method_name(info)
            informer = f"{_base_name(info, ambiguous)}Informer"
            lines += [
                "",
                f"    def {method}(self) -> {informer}:",
                f'        """The factory\'s shared informer of {info.plural}."""',
                f"        return {informer}.for_factory(self._factory)",
            ]
            if method != info.plural:
                lines += ["", f"    {info.plural} = {method}"]
        groups.append("\n".join(lines))
    factory = [
        "class SharedInformerFactory(TypedSharedInformerFactoryBase):",
        '    """Shared informers of every built-in resource: ``factory.core_v1.pods()``; see',
        '    :mod:`pyclientgo.informers.factory` for the options and the lifecycle."""',
        "",
        "    INFORMERS = informers_by_resource(",
        *(f"        {_base_name(i, ambiguous)}Informer," for i in infos),
        "    )",
    ]
    for gv, cls in attributes:
        factory += [
            "",
            "    @functools.cached_property",
            f"    def {gv.alias}(self) -> {cls}:",
            f'        """Informers of {gv.api_version if gv.group else "core/v1"}."""',
            f"        return {cls}(self)",
        ]
    exported.append("SharedInformerFactory")
    head = [
        BANNER,
        '"""Typed informers of the built-in resources and ``SharedInformerFactory``: bindings of',
        ':mod:`pyclientgo.informers.factory` to the generated models, clients and listers."""',
        "",
        "import functools",
        "",
        "from pyclientgo.api import _registry_data",
        *_imports(infos),
        "from pyclientgo.informers.factory import (",
        "    SharedInformerFactoryBase,",
        "    TypedInformer,",
        "    TypedSharedInformerFactoryBase,",
        "    informers_by_resource,",
        ")",
        "from pyclientgo.kubernetes._async import clientset as clients",
        "from pyclientgo.listers import _generated as listers",
        "",
        f"__all__ = {literal(sorted(exported))}",
    ]
    body = [*classes, *groups, "\n".join(factory)]
    return "\n".join(head) + "\n\n\n" + "\n\n\n".join(body) + "\n"


def render_informer_files(resources: list[ResourceInfo]) -> dict[str, str]:
    """Path → unformatted source of the generated lister and informer modules."""
    kinds = Counter(info.kind for info in resources)
    ambiguous = {kind for kind, n in kinds.items() if n > 1}
    infos = informable(resources)
    return {
        LISTERS_PATH: render_listers(infos, ambiguous),
        INFORMERS_PATH: render_informers(infos, ambiguous),
    }
