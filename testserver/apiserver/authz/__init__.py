"""Authorization as kube-apiserver does it: request attributes, the authorizer union of
``--authorization-mode`` (AlwaysAllow, AlwaysDeny, RBAC) and the RBAC authorizer over an index of
Roles, ClusterRoles and their bindings kept current by watching the storage."""
