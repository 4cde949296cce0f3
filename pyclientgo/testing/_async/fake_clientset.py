"""Fake clientsets for unit tests that need no server (client-go ``kubernetes/fake``).

``AsyncFakeClientset(*objects)`` is an :class:`~pyclientgo.kubernetes.AsyncClientset` whose requests are answered in
memory by an :class:`~pyclientgo.testing.tracker.ObjectTracker` through a
:class:`~pyclientgo.testing.fake_transport.FakeApiTransport`: the same typed API, watches and
informers included. ``.tracker`` seeds and inspects objects, ``.actions`` lists the requests made,
``.prepend_reactor(verb, resource, fn)`` injects answers or errors::

    cs = AsyncFakeClientset(ConfigMap(metadata={"name": "a", "namespace": "default"}))
    cm = await cs.core_v1.configmaps("default").get("a")
    cs.prepend_reactor("update", "configmaps", lambda action: (True, Conflict(...)))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyclientgo.apimachinery.model import K8sModel
from pyclientgo.apimachinery.registry import Registry
from pyclientgo.config import Config
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.rest import AsyncRESTClient
from pyclientgo.testing.fake_transport import Action, FakeApiTransport, Reactor
from pyclientgo.testing.tracker import ObjectTracker

__all__ = ["AsyncFakeClientset"]

FAKE_HOST = "https://fake.cluster.local"


def _config() -> Config:
    return Config(host=FAKE_HOST, qps=-1, max_retries=0)


class AsyncFakeClientset(AsyncClientset):
    """An :class:`AsyncClientset` answered by an in-memory tracker (see the module docstring)."""

    def __init__(
        self,
        *objects: K8sModel | Mapping[str, Any],
        registry: Registry | None = None,
        tracker: ObjectTracker | None = None,
    ) -> None:
        self.tracker = tracker or ObjectTracker(registry)
        self.tracker.add(*objects)
        self.transport = FakeApiTransport(self.tracker)
        super().__init__(rest=AsyncRESTClient(_config(), transport=self.transport))

    @property
    def actions(self) -> list[Action]:
        return self.transport.actions

    def prepend_reactor(self, verb: str, resource: str, reactor: Reactor) -> None:
        self.transport.prepend_reactor(verb, resource, reactor)
