"""The async discovery clients and REST mapper: the source the ``_sync`` package is generated from."""
