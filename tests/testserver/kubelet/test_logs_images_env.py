"""In-process pieces of the process runtime: CRI log files (format, partial lines, rotation, the
reads ``pods/log`` asks for), the image table, kube's ``$(VAR)`` expansion and service variables."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

import pytest

from testserver.kubelet.env import expand, service_env
from testserver.kubelet.images import ErrImagePull, ImageTable, image_repository
from testserver.kubelet.logs import (
    MAX_LINE,
    ContainerLogWriter,
    LogOptions,
    format_rfc3339_nano,
    parse_log_line,
    read_container_logs,
)


async def _read(path: Path, opts: LogOptions) -> bytes:
    return b"".join([c async for c in read_container_logs(path, opts, running=lambda: False)])


def read(path: Path, **kw: object) -> bytes:
    return asyncio.run(_read(path, LogOptions(**kw)))  # type: ignore[arg-type]


def test_cri_format_and_partial_lines(tmp_path: Path) -> None:
    w = ContainerLogWriter(tmp_path / "0.log")
    w.write("stdout", b"one\ntw")
    w.write("stderr", b"err\n")
    w.write("stdout", b"o\n" + b"x" * (MAX_LINE + 5))
    w.close()
    lines = (tmp_path / "0.log").read_bytes().splitlines()
    parsed = [parse_log_line(line) for line in lines]
    assert [(p[1], p[2], p[3][:5]) for p in parsed if p] == [
        (b"stdout", b"F", b"one"),
        (b"stderr", b"F", b"err"),
        (b"stdout", b"F", b"two"),
        (b"stdout", b"P", b"xxxxx"),
        (b"stdout", b"P", b"xxxxx"),
    ]
    assert read(tmp_path / "0.log") == b"one\nerr\ntwo\n" + b"x" * (MAX_LINE + 5)
    assert read(tmp_path / "0.log", tail_lines=1).startswith(b"x")
    assert read(tmp_path / "0.log", limit_bytes=5) == b"one\ne"
    stamped = read(tmp_path / "0.log", timestamps=True).split(b"\n")[0]
    assert stamped.endswith(b" one") and dt.datetime.fromisoformat(stamped.split()[0].decode()[:26])


def test_rotation_keeps_max_files_and_reads_across_them(tmp_path: Path) -> None:
    path = tmp_path / "c" / "0.log"
    w = ContainerLogWriter(path, max_size=200, max_files=3)
    for i in range(40):
        w.write("stdout", f"line {i:02d}\n".encode())
    w.close()
    files = sorted(p.name for p in path.parent.iterdir())
    assert len(files) == 3 and "0.log" in files  # the current file + 2 rotated
    out = read(path).decode().splitlines()
    assert out[-1] == "line 39" and out == sorted(out)  # oldest first, no gaps within what is kept
    assert read(path, tail_lines=2) == b"line 38\nline 39\n"


def test_since_filters_by_line_time(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(
        b"2020-01-01T00:00:00.5Z stdout F old\n"
        b"2030-01-01T00:00:00.123456789Z stdout F new\n"
        b"garbage that is not CRI\n"
    )
    assert read(path) == b"old\nnew\n"
    assert read(path, since=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)) == b"new\n"


def test_follow_stops_when_the_container_stops(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    w = ContainerLogWriter(path)
    w.write("stdout", b"first\n")
    state = {"running": True}

    async def main() -> list[bytes]:
        got: list[bytes] = []
        async for chunk in read_container_logs(
            path, LogOptions(follow=True), running=lambda: state["running"], poll_interval=0.01
        ):
            got.append(chunk)
            if chunk == b"first\n":
                w.write("stdout", b"second\n")
                state["running"] = False
        return got

    assert b"".join(asyncio.run(asyncio.wait_for(main(), 10))) == b"first\nsecond\n"
    w.close()


def test_rfc3339_nano() -> None:
    assert format_rfc3339_nano(1_700_000_000_120_000_000) == "2023-11-14T22:13:20.12Z"
    assert format_rfc3339_nano(1_700_000_000_000_000_000) == "2023-11-14T22:13:20Z"


def test_image_table() -> None:
    assert image_repository("docker.io/library/nginx:1.27@sha256:abc") == "nginx"
    assert image_repository("registry.k8s.io/pause:3.10") == "registry.k8s.io/pause"
    assert image_repository("localhost:5000/app") == "localhost:5000/app"
    table = ImageTable({"my/app:2": "python3 -m app --flag 'a b'"})
    assert table.resolve("registry.k8s.io/pause:3.10", [], [], []) == ["sleep", "infinity"]
    assert table.resolve("nginx", [], [], [8081]) == [sys.executable, "-m", "http.server", "8081"]
    assert table.resolve("busybox", [], ["sh", "-c", "true"], []) == ["sh", "-c", "true"]
    assert table.resolve("my/app", [], [], []) == ["python3", "-m", "app", "--flag", "a b"]
    assert table.resolve("anything:1", ["echo"], ["hi"], []) == ["echo", "hi"]
    with pytest.raises(ErrImagePull, match=r"--image-command corp/x=CMD"):
        table.resolve("corp/x:1", [], [], [])
    with pytest.raises(ValueError):
        ImageTable.parse_flag("no-equals")


def test_expand_like_kube() -> None:
    env = {"A": "1", "B": "$(A)"}
    assert expand("$(A)-$(B)-$(C)", env) == "1-$(A)-$(C)"
    assert expand("$$(A) $$ $x $(", env) == "$(A) $ $x $("
    assert expand("$(A)", {}, {"A": "svc"}) == "svc"


def test_service_env_sees_namespace_and_master_services() -> None:
    services = [
        {"metadata": {"name": "kubernetes", "namespace": "default"}, "spec": {"clusterIP": "10.0.0.1", "ports": [{"name": "https", "port": 443}]}},
        {"metadata": {"name": "db-main", "namespace": "app"}, "spec": {"clusterIP": "10.0.0.9", "ports": [{"port": 5432}]}},
        {"metadata": {"name": "headless", "namespace": "app"}, "spec": {"clusterIP": "None", "ports": [{"port": 1}]}},
        {"metadata": {"name": "other", "namespace": "elsewhere"}, "spec": {"clusterIP": "10.0.0.7", "ports": [{"port": 1}]}},
    ]  # fmt: skip
    env = service_env(services, "app", True)
    assert env["KUBERNETES_SERVICE_HOST"] == "10.0.0.1" and env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    assert env["DB_MAIN_SERVICE_HOST"] == "10.0.0.9" and env["DB_MAIN_PORT_5432_TCP_PROTO"] == "tcp"
    assert not any(k.startswith(("HEADLESS_", "OTHER_")) for k in env)
    assert set(service_env(services, "app", False)) == {k for k in env if k.startswith("KUBERNETES_")}
