"""Fixtures: a mocked API server (respx) and clientsets pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx

from pyclientgo.config import Config
from pyclientgo.kubernetes import AsyncClientset, Clientset

HOST = "https://k8s.test"


@pytest.fixture
def config() -> Config:
    return Config(host=HOST, qps=-1, max_retries=0)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=HOST, assert_all_called=True, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
async def cs(config: Config) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(config) as clientset:
        yield clientset


@pytest.fixture
def sync_cs(config: Config) -> Iterator[Clientset]:
    with Clientset(config) as clientset:
        yield clientset
