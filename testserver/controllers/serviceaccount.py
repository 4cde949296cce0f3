"""The service account controller (``pkg/controller/serviceaccount/serviceaccounts_controller.go``).

Makes sure every active namespace has the ServiceAccounts it should (``default``): a namespace added
or updated, or one of those ServiceAccounts deleted, queues the namespace; ``sync`` creates what the
ServiceAccount lister does not have. Namespaces that are not ``Active`` are left alone, and a create
refused because the namespace is gone or terminating is not an error (as kube).
"""

from __future__ import annotations

from collections.abc import Iterable

from pyclientgo.api.core.v1 import Namespace, ServiceAccount
from pyclientgo.controller import Controller, ControllerOptions, Funcs, Request, Result
from pyclientgo.errors import NotFound, is_already_exists
from testserver.controllers._util import ignorable_create_error, name_of, namespace_of
from testserver.controllers.context import ControllerContext

__all__ = [
    "CONTROLLER_NAME",
    "DEFAULT_SERVICE_ACCOUNTS",
    "ServiceAccountsController",
    "new_serviceaccounts_controller",
]

CONTROLLER_NAME = "serviceaccount-controller"
DEFAULT_SERVICE_ACCOUNTS = ("default",)
"""kube's ``DefaultServiceAccountsControllerOptions``: one ServiceAccount named ``default``."""


class ServiceAccountsController:
    """Creates the default ServiceAccounts in every active namespace."""

    def __init__(
        self, ctx: ControllerContext, *, service_accounts: Iterable[str] = DEFAULT_SERVICE_ACCOUNTS
    ) -> None:
        self.client = ctx.clientset
        self.names = tuple(service_accounts)
        self.log = ctx.logger(CONTROLLER_NAME)
        namespaces = ctx.informer_factory.core_v1.namespaces()
        accounts = ctx.informer_factory.core_v1.service_accounts()
        self.namespace_lister = namespaces.lister
        self.account_lister = accounts.lister
        self.controller = Controller(
            "serviceaccount", self.sync, ControllerOptions(max_concurrent_reconciles=1, clock=ctx.clock)
        )
        self.controller.for_(namespaces.informer)
        # only deletions of the managed accounts matter (kube's serviceAccountDeleted)
        self.controller.watches(
            accounts.informer,
            lambda sa: [Request("", namespace_of(sa))] if name_of(sa) in self.names else [],
            predicates=[Funcs(create=lambda _: False, update=lambda _o, _n: False)],
        )

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    async def sync(self, request: Request) -> Result:
        """Create the missing default ServiceAccounts of namespace ``request.name``."""
        try:
            ns: Namespace = self.namespace_lister.get(request.name)
        except NotFound:
            return Result()  # deleted meanwhile
        if ns.status is None or ns.status.phase not in (None, "Active"):
            return Result()
        if ns.metadata is not None and ns.metadata.deletion_timestamp is not None:
            return Result()
        for name in self.names:
            try:
                self.account_lister.service_accounts(request.name).get(name)
                continue
            except NotFound:
                pass
            try:
                await self.client.core_v1.service_accounts(request.name).create(
                    ServiceAccount(metadata={"name": name})
                )
            except Exception as err:
                if is_already_exists(err) or ignorable_create_error(err):
                    continue
                raise
            self.log.info("created ServiceAccount %s/%s", request.name, name)
        return Result()


def new_serviceaccounts_controller(ctx: ControllerContext) -> ServiceAccountsController:
    """The registry's init function."""
    return ServiceAccountsController(ctx)
