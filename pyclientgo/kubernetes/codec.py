"""How a resource client turns wire bytes into objects and back (I/O-free).

The generic resource client is written once and parametrised by a :class:`Codec`: the typed
clients use :class:`ModelCodec` (generated pydantic models, decoded lazily), the dynamic client uses
``pyclientgo.dynamic.UnstructuredCodec`` (plain dicts). Everything else — URLs, parameters, verbs —
is the same code path.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import msgspec

from pyclientgo.apimachinery.model import K8sModel

if TYPE_CHECKING:
    from pyclientgo.api.autoscaling.v1 import Scale
    from pyclientgo.api.meta.v1 import Status

__all__ = ["Codec", "ModelCodec", "model_codec", "object_identity"]

T = TypeVar("T")
L = TypeVar("L")
S = TypeVar("S")
D = TypeVar("D")
M = TypeVar("M", bound=K8sModel)
ML = TypeVar("ML", bound=K8sModel)


class _Kind(msgspec.Struct):
    kind: str | None = None


_kind_decoder = msgspec.json.Decoder(_Kind)


def response_kind(data: bytes) -> str | None:
    """The ``kind`` of a JSON object, read without decoding the rest."""
    try:
        return _kind_decoder.decode(data).kind
    except msgspec.DecodeError:
        return None


class Codec(ABC, Generic[T, L, S, D]):
    """Decodes and encodes the objects (T), lists (L), scales (S) and delete statuses (D) of one resource."""

    @abstractmethod
    def decode(self, data: bytes) -> T:
        """One object from a response body (also used for watch event objects)."""

    @abstractmethod
    def decode_list(self, data: bytes) -> L:
        """A list from a response body."""

    @abstractmethod
    def decode_scale(self, data: bytes) -> S:
        """An ``autoscaling/v1 Scale`` from a response body."""

    @abstractmethod
    def decode_status(self, data: bytes) -> D:
        """A ``meta/v1 Status`` from a response body."""

    @abstractmethod
    def encode(self, obj: T | Any) -> bytes:
        """Request body bytes of an object."""

    @abstractmethod
    def encode_scale(self, scale: S | Any) -> bytes:
        """Request body bytes of a scale."""

    @abstractmethod
    def identity(self, obj: T) -> tuple[str | None, str | None]:
        """``(metadata.name, metadata.namespace)`` of an object."""

    def decode_deleted(self, data: bytes) -> T | D:
        """A DELETE response: the object (still finalising, or deleted gracefully) or a ``Status``."""
        if response_kind(data) == "Status":
            return self.decode_status(data)
        return self.decode(data)


def object_identity(obj: K8sModel) -> tuple[str | None, str | None]:
    """``(name, namespace)`` from a model's ``metadata``, ``(None, None)`` when unset."""
    metadata: Any = getattr(obj, "metadata", None)
    if metadata is None:
        return None, None
    if isinstance(metadata, dict):
        return metadata.get("name"), metadata.get("namespace")
    return getattr(metadata, "name", None), getattr(metadata, "namespace", None)


class ModelCodec(Codec[M, ML, "Scale", "Status"]):
    """Codec of generated models: responses decode lazily with ``Model.from_json``."""

    def __init__(self, model: type[M], list_model: type[ML]) -> None:
        self.model = model
        self.list_model = list_model

    def decode(self, data: bytes) -> M:
        return self.model.from_json(data)

    def decode_list(self, data: bytes) -> ML:
        return self.list_model.from_json(data)

    def decode_scale(self, data: bytes) -> Scale:
        from pyclientgo.api.autoscaling.v1 import Scale

        return Scale.from_json(data)

    def decode_status(self, data: bytes) -> Status:
        from pyclientgo.api.meta.v1 import Status

        return Status.from_json(data)

    def encode(self, obj: Any) -> bytes:
        if isinstance(obj, K8sModel):
            return obj.to_json()
        # A plain dict is accepted too, validated into the model first so mistakes surface early.
        return self.model.from_dict(obj).to_json()

    def encode_scale(self, scale: Any) -> bytes:
        from pyclientgo.api.autoscaling.v1 import Scale

        if isinstance(scale, K8sModel):
            return scale.to_json()
        return Scale.from_dict(scale).to_json()

    def identity(self, obj: M) -> tuple[str | None, str | None]:
        return object_identity(obj)


@functools.cache
def _cached_model_codec(model: type[K8sModel], list_model: type[K8sModel]) -> ModelCodec[Any, Any]:
    return ModelCodec(model, list_model)


def model_codec(model: type[M], list_model: type[ML]) -> ModelCodec[M, ML]:
    """The (shared) codec of a model and its list model."""
    return cast("ModelCodec[M, ML]", _cached_model_codec(model, list_model))
