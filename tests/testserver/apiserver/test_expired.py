"""Expired resourceVersions and continue tokens, for real: a server with a short history window
(``--history-window``), driven through pyclientgo's typed ``AsyncClientset``."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyclientgo.api.core.v1 import ConfigMap, ConfigMapList, Namespace
from pyclientgo.config import Config, load_config
from pyclientgo.errors import Gone, ResourceExpired
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.tools.pager import ListPager
from testserver.testing import TestServer

WINDOW = 50
TOO_OLD = re.compile(r"^too old resource version: (\d+) \((\d+)\)$")
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list."
)

_ids = itertools.count()


@pytest.fixture(scope="module")
def small_window_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    data_dir: Path = tmp_path_factory.mktemp("expired-apiserver")
    server = TestServer(data_dir=data_dir, history_window=WINDOW)
    server.start()
    try:
        # no client-side rate limiting: the tests write hundreds of times
        yield dataclasses.replace(load_config(kubeconfig=str(server.kubeconfig)), qps=-1)
    finally:
        server.cleanup()


async def _namespace(cs: AsyncClientset, prefix: str) -> str:
    name = f"{prefix}-{next(_ids)}"
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))
    return name


async def _churn(cs: AsyncClientset, writes: int = 2 * WINDOW) -> None:
    """More writes than the history window holds (in a namespace of their own)."""
    ns = await _namespace(cs, "churn")
    cms = cs.core_v1.config_maps(ns)
    await cms.create(ConfigMap(metadata={"name": "c"}, data={"n": "0"}))
    for i in range(1, writes):
        await cms.patch("c", {"data": {"n": str(i)}}, patch_type="merge")


async def _current_rv(cs: AsyncClientset, ns: str) -> str:
    listed = await cs.core_v1.config_maps(ns).list()
    assert listed.metadata is not None and listed.metadata.resource_version
    return listed.metadata.resource_version


def _assert_too_old(err: Gone, rv: str) -> None:
    assert isinstance(err, ResourceExpired)
    assert err.code == 410
    assert err.status["reason"] == "Expired"
    m = TOO_OLD.match(err.status["message"])
    assert m is not None, err.status["message"]
    assert m.group(1) == rv
    assert int(m.group(2)) > int(rv)


async def test_history_window_is_passed_to_storage(small_window_config: Config) -> None:
    """A recent resourceVersion still works; one older than the window does not."""
    async with AsyncClientset(small_window_config) as cs:
        ns = await _namespace(cs, "recent")
        rv = await _current_rv(cs, ns)
        exact = await cs.core_v1.config_maps(ns).list(resource_version=rv, resource_version_match="Exact")
        assert exact.metadata is not None and exact.metadata.resource_version == rv
        await _churn(cs, WINDOW // 4)
        # still inside the window
        await cs.core_v1.config_maps(ns).list(resource_version=rv, resource_version_match="Exact")


async def test_watch_from_expired_resource_version(small_window_config: Config) -> None:
    async with AsyncClientset(small_window_config) as cs:
        ns = await _namespace(cs, "watch")
        old = await _current_rv(cs, ns)
        await _churn(cs)
        with pytest.raises(ResourceExpired) as info:
            watch: Any = cs.core_v1.config_maps(ns).watch(resource_version=old, timeout_seconds=5)
            async with contextlib.aclosing(watch) as stream:
                async for _ in stream:
                    pytest.fail("no event expected from an expired resourceVersion")
        _assert_too_old(info.value, old)


async def test_list_exact_expired_resource_version(small_window_config: Config) -> None:
    async with AsyncClientset(small_window_config) as cs:
        ns = await _namespace(cs, "exact")
        old = await _current_rv(cs, ns)
        await _churn(cs)
        with pytest.raises(ResourceExpired) as info:
            await cs.core_v1.config_maps(ns).list(resource_version=old, resource_version_match="Exact")
        _assert_too_old(info.value, old)
        # NotOlderThan an old RV is served from the latest state
        fresh = await cs.core_v1.config_maps(ns).list(
            resource_version=old, resource_version_match="NotOlderThan"
        )
        assert fresh.metadata is not None and int(fresh.metadata.resource_version or 0) > int(old)


async def test_expired_continue_token(small_window_config: Config) -> None:
    async with AsyncClientset(small_window_config) as cs:
        ns = await _namespace(cs, "cont")
        cms = cs.core_v1.config_maps(ns)
        names = [f"cm-{i}" for i in range(5)]
        for name in names:
            await cms.create(ConfigMap(metadata={"name": name}))
        first = await cms.list(limit=2)
        assert first.metadata is not None and first.metadata.continue_
        assert [i.metadata.name for i in first.items or [] if i.metadata] == names[:2]
        await _churn(cs)
        with pytest.raises(ResourceExpired) as info:
            await cms.list(limit=2, continue_=first.metadata.continue_)
        err = info.value
        assert err.code == 410
        assert err.status["reason"] == "Expired"
        assert err.status["message"] == CONTINUE_EXPIRED
        fresh = (err.status.get("metadata") or {}).get("continue")
        assert fresh and fresh != first.metadata.continue_
        # the inherited token continues (inconsistently) from the next key, at the latest state
        await cms.create(ConfigMap(metadata={"name": "cm-9"}))
        rest = await cms.list(continue_=fresh)
        assert [i.metadata.name for i in rest.items or [] if i.metadata] == [*names[2:], "cm-9"]
        assert rest.metadata is not None and not rest.metadata.continue_


async def test_list_pager_falls_back_to_full_list(small_window_config: Config) -> None:
    async with AsyncClientset(small_window_config) as cs:
        ns = await _namespace(cs, "pager")
        cms = cs.core_v1.config_maps(ns)
        names = [f"cm-{i}" for i in range(6)]
        for name in names:
            await cms.create(ConfigMap(metadata={"name": name}))
        calls: list[dict[str, Any]] = []
        outcomes: list[str] = []

        async def list_fn(params: dict[str, Any]) -> ConfigMapList:
            calls.append(dict(params))
            if len(calls) == 2:
                await _churn(cs)  # the first page's continue token expires
            try:
                result = await cms.list(
                    limit=params.get("limit"),
                    continue_=params.get("continue") or None,
                    resource_version=params.get("resourceVersion") or None,
                    resource_version_match=params.get("resourceVersionMatch"),
                )
            except Gone as e:
                outcomes.append(f"{e.code} {e.reason}")
                raise
            outcomes.append("ok")
            return result

        result = await ListPager(list_fn, page_size=2).list()
        assert [i.metadata.name for i in result.items if i.metadata] == names
        assert outcomes == ["ok", "410 Expired", "ok"]
        assert calls[0] == {"limit": 2}
        assert calls[1]["continue"] and calls[1]["limit"] == 2
        assert "continue" not in calls[2] and "limit" not in calls[2]
        assert isinstance(result.first, ConfigMapList)
        assert int(result.resource_version) > 0

        # without the fallback the 410 surfaces
        calls.clear()
        outcomes.clear()
        with pytest.raises(ResourceExpired):
            await ListPager(list_fn, page_size=2, full_list_if_expired=False).list()
