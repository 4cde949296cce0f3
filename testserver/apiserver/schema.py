"""What the generated models know about fields, for the server: strategic-merge-patch metadata and
unknown-field detection (``fieldValidation``). The implementation lives in the SDK
(:mod:`pyclientgo.apimachinery.model_patch_meta`) so clients and the fake clientset patch alike.
"""

from pyclientgo.apimachinery.model_patch_meta import ModelPatchMeta, unknown_fields

__all__ = ["ModelPatchMeta", "unknown_fields"]
