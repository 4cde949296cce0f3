"""A small component process for the live tests: a ConfigMap counter on the component base.

While it leads it stamps every ConfigMap in namespace ``default`` with its identity (annotation
``sample/leader``), so the tests can see which instance acts.
"""

from __future__ import annotations

import argparse
import sys

from pyclientgo.component_base import (
    ComponentContext,
    ComponentOptions,
    add_component_flags,
    component_options_from_args,
    run_component_sync,
)
from pyclientgo.controller import Request, Result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sample-component")
    add_component_flags(
        parser,
        defaults=ComponentOptions(name="sample-component", leader_elect=True, secure_port=0),
    )
    args = parser.parse_args(argv)
    opts = component_options_from_args(args, name="sample-component")

    async def setup(ctx: ComponentContext) -> None:
        cms = ctx.manager.informer_factory.core_v1.configmaps()
        identity = ctx.manager.identity

        async def reconcile(req: Request) -> Result | None:
            try:
                cm = cms.lister.configmaps(req.namespace or "default").get(req.name)
            except Exception:
                return None
            annotations = dict(cm.metadata.annotations or {})
            if annotations.get("sample/leader") == identity:
                return None
            annotations["sample/leader"] = identity
            await ctx.clientset.core_v1.configmaps(req.namespace or "default").patch(
                req.name, {"metadata": {"annotations": annotations}}, patch_type="merge"
            )
            return None

        ctx.manager.new_controller("sample", reconcile).for_(cms.informer)

    return run_component_sync(opts, setup)


if __name__ == "__main__":
    sys.exit(main())
