"""A controller runtime on top of informers and work queues (controller-runtime, in Python).

The pieces, each small:

- :class:`Reconciler` — one method, ``async reconcile(request) -> Result``; :class:`Request` names an
  object (namespace, name); :class:`Result` may ask to look again (``requeue_after`` seconds or a
  rate-limited ``requeue``); :class:`TerminalError` means "do not retry" (:mod:`.reconcile`).
- :class:`Controller` — watches informers (``for_``: the objects themselves; ``owns``: the controller
  owner of owned objects; ``watches``: a mapping function), filters events with predicates
  (:mod:`.predicate`), queues requests in a :class:`~pyclientgo.workqueue.RateLimitingQueue` and runs
  N workers that never reconcile one key twice at once (:mod:`.controller`, :mod:`.handler`).
- :class:`Manager` — runs controllers and other :class:`Runnable` s with a shared informer factory and
  clientset, an event recorder, ``/healthz`` ``/readyz`` ``/metrics`` on a loopback port, and leader
  election with a Lease: leader-elected runnables run only while leading (:mod:`.manager`,
  :mod:`.probes`, :mod:`.metrics`).

::

    async def reconcile(req: Request) -> Result:
        cm = configmaps.lister.config_maps(req.namespace).get(req.name)   # NotFound: deleted
        ...
        return Result()

    mgr = Manager(clientset, ManagerOptions(probe_port=8081))
    configmaps = mgr.informer_factory.core_v1.configmaps()
    mgr.new_controller("example", reconcile).for_(configmaps.informer)
    await mgr.run()
"""

from pyclientgo.controller.controller import Controller, ControllerError, ControllerOptions
from pyclientgo.controller.handler import (
    EnqueueRequestForObject,
    EnqueueRequestForOwner,
    EnqueueRequestsFromMapFunc,
    EventHandler,
    MapFunc,
    OwnerReference,
    owner_references,
    request_for_object,
)
from pyclientgo.controller.manager import (
    LeaderElectionLost,
    Manager,
    ManagerOptions,
    Runnable,
    RunnableFunc,
    needs_leader_election,
)
from pyclientgo.controller.predicate import (
    AnnotationChangedPredicate,
    Funcs,
    GenerationChangedPredicate,
    LabelChangedPredicate,
    Predicate,
    ResourceVersionChangedPredicate,
    and_,
    label_selector_predicate,
    not_,
    or_,
)
from pyclientgo.controller.probes import Checker, ProbeServer
from pyclientgo.controller.reconcile import Reconciler, ReconcilerFunc, Request, Result, TerminalError

__all__ = [
    "AnnotationChangedPredicate",
    "Checker",
    "Controller",
    "ControllerError",
    "ControllerOptions",
    "EnqueueRequestForObject",
    "EnqueueRequestForOwner",
    "EnqueueRequestsFromMapFunc",
    "EventHandler",
    "Funcs",
    "GenerationChangedPredicate",
    "LabelChangedPredicate",
    "LeaderElectionLost",
    "Manager",
    "ManagerOptions",
    "MapFunc",
    "OwnerReference",
    "Predicate",
    "ProbeServer",
    "Reconciler",
    "ReconcilerFunc",
    "Request",
    "ResourceVersionChangedPredicate",
    "Result",
    "Runnable",
    "RunnableFunc",
    "TerminalError",
    "and_",
    "label_selector_predicate",
    "needs_leader_election",
    "not_",
    "or_",
    "owner_references",
    "request_for_object",
]
