"""The dynamic client: any resource by group/version/resource, objects as plain dicts.

``AsyncDynamicClient(rest).resource(GroupVersionResource("example.com", "v1", "widgets"), "ns")``
has the typed clients' verbs (get, list, watch, create, update, update_status, patch, apply,
delete, delete_collection, get_scale/update_scale/patch_scale) on ``Unstructured`` dicts. It is
the same generic implementation as the typed clients, bound to :class:`UnstructuredCodec`.
``DynamicClient`` is the generated sync twin.

Informers: :class:`DynamicSharedInformerFactory` (any resource, objects as dicts) and
:class:`MetadataSharedInformerFactory` (PartialObjectMetadata only).
"""

from pyclientgo.apimachinery.registry import GroupVersionResource
from pyclientgo.dynamic._async.client import AsyncDynamicClient, AsyncDynamicResourceClient
from pyclientgo.dynamic._sync.client import DynamicClient, DynamicResourceClient
from pyclientgo.dynamic.codec import Unstructured, UnstructuredCodec
from pyclientgo.dynamic.informer import DynamicSharedInformerFactory
from pyclientgo.dynamic.metadata_informer import MetadataSharedInformerFactory

__all__ = [
    "AsyncDynamicClient",
    "AsyncDynamicResourceClient",
    "DynamicClient",
    "DynamicResourceClient",
    "DynamicSharedInformerFactory",
    "GroupVersionResource",
    "MetadataSharedInformerFactory",
    "Unstructured",
    "UnstructuredCodec",
]
