"""Pod volumes for the process runtime (pkg/volume/{emptydir,configmap,secret,hostpath},
pkg/volume/util/atomic_writer.go).

Volumes live where the kubelet keeps them, ``<root>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>``:

- ``emptyDir``: a directory (``medium: Memory``: a tmpfs mounted there, ``sizeLimit`` its size, when
  this process may mount; else a directory, logged);
- ``configMap`` / ``secret``: the keys (or ``items``) as files with ``defaultMode``/``mode``, written
  by :class:`AtomicWriter` as kube does: the files go to a new ``..<timestamp>`` directory, the
  ``..data`` symlink is swapped to it with one rename, and each top-level name is a symlink into
  ``..data``: a reader never sees a half-updated volume. :meth:`PodVolumes.sync` re-reads the
  objects and rewrites only on change (the kubelet's periodic sync: updates propagate);
  a missing object that is not ``optional`` fails the set-up (``FailedMount``, kube's message);
- ``downwardAPI`` (fieldRef items) and ``projected`` (configMap, secret, downwardAPI sources) the
  same way; a ``serviceAccountToken`` source writes no file yet (no TokenRequest API here: logged once);
- ``hostPath``: the host path itself (``type: DirectoryOrCreate``/``FileOrCreate`` create it).

Other volume types (persistentVolumeClaim, ...) are not set up: the pod's containers do not start and
a ``FailedMount`` event says the type is not supported here.
How a container sees a volume at its ``mountPath`` is the runtime's business
(:mod:`.process_runtime`: a bind mount in the container's own mount namespace).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import logging
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

from pyclientgo.apimachinery.quantity import Quantity
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset
from testserver.kubelet.runtime import Mount

__all__ = ["AtomicWriter", "FailedMount", "PodVolumes"]

log = logging.getLogger("kubelet")

_DATA = "..data"


class FailedMount(Exception):
    """A volume cannot be set up; the message is kube's ``MountVolume.SetUp failed ...``."""


