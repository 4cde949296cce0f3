"""The protobuf schema tables: ``generated.proto`` files (read from ``schemas/proto`` in the repository) → the generated
``pyclientgo/api/_protobuf_data.py`` that :mod:`pyclientgo.apimachinery.protobuf` encodes and decodes with.

Kubernetes' ``generated.proto`` files (written by go-to-protobuf) use a small proto2 subset: one
``package``, ``import`` lines, ``option go_package``, and top-level ``message`` blocks whose fields are
``optional``/``repeated`` scalars or messages, or ``map<string, T>``. That subset is what
:func:`parse_proto` reads; anything else is an error (so a schema change cannot be silently misread).

Proto field names are the Go fields' JSON names, except for embedded Go structs (``json:",inline"``,
e.g. ``Volume.volumeSource``): their fields appear flattened in JSON. The OpenAPI definitions are the
truth for JSON names, so :func:`build_tables` marks a message field *inline* when the definition has no
such property but does have the embedded message's properties.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from codegen.models import BANNER
from codegen.spec import Spec

__all__ = [
    "INLINE",
    "MAP",
    "PATH",
    "REPEATED",
    "SINGULAR",
    "ProtoField",
    "ProtoFile",
    "ProtoMessage",
    "ProtoSyntaxError",
    "Tables",
    "build_tables",
    "default_proto_dir",
    "definition_name",
    "load_proto_dir",
    "parse_proto",
    "render_protobuf",
    "render_protobuf_data",
]

PATH = "pyclientgo/api/_protobuf_data.py"
"""Where the generated tables live (relative to the repository root)."""

SCALARS = frozenset({"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float"})

# Label codes written into the generated tables (see pyclientgo.apimachinery.protobuf).
SINGULAR, REPEATED, MAP, INLINE = 0, 1, 2, 3

# Kinds of the meta.k8s.io/v1 group that OpenAPI does not tag with a group/version/kind.
_META_KINDS = ("Table", "PartialObjectMetadata", "PartialObjectMetadataList")
_META_PACKAGE = "k8s.io.apimachinery.pkg.apis.meta.v1"


class ProtoSyntaxError(ValueError):
    """A ``.proto`` file uses something outside the supported subset."""


@dataclass(slots=True, frozen=True)
class ProtoField:
    """One field: ``label type name = number;`` (``map<key, type>`` has label ``map``)."""

    name: str
    number: int
    type: str
    label: str  # "optional" | "repeated" | "map"
    key_type: str = ""


@dataclass(slots=True)
class ProtoMessage:
    """A top-level message; ``full_name`` is ``<package>.<Name>``."""

    full_name: str
    fields: list[ProtoField] = field(default_factory=list)
    nullable: bool = False
    """go-to-protobuf's ``+protobuf.nullable=true``: a Go slice type wrapped as ``{items: [...]}``."""


@dataclass(slots=True)
class ProtoFile:
    """The parts of one ``generated.proto`` codegen reads."""

    package: str
    imports: list[str] = field(default_factory=list)
    go_package: str = ""
    messages: list[ProtoMessage] = field(default_factory=list)


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_.][A-Za-z0-9_.]*|\d+|[{}=;<>,\[\]()]')
_FIELD = re.compile(r"^(optional|repeated|required)\s+([A-Za-z_.][A-Za-z0-9_.]*)\s+(\w+)\s*=\s*(\d+)\s*;$")
_MAP = re.compile(r"^map\s*<\s*(\w+)\s*,\s*([A-Za-z_.][A-Za-z0-9_.]*)\s*>\s*(\w+)\s*=\s*(\d+)\s*;$")


def _strip_comments(text: str) -> list[tuple[str, str]]:
    """(code, preceding comment block) per non-empty statement line; block comments are dropped."""
    text = re.sub(
        r"^\s*/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.DOTALL | re.MULTILINE
    )
    out: list[tuple[str, str]] = []
    comment: list[str] = []
    for raw in text.splitlines():
        code, _, note = raw.partition("//")
        code = code.strip()
        if not code:
            if note or raw.strip().startswith("//"):
                comment.append(note.strip())
            else:
                comment = []
            continue
        out.append((code, "\n".join(comment)))
        comment = []
    return out


