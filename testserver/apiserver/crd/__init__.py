"""Custom resources: CustomResourceDefinitions served by the bundled API server.

- :mod:`.definition`: CRD defaults and validation (kube's 422 messages);
- :mod:`.validation`, :mod:`.pruning`, :mod:`.defaulting`: the structural schema applied to
  custom resources (type/format/enum/bounds/required checks with field paths, dropping undeclared
  fields, ``default`` values);
- :mod:`.routes`: the route of one served version (admission, version conversion on read, scale,
  selectable fields, printer columns);
- :mod:`.registrar`: installing/removing routes, registry entries and OpenAPI schemas;
- :mod:`.controller`: names acceptance, ``NamesAccepted``/``Established``/``Terminating``
  conditions, and deletion of a CRD's objects before the CRD;
- :mod:`.hooks`: the one-line calls :mod:`testserver.apiserver.rest` makes.
"""

from __future__ import annotations

from testserver.apiserver.crd.controller import CRDController, start_custom_resources
from testserver.apiserver.crd.registrar import CustomResources

__all__ = ["CRDController", "CustomResources", "start_custom_resources"]
