from __future__ import annotations

import shutil
from pathlib import Path

from codegen.sync_twins import BANNER, generate, transform, twin_dirs

ROOT = Path(__file__).resolve().parents[2]


def test_committed_twins_are_fresh() -> None:
    assert generate(ROOT, check=True) == []


def test_rules() -> None:
    src = '''"""Uses AsyncRESTClient."""
import asyncio
from collections.abc import AsyncIterator
import contextlib
import httpx
from pyclientgo.rest._async.client import AsyncRESTClient


class AsyncThing(AsyncRESTClient):
    async def __aenter__(self) -> "AsyncThing":
        return self

    async def __aexit__(self, *a: object) -> None:
        await self.aclose()

    async def run(self) -> None:
        async with httpx.AsyncClient() as c:
            r = await c.get("x")
            await r.aread()
        async for x in self.gen():
            await asyncio.sleep(1)
        try:
            await anext(self.gen())
        except StopAsyncIteration:
            pass

    @contextlib.asynccontextmanager
    async def gen(self) -> AsyncIterator[int]:  # AsyncThing yields
        yield 1
'''
    out = transform(src)
    assert "async " not in out and "await " not in out
    assert "import time" in out
    assert "time.sleep(1)" in out and "asyncio.sleep" not in out
    assert "class Thing(RESTClient):" in out
    assert 'def __enter__(self) -> "Thing":' in out
    assert "def __exit__" in out and "self.close()" in out
    assert "with httpx.Client() as c:" in out and "r.read()" in out
    assert "for x in self.gen():" in out and "next(self.gen())" in out
    assert "except StopIteration:" in out
    assert "@contextlib.contextmanager" in out and "Iterator[int]" in out
    assert "from pyclientgo.rest._sync.client import RESTClient" in out
    assert '"""Uses RESTClient."""' in out and "# Thing yields" in out


def test_generate_writes_checks_and_removes_stale(tmp_path: Path) -> None:
    src = tmp_path / "pyclientgo" / "rest" / "_async"
    src.mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (src / "__init__.py").write_text('"""Async."""\n')
    (src / "mod.py").write_text("import asyncio\n\n\nasync def f() -> None:\n    await asyncio.sleep(0)\n")
    assert generate(tmp_path, check=True) == [
        "pyclientgo/rest/_sync/__init__.py",
        "pyclientgo/rest/_sync/mod.py",
    ]
    assert not (tmp_path / "pyclientgo/rest/_sync").exists()
    assert len(generate(tmp_path)) == 2
    text = (tmp_path / "pyclientgo/rest/_sync/mod.py").read_text()
    assert text.startswith(BANNER + "\n")
    assert "import asyncio" not in text and "def f() -> None:\n    time.sleep(0)" in text
    assert generate(tmp_path, check=True) == []
    (tmp_path / "pyclientgo/rest/_sync/old.py").write_text(BANNER + "\n")
    (tmp_path / "pyclientgo/rest/_sync/handwritten.py").write_text("x = 1\n")
    assert generate(tmp_path, check=True) == ["pyclientgo/rest/_sync/old.py"]
    generate(tmp_path)
    assert not (tmp_path / "pyclientgo/rest/_sync/old.py").exists()
    assert (tmp_path / "pyclientgo/rest/_sync/handwritten.py").exists()


def test_twin_dirs_discovered(tmp_path: Path) -> None:
    (tmp_path / "pyclientgo" / "dynamic" / "_async").mkdir(parents=True)
    pairs = dict(twin_dirs(tmp_path))
    assert pairs["pyclientgo/dynamic/_async"] == "pyclientgo/dynamic/_sync"
    assert pairs["pyclientgo/rest/_async"] == "pyclientgo/rest/_sync"
