"""Names: Go/JSON spellings to Python ones, and where each OpenAPI definition lives in ``pyclientgo.api``.

Every rule that turns a name from the spec into a Python name is here, so the model, registry and
clientset emitters agree on them.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

__all__ = [
    "GA_GROUP_VERSIONS",
    "RESERVED_FIELD_NAMES",
    "GroupVersion",
    "camel_plural",
    "field_name",
    "module_of_definition",
    "snake_case",
]

_PLURAL_ACRONYM = re.compile(r"([A-Z]{2,})s(?=[A-Z]|$)")
_ACRONYM_DIGIT = re.compile(r"([A-Z]+)([A-Z]\d)")
_ACRONYM_WORD = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z\d])([A-Z])")


def snake_case(name: str) -> str:
    """``podIP`` → ``pod_ip``, ``podIPs`` → ``pod_ips``, ``hostIPC`` → ``host_ipc``,
    ``openAPIV3Schema`` → ``open_api_v3_schema``, ``x-kubernetes-list-type`` → ``x_kubernetes_list_type``.
    """
    text = name.lstrip("$").replace("-", "_").replace(".", "_")
    # A pluralised acronym (IPs, CIDRs, WWNs) is one word: IPs -> Ips.
    text = _PLURAL_ACRONYM.sub(lambda m: m.group(1).capitalize() + "s", text)
    text = _ACRONYM_DIGIT.sub(r"\1_\2", text)
    text = _ACRONYM_WORD.sub(r"\1_\2", text)
    text = _LOWER_UPPER.sub(r"\1_\2", text)
    return re.sub(r"_+", "_", text).lower()


# Names a field must not take: Python keywords, attributes of pydantic's BaseModel and of K8sModel,
# and the names generated modules use in annotations (a field of that name would shadow them
# while pydantic evaluates the class's annotations).
RESERVED_FIELD_NAMES: frozenset[str] = frozenset(
    {
        # BaseModel (v1 compatibility API too)
        "construct",
        "copy",
        "dict",
        "from_orm",
        "json",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "update_forward_refs",
        "validate",
        "fields",
        # K8sModel / K8sObject
        "from_dict",
        "from_json",
        "to_dict",
        "to_json",
        # names used in generated annotations
        "Any",
        "ClassVar",
        "Field",
        "bool",
        "datetime",
        "float",
        "int",
        "list",
        "str",
    }
)


def field_name(wire_name: str) -> str:
    """The Python attribute for a JSON property: snake_case, with ``_`` appended when reserved."""
    name = snake_case(wire_name)
    if keyword.iskeyword(name) or name in RESERVED_FIELD_NAMES or name.startswith("model_"):
        name += "_"
    return name


def camel_plural(kind: str, plural: str) -> str:
    """The kind's spelling of its plural, as client-go names its methods.

    ``ConfigMap``/``configmaps`` → ``ConfigMaps``; ``NetworkPolicy``/``networkpolicies`` →
    ``NetworkPolicies``; ``Endpoints``/``endpoints`` → ``Endpoints``.
    """
    lower = kind.lower()
    common = 0
    while common < min(len(lower), len(plural)) and lower[common] == plural[common]:
        common += 1
    return kind[:common] + plural[common:]


@dataclass(frozen=True, slots=True, order=True)
class GroupVersion:
    """A generally available API group/version and the Python module that holds its models."""

    group: str
    version: str

    @property
    def package(self) -> str:
        """First label of the group (``rbac`` for ``rbac.authorization.k8s.io``); ``core`` for ``""``."""
        return self.group.split(".")[0] if self.group else "core"

    @property
    def module(self) -> str:
        return f"pyclientgo.api.{self.package}.{self.version}"

    @property
    def alias(self) -> str:
        """Name under which other generated modules import this one (``core_v1``)."""
        return f"{self.package}_{self.version}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def pascal(self) -> str:
        """``CoreV1``, ``AdmissionregistrationV1`` (client-go's group client prefix)."""
        return self.package.capitalize() + self.version.capitalize()


GA_GROUP_VERSIONS: tuple[GroupVersion, ...] = tuple(
    GroupVersion(g, v)
    for g, v in (
        ("", "v1"),
        ("admissionregistration.k8s.io", "v1"),
        ("apiextensions.k8s.io", "v1"),
        ("apiregistration.k8s.io", "v1"),
        ("apps", "v1"),
        ("authentication.k8s.io", "v1"),
        ("authorization.k8s.io", "v1"),
        ("autoscaling", "v1"),
        ("autoscaling", "v2"),
        ("batch", "v1"),
        ("certificates.k8s.io", "v1"),
        ("coordination.k8s.io", "v1"),
        ("discovery.k8s.io", "v1"),
        ("events.k8s.io", "v1"),
        ("flowcontrol.apiserver.k8s.io", "v1"),
        ("networking.k8s.io", "v1"),
        ("node.k8s.io", "v1"),
        ("policy", "v1"),
        ("rbac.authorization.k8s.io", "v1"),
        ("scheduling.k8s.io", "v1"),
        ("storage.k8s.io", "v1"),
    )
)

# Pseudo group-versions for definitions that are not a served group's own types.
META_V1 = GroupVersion("meta.k8s.io", "v1")

_DEFINITION_PREFIXES: tuple[tuple[str, str | None], ...] = (
    ("io.k8s.api.", None),
    ("io.k8s.apiextensions-apiserver.pkg.apis.", None),
    ("io.k8s.kube-aggregator.pkg.apis.", None),
    ("io.k8s.apimachinery.pkg.apis.meta.", "meta"),
)


def module_of_definition(definition: str) -> tuple[str, str] | None:
    """``(package, version)`` of the generated module for a definition name, or None if not generated.

    ``io.k8s.api.core.v1.Pod`` → ``("core", "v1")``; ``io.k8s.apimachinery.pkg.apis.meta.v1.Status``
    → ``("meta", "v1")``; ``io.k8s.apimachinery.pkg.version.Info`` → ``("version", "")``.
    """
    if definition == "io.k8s.apimachinery.pkg.version.Info":
        return ("version", "")
    for prefix, package in _DEFINITION_PREFIXES:
        if definition.startswith(prefix):
            rest = definition[len(prefix) :].split(".")
            if package is not None:
                return (package, rest[0]) if len(rest) == 2 else None
            if len(rest) != 3:
                return None
            return (rest[0], rest[1])
    return None
