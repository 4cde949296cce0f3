"""Client configuration: :class:`Config`, loaders (kubeconfig, in-cluster) and credential flows.

``load_config()`` does what client-go's default loading rules do: ``$KUBECONFIG`` (several files
merged, the first to set a key wins) or ``~/.kube/config``, else the pod's service account.
"""

from pyclientgo.config._auth import BearerTokenAuth, ExecAuth, TokenFileAuth, auth_for
from pyclientgo.config._exec import ExecCluster, ExecCredential, ExecCredentialProvider
from pyclientgo.config._kubeconfig import (
    SERVICE_ACCOUNT_DIR,
    config_from_kubeconfig,
    default_kubeconfig_paths,
    load_config,
    load_incluster_config,
    load_kubeconfig,
    merge_kubeconfigs,
)
from pyclientgo.config._tls import ssl_context_for
from pyclientgo.config._types import Config, ExecConfig, ImpersonationConfig

__all__ = [
    "BearerTokenAuth",
    "Config",
    "ExecAuth",
    "ExecCluster",
    "ExecConfig",
    "ExecCredential",
    "ExecCredentialProvider",
    "ImpersonationConfig",
    "SERVICE_ACCOUNT_DIR",
    "TokenFileAuth",
    "auth_for",
    "config_from_kubeconfig",
    "default_kubeconfig_paths",
    "load_config",
    "load_incluster_config",
    "load_kubeconfig",
    "merge_kubeconfigs",
    "ssl_context_for",
]
