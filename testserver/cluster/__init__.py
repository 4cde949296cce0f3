"""``testserver up``: the API server and every reference component as one supervised local cluster.

- :mod:`~testserver.cluster.components`: what runs (:class:`ClusterOptions`, :class:`ClusterPlan`);
- :mod:`~testserver.cluster.credentials`: each component's own client certificate and kubeconfig;
- :mod:`~testserver.cluster.supervisor`: child processes in dependency order, restarted with backoff;
- :mod:`~testserver.cluster.status`: the live status (rich) and plain progress lines;
- :mod:`~testserver.cluster.state`: ``DATA_DIR/cluster.json``, what ``testserver down`` reads;
- :mod:`~testserver.cluster.cli` and :mod:`~testserver.cluster.down_cli`: the two commands.

Tests start a cluster with :class:`testserver.testing.Cluster`.
"""
