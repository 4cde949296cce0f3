"""``testserver scheduler``: kube-scheduler (v1.32) on pyclientgo's informers, events and leader election.

The map, after ``pkg/scheduler``:

- :mod:`.cli` — the process: component-base flags with kube-scheduler's defaults (QPS 50/burst 100,
  ``--secure-port`` 10259, Lease ``kube-system/kube-scheduler``), ``--config``, the informers;
- :mod:`.config` — KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) to profiles;
- :mod:`.scheduler` — event handlers, the scheduling cycle, the binding cycle, what users see
  (PodScheduled, ``Scheduled``/``FailedScheduling`` events, metrics);
- :mod:`.queue` — activeQ/backoffQ/unschedulable pods and the nominator;
- :mod:`.cache` — assumed pods and the incremental per-cycle snapshot;
- :mod:`.framework` — the plugin interface, extension points, Permit's waiting pods;
- :mod:`.podinfo`, :mod:`.nodeinfo`, :mod:`.types` — what the plugins read;
- :mod:`.plugins` — the in-tree plugins by kube's names;
- :mod:`.testing` — the scheduler as a child process, for tests and benchmarks.

Objects are the SDK's typed models, not wire dicts: the informers decode them anyway (lazily), the
shared computations (effective requests, tolerations, node affinity) are
:mod:`pyclientgo.component_helpers` on typed models, and converting every informer event back to
a dict cost more than the decode (measured ~86 µs per pod vs ~66 µs). What the filters and scores
read for every node is parsed once into :class:`~.podinfo.PodInfo` / :class:`~.nodeinfo.NodeInfo`
(integers, tuples, parsed selectors), so the per-node loops never touch a model.
"""
