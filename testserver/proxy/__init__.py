"""``testserver proxy``: kube-proxy on pyclientgo (issue 17).

kube-proxy watches Services and EndpointSlices (discovery.k8s.io/v1) and turns them into load
balancing on the node. As in kube (pkg/proxy):

- :mod:`~testserver.proxy.service` — the Service change tracker and the service-port map
  (servicechangetracker.go);
- :mod:`~testserver.proxy.endpoints` — the endpoints change tracker, the endpoints map from
  EndpointSlices (ready/serving/terminating) and endpoint categorisation by traffic policy
  (endpointschangetracker.go, topology.go);
- :mod:`~testserver.proxy.runner` — the bounded frequency runner (one sync after a burst of changes,
  at most every ``--min-sync-period``, at least every ``--sync-period``);
- :mod:`~testserver.proxy.nftables` — the nftables proxier: kube's ruleset rendered as one
  ``nft -f -`` transaction per sync (``--dry-run`` prints it);
- :mod:`~testserver.proxy.userspace` — the userspace proxier (kube's original design): a listener per
  Service port on loopback, round-robin over ready endpoints, ClientIP affinity, TCP and UDP;
- :mod:`~testserver.proxy.proxier` — the sync loop that joins the trackers, the runner and a proxier,
  with kube-proxy's metrics and healthz;
- :mod:`~testserver.proxy.cli` — the command and its flags.
"""