def parse_proto(text: str, *, source: str = "<proto>") -> ProtoFile:
    """Parse one ``generated.proto`` (the go-to-protobuf subset)."""
    package = ""
    result = ProtoFile(package="")
    current: ProtoMessage | None = None
    for lineno, (code, comment) in enumerate(_strip_comments(text), 1):
        where = f"{source}: statement {lineno}: {code!r}"
        if current is not None:
            if code == "}":
                result.messages.append(current)
                current = None
                continue
            m = _FIELD.match(code)
            if m:
                label, ftype, name, number = m.groups()
                current.fields.append(
                    ProtoField(name, int(number), ftype, "repeated" if label == "repeated" else "optional")
                )
                continue
            m = _MAP.match(code)
            if m:
                key, value, name, number = m.groups()
                if key != "string":
                    raise ProtoSyntaxError(f"{where}: only string map keys are supported")
                current.fields.append(ProtoField(name, int(number), value, "map", key_type=key))
                continue
            raise ProtoSyntaxError(f"{where}: unsupported statement inside a message")
        if code.startswith("syntax"):
            if '"proto2"' not in code:
                raise ProtoSyntaxError(f"{where}: only proto2 is supported")
        elif code.startswith("package "):
            package = code[len("package ") :].rstrip(";").strip()
            result.package = package
        elif code.startswith("import "):
            result.imports.append(code[len("import ") :].rstrip(";").strip().strip('"'))
        elif code.startswith("option "):
            m = re.match(r'^option\s+go_package\s*=\s*"([^"]*)"\s*;$', code)
            if m:
                result.go_package = m.group(1)
        elif m := re.match(r"^message\s+(\w+)\s*\{$", code):
            if not package:
                raise ProtoSyntaxError(f"{where}: message before package")
            current = ProtoMessage(f"{package}.{m.group(1)}", nullable="+protobuf.nullable=true" in comment)
        else:
            raise ProtoSyntaxError(f"{where}: unsupported statement")
    if current is not None:
        raise ProtoSyntaxError(f"{source}: unterminated message {current.full_name}")
    if not package:
        raise ProtoSyntaxError(f"{source}: no package")
    return result


def default_proto_dir() -> Path:
    """``schemas/proto`` in the repository holding this package (``schemas/README.md``)."""
    return Path(__file__).resolve().parent.parent / "schemas" / "proto"


def load_proto_dir(root: Path) -> list[ProtoFile]:
    """Every ``generated.proto`` under ``root``, in path order."""
    return [
        parse_proto(p.read_text(), source=str(p.relative_to(root)))
        for p in sorted(root.rglob("generated.proto"))
    ]


def _resolve(type_name: str, package: str, known: set[str]) -> str:
    if type_name in SCALARS:
        return type_name
    if type_name.startswith("."):
        name = type_name[1:]
    else:
        name = f"{package}.{type_name}"
        if name not in known:  # relative to an enclosing package (unused by go-to-protobuf)
            parts = package.split(".")
            while parts and name not in known:
                parts.pop()
                name = ".".join([*parts, type_name])
    if name not in known:
        raise ProtoSyntaxError(f"unknown message type {type_name!r} in package {package}")
    return name


def definition_name(full_name: str) -> str:
    """Proto message name → OpenAPI definition name (``k8s.io.api.core.v1.Pod`` → ``io.k8s.api.core.v1.Pod``)."""
    rest = full_name.removeprefix("k8s.io.")
    return "io.k8s." + rest.replace("apiextensions_apiserver", "apiextensions-apiserver")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _properties(spec: Spec, full_name: str) -> dict[str, str] | None:
    """The OpenAPI definition's property names keyed by their normalised form (``None``: no definition)."""
    schema = spec.definitions.get(definition_name(full_name))
    if not isinstance(schema, dict) or "properties" not in schema:
        return None
    return {_norm(p): p for p in schema["properties"]}


Row = tuple[int, str, str, int, str]
"""A generated field row: (number, json name, scalar type or "message", label code, message name)."""


@dataclass(slots=True)
class Tables:
    """Everything the generated module holds."""

    messages: dict[str, tuple[Row, ...]]
    lists: frozenset[str]
    kinds: dict[tuple[str, str], str]
    warnings: list[str]


def _embedded(
    by_name: dict[str, tuple[ProtoFile, ProtoMessage]], full_name: str, props: dict[str, str]
) -> set[str]:
    """Normalised JSON names an embedded message contributes (its own embedded messages expanded)."""
    found = by_name.get(full_name)
    if found is None or not found[1].fields:
        return {"<none>"}
    pfile, msg = found
    names: set[str] = set()
    for f in msg.fields:
        if _norm(f.name) not in props and f.label == "optional" and f.type not in SCALARS:
            names |= _embedded(by_name, _resolve(f.type, pfile.package, set(by_name)), props)
        else:
            names.add(_norm(f.name))
    return names


