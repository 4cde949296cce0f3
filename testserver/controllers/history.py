"""ControllerRevisions shared by the StatefulSet and DaemonSet controllers (kube's
``pkg/controller/history``).

A revision snapshots the part of a set that rolls out: ``data`` is the strategic merge patch
``{"spec": {"template": {..., "$patch": "replace"}}}`` (what ``kubectl rollout undo`` applies back),
``revision`` a number increasing with every new template. Revision names are ``<set>-<hash>`` where
the hash covers ``data`` and the set's ``status.collisionCount``; a name taken by a revision with other
data bumps the collision count and hashes again (kube's ``realHistory.CreateControllerRevision``).
The ``controller-revision-hash`` label carries the hash.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from pyclientgo.api.apps.v1 import ControllerRevision
from pyclientgo.errors import is_already_exists
from pyclientgo.kubernetes import AsyncClientset
from testserver.controllers.controller_utils import compute_hash, controller_ref_of, new_controller_ref

__all__ = [
    "CONTROLLER_REVISION_HASH_LABEL",
    "create_controller_revision",
    "equal_revision",
    "find_equal_revisions",
    "hash_controller_revision",
    "max_revision",
    "new_controller_revision",
    "owned_revisions",
    "revision_name",
    "sort_revisions",
    "template_patch",
    "template_from_revision",
    "unused_revisions",
]

CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash"
"""``apps.ControllerRevisionHashLabelKey``."""
_MAX_PREFIX = 223
"""kube's ``ControllerRevisionName`` truncates the prefix so the name stays a valid DNS label set."""


def template_patch(template: dict[str, Any]) -> dict[str, Any]:
    """The revision data of a pod template (wire dict): kube's ``getPatch`` of both controllers."""
    tpl = copy.deepcopy(template)
    tpl["$patch"] = "replace"
    return {"spec": {"template": tpl}}


def template_from_revision(revision: Any) -> dict[str, Any]:
    """The pod template (wire dict) stored in a revision (``data.spec.template`` without ``$patch``)."""
    data = revision.data if hasattr(revision, "data") else revision.get("data")
    raw = data if isinstance(data, dict) else (data.to_dict() if hasattr(data, "to_dict") else {})
    tpl = copy.deepcopy(((raw or {}).get("spec") or {}).get("template") or {})
    tpl.pop("$patch", None)
    return dict(tpl)


def hash_controller_revision(data: dict[str, Any], collision_count: int | None) -> str:
    """kube's ``HashControllerRevision``: FNV-32a of the data and the collision count, safe-encoded."""
    return compute_hash(data, collision_count)


def revision_name(prefix: str, hash_: str) -> str:
    """kube's ``ControllerRevisionName``."""
    return f"{prefix[:_MAX_PREFIX]}-{hash_}"


def _revision_data(rev: Any) -> Any:
    d = rev.to_dict() if hasattr(rev, "to_dict") else rev
    return d.get("data")


def equal_revision(a: Any, b: Any) -> bool:
    """Two revisions hold the same data (kube compares the hash label, then the raw data)."""
    return bool(_revision_data(a) == _revision_data(b))


def find_equal_revisions(revisions: Iterable[Any], needle: Any) -> list[Any]:
    """The revisions whose data equals ``needle``'s (kube's ``FindEqualRevisions``)."""
    return [r for r in revisions if equal_revision(r, needle)]


def max_revision(revisions: Iterable[Any]) -> int:
    """The highest revision number (0 for none)."""
    return max((int(r.revision or 0) for r in revisions), default=0)


def sort_revisions(revisions: Iterable[Any]) -> list[Any]:
    """By revision number, then creation time and name (kube's ``SortControllerRevisions``)."""
    return sorted(
        revisions,
        key=lambda r: (int(r.revision or 0), str(r.metadata.creation_timestamp or ""), r.metadata.name),
    )


def owned_revisions(lister: Any, parent: Any) -> list[Any]:
    """The revisions in the parent's namespace whose controller reference is the parent, sorted."""
    uid = parent.metadata.uid
    return sort_revisions(
        r
        for r in lister.controller_revisions(parent.metadata.namespace).list()
        if (ref := controller_ref_of(r)) is not None and ref.uid == uid
    )


def new_controller_revision(
    parent: Any,
    api_version: str,
    kind: str,
    template_labels: dict[str, str],
    data: dict[str, Any],
    revision: int,
    collision_count: int | None,
) -> dict[str, Any]:
    """A revision (wire dict) of ``parent`` (kube's ``NewControllerRevision``): the template's labels
    plus the hash label, a controller reference, ``<parent>-<hash>``."""
    hash_ = hash_controller_revision(data, collision_count)
    labels = dict(template_labels)
    labels[CONTROLLER_REVISION_HASH_LABEL] = hash_
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": revision_name(parent.metadata.name, hash_),
            "namespace": parent.metadata.namespace,
            "labels": labels,
            "ownerReferences": [new_controller_ref(parent, api_version, kind)],
        },
        "data": data,
        "revision": revision,
    }


async def create_controller_revision(
    client: AsyncClientset, parent: Any, revision: dict[str, Any], collision_count: int
) -> tuple[ControllerRevision, int]:
    """Create ``revision``; on a name taken by other data bump the collision count and retry. Returns
    the stored revision and the collision count used (kube's ``CreateControllerRevision``)."""
    ns = parent.metadata.namespace
    api = client.apps_v1.controller_revisions(ns)
    count = collision_count
    while True:
        body = copy.deepcopy(revision)
        hash_ = hash_controller_revision(body["data"], count)
        body["metadata"]["name"] = revision_name(parent.metadata.name, hash_)
        body["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL] = hash_
        try:
            created = await api.create(ControllerRevision.from_dict(body))
            return created, count
        except Exception as err:
            if not is_already_exists(err):
                raise
        existing = await api.get(body["metadata"]["name"])
        ref = controller_ref_of(existing)
        if ref is not None and ref.uid == parent.metadata.uid and equal_revision(existing, body):
            return existing, count
        count += 1


def unused_revisions(revisions: Sequence[Any], live: set[str], limit: int) -> list[Any]:
    """The oldest revisions beyond ``limit`` that no live pod or status names (kube's
    ``truncateHistory``): ``live`` holds the names to keep."""
    candidates = [r for r in revisions if r.metadata.name not in live]
    surplus = len(candidates) - limit
    return candidates[:surplus] if surplus > 0 else []
