"""The typed clients' server-side apply (``apply``/``apply_status``) against a real testserver."""

from __future__ import annotations

import uuid

import pytest

from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.config import load_config
from pyclientgo.errors import Conflict
from pyclientgo.kubernetes import AsyncClientset, Clientset
from testserver.testing import TestServer


def deployment(name: str, replicas: int) -> Deployment:
    return Deployment.from_dict(
        {
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "web", "image": "nginx"}]},
                },
            },
        }
    )


async def test_typed_apply_conflict_and_force(apiserver: TestServer) -> None:
    name = f"typed-{uuid.uuid4().hex[:6]}"
    async with AsyncClientset(load_config(kubeconfig=str(apiserver.kubeconfig))) as cs:
        deployments = cs.apps_v1.deployments("default")
        created = await deployments.apply(deployment(name, 1), field_manager="sdk")
        assert created.spec is not None and created.spec.replicas == 1
        assert created.metadata is not None and created.metadata.managed_fields
        entry = created.metadata.managed_fields[0]
        assert (entry.manager, entry.operation) == ("sdk", "Apply")
        with pytest.raises(Conflict) as info:
            await deployments.apply(deployment(name, 3), field_manager="other")
        assert 'conflict with "sdk": .spec.replicas' in str(info.value)
        forced = await deployments.apply(deployment(name, 3), field_manager="other", force=True)
        assert forced.spec is not None and forced.spec.replicas == 3
        status = Deployment.from_dict(
            {"metadata": {"name": name, "namespace": "default"}, "status": {"replicas": 3}}
        )
        applied = await deployments.apply_status(status, field_manager="ctrl")
        assert applied.status is not None and applied.status.replicas == 3
        assert applied.metadata is not None and applied.metadata.managed_fields
        assert any(e.subresource == "status" for e in applied.metadata.managed_fields)
        dry = await deployments.apply(deployment(name, 5), field_manager="other", dry_run=True)
        assert dry.spec is not None and dry.spec.replicas == 5
        assert (await deployments.get(name)).spec.replicas == 3  # type: ignore[union-attr]


def test_sync_typed_apply(apiserver: TestServer) -> None:
    name = f"typed-sync-{uuid.uuid4().hex[:6]}"
    with Clientset(load_config(kubeconfig=str(apiserver.kubeconfig))) as cs:
        out = cs.apps_v1.deployments("default").apply(deployment(name, 2), field_manager="sdk-sync")
        assert out.spec is not None and out.spec.replicas == 2