def build_tables(files: list[ProtoFile], spec: Spec) -> Tables:
    """Resolve types, find inline (embedded) fields from the OpenAPI definitions, map kinds → messages."""
    by_name = {m.full_name: (f, m) for f in files for m in f.messages}
    known = set(by_name)
    warnings: list[str] = []
    messages: dict[str, tuple[Row, ...]] = {}
    lists: set[str] = set()
    for full_name, (pfile, msg) in sorted(by_name.items()):
        props = _properties(spec, full_name)
        rows: list[Row] = []
        if msg.nullable:
            if [f.name for f in msg.fields] != ["items"] or msg.fields[0].label != "repeated":
                raise ProtoSyntaxError(f"{full_name}: nullable message must be `repeated items`")
            lists.add(full_name)
        for f in msg.fields:
            ftype = _resolve(f.type, pfile.package, known)
            scalar = ftype in SCALARS
            label = {"optional": SINGULAR, "repeated": REPEATED, "map": MAP}[f.label]
            json_name = f.name
            if props is not None:
                if _norm(f.name) in props:
                    json_name = props[_norm(f.name)]
                elif not scalar and label == SINGULAR and _embedded(by_name, ftype, props) <= set(props):
                    label = INLINE
                else:
                    warnings.append(f"{full_name}.{f.name}: not an OpenAPI property")
            rows.append((f.number, json_name, ftype if scalar else "message", label, "" if scalar else ftype))
        messages[full_name] = tuple(sorted(rows))
    kinds: dict[tuple[str, str], str] = {}
    for full_name in messages:
        schema = spec.definitions.get(definition_name(full_name)) or {}
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            group, version, kind = gvk.get("group", ""), gvk["version"], gvk["kind"]
            api_version = f"{group}/{version}" if group else version
            kinds.setdefault((api_version, kind), full_name)
    for kind in _META_KINDS:
        if f"{_META_PACKAGE}.{kind}" in messages:
            kinds.setdefault(("meta.k8s.io/v1", kind), f"{_META_PACKAGE}.{kind}")
    return Tables(messages, frozenset(lists), dict(sorted(kinds.items())), warnings)


def render_protobuf_data(tables: Tables) -> str:
    """The source of :data:`PATH`."""
    lines = [
        BANNER,
        '"""Protobuf schemas of the built-in API (from ``generated.proto``), read by',
        ":mod:`pyclientgo.apimachinery.protobuf`.",
        "",
        "``MESSAGES``: message full name → field rows ``(number, json name, type, label, message)`` where",
        '``type`` is a scalar (``string``, ``int64``, ...) or ``"message"``, ``label`` is 0 (singular),',
        "1 (repeated), 2 (``map<string, T>``) or 3 (an embedded Go struct whose fields JSON flattens), and",
        "``message`` names the message type. ``LISTS``: wrapper messages (``{items: [...]}``) that JSON",
        "writes as a bare list. ``KINDS``: (apiVersion, kind) → message full name.",
        '"""',
        "",
        "from typing import Final",
        "",
        '__all__ = ["KINDS", "LISTS", "MESSAGES"]',
        "",
        "MESSAGES: Final[dict[str, tuple[tuple[int, str, str, int, str], ...]]] = {",
    ]
    for name, rows in tables.messages.items():
        lines.append(f"    {name!r}: (")
        lines.extend(f"        {row!r}," for row in rows)
        lines.append("    ),")
    lines.append("}")
    lines.append("")
    lines.append("LISTS: Final[frozenset[str]] = frozenset({")
    lines.extend(f"    {name!r}," for name in sorted(tables.lists))
    lines.append("})")
    lines.append("")
    lines.append("KINDS: Final[dict[tuple[str, str], str]] = {")
    lines.extend(f"    {key!r}: {value!r}," for key, value in tables.kinds.items())
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_protobuf(spec: Spec, proto_dir: Path | None = None) -> dict[str, str]:
    """``{PATH: source}``, or ``{}`` (with a note on stderr) when the proto directory is missing."""
    root = proto_dir or default_proto_dir()
    if not root.is_dir():
        print(f"codegen: no protobuf schemas at {root}: {PATH} not generated", file=sys.stderr)
        return {}
    tables = build_tables(load_proto_dir(root), spec)
    return {PATH: render_protobuf_data(tables)}


def _main(argv: list[str]) -> int:  # pragma: no cover - debugging aid
    from codegen.spec import load_spec

    spec_path = Path(argv[0]) if argv else default_proto_dir().parent / "openapi" / "swagger.json"
    tables = build_tables(load_proto_dir(default_proto_dir()), load_spec(spec_path))
    for w in tables.warnings:
        print(w)
    print(f"{len(tables.messages)} messages, {len(tables.kinds)} kinds, {len(tables.lists)} lists")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
