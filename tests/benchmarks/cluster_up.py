"""``testserver up`` benchmark: time to a working cluster and its resident memory. Prints one JSON object:

- ``ready_seconds``: from spawning ``testserver up`` to its ready file (every component answers its
  health check and every node is Ready), median of ``--rounds`` cold starts (a fresh data directory
  each); ``ready_seconds_all`` lists each round;
- ``supervisor_ready_seconds``: the same as measured inside the supervisor (from its start, so
  without its own interpreter start);
- ``component_seconds``: per component, median seconds from spawning ``testserver up`` to its ready
  file (the API server's includes only itself; the others' include waiting for the API server);
- ``node_ready_after_kubelet_seconds``: median from the kubelet's ready file to the cluster's ready;
- ``rss_mb``: resident memory (VmRSS from /proc) per process of the whole cluster, read
  ``--settle`` seconds after ready in the last round; ``rss_children_mb`` their sum without the
  supervisor, ``rss_total_mb`` with it;
- ``cpu_seconds_to_ready``: per process, CPU seconds (user + system, /proc) it used from its start
  to the cluster's ready, median over the rounds; ``cpu_seconds_total`` their sum. Unlike the wall
  times this hardly depends on what else the machine runs: on an idle machine with 2 cores the
  start cannot take less than about half of the total;
- ``import_seconds`` / ``import_cpu_seconds``: per component module, median wall and CPU time of
  ``python -c "import <module>"`` (the interpreter and imports alone), to show what dominates a
  component's start;
- ``load_average``: the 1-minute load average at the start and end (the machine is shared).

Run: ``uv run python tests/benchmarks/cluster_up.py [--rounds 3] [--components ...] [--settle 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from testserver.cluster.components import COMPONENTS, available_components


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _one_round(components: str, settle: float, measure_rss: bool, timeout: float) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="cluster-up-bench-"))
    ready = data_dir / "up.ready"
    run_dir = data_dir / "run"
    argv = [
        sys.executable, "-m", "testserver.cli", "up", "--port", "0", "--data-dir", str(data_dir),
        "--ready-file", str(ready), "--quiet", "--components", components,
    ]  # fmt: skip
    seen: dict[str, float] = {}
    t0 = time.monotonic()
    with (data_dir.parent / f"{data_dir.name}.log").open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        while not ready.exists():
            if process.poll() is not None:
                raise RuntimeError(f"testserver up exited with {process.returncode}; see {log.name}")
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"not ready after {timeout}s")
            if run_dir.exists():
                for f in run_dir.glob("*.ready"):
                    seen.setdefault(f.stem, time.monotonic() - t0)
            time.sleep(0.005)
        elapsed = time.monotonic() - t0
        inside = float(ready.read_text().split("\n")[2])
        state = json.loads((data_dir / "cluster.json").read_text())
        cpu = {"supervisor": _cpu_seconds(process.pid)}
        for name, record in state["components"].items():
            if record["pid"]:
                cpu[name] = _cpu_seconds(record["pid"])
        result: dict[str, Any] = {"ready": elapsed, "inside": inside, "components": seen, "cpu": cpu}
        if measure_rss:
            time.sleep(settle)
            state = json.loads((data_dir / "cluster.json").read_text())
            rss = {"supervisor": _rss_mb(process.pid)}
            for name, record in state["components"].items():
                if record["pid"]:
                    rss[name] = _rss_mb(record["pid"])
            result["rss"] = rss
    except BaseException:
        process.terminate()
        process.wait(60)
        raise  # the data directory and the log stay for a look
    process.terminate()
    process.wait(60)
    shutil.rmtree(data_dir, ignore_errors=True)
    (data_dir.parent / f"{data_dir.name}.log").unlink(missing_ok=True)
    return result


def _import_seconds(module: str, rounds: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``python -c "import <module>"``."""
    walls, cpus = [], []
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        walls.append(time.monotonic() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return round(statistics.median(walls), 3), round(statistics.median(cpus), 3)


def _imports(modules: dict[str, str], rounds: int) -> dict[str, dict[str, float]]:
    measured = {n: _import_seconds(m, rounds) for n, m in modules.items()}
    return {
        "import_seconds": {n: wall for n, (wall, _) in measured.items()},
        "import_cpu_seconds": {n: cpu for n, (_, cpu) in measured.items()},
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    components = args.components or ",".join(available_components())
    load_start = _load()
    rounds = [
        _one_round(components, args.settle, i == args.rounds - 1, args.timeout) for i in range(args.rounds)
    ]
    names = sorted({n for r in rounds for n in r["components"]})
    per_component = {
        n: round(statistics.median(r["components"][n] for r in rounds if n in r["components"]), 3)
        for n in names
    }
    kubelet_lags = [r["ready"] - r["components"]["kubelet"] for r in rounds if "kubelet" in r["components"]]
    rss = rounds[-1]["rss"]
    children = sum(v for k, v in rss.items() if k != "supervisor")
    modules = {"apiserver": "testserver.apiserver.server"} | {
        n: COMPONENTS[n] for n in components.split(",") if n in COMPONENTS
    }
    return {
        "components": components,
        "rounds": args.rounds,
        "ready_seconds": round(statistics.median(r["ready"] for r in rounds), 3),
        "ready_seconds_all": [round(r["ready"], 3) for r in rounds],
        "supervisor_ready_seconds": round(statistics.median(r["inside"] for r in rounds), 3),
        "component_seconds": per_component,
        "node_ready_after_kubelet_seconds": round(statistics.median(kubelet_lags), 3)
        if kubelet_lags
        else None,
        "cpu_seconds_to_ready": {
            n: round(statistics.median(r["cpu"][n] for r in rounds if n in r["cpu"]), 2)
            for n in rounds[-1]["cpu"]
        },
        "cpu_seconds_total": round(statistics.median(sum(r["cpu"].values()) for r in rounds), 2),
        "rss_mb": {k: round(v, 1) for k, v in rss.items()},
        "rss_children_mb": round(children, 1),
        "rss_total_mb": round(children + rss["supervisor"], 1),
        **_imports(modules, args.rounds),
        "load_average": [load_start, _load()],
        "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--components", default=None, help="default: every component that exists")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after ready before RSS is read")
    parser.add_argument("--timeout", type=float, default=180.0)
    print(json.dumps(main(parser.parse_args())))
