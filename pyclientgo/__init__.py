"""pyclientgo: a Kubernetes SDK in the spirit of client-go."""
