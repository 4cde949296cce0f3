"""Hand-written API machinery shared by the SDK and the bundled API server.

Modules: ``model`` (the lazy pydantic base of every generated model), ``registry`` (what resources
exist), ``labels`` and ``fields`` (selectors), ``quantity``, and the three patch formats
``json_patch``, ``merge_patch`` and ``strategic_merge_patch``.
"""
