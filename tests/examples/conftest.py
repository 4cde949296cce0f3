"""Fixtures of the example tests: ``cs``, a typed clientset on the session's test server."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyclientgo.config import load_config
from pyclientgo.kubernetes import Clientset


@pytest.fixture
def cs(kubeconfig: Path) -> Iterator[Clientset]:
    """A sync clientset without client-side rate limiting (``qps=-1``)."""
    with Clientset(dataclasses.replace(load_config(kubeconfig=str(kubeconfig)), qps=-1)) as clientset:
        yield clientset
