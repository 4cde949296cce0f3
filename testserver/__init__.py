"""testserver: the bundled reference Kubernetes cluster."""
