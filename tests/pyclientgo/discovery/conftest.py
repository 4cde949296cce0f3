"""Fixtures: a mocked API server (respx) serving discovery, and REST clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx
from discovery_fixtures import AGGREGATED_API, AGGREGATED_APIS, AGGREGATED_CONTENT_TYPE, HOST, LEGACY

from pyclientgo.config import Config
from pyclientgo.rest import AsyncRESTClient, RESTClient


@pytest.fixture
def config() -> Config:
    return Config(host=HOST, qps=-1, max_retries=0)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=HOST, assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
async def rest(config: Config) -> AsyncIterator[AsyncRESTClient]:
    async with AsyncRESTClient(config) as client:
        yield client


@pytest.fixture
def sync_rest(config: Config) -> Iterator[RESTClient]:
    with RESTClient(config) as client:
        yield client


def serve_legacy(router: respx.MockRouter) -> dict[str, respx.Route]:
    """Legacy discovery: the roots ignore the aggregated Accept and answer plain JSON."""
    return {path: router.get(path).respond(json=body) for path, body in LEGACY.items()}


def serve_aggregated(router: respx.MockRouter) -> dict[str, respx.Route]:
    """Aggregated discovery v2 on the roots (group-version documents are served too, as real servers do)."""
    routes = {
        path: router.get(path).respond(json=body) for path, body in LEGACY.items() if path.count("/") > 1
    }
    headers = {"content-type": AGGREGATED_CONTENT_TYPE}
    routes["/api"] = router.get("/api").respond(json=AGGREGATED_API, headers=headers)
    routes["/apis"] = router.get("/apis").respond(json=AGGREGATED_APIS, headers=headers)
    return routes
