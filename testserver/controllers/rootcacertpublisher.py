"""The root CA publisher (``pkg/controller/certificates/rootcacertpublisher/publisher.go``).

Keeps a ConfigMap ``kube-root-ca.crt`` in every namespace with key ``ca.crt`` = the cluster's CA
bundle and the annotation ``kubernetes.io/description``, and repairs it when someone changes or
deletes it. The CA is ``--root-ca-file`` or, without it, the certificate authority of the
controller-manager's kubeconfig (kube takes ``--root-ca-file`` or the service account token's CA).
"""

from __future__ import annotations

from pathlib import Path

from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.controller import Controller, ControllerOptions, Funcs, Request, Result
from pyclientgo.errors import NotFound
from testserver.controllers._util import ignorable_create_error, name_of, namespace_of
from testserver.controllers.context import ControllerContext

__all__ = [
    "CONTROLLER_NAME",
    "DESCRIPTION",
    "DESCRIPTION_ANNOTATION",
    "ROOT_CA_CONFIG_MAP_NAME",
    "RootCAPublisher",
    "new_root_ca_publisher",
    "root_ca_bundle",
]

CONTROLLER_NAME = "root-ca-certificate-publisher-controller"
ROOT_CA_CONFIG_MAP_NAME = "kube-root-ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
    "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
    "distributions of Kubernetes clusters."
)


def root_ca_bundle(ctx: ControllerContext) -> str:
    """The PEM bundle to publish: ``--root-ca-file``, else the kubeconfig's CA (data or file)."""
    if ctx.options.root_ca_file:
        return Path(ctx.options.root_ca_file).read_text()
    if ctx.config.ca_data:
        return ctx.config.ca_data.decode()
    if ctx.config.ca_file:
        return Path(ctx.config.ca_file).read_text()
    return ""


class RootCAPublisher:
    """Publishes ``kube-root-ca.crt`` in every namespace."""

    def __init__(self, ctx: ControllerContext, root_ca: str) -> None:
        self.client = ctx.clientset
        self.root_ca = root_ca
        self.log = ctx.logger(CONTROLLER_NAME)
        namespaces = ctx.informer_factory.core_v1.namespaces()
        configmaps = ctx.informer_factory.core_v1.config_maps()
        self.cm_lister = configmaps.lister
        self.controller = Controller(
            "root_ca_cert_publisher",
            self.sync,
            ControllerOptions(max_concurrent_reconciles=1, clock=ctx.clock),
        )
        # namespaceAdded always; namespaceUpdated only while Active
        self.controller.for_(
            namespaces.informer,
            predicates=[
                Funcs(
                    update=lambda _old, new: new.status is None or new.status.phase in (None, "Active"),
                    delete=lambda _: False,
                )
            ],
        )
        # configMapUpdated / configMapDeleted of the published ConfigMap
        self.controller.watches(
            configmaps.informer,
            lambda cm: [Request("", namespace_of(cm))] if name_of(cm) == ROOT_CA_CONFIG_MAP_NAME else [],
            predicates=[Funcs(create=lambda _: False)],
        )

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    async def sync(self, request: Request) -> Result:
        namespace = request.name
        data = {"ca.crt": self.root_ca}
        try:
            cm: ConfigMap = self.cm_lister.config_maps(namespace).get(ROOT_CA_CONFIG_MAP_NAME)
        except NotFound:
            try:
                await self.client.core_v1.config_maps(namespace).create(
                    ConfigMap(
                        metadata={
                            "name": ROOT_CA_CONFIG_MAP_NAME,
                            "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION},
                        },
                        data=data,
                    )
                )
            except Exception as err:
                if ignorable_create_error(err):
                    return Result()
                raise
            return Result()
        annotations = dict((cm.metadata.annotations if cm.metadata else None) or {})
        if (cm.data or {}) == data and annotations.get(DESCRIPTION_ANNOTATION):
            return Result()
        annotations[DESCRIPTION_ANNOTATION] = DESCRIPTION
        updated = ConfigMap.from_dict({**cm.to_dict(), "data": data})
        assert updated.metadata is not None
        updated.metadata.annotations = annotations
        await self.client.core_v1.config_maps(namespace).update(updated)
        return Result()


def new_root_ca_publisher(ctx: ControllerContext) -> RootCAPublisher | None:
    """The registry's init function. Without a CA (a plain-HTTP server and no ``--root-ca-file``)
    the controller is disabled with a warning (kube refuses to start instead)."""
    root_ca = root_ca_bundle(ctx)
    if not root_ca:
        ctx.logger(CONTROLLER_NAME).warning(
            "no root CA (no --root-ca-file and no certificate authority in the kubeconfig): disabled"
        )
        return None
    return RootCAPublisher(ctx, root_ca)
