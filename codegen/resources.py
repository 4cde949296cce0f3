"""Served resources, read from the spec's paths and their ``x-kubernetes-action`` /
``x-kubernetes-group-version-kind`` operation extensions, and emitted as ``pyclientgo/api/_registry_data.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from codegen.models import BANNER, build_model_modules, class_name, literal
from codegen.naming import GA_GROUP_VERSIONS, GroupVersion
from codegen.spec import Spec
from codegen.tables import CATEGORIES, SHORT_NAMES
from pyclientgo.apimachinery.registry import ResourceInfo, SubresourceInfo

__all__ = ["extract_resources", "registry_constant", "render_registry_data"]

_PATH = re.compile(
    r"^/(?:api|apis/(?P<group>[^/]+))/(?P<version>[^/]+)/(?P<watch>watch/)?"
    r"(?P<ns>namespaces/\{namespace\}/)?(?P<plural>[^/{]+)(?:/\{name\}(?:/(?P<sub>[^/{]+))?)?/?$"
)
_METHOD_VERBS = {"get": "get", "post": "create", "put": "update", "patch": "patch", "delete": "delete"}
_ACTION_VERBS = {
    "get": "get",
    "list": "list",
    "watch": "watch",
    "watchlist": "watch",
    "post": "create",
    "put": "update",
    "patch": "patch",
    "delete": "delete",
    "deletecollection": "deletecollection",
}
_VERB_ORDER = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(slots=True)
class _Sub:
    verbs: set[str] = field(default_factory=set)
    gvk: tuple[str, str, str] = ("", "", "")


@dataclass(slots=True)
class _Resource:
    gv: GroupVersion
    plural: str
    kind: str = ""
    namespaced: bool = False
    verbs: set[str] = field(default_factory=set)
    subs: dict[str, _Sub] = field(default_factory=dict)


def _sorted_verbs(verbs: set[str]) -> tuple[str, ...]:
    return tuple(v for v in _VERB_ORDER if v in verbs)


def extract_resources(spec: Spec) -> list[ResourceInfo]:
    """Every resource of the generally available group/versions, ordered by group/version then plural."""
    ga = {(gv.group, gv.version): gv for gv in GA_GROUP_VERSIONS}
    found: dict[tuple[str, str, str], _Resource] = {}
    for path, item in spec.paths.items():
        match = _PATH.match(path)
        if match is None:
            continue
        group, version = match["group"] or "", match["version"]
        gv = ga.get((group, version))
        if gv is None:
            continue
        res = found.setdefault((group, version, match["plural"]), _Resource(gv, match["plural"]))
        for method, op in sorted(item.items()):
            if method == "parameters" or not isinstance(op, dict):
                continue
            action = op.get("x-kubernetes-action")
            gvk = op.get("x-kubernetes-group-version-kind") or {}
            if action is None or not gvk:
                continue
            if match["ns"]:
                res.namespaced = True
            sub_name = match["sub"]
            if sub_name is None:
                verb = _ACTION_VERBS.get(str(action))
                if verb is None:
                    continue
                res.verbs.add(verb)
                if not res.kind:
                    res.kind = str(gvk["kind"])
                continue
            verb = _METHOD_VERBS.get(method) if action == "connect" else _ACTION_VERBS.get(str(action))
            sub = res.subs.setdefault(sub_name, _Sub())
            if verb is not None:
                sub.verbs.add(verb)
            sub.gvk = (str(gvk.get("group", "")), str(gvk.get("version", "")), str(gvk["kind"]))
    models = _model_paths(spec)
    ordered = sorted(found.values(), key=lambda r: (GA_GROUP_VERSIONS.index(r.gv), r.plural))
    return [_info(models, res) for res in ordered if res.kind]


def _model_paths(spec: Spec) -> dict[tuple[str, str], str]:
    """(package/version module, class) → ``module:Class`` for every generated model."""
    return {
        (module.module, class_name(d)): f"{module.module}:{class_name(d)}"
        for module in build_model_modules(spec).values()
        for d in module.definitions
    }


def _info(models: dict[tuple[str, str], str], res: _Resource) -> ResourceInfo:
    gv = res.gv
    list_kind = f"{res.kind}List"
    list_model = models.get((gv.module, list_kind), "") if "list" in res.verbs else ""
    if not list_model:
        list_kind = ""
    subs = []
    for name, sub in sorted(res.subs.items()):
        group, version, kind = sub.gvk
        same = (group, version) == (gv.group, gv.version)
        subs.append(
            SubresourceInfo(
                name=name,
                kind=kind,
                group="" if same else group,
                version="" if same else version,
                verbs=_sorted_verbs(sub.verbs),
            )
        )
    key = (gv.group, res.plural)
    return ResourceInfo(
        group=gv.group,
        version=gv.version,
        kind=res.kind,
        plural=res.plural,
        singular=res.kind.lower(),
        namespaced=res.namespaced,
        verbs=_sorted_verbs(res.verbs),
        list_kind=list_kind,
        model=models.get((gv.module, res.kind), ""),
        list_model=list_model,
        short_names=SHORT_NAMES.get(key, ()),
        categories=CATEGORIES.get(key, ()),
        subresources=tuple(subs),
    )


def registry_constant(info: ResourceInfo) -> str:
    """Name of the module-level constant holding ``info`` (``CORE_V1_PODS``)."""
    gv = GroupVersion(info.group, info.version)
    return f"{gv.package}_{gv.version}_{info.plural}".upper()


def _render_info(info: ResourceInfo) -> str:
    lines = ["ResourceInfo("]
    for name in ("group", "version", "kind", "plural", "singular", "namespaced", "verbs", "list_kind"):
        lines.append(f"    {name}={_value(getattr(info, name))},")
    lines.append(f"    model={literal(info.model)},")
    lines.append(f"    list_model={literal(info.list_model)},")
    if info.short_names:
        lines.append(f"    short_names={_value(info.short_names)},")
    if info.categories:
        lines.append(f"    categories={_value(info.categories)},")
    if info.subresources:
        lines.append("    subresources=(")
        for sub in info.subresources:
            args = [f"name={literal(sub.name)}", f"kind={literal(sub.kind)}"]
            if sub.group or sub.version:
                args += [f"group={literal(sub.group)}", f"version={literal(sub.version)}"]
            args.append(f"verbs={_value(sub.verbs)}")
            lines.append(f"        SubresourceInfo({', '.join(args)}),")
        lines.append("    ),")
    lines.append(")")
    return "\n".join(lines)


def _value(value: object) -> str:
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return literal(value)


def render_registry_data(resources: list[ResourceInfo]) -> str:
    out = [
        BANNER,
        '"""Every built-in resource of the generally available API group/versions (from the OpenAPI spec).',
        "",
        "Short names and categories come from codegen's hand-kept table (the spec does not carry them).",
        '"""',
        "",
        "from pyclientgo.apimachinery.registry import ResourceInfo, SubresourceInfo",
        "",
    ]
    names = [registry_constant(info) for info in resources]
    out.append(f"__all__ = {literal(['RESOURCES', *names])}")
    out.append("")
    for name, info in zip(names, resources, strict=True):
        out.append(f"{name} = {_render_info(info)}")
        out.append("")
    out.append("RESOURCES: tuple[ResourceInfo, ...] = (")
    out.extend(f"    {name}," for name in names)
    out.append(")")
    return "\n".join(out) + "\n"
