"""Authorizer decisions, the simple modes and the union ``--authorization-mode`` builds."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, Protocol

from testserver.apiserver import status as st
from testserver.apiserver.authz.attributes import Attributes
from testserver.apiserver.request import User

__all__ = [
    "AUTHORIZATION_MODES",
    "AlwaysAllow",
    "AlwaysDeny",
    "Authorizer",
    "Decision",
    "PrivilegedGroups",
    "Rule",
    "Union",
    "forbidden",
    "forbidden_message",
    "parse_authorization_modes",
]

AUTHORIZATION_MODES = ("AlwaysAllow", "AlwaysDeny", "RBAC")
"""The ``--authorization-mode`` values this server implements."""


class Decision(enum.Enum):
    """An authorizer's answer: allow, deny (stop the union), or no opinion (ask the next one)."""

    ALLOW = "allow"
    DENY = "deny"
    NO_OPINION = "no_opinion"


Rule = dict[str, Any]
"""A PolicyRule as JSON (verbs, apiGroups, resources, resourceNames, nonResourceURLs)."""

ALL_RULES: tuple[Rule, ...] = (
    {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
    {"verbs": ["*"], "nonResourceURLs": ["*"]},
)


class Authorizer(Protocol):
    """Decides whether a request's attributes are allowed; ``reason`` explains the decision."""

    def authorize(self, attrs: Attributes) -> tuple[Decision, str]: ...

    def rules_for(self, user: User, namespace: str) -> list[Rule]:
        """The rules this authorizer grants ``user`` in ``namespace`` (SelfSubjectRulesReview)."""
        ...


class AlwaysAllow:
    """The ``AlwaysAllow`` mode: every request is allowed."""

    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        return Decision.ALLOW, ""

    def rules_for(self, user: User, namespace: str) -> list[Rule]:
        return [dict(r) for r in ALL_RULES]


class AlwaysDeny:
    """The ``AlwaysDeny`` mode: every request is denied."""

    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        return Decision.DENY, "Everything is forbidden."

    def rules_for(self, user: User, namespace: str) -> list[Rule]:
        return []


class PrivilegedGroups:
    """kube's superuser authorizer, first in the union: members of the groups (system:masters)
    may do everything, whatever the modes."""

    def __init__(self, *groups: str) -> None:
        self._groups = frozenset(groups)

    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        if self._groups.intersection(attrs.user.groups):
            return Decision.ALLOW, ""
        return Decision.NO_OPINION, ""

    def rules_for(self, user: User, namespace: str) -> list[Rule]:
        return [dict(r) for r in ALL_RULES] if self._groups.intersection(user.groups) else []


class Union:
    """Asks each authorizer in order; the first allow or deny wins, no opinion from all denies."""

    def __init__(self, authorizers: Sequence[Authorizer]) -> None:
        self.authorizers = tuple(authorizers)

    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        reasons: list[str] = []
        for authorizer in self.authorizers:
            decision, reason = authorizer.authorize(attrs)
            if decision is not Decision.NO_OPINION:
                return decision, reason
            if reason:
                reasons.append(reason)
        return Decision.NO_OPINION, ", ".join(reasons)

    def rules_for(self, user: User, namespace: str) -> list[Rule]:
        rules: list[Rule] = []
        for authorizer in self.authorizers:
            rules.extend(authorizer.rules_for(user, namespace))
        return rules


def parse_authorization_modes(value: str) -> list[str]:
    """``--authorization-mode``: comma-separated modes in order; ValueError for unknown or repeated ones."""
    modes = [m.strip() for m in value.split(",") if m.strip()]
    if not modes:
        raise ValueError("at least one authorization mode must be passed")
    for mode in modes:
        if mode not in AUTHORIZATION_MODES:
            raise ValueError(
                f"authorization-mode {mode!r} is not a valid mode (supported: {', '.join(AUTHORIZATION_MODES)})"
            )
    if len(set(modes)) != len(modes):
        raise ValueError(f"authorization-mode {value!r} has mode specified more than once")
    return modes


def forbidden_message(attrs: Attributes) -> str:
    """kube's forbiddenMessage: ``User "x" cannot list resource "pods" in API group "" in the namespace "y"``."""
    user = attrs.user.name
    if not attrs.resource_request:
        return f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    where = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    return f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" {where}'


def forbidden(attrs: Attributes, reason: str) -> st.StatusError:
    """The 403 Status kube answers a denied request with."""
    message = forbidden_message(attrs)
    if reason:
        message = f"{message}: {reason}"
    if not attrs.resource_request:
        return st.StatusError(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": f"forbidden: {message}",
                "reason": "Forbidden",
                "details": {},
                "code": 403,
            }
        )
    return st.forbidden(attrs.resource, attrs.name, message, attrs.api_group)
