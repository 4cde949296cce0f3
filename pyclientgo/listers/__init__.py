"""Listers: typed, synchronous reads of informer caches (client-go's ``listers``).

``factory.core_v1.pods().lister.pods("default").get("web")`` — see :mod:`pyclientgo.listers.generic`
for the behaviour; the typed classes (``PodLister``, ``NodeLister``, ...) are generated into
:mod:`pyclientgo.listers._generated` and re-exported here.
"""

from pyclientgo.listers._generated import *  # noqa: F403
from pyclientgo.listers._generated import __all__ as _generated_all
from pyclientgo.listers.generic import GenericLister, GenericNamespaceLister, Selector, not_found, to_selector

__all__ = [
    "GenericLister",
    "GenericNamespaceLister",
    "Selector",
    "not_found",
    "to_selector",
    *_generated_all,
]
