"""Fixtures of the API server's wire tests: ``client``, an httpx client on the session ``apiserver``.

A test module needing a private server defines its own ``client`` (or another fixture name).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from apiserver_testlib import client_for

from testserver.testing import TestServer


@pytest.fixture(scope="module")
def client(apiserver: TestServer) -> Iterator[httpx.Client]:
    """An httpx client (TLS, admin token) on the session's shared server, one per test module."""
    with client_for(apiserver) as c:
        yield c
