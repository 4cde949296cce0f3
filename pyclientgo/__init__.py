"""pyclientgo: a Kubernetes SDK in the spirit of client-go."""

__version__ = "0.1.0"
