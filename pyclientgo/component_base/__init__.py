"""What every Kubernetes-style component process shares (k8s.io/component-base).

A component — the reference controller-manager, scheduler, kubelet and proxy, or a user's own
controller process — is a function that wires informers and runnables onto a
:class:`~pyclientgo.controller.Manager`; this package turns that function into a process::

    parser = argparse.ArgumentParser(prog="my-controller")
    add_component_flags(parser, defaults=ComponentOptions(name="my-controller", leader_elect=True,
                                                          leader_elect_resource_name="my-controller"))
    opts = component_options_from_args(parser.parse_args(), name="my-controller")

    async def setup(ctx: ComponentContext) -> None:
        pods = ctx.manager.informer_factory.core_v1.pods()
        ctx.manager.new_controller("pods", reconciler).for_(pods.informer)

    sys.exit(run_component_sync(opts, setup))

- :mod:`~pyclientgo.component_base.options`: the flags as the Kubernetes components spell them
  (``--kubeconfig``, ``--master``, ``--kube-api-qps``/``--kube-api-burst``, ``--bind-address``/
  ``--secure-port``, ``--leader-elect*``, ``-v``) and :class:`ComponentOptions`, the parsed result;
- :mod:`~pyclientgo.component_base.runner`: :func:`run_component`, the process around the setup
  function — logging named after the component, the clientset with the component's QPS/burst, the
  health and metrics server (``/healthz``, ``/livez``, ``/readyz`` with ``?verbose``, ``/metrics``),
  leader election on a Lease, graceful stop on SIGTERM/SIGINT (the Lease is released), and a ready file
  for supervisors.
"""

from pyclientgo.component_base.options import (
    ComponentOptions,
    add_component_flags,
    component_options_from_args,
)
from pyclientgo.component_base.runner import (
    ComponentContext,
    configure_logging,
    exit_with_parent,
    run_component,
    run_component_sync,
)

__all__ = [
    "ComponentContext",
    "ComponentOptions",
    "add_component_flags",
    "component_options_from_args",
    "configure_logging",
    "exit_with_parent",
    "run_component",
    "run_component_sync",
]
