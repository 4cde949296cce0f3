"""The async dynamic client: the source the ``_sync`` package is generated from."""