class AtomicWriter:
    """Writes a directory of files atomically (module docstring)."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def _current(self) -> dict[str, tuple[bytes, int]]:
        data = self.target / _DATA
        out: dict[str, tuple[bytes, int]] = {}
        if not data.is_symlink():
            return out
        root = self.target / os.readlink(data)
        for dirpath, _dirs, files in os.walk(root):
            for f in files:
                p = Path(dirpath) / f
                out[str(p.relative_to(root))] = (p.read_bytes(), p.stat().st_mode & 0o777)
        return out

    def write(self, payload: dict[str, tuple[bytes, int]]) -> bool:
        """Make the directory hold exactly ``payload`` (relative path → (content, mode)); whether
        anything changed."""
        self.target.mkdir(parents=True, exist_ok=True)
        if self._current() == payload and (self.target / _DATA).is_symlink():
            return False
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y_%m_%d_%H_%M_%S.")
        ts_name = f"..{stamp}{secrets.randbelow(10**9)}"
        ts_dir = self.target / ts_name
        ts_dir.mkdir(mode=0o755)
        for rel, (content, mode) in payload.items():
            p = ts_dir / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(content)
            os.chmod(p, mode)
        old = os.readlink(self.target / _DATA) if (self.target / _DATA).is_symlink() else None
        tmp = self.target / "..data_tmp"
        tmp.unlink(missing_ok=True)
        os.symlink(ts_name, tmp)
        os.replace(tmp, self.target / _DATA)  # the atomic swap
        visible = {rel.split("/", 1)[0] for rel in payload}
        for name in visible:
            link = self.target / name
            if not link.is_symlink():
                os.symlink(f"{_DATA}/{name}", link)
        for entry in self.target.iterdir():
            if entry.name.startswith(".."):
                continue
            if entry.is_symlink() and entry.name not in visible:
                entry.unlink()
        if old is not None and old != ts_name:
            shutil.rmtree(self.target / old, ignore_errors=True)
        return True


def _mode(value: Any, default: int) -> int:
    return int(value) & 0o777 if isinstance(value, int) else default


class PodVolumes:
    """The volumes of one pod (module docstring)."""

    def __init__(self, pod: dict[str, Any], pod_dir: Path, clientset: AsyncClientset) -> None:
        self.pod = pod
        self.dir = pod_dir / "volumes"
        self.cs = clientset
        self.paths: dict[str, Path] = {}
        """Volume name → host path, for the volumes set up so far."""
        self._tmpfs: list[Path] = []

    @property
    def _namespace(self) -> str:
        return str((self.pod.get("metadata") or {}).get("namespace", "default"))

    async def _data(self, kind: str, name: str, optional: bool) -> dict[str, bytes] | None:
        try:
            if kind == "configmap":
                cm = (await self.cs.core_v1.configmaps(self._namespace).get(name)).to_dict()
                out = {k: str(v).encode() for k, v in (cm.get("data") or {}).items()}
                out.update({k: base64.b64decode(v) for k, v in (cm.get("binaryData") or {}).items()})
                return out
            s = (await self.cs.core_v1.secrets(self._namespace).get(name)).to_dict()
            return {k: base64.b64decode(v) for k, v in (s.get("data") or {}).items()}
        except NotFound:
            if optional:
                return None
            raise FailedMount(f'{kind} "{name}" not found') from None

    async def _projection(self, volume: dict[str, Any], kind: str) -> dict[str, tuple[bytes, int]]:
        src = volume.get("configMap" if kind == "configmap" else "secret") or {}
        name = src.get("name" if kind == "configmap" else "secretName", "")
        optional = bool(src.get("optional"))
        data = await self._data(kind, name, optional)
        if data is None:
            return {}
        mode = _mode(src.get("defaultMode"), 0o644)
        items = src.get("items")
        if not items:
            return {k: (v, mode) for k, v in data.items()}
        payload: dict[str, tuple[bytes, int]] = {}
        for item in items:
            key = item.get("key", "")
            if key not in data:
                if optional:
                    continue
                what = "configmap" if kind == "configmap" else "secret"
                raise FailedMount(
                    f"{what} references non-existent {'config' if kind == 'configmap' else 'secret'} key: {key}"
                )
            payload[str(item.get("path") or key)] = (data[key], _mode(item.get("mode"), mode))
        return payload

    def _downward(self, items: list[dict[str, Any]], mode: int) -> dict[str, tuple[bytes, int]]:
        meta = self.pod.get("metadata") or {}
        out: dict[str, tuple[bytes, int]] = {}
        for item in items:
            path = str(item.get("path", ""))
            field_path = (item.get("fieldRef") or {}).get("fieldPath", "")
            if item.get("resourceFieldRef"):
                raise FailedMount(f"downwardAPI resourceFieldRef ({path}) is not supported by this kubelet")
            simple = {"metadata.name": "name", "metadata.namespace": "namespace", "metadata.uid": "uid"}
            if field_path in simple:
                value = str(meta.get(simple[field_path], ""))
            elif field_path in ("metadata.labels", "metadata.annotations"):
                values = meta.get(field_path.split(".", 1)[1]) or {}
                value = "\n".join(f'{k}="{v}"' for k, v in sorted(values.items()))
            elif field_path.startswith(("metadata.labels['", "metadata.annotations['")):
                kind, _, key = field_path[len("metadata.") :].partition("['")
                value = str((meta.get(kind) or {}).get(key.rstrip("']"), ""))
            else:
                raise FailedMount(f'unsupported downwardAPI fieldPath "{field_path}"')
            out[path] = (value.encode(), _mode(item.get("mode"), mode))
        return out

    async def _projected(self, volume: dict[str, Any]) -> dict[str, tuple[bytes, int]]:
        src = volume.get("projected") or {}
        mode = _mode(src.get("defaultMode"), 0o644)
        payload: dict[str, tuple[bytes, int]] = {}
        for source in src.get("sources") or []:
            if "configMap" in source or "secret" in source:
                kind = "configmap" if "configMap" in source else "secret"
                inner = dict(source["configMap" if kind == "configmap" else "secret"] or {})
                if kind == "secret":
                    inner["secretName"] = inner.get("name", "")
                inner.setdefault("defaultMode", mode)
                payload.update(
                    await self._projection({("configMap" if kind == "configmap" else "secret"): inner}, kind)
                )
            elif "downwardAPI" in source:
                payload.update(self._downward((source["downwardAPI"] or {}).get("items") or [], mode))
            elif "serviceAccountToken" in source:
                if not PodVolumes._token_warned:
                    PodVolumes._token_warned = True
                    log.warning(
                        "projected serviceAccountToken volumes get no token file: the TokenRequest API "
                        "is not available to this kubelet yet"
                    )
            else:
                raise FailedMount(f"projected source {sorted(source)} is not supported by this kubelet")
        return payload

    _token_warned = False

    async def sync(self) -> None:
        """Set up (or refresh) every volume; :class:`FailedMount` for the first that fails."""
        for volume in (self.pod.get("spec") or {}).get("volumes") or []:
            name = volume.get("name", "")
            try:
                await self._one(name, volume)
            except FailedMount as err:
                raise FailedMount(f'MountVolume.SetUp failed for volume "{name}" : {err}') from None
            except OSError as err:
                raise FailedMount(f'MountVolume.SetUp failed for volume "{name}" : {err}') from None

    async def _one(self, name: str, volume: dict[str, Any]) -> None:
        if "emptyDir" in volume:
            if name in self.paths:
                return
            path = self.dir / "kubernetes.io~empty-dir" / name
            path.mkdir(parents=True, exist_ok=True)
            ed = volume.get("emptyDir") or {}
            if ed.get("medium") == "Memory":
                opts = "mode=0777"
                if ed.get("sizeLimit"):
                    opts += f",size={Quantity.parse(str(ed['sizeLimit'])).value()}"
                r = subprocess.run(
                    ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True
                )
                if r.returncode == 0:
                    self._tmpfs.append(path)
                else:
                    log.warning(
                        "emptyDir %s: cannot mount tmpfs (%s); using a directory", name, r.stderr.strip()
                    )
            else:
                os.chmod(path, 0o777)
            self.paths[name] = path
        elif "configMap" in volume or "secret" in volume:
            kind = "configmap" if "configMap" in volume else "secret"
            plugin = "kubernetes.io~configmap" if kind == "configmap" else "kubernetes.io~secret"
            path = self.dir / plugin / name
            payload = await self._projection(volume, kind)
            if AtomicWriter(path).write(payload) and name in self.paths:
                log.info("volume %s of pod %s updated", name, self.pod["metadata"].get("name"))
            self.paths[name] = path
        elif "projected" in volume or "downwardAPI" in volume:
            path = (
                self.dir
                / ("kubernetes.io~projected" if "projected" in volume else "kubernetes.io~downward-api")
                / name
            )
            if "projected" in volume:
                payload = await self._projected(volume)
            else:
                dapi = volume.get("downwardAPI") or {}
                payload = self._downward(dapi.get("items") or [], _mode(dapi.get("defaultMode"), 0o644))
            AtomicWriter(path).write(payload)
            self.paths[name] = path
        elif "hostPath" in volume:
            hp = volume.get("hostPath") or {}
            path = Path(hp.get("path", ""))
            kind = hp.get("type") or ""
            if kind == "DirectoryOrCreate":
                path.mkdir(parents=True, exist_ok=True)
            elif kind == "FileOrCreate":
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch(exist_ok=True)
            elif kind in ("Directory", "File", "Socket", "CharDevice", "BlockDevice") and not path.exists():
                raise FailedMount(f"hostPath type check failed: {path} is not a {kind}")
            self.paths[name] = path
        else:
            kinds = sorted(k for k in volume if k != "name")
            raise FailedMount(f"volume type {kinds} is not supported by this kubelet")

    def mounts(self, container: dict[str, Any]) -> list[Mount]:
        """The container's volumeMounts as host → container paths (volumes must be set up)."""
        out = []
        for vm in container.get("volumeMounts") or []:
            host = self.paths.get(vm.get("name", ""))
            if host is None:
                raise FailedMount(
                    f'unable to find volume "{vm.get("name")}" for container {container.get("name")}'
                )
            sub = vm.get("subPath") or ""
            src = host / sub if sub else host
            if sub and not src.exists():
                src.mkdir(parents=True, exist_ok=True)
            out.append(Mount(str(src), str(vm.get("mountPath", "")), bool(vm.get("readOnly"))))
        return out

    def teardown(self) -> None:
        """Unmount tmpfs volumes and remove every volume directory (not hostPaths)."""
        for path in self._tmpfs:
            with contextlib.suppress(OSError):
                subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
        self._tmpfs.clear()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.paths.clear()
