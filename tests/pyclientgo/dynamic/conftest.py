"""Fixtures: a mocked API server (respx) and REST clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx

from pyclientgo.config import Config
from pyclientgo.rest import AsyncRESTClient, RESTClient

HOST = "https://k8s.test"


@pytest.fixture
def config() -> Config:
    return Config(host=HOST, qps=-1, max_retries=0)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=HOST, assert_all_called=True, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
async def rest(config: Config) -> AsyncIterator[AsyncRESTClient]:
    async with AsyncRESTClient(config) as client:
        yield client


@pytest.fixture
def sync_rest(config: Config) -> Iterator[RESTClient]:
    with RESTClient(config) as client:
        yield client
