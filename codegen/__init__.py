"""codegen: Kubernetes OpenAPI / CRD -> pyclientgo models and clients."""
