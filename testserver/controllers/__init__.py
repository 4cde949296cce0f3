"""The reference controller-manager (kube-controller-manager on pyclientgo's public API).

- :mod:`~testserver.controllers.context`: :class:`ControllerContext` (clientset, shared typed and
  metadata informer factories, dynamic client, cached discovery, flags, clock, event recorders) and
  :class:`ControllerManagerOptions` (kube-controller-manager's flags);
- :mod:`~testserver.controllers.registry`: the controllers by kube's names and aliases
  (``--controllers``), each imported lazily;
- :mod:`~testserver.controllers.cli`: ``testserver controller-manager``;
- one module (or package) per controller, each with client-go's shape: informer handlers → a
  rate-limited work queue → ``sync(key)`` reading listers and writing through the clientset.
"""
