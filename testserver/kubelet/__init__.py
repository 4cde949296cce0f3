"""The reference kubelet: registers Nodes, keeps their Leases and runs the pods bound to them.

- :mod:`.runtime`: the container runtime interface, named after CRI (``run_pod_sandbox``,
  ``create_container``, ``start_container``, ``stop_container``, ``container_status`` ...), and the
  kwok-like fake runtime (containers start at once and run until stopped, or exit per annotation);
- :mod:`.process_runtime`: the default runtime: every container a real process in its own process
  group (and mount namespace when it has volumes), logs in CRI's format (:mod:`.logs`), commands of
  images that set none from the image table (:mod:`.images`, ``--image-command``);
- :mod:`.node`: node registration, node status (kube's conditions, reasons and messages) and the node
  Lease in ``kube-node-lease``;
- :mod:`.pods`: a worker per pod (sync, terminating, terminated), the pod status as the kubelet writes
  it, and the final delete with grace 0; :mod:`.env` its containers' environment, :mod:`.probes`
  their startup/liveness/readiness probes, :mod:`.volumes` its volumes;
- :mod:`.server`: the kubelet API (HTTPS ``--port``: ``/healthz``, ``/pods``, ``/containerLogs``),
  which the API server's ``pods/log`` proxies to (``testserver.apiserver.kubelet_proxy``);
- :mod:`.cli`: ``testserver kubelet`` on :mod:`pyclientgo.component_base`.
"""
