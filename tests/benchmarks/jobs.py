"""Job controller benchmark: a Job of 500 completions with parallelism 50 through the job controller of a
real ``testserver controller-manager`` process against a private test server, pods bound round robin by
the controller tests' stand-in scheduler and run by fake kubelets (each container exits 0 after
``--run-seconds``). Prints one JSON object:

- ``seconds``: from the Job's create until its ``Complete`` condition;
- ``pods_per_s``: completions per second over that time;
- ``ideal_seconds``: what parallelism alone allows (``completions / parallelism * run_seconds``);
- ``max_active_seen`` / ``status_polls``: the largest ``status.active`` seen by a 0.2 s status poll
  (never above the parallelism);
- ``qps``: the controller-manager's ``--kube-api-qps`` (default: kube's 20; ``-1`` unthrottled).

Run: ``uv run python tests/benchmarks/jobs.py [--completions 500] [--parallelism 50] [--qps 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pyclientgo.api.batch.v1 import Job
from pyclientgo.api.core.v1 import Namespace
from pyclientgo.config import load_config
from pyclientgo.kubernetes import AsyncClientset
from testserver.kubelet.testing import KubeletProcess
from testserver.testing import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testserver" / "controllers"))
ControllerManager: Any = importlib.import_module("controller_manager_fixture").ControllerManager
Binder: Any = importlib.import_module("workloads_fixture").Binder


def _job(completions: int, parallelism: int, run_seconds: float) -> Job:
    return Job.from_dict(
        {
            "metadata": {"name": "bench"},
            "spec": {
                "completions": completions,
                "parallelism": parallelism,
                "template": {
                    "metadata": {"annotations": {"kubelet.testserver.io/fake-exit-after": str(run_seconds)}},
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]},
                },
            },
        }
    )


async def _run(
    kubeconfig: Path, completions: int, parallelism: int, run_seconds: float, timeout: float
) -> dict[str, Any]:
    async with AsyncClientset(load_config(kubeconfig=str(kubeconfig))) as cs:
        await cs.core_v1.namespaces().create(Namespace(metadata={"name": "bench"}))
        deadline = time.monotonic() + 60
        while True:
            try:
                await cs.core_v1.service_accounts("bench").get("default")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
        start = time.monotonic()
        await cs.batch_v1.jobs("bench").create(_job(completions, parallelism, run_seconds))
        max_active = polls = 0
        while True:
            j = await cs.batch_v1.jobs("bench").get("bench")
            polls += 1
            st = j.status
            if st is not None:
                max_active = max(max_active, int(st.active or 0))
                if any(c.type == "Complete" and c.status == "True" for c in st.conditions or []):
                    seconds = time.monotonic() - start
                    return {
                        "seconds": round(seconds, 2),
                        "pods_per_s": round(completions / seconds, 1),
                        "succeeded": st.succeeded,
                        "max_active_seen": max_active,
                        "status_polls": polls,
                    }
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"job not complete after {timeout}s: {st.to_dict() if st else None}")
            await asyncio.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--completions", type=int, default=500)
    parser.add_argument("--parallelism", type=int, default=50)
    parser.add_argument("--run-seconds", type=float, default=0.5)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--qps", type=str, default="20")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    result: dict[str, Any] = {
        "completions": args.completions,
        "parallelism": args.parallelism,
        "run_seconds": args.run_seconds,
        "nodes": args.nodes,
        "qps": args.qps,
        "ideal_seconds": round(args.completions / args.parallelism * args.run_seconds, 2),
    }
    with (
        tempfile.TemporaryDirectory(prefix="job-bench-") as tmp,
        TestServer(data_dir=Path(tmp) / "api") as server,
    ):
        kubeconfig = Path(server.kubeconfig)
        extra = ["--kube-api-qps", args.qps]
        if args.qps == "-1":
            extra += ["--kube-api-burst", "1000"]
        cm = ControllerManager(
            kubeconfig, "--controllers", "job,serviceaccount", *extra, data_dir=Path(tmp) / "cm"
        )
        kubelet: KubeletProcess | None = None
        binder: Any = None
        try:
            cm.start()
            kubelet = KubeletProcess(
                kubeconfig,
                node_name="bench",
                nodes=args.nodes,
                extra_args=["--max-pods", str(args.completions + 10)],
                data_dir=Path(tmp) / "kubelet",
            )
            kubelet.start()
            names = [f"bench-{i}" for i in range(args.nodes)] if args.nodes > 1 else ["bench"]
            binder = Binder(load_config(kubeconfig=str(kubeconfig)), names, interval=0.05).start()
            result.update(
                asyncio.run(
                    _run(kubeconfig, args.completions, args.parallelism, args.run_seconds, args.timeout)
                )
            )
        finally:
            if binder is not None:
                binder.stop()
            if kubelet is not None:
                kubelet.cleanup()
            cm.cleanup()
    result["load_average_1m"] = os.getloadavg()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
