"""Container log files in CRI's format, their rotation, and reading them as ``kubectl logs`` asks.

Each line a container writes becomes ``<RFC3339Nano> stdout|stderr F <line>`` (``P`` for a part of a
line: one longer than :data:`MAX_LINE` bytes, or the unterminated rest at end of output), as
containerd writes them (pkg/kubelet/kuberuntime/logs). When the file reaches ``max_size`` bytes it
is renamed ``<file>.<timestamp>`` and a new one started; at most ``max_files`` files (the current one
included) are kept — the kubelet's ``containerLogMaxSize``/``containerLogMaxFiles``.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MAX_LINE",
    "ContainerLogWriter",
    "LogOptions",
    "format_rfc3339_nano",
    "parse_log_line",
    "read_container_logs",
]

MAX_LINE = 16 * 1024
"""Lines longer than this are written as several ``P`` parts (CRI's maximum line size)."""


def format_rfc3339_nano(ns: int) -> str:
    """Go's ``time.RFC3339Nano`` in UTC (trailing zeros of the fraction dropped)."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if frac:
        return f"{base}.{frac:09d}".rstrip("0") + "Z"
    return base + "Z"


def _parse_time(text: str) -> _dt.datetime | None:
    try:
        if "." in text:
            head, _, frac = text.rstrip("Z").partition(".")
            return _dt.datetime.fromisoformat(f"{head}.{frac[:6].ljust(6, '0')}+00:00")
        return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_log_line(line: bytes) -> tuple[bytes, bytes, bytes, bytes] | None:
    """``(timestamp, stream, tag, content)`` of one CRI log line (without its newline), or None."""
    parts = line.split(b" ", 3)
    if len(parts) < 3:
        return None
    ts, stream, tag = parts[0], parts[1], parts[2]
    content = parts[3] if len(parts) == 4 else b""
    if stream not in (b"stdout", b"stderr") or tag not in (b"F", b"P"):
        return None
    return ts, stream, tag, content


class ContainerLogWriter:
    """Writes one container's stdout and stderr into its CRI log file, rotating it."""

    def __init__(self, path: Path, *, max_size: int = 10 * 1024 * 1024, max_files: int = 5) -> None:
        self.path = path
        self.max_size = max_size
        self.max_files = max(1, max_files)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "ab")  # noqa: SIM115 - kept open for the container's life
        self._partial: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}

    def write(self, stream: str, data: bytes) -> None:
        """Append output of ``stream``; complete lines are written now, the rest is kept."""
        buf = self._partial[stream]
        buf += data
        while True:
            end = buf.find(b"\n")
            if end < 0:
                break
            line = bytes(buf[:end])
            del buf[: end + 1]
            self._line(stream, line, final=True)
        while len(buf) > MAX_LINE:
            self._line(stream, bytes(buf[:MAX_LINE]), final=False)
            del buf[:MAX_LINE]

    def flush_stream(self, stream: str) -> None:
        """End of ``stream``: write what is left of its last line as a ``P`` part."""
        buf = self._partial[stream]
        if buf:
            self._line(stream, bytes(buf), final=False)
            buf.clear()

    def _line(self, stream: str, content: bytes, *, final: bool) -> None:
        ts = format_rfc3339_nano(time.time_ns()).encode()
        tag = b"F" if final else b"P"
        self._file.write(b"%s %s %s %s\n" % (ts, stream.encode(), tag, content))
        self._file.flush()
        if self._file.tell() >= self.max_size:
            self.rotate()

    def rotate(self) -> None:
        """Rename the current file aside and start a new one, keeping ``max_files`` files."""
        self._file.close()
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S.%f")
        os.replace(self.path, self.path.with_name(f"{self.path.name}.{stamp}"))
        rotated = sorted(self.path.parent.glob(self.path.name + ".*"))
        for old in rotated[: max(0, len(rotated) - (self.max_files - 1))]:
            old.unlink(missing_ok=True)
        self._file = open(self.path, "ab")  # noqa: SIM115

    def close(self) -> None:
        for stream in ("stdout", "stderr"):
            self.flush_stream(stream)
        self._file.close()


@dataclass(kw_only=True)
class LogOptions:
    """What ``pods/log`` asks for (core/v1 PodLogOptions, the part a kubelet reads)."""

    follow: bool = False
    tail_lines: int | None = None
    since: _dt.datetime | None = None
    """Only lines at or after this time (``sinceSeconds``/``sinceTime``)."""
    timestamps: bool = False
    limit_bytes: int | None = None


def _files(path: Path) -> list[Path]:
    """The rotated files of ``path`` (oldest first), then ``path``."""
    rotated = sorted(p for p in path.parent.glob(path.name + ".*") if p.is_file())
    return [*rotated, path] if path.exists() else rotated


def _render(line: bytes, opts: LogOptions) -> bytes | None:
    parsed = parse_log_line(line)
    if parsed is None:
        return None
    ts, _stream, tag, content = parsed
    if opts.since is not None:
        t = _parse_time(ts.decode("ascii", "replace"))
        if t is not None and t < opts.since:
            return None
    out = content + (b"\n" if tag == b"F" else b"")
    return ts + b" " + out if opts.timestamps else out


async def read_container_logs(
    path: Path, opts: LogOptions, *, running: Callable[[], bool], poll_interval: float = 0.1
) -> AsyncIterator[bytes]:
    """The log of one container as ``pods/log`` returns it; with ``follow``, new lines as they come
    until the container is no longer ``running()`` and its file has been read to the end."""
    remaining = opts.limit_bytes

    def limited(chunk: bytes) -> tuple[bytes, bool]:
        nonlocal remaining
        if remaining is None:
            return chunk, False
        chunk = chunk[:remaining]
        remaining -= len(chunk)
        return chunk, remaining <= 0

    lines: deque[bytes] | list[bytes]
    lines = deque(maxlen=opts.tail_lines) if opts.tail_lines is not None else []
    offset, read_inode = 0, -1  # how far the current file was read (following goes on from there)
    for f in _files(path):
        with open(f, "rb") as fh:
            done = 0
            for raw in fh:
                if not raw.endswith(b"\n"):  # being written: the follow loop gets it whole
                    break
                done += len(raw)
                rendered = _render(raw[:-1], opts)
                if rendered is not None and opts.tail_lines != 0:
                    lines.append(rendered)
            if f == path:
                offset, read_inode = done, os.fstat(fh.fileno()).st_ino
    if lines:
        chunk, done = limited(b"".join(lines))
        if chunk:
            yield chunk
        if done:
            return
    if not opts.follow:
        return
    # follow the current file from its end (as read above)
    try:
        fh = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        return
    try:
        inode = os.fstat(fh.fileno()).st_ino
        if inode == read_inode:
            fh.seek(offset)
        pending = b""
        final = False
        while True:
            data = fh.read()
            if data:
                pending += data
                *complete, pending = pending.split(b"\n")
                out = b"".join(r for raw in complete if (r := _render(raw, opts)) is not None)
                if out:
                    chunk, done = limited(out)
                    if chunk:
                        yield chunk
                    if done:
                        return
                continue
            try:
                st = os.stat(path)
            except FileNotFoundError:
                st = None
            if st is not None and st.st_ino != inode:  # rotated: go on with the new file
                fh.close()
                fh = open(path, "rb")  # noqa: SIM115
                inode = os.fstat(fh.fileno()).st_ino
                continue
            if not running():
                if final:
                    return
                final = True  # one more read: what it wrote before it stopped
                continue
            await asyncio.sleep(poll_interval)
    finally:
        fh.close()
