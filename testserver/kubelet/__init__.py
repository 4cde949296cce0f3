"""The reference kubelet: registers Nodes, keeps their Leases and runs the pods bound to them.

- :mod:`.runtime`: the container runtime interface, named after CRI (``run_pod_sandbox``,
  ``create_container``, ``start_container``, ``stop_container``, ``container_status`` ...), and the
  kwok-like fake runtime (containers start at once and run until stopped, or exit per annotation);
- :mod:`.node`: node registration, node status (kube's conditions, reasons and messages) and the node
  Lease in ``kube-node-lease``;
- :mod:`.pods`: a worker per pod (sync, terminating, terminated), the pod status as the kubelet writes
  it, and the final delete with grace 0;
- :mod:`.cli`: ``testserver kubelet`` on :mod:`pyclientgo.component_base`.
"""
