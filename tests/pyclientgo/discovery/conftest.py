"""Fixtures: a mocked API server (respx) serving discovery, and REST clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx
from discovery_fixtures import HOST

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
