"""Access reviews answered by the server's authorizer (kube's authorization.k8s.io/v1 registry):
SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectAccessReview and SelfSubjectRulesReview.
Create-only, never stored; ``kubectl auth can-i`` (and ``--list``) read them."""

from __future__ import annotations

from typing import Any

import orjson

from testserver.apiserver import protobuf
from testserver.apiserver import status as st
from testserver.apiserver.authz.attributes import Attributes
from testserver.apiserver.authz.authorizer import Authorizer, Decision
from testserver.apiserver.request import Request, Response, User

__all__ = ["REVIEW_KINDS", "answer_review"]

REVIEW_KINDS = frozenset(
    {"SubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview"}
)
"""The authorization.k8s.io kinds this module answers."""

_GROUP = "authorization.k8s.io"


def _invalid(kind: str, field: str, message: str, reason: str = "FieldValueInvalid") -> st.StatusError:
    return st.invalid(kind, "", [{"reason": reason, "field": field, "message": message}], _GROUP)


def _attributes(kind: str, spec: dict[str, Any], user: User) -> Attributes:
    resource = spec.get("resourceAttributes")
    non_resource = spec.get("nonResourceAttributes")
    if (resource is None) == (non_resource is None):
        raise _invalid(
            kind,
            "spec.resourceAttributes",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )
    if non_resource is not None:
        if not isinstance(non_resource, dict):
            raise _invalid(kind, "spec.nonResourceAttributes", "must be an object")
        return Attributes(
            user, str(non_resource.get("verb") or ""), False, path=str(non_resource.get("path") or "")
        )
    if not isinstance(resource, dict):
        raise _invalid(kind, "spec.resourceAttributes", "must be an object")
    return Attributes(
        user,
        str(resource.get("verb") or ""),
        True,
        namespace=str(resource.get("namespace") or ""),
        api_group=str(resource.get("group") or ""),
        resource=str(resource.get("resource") or ""),
        subresource=str(resource.get("subresource") or ""),
        name=str(resource.get("name") or ""),
    )


def _access_status(authorizer: Authorizer, attrs: Attributes) -> dict[str, Any]:
    decision, reason = authorizer.authorize(attrs)
    status: dict[str, Any] = {"allowed": decision is Decision.ALLOW}
    if decision is Decision.DENY:
        status["denied"] = True
    if reason:
        status["reason"] = reason
    return status


def _rules_status(authorizer: Authorizer, user: User, namespace: str) -> dict[str, Any]:
    resource_rules: list[dict[str, Any]] = []
    non_resource_rules: list[dict[str, Any]] = []
    for rule in authorizer.rules_for(user, namespace):
        if rule.get("nonResourceURLs"):
            non_resource_rules.append(
                {"verbs": rule.get("verbs") or [], "nonResourceURLs": rule["nonResourceURLs"]}
            )
        else:
            out = {k: rule[k] for k in ("verbs", "apiGroups", "resources", "resourceNames") if rule.get(k)}
            out.setdefault("verbs", [])
            resource_rules.append(out)
    return {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules, "incomplete": False}


async def answer_review(req: Request, kind: str, namespace: str, authorizer: Authorizer) -> Response:
    """Answer the review ``kind`` posted in ``req`` (``namespace``: the URL's, for the local kinds)."""
    assert req.user is not None
    raw = await req.body()
    if req.content_type == protobuf.CONTENT_TYPE:  # kubectl posts reviews as protobuf
        raw = protobuf.body_as_json(raw, kind, f"{_GROUP}/v1")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise st.bad_request(f"the request body is not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise st.bad_request("the request body must be a JSON object")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    if kind == "SelfSubjectRulesReview":
        ns = spec.get("namespace")
        if not isinstance(ns, str) or not ns:
            raise _invalid(kind, "spec.namespace", "Required value", "FieldValueRequired")
        status = _rules_status(authorizer, req.user, ns)
    else:
        if kind == "SelfSubjectAccessReview":
            user = req.user
        else:
            name, groups = spec.get("user"), spec.get("groups")
            if not name and not groups:
                raise _invalid(kind, "spec.user", "at least one of user or group must be specified")
            user = User(str(name or ""), tuple(str(g) for g in groups or ()))
        attrs = _attributes(kind, spec, user)
        if kind == "LocalSubjectAccessReview" and attrs.namespace != namespace:
            raise _invalid(kind, "spec.resourceAttributes.namespace", "must match metadata.namespace")
        status = _access_status(authorizer, attrs)
    obj["kind"], obj["apiVersion"] = kind, f"{_GROUP}/v1"
    meta = obj.get("metadata")
    obj["metadata"] = meta if isinstance(meta, dict) else {}
    obj["metadata"].setdefault("creationTimestamp", None)
    obj["spec"] = spec
    obj["status"] = status
    return Response.json(201, obj)
