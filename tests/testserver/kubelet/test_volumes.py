"""Volumes of the process runtime: configMap/secret (kube's ``..data`` atomic layout, modes, updates
propagating into a running container), emptyDir (also ``medium: Memory``), read-only bind mounts in
the container's own mount namespace, FailedMount for a missing configMap, clean-up on deletion."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pyclientgo.api.core.v1 import ConfigMap, Pod, Secret
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import Clientset
from testserver.kubelet.testing import KubeletProcess

from .conftest import PROC_NODE, Kubectl, wait_for


def _pod(name: str, command: str, mounts: list[dict[str, Any]], volumes: list[dict[str, Any]]) -> Pod:
    return Pod.model_validate(
        {
            "metadata": {"name": name},
            "spec": {
                "nodeName": PROC_NODE,
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox",
                        "command": ["sh", "-c", command],
                        "volumeMounts": mounts,
                    }
                ],
                "volumes": volumes,
            },
        }
    )


def _status(cs: Clientset, name: str) -> dict[str, Any]:
    return cs.core_v1.pods("default").get(name).to_dict().get("status") or {}


def _gone(cs: Clientset, name: str) -> bool:
    try:
        cs.core_v1.pods("default").get(name)
    except NotFound:
        return True
    return False


def _tmpfs_mounted(path: Path) -> bool:
    return any(line.split()[1] == str(path) and line.split()[2] == "tmpfs" for line in open("/proc/mounts"))


def test_configmap_secret_emptydir_volumes(
    proc_cs: Clientset, proc_kubelet: KubeletProcess, proc_kubectl: Kubectl, tmp_path: Path
) -> None:
    proc_cs.core_v1.configmaps("default").create(
        ConfigMap.model_validate({"metadata": {"name": "vol-cm"}, "data": {"greeting": "hello"}})
    )
    proc_cs.core_v1.secrets("default").create(
        Secret.model_validate({"metadata": {"name": "vol-s"}, "stringData": {"token": "t0k"}})
    )
    cfg, sec, scratch, mem = (
        tmp_path / "etc" / "config",
        tmp_path / "secret",
        tmp_path / "scratch",
        tmp_path / "mem",
    )
    command = (
        f"cat {cfg}/greeting; echo; cat {sec}/token; echo; "
        f"touch {scratch}/x && echo scratch-ok; "
        f"(touch {cfg}/nope 2>/dev/null && echo writable) || echo readonly-ok; "
        f"echo in-memory > {mem}/m; "
        f"while true; do cat {cfg}/greeting > {scratch}/seen; sleep 0.2; done"
    )
    proc_cs.core_v1.pods("default").create(
        _pod(
            "vols",
            command,
            [
                {"name": "config", "mountPath": str(cfg), "readOnly": True},
                {"name": "sec", "mountPath": str(sec)},
                {"name": "scratch", "mountPath": str(scratch)},
                {"name": "mem", "mountPath": str(mem)},
            ],
            [
                {"name": "config", "configMap": {"name": "vol-cm"}},
                {"name": "sec", "secret": {"secretName": "vol-s", "defaultMode": 0o400}},
                {"name": "scratch", "emptyDir": {}},
                {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
            ],
        )
    )
    wait_for(lambda: _status(proc_cs, "vols").get("phase") == "Running", what="Running")
    wait_for(lambda: "readonly-ok" in proc_kubectl.run("logs", "vols").stdout, what="the script's checks")
    assert proc_kubectl.run("logs", "vols").stdout.splitlines()[:4] == [
        "hello",
        "t0k",
        "scratch-ok",
        "readonly-ok",
    ]
    uid = proc_cs.core_v1.pods("default").get("vols").to_dict()["metadata"]["uid"]
    vdir = proc_kubelet.data_dir / "root" / "pods" / uid / "volumes"
    cm_dir = vdir / "kubernetes.io~configmap" / "config"
    assert (cm_dir / "..data").is_symlink() and os.readlink(cm_dir / "greeting") == "..data/greeting"
    assert os.readlink(cm_dir / "..data").startswith("..")
    assert (vdir / "kubernetes.io~secret" / "sec" / "token").stat().st_mode & 0o777 == 0o400
    assert (vdir / "kubernetes.io~empty-dir" / "scratch" / "x").exists()
    assert _tmpfs_mounted(vdir / "kubernetes.io~empty-dir" / "mem")
    assert (vdir / "kubernetes.io~empty-dir" / "mem" / "m").read_text() == "in-memory\n"
    assert cfg.is_dir() and not (cfg / "greeting").exists()  # bound only in the container's namespace
    (api_access,) = (vdir / "kubernetes.io~projected").iterdir()  # the ServiceAccount admission's volume
    assert (api_access / "namespace").read_text() == "default"
    assert (api_access / "ca.crt").read_text().startswith("-----BEGIN CERTIFICATE-----")
    seen = vdir / "kubernetes.io~empty-dir" / "scratch" / "seen"
    wait_for(lambda: seen.exists() and seen.read_text() == "hello", what="container reads the configMap")
    proc_cs.core_v1.configmaps("default").patch("vol-cm", {"data": {"greeting": "updated"}})
    wait_for(lambda: seen.read_text() == "updated", what="the update propagated into the running container")
    assert _status(proc_cs, "vols")["containerStatuses"][0]["restartCount"] == 0
    proc_cs.core_v1.pods("default").delete("vols")
    wait_for(lambda: _gone(proc_cs, "vols"), what="deleted")
    assert not vdir.exists() and not _tmpfs_mounted(vdir / "kubernetes.io~empty-dir" / "mem")
    assert not cfg.exists() and not (tmp_path / "etc").exists()  # mount points it created are removed


def test_missing_configmap_volume_is_failed_mount(proc_cs: Clientset, proc_kubelet: KubeletProcess) -> None:
    proc_cs.core_v1.pods("default").create(
        _pod(
            "novol",
            "sleep 600",
            [{"name": "config", "mountPath": "/nonexistent-testserver-mount"}],
            [{"name": "config", "configMap": {"name": "not-there"}}],
        )
    )
    want = 'MountVolume.SetUp failed for volume "config" : configmap "not-there" not found'

    def failed_mount() -> bool:
        for e in proc_cs.core_v1.events("default").list().to_dict().get("items") or []:
            if e["involvedObject"].get("name") == "novol" and e.get("reason") == "FailedMount":
                return bool(e.get("message") == want)
        return False

    wait_for(failed_mount, what="FailedMount event")
    st = _status(proc_cs, "novol")
    assert st.get("phase") == "Pending"
    waiting = ((st.get("containerStatuses") or [{}])[0].get("state") or {}).get("waiting") or {}
    assert waiting.get("reason", "ContainerCreating") == "ContainerCreating"
    proc_cs.core_v1.pods("default").delete("novol", grace_period_seconds=0)
    assert not Path("/nonexistent-testserver-mount").exists()
