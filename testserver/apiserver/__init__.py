"""The reference API server: ``testserver apiserver`` (see :mod:`testserver.apiserver.server`)."""
