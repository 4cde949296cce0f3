"""Operations of a group-version's paths, named and shaped as kube-apiserver's OpenAPI v3 documents.

Operation ids follow kube (``readCoreV1NamespacedPod``, ``deleteAppsV1CollectionNamespacedDeployment``,
``watchCoreV1PodListForAllNamespaces``); writes carry ``dryRun``, ``fieldManager`` and
``fieldValidation`` (kubectl sends ``fieldValidation=Strict`` only when the PATCH operation tagged
with the object's ``x-kubernetes-group-version-kind`` declares that parameter).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PARAM_DOCS"]

# Query parameter descriptions as kube-apiserver documents them.
PARAM_DOCS: dict[str, str] = {
    "allowWatchBookmarks": 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.',
    "continue": 'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token. If the client needs a consistent list, it must restart their list without the continue field. Otherwise, the client may send another list request with the token received with the 410 error, the server will respond with a list starting from the next key, but from the latest snapshot, which is inconsistent from the previous list results - objects that are created, modified, or deleted after the first list request will be included in the response, as long as their keys are after the "next key".\n\nThis field is not supported when watch is true. Clients may start a watch from the last resourceVersion value returned by the server and not miss any modifications.',
    "fieldSelector": "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
    "labelSelector": "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
    "limit": "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results. Setting a limit may return fewer than the requested amount of items (up to zero items) in the event all requested objects are filtered out and clients should only use the presence of the continue field to determine whether more results are available. Servers may choose not to support the limit argument and will return all of the available results. If limit is specified and the continue field is empty, clients may assume that no more results are available. This field is not supported if watch is true.\n\nThe server guarantees that the objects returned when using continue will be identical to issuing a single list call without a limit - that is, no objects created, modified, or deleted after the first request is issued will be included in any subsequent continued requests. This is sometimes referred to as a consistent snapshot, and ensures that a client that is using limit to receive smaller chunks of a very large result can ensure they see all possible objects. If objects are updated during a chunked list the version of the object that was present at the time the first list result was calculated is returned.",
    "pretty": "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
    "resourceVersion": "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
    "resourceVersionMatch": "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
    "sendInitialEvents": '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic "Bookmark" event  will be sent. The bookmark will report the ResourceVersion (RV) corresponding to the set of objects, and be marked with `"k8s.io/initial-events-end": "true"` annotation. Afterwards, the watch stream will proceed as usual, sending watch events corresponding to changes (subsequent to the RV) to objects watched.\n\nWhen `sendInitialEvents` option is set, we require `resourceVersionMatch` option to also be set. The semantic of the watch request is as following: - `resourceVersionMatch` = NotOlderThan\n  is interpreted as "data at least as new as the provided `resourceVersion`"\n  and the bookmark event is send when the state is synced\n  to a `resourceVersion` at least as fresh as the one provided by the ListOptions.\n  If `resourceVersion` is unset, this is interpreted as "consistent read" and the\n  bookmark event is send when the state is synced at least to the moment\n  when request started being processed.\n- `resourceVersionMatch` set to any other value or unset\n  Invalid error is returned.\n\nDefaults to true if `resourceVersion=""` or `resourceVersion="0"` (for backward compatibility reasons) and to false otherwise.',
    "timeoutSeconds": "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.",
    "watch": "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.",
    "dryRun": "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
    "fieldManager": "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
    "fieldValidation": "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
    "gracePeriodSeconds": "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
    "ignoreStoreReadErrorWithClusterBreakingPotential": "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it",
    "orphanDependents": 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.',
    "propagationPolicy": "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
    "force": 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.',
    "container": "The container in which to execute the command. Defaults to only container if there is only one container in the pod.",
    "stderr": "Stderr if true indicates that stderr is to be redirected for the attach call. Defaults to true.",
    "stdin": "Stdin if true, redirects the standard input stream of the pod for this call. Defaults to false.",
    "stdout": "Stdout if true indicates that stdout is to be redirected for the attach call. Defaults to true.",
    "tty": "TTY if true indicates that a tty will be allocated for the attach call. This is passed through the container runtime so the tty is allocated on the worker node by the container runtime. Defaults to false.",
    "command": "Command is the remote command to execute. argv array. Not executed within a shell.",
    "follow": "Follow the log stream of the pod. Defaults to false.",
    "insecureSkipTLSVerifyBackend": "insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to.  This will make the HTTPS connection between the apiserver and the backend insecure. This means the apiserver cannot verify the log data it is receiving came from the real kubelet.  If the kubelet is configured to verify the apiserver's TLS credentials, it does not mean the connection to the real kubelet is vulnerable to a man in the middle attack (e.g. an attacker could not intercept the actual log data coming from the real kubelet).",
    "limitBytes": "If set, the number of bytes to read from the server before terminating the log output. This may not display a complete final line of logging, and may return slightly more or slightly less than the specified limit.",
    "previous": "Return previous terminated container logs. Defaults to false.",
    "sinceSeconds": "A relative time in seconds before the current time from which to show logs. If this value precedes the time a pod was started, only logs since the pod start will be returned. If this value is in the future, no logs will be returned. Only one of sinceSeconds or sinceTime may be specified.",
    "stream": 'Specify which container log stream to return to the client. Acceptable values are "All", "Stdout" and "Stderr". If not specified, "All" is used, and both stdout and stderr are returned interleaved. Note that when "TailLines" is specified, "Stream" can only be set to nil or "All".',
    "tailLines": 'If set, the number of lines from the end of the logs to show. If not specified, logs are shown from the creation of the container or sinceSeconds or sinceTime. Note that when "TailLines" is specified, "Stream" can only be set to nil or "All".',
    "timestamps": "If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.",
    "ports": "List of ports to forward Required when using WebSockets",
    "path": "Path is the URL path to use for the current proxy request to pod.",
}

_BOOLEAN_PARAMS = frozenset(
    {
        "allowWatchBookmarks",
        "sendInitialEvents",
        "watch",
        "force",
        "orphanDependents",
        "ignoreStoreReadErrorWithClusterBreakingPotential",
        "follow",
        "previous",
        "timestamps",
        "insecureSkipTLSVerifyBackend",
        "stdin",
        "stdout",
        "stderr",
        "tty",
    }
)
_INTEGER_PARAMS = frozenset(
    {"limit", "timeoutSeconds", "gracePeriodSeconds", "limitBytes", "sinceSeconds", "tailLines", "ports"}
)

LIST_PARAMS = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)
WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
PATCH_PARAMS = (*WRITE_PARAMS, "force")
DELETE_PARAMS = (
    "dryRun",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "orphanDependents",
    "propagationPolicy",
)
DELETECOLLECTION_PARAMS = tuple(
    sorted(set(DELETE_PARAMS) | set(LIST_PARAMS) - {"watch", "allowWatchBookmarks"})
)
_CONNECT_PARAMS = {
    "exec": ("command", "container", "stderr", "stdin", "stdout", "tty"),
    "attach": ("container", "stderr", "stdin", "stdout", "tty"),
    "portforward": ("ports",),
    "proxy": ("path",),
}
_LOG_PARAMS = (
    "container",
    "follow",
    "insecureSkipTLSVerifyBackend",
    "limitBytes",
    "previous",
    "sinceSeconds",
    "stream",
    "tailLines",
    "timestamps",
)

MEDIA_TYPES = (
    "application/cbor",
    "application/json",
    "application/vnd.kubernetes.protobuf",
    "application/yaml",
)
_STREAM_MEDIA_TYPES = (
    "application/cbor-seq",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
)
PATCH_CONTENT_TYPES = (
    "application/apply-patch+cbor",
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
STATUS = META + "Status"
DELETE_OPTIONS = META + "DeleteOptions"
WATCH_EVENT = META + "WatchEvent"
PATCH = META + "Patch"
API_RESOURCE_LIST = META + "APIResourceList"


def ref(name: str) -> dict[str, str]:
    return {"$ref": "#/components/schemas/" + name}


def param(name: str, where: str = "query") -> dict[str, Any]:
    kind = "boolean" if name in _BOOLEAN_PARAMS else "integer" if name in _INTEGER_PARAMS else "string"
    out: dict[str, Any] = {
        "description": PARAM_DOCS.get(name, ""),
        "in": where,
        "name": name,
        "schema": {"type": kind, "uniqueItems": True},
    }
    return out


def _path_param(name: str, doc: str) -> dict[str, Any]:
    return {
        "description": doc,
        "in": "path",
        "name": name,
        "required": True,
        "schema": {"type": "string", "uniqueItems": True},
    }


_NAMESPACE_PARAM = _path_param("namespace", "object name and auth scope, such as for teams and projects")


def group_pascal(group: str) -> str:
    """``""`` → ``Core``; ``rbac.authorization.k8s.io`` → ``RbacAuthorization``."""
    if not group:
        return "Core"
    return "".join(part[:1].upper() + part[1:] for part in group.removesuffix(".k8s.io").split("."))


def gv_pascal(group: str, version: str) -> str:
    return group_pascal(group) + version[:1].upper() + version[1:]


def tag(group: str, version: str) -> str:
    pascal = group_pascal(group)
    return f"{pascal[:1].lower()}{pascal[1:]}_{version}"


def responses(
    schema: dict[str, Any] | None, codes: tuple[str, ...] = ("200",), *, stream: bool = False
) -> dict[str, Any]:
    descriptions = {"200": "OK", "201": "Created", "202": "Accepted"}
    media = MEDIA_TYPES + (_STREAM_MEDIA_TYPES if stream else ())
    out: dict[str, Any] = {}
    for code in codes:
        entry: dict[str, Any] = {"description": descriptions[code]}
        if schema is not None:
            entry["content"] = {m: {"schema": schema} for m in sorted(media)}
        out[code] = entry
    out["401"] = {"description": "Unauthorized"}
    return out


def _article(kind: str) -> str:
    """kube's article before a kind: none for plural-looking kinds (``create Endpoints``)."""
    if kind.endswith("s") and not kind.endswith(("ss", "us")):
        return ""
    return "an" if kind[:1].upper() in "AEIOU" else "a"


def _a(kind: str) -> str:
    article = _article(kind)
    return f"{article} {kind}" if article else kind


class ResourceOps:
    """Builds the path items of one resource (and its subresources)."""

    def __init__(
        self,
        *,
        group: str,
        version: str,
        kind: str,
        plural: str,
        namespaced: bool,
        verbs: tuple[str, ...],
        kind_def: str,
        list_def: str | None,
        strategic_merge: bool = True,
    ) -> None:
        self.group, self.version, self.kind, self.plural = group, version, kind, plural
        self.namespaced = namespaced
        self.verbs = set(verbs)
        self.kind_def = kind_def
        self.list_def = list_def
        self.gv = gv_pascal(group, version)
        self.tags = [tag(group, version)]
        self.gvk = {"group": group, "kind": kind, "version": version}
        self.prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
        self.scope = "Namespaced" if namespaced else ""
        self.patch_types = tuple(
            t for t in PATCH_CONTENT_TYPES if strategic_merge or t != "application/strategic-merge-patch+json"
        )

    # -- helpers ---------------------------------------------------------------------------------

    def _op(
        self,
        verb: str,
        op_id: str,
        description: str,
        action: str | None,
        resp: dict[str, Any],
        *,
        params: tuple[str, ...] = (),
        body: dict[str, Any] | None = None,
        gvk: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        op: dict[str, Any] = {"description": description, "operationId": op_id}
        if params:
            op["parameters"] = [param(p) for p in params]
        if body is not None:
            op["requestBody"] = body
        op["responses"] = resp
        op["tags"] = self.tags
        if action is not None:
            op["x-kubernetes-action"] = action
            op["x-kubernetes-group-version-kind"] = gvk or self.gvk
        return op

    def _body(self, definition: str) -> dict[str, Any]:
        return {"content": {"*/*": {"schema": ref(definition)}}, "required": True}

    def _patch_body(self) -> dict[str, Any]:
        return {"content": {t: {"schema": ref(PATCH)} for t in self.patch_types}, "required": True}

    def _collection_params(self) -> list[dict[str, Any]]:
        out = [_NAMESPACE_PARAM] if self.namespaced else []
        return [*out, param("pretty")]

    def _item_params(self, what: str | None = None) -> list[dict[str, Any]]:
        out = [_path_param("name", f"name of the {what or self.kind}")]
        if self.namespaced:
            out.append(_NAMESPACE_PARAM)
        return [*out, param("pretty")]

    @property
    def collection_path(self) -> str:
        if self.namespaced:
            return f"{self.prefix}/namespaces/{{namespace}}/{self.plural}"
        return f"{self.prefix}/{self.plural}"

    # -- the paths -------------------------------------------------------------------------------

    def paths(self) -> dict[str, dict[str, Any]]:
        kind, gv, scope = self.kind, self.gv, self.scope
        obj = ref(self.kind_def)
        out: dict[str, dict[str, Any]] = {}

        collection: dict[str, Any] = {}
        if "deletecollection" in self.verbs:
            collection["delete"] = self._op(
                "delete",
                f"delete{gv}Collection{scope}{kind}",
                f"delete collection of {kind}",
                "deletecollection",
                responses(ref(STATUS)),
                params=DELETECOLLECTION_PARAMS,
                body={"content": {"*/*": {"schema": ref(DELETE_OPTIONS)}}},
            )
        if "list" in self.verbs and self.list_def:
            collection["get"] = self._op(
                "get",
                f"list{gv}{scope}{kind}",
                f"list or watch objects of kind {kind}",
                "list",
                responses(ref(self.list_def), stream=True),
                params=LIST_PARAMS,
            )
        if "create" in self.verbs:
            collection["post"] = self._op(
                "post",
                f"create{gv}{scope}{kind}",
                f"create {_a(kind)}",
                "post",
                responses(obj, ("200", "201", "202")),
                params=WRITE_PARAMS,
                body=self._body(self.kind_def),
            )
        if collection:
            collection["parameters"] = self._collection_params()
            out[self.collection_path] = collection

        item: dict[str, Any] = {}
        if "delete" in self.verbs:
            item["delete"] = self._op(
                "delete",
                f"delete{gv}{scope}{kind}",
                f"delete {_a(kind)}",
                "delete",
                responses(obj, ("200", "202")),
                params=DELETE_PARAMS,
                body={"content": {"*/*": {"schema": ref(DELETE_OPTIONS)}}},
            )
        if "get" in self.verbs:
            item["get"] = self._op(
                "get", f"read{gv}{scope}{kind}", f"read the specified {kind}", "get", responses(obj)
            )
        if "patch" in self.verbs:
            item["patch"] = self._op(
                "patch",
                f"patch{gv}{scope}{kind}",
                f"partially update the specified {kind}",
                "patch",
                responses(obj, ("200", "201")),
                params=PATCH_PARAMS,
                body=self._patch_body(),
            )
        if "update" in self.verbs:
            item["put"] = self._op(
                "put",
                f"replace{gv}{scope}{kind}",
                f"replace the specified {kind}",
                "put",
                responses(obj, ("200", "201")),
                params=WRITE_PARAMS,
                body=self._body(self.kind_def),
            )
        if item:
            item["parameters"] = self._item_params()
            out[f"{self.collection_path}/{{name}}"] = item

        if "watch" in self.verbs:
            watch_params = [param(p) for p in LIST_PARAMS]
            watch_prefix = f"{self.prefix}/watch"
            ns = "/namespaces/{namespace}" if self.namespaced else ""
            deprecated = " deprecated: use the 'watch' parameter with a list operation instead"
            out[f"{watch_prefix}{ns}/{self.plural}"] = {
                "get": self._op(
                    "get",
                    f"watch{gv}{scope}{kind}List",
                    f"watch individual changes to a list of {kind}.{deprecated}.",
                    "watchlist",
                    responses(ref(WATCH_EVENT), stream=True),
                ),
                "parameters": sorted(
                    [*watch_params, *([_NAMESPACE_PARAM] if self.namespaced else []), param("pretty")],
                    key=lambda p: str(p["name"]),
                ),
            }
            out[f"{watch_prefix}{ns}/{self.plural}/{{name}}"] = {
                "get": self._op(
                    "get",
                    f"watch{gv}{scope}{kind}",
                    f"watch changes to an object of kind {kind}.{deprecated}, filtered to a single "
                    "item with the 'fieldSelector' parameter.",
                    "watch",
                    responses(ref(WATCH_EVENT), stream=True),
                ),
                "parameters": sorted([*watch_params, *self._item_params()], key=lambda p: str(p["name"])),
            }
            if self.namespaced:
                out[f"{watch_prefix}/{self.plural}"] = {
                    "get": self._op(
                        "get",
                        f"watch{gv}{kind}ListForAllNamespaces",
                        f"watch individual changes to a list of {kind}.{deprecated}.",
                        "watchlist",
                        responses(ref(WATCH_EVENT), stream=True),
                    ),
                    "parameters": sorted([*watch_params, param("pretty")], key=lambda p: str(p["name"])),
                }
        if self.namespaced and "list" in self.verbs and self.list_def:
            out[f"{self.prefix}/{self.plural}"] = {
                "get": self._op(
                    "get",
                    f"list{gv}{kind}ForAllNamespaces",
                    f"list or watch objects of kind {kind}",
                    "list",
                    responses(ref(self.list_def), stream=True),
                ),
                "parameters": sorted(
                    [param(p) for p in (*LIST_PARAMS, "pretty")], key=lambda p: str(p["name"])
                ),
            }
        return out

    def _connect_paths(
        self, name: str, verbs: tuple[str, ...], options_gvk: dict[str, str]
    ) -> dict[str, dict[str, Any]]:
        """exec/attach/portforward/proxy: ``connect`` operations (and ``proxy/{path}``)."""
        kind, gv, scope = self.kind, self.gv, self.scope
        sub = name[:1].upper() + name[1:]
        methods = ["get" if "get" in verbs else "", "post" if "create" in verbs else ""]
        if name == "proxy":
            methods = ["delete", "get", "head", "options", "patch", "post", "put"]
        out: dict[str, dict[str, Any]] = {}
        base = f"{self.collection_path}/{{name}}/{name}"
        for path, suffix in ((base, ""), (base + "/{path}", "WithPath")):
            if suffix and name != "proxy":
                break
            params = [_path_param("name", f"name of the {options_gvk['kind']}")]
            if self.namespaced:
                params.append(_NAMESPACE_PARAM)
            if suffix:
                params.append(_path_param("path", "path to the resource"))
            params.extend(param(p) for p in _CONNECT_PARAMS[name])
            item: dict[str, Any] = {}
            for method in filter(None, methods):
                item[method] = self._op(
                    method,
                    f"connect{gv}{method.capitalize()}{scope}{kind}{sub}{suffix}",
                    f"connect {method.upper()} requests to {name} of {kind}",
                    "connect",
                    responses({"type": "string"}),
                    gvk=options_gvk,
                )
            if item:
                item["parameters"] = sorted(params, key=lambda p: str(p["name"]))
                out[path] = item
        return out

    def subresource_paths(
        self,
        name: str,
        verbs: tuple[str, ...],
        body_def: str | None,
        body_gvk: dict[str, str],
    ) -> dict[str, dict[str, Any]]:
        """Paths of ``<item>/<name>``: status/scale/… (get/put/patch), binding/eviction/token
        (create), log (text), exec/attach/portforward/proxy (connect)."""
        kind, gv, scope = self.kind, self.gv, self.scope
        sub = name[:1].upper() + name[1:]
        path = f"{self.collection_path}/{{name}}/{name}"
        what = f"{name} of the specified {kind}"
        item: dict[str, Any] = {}
        if name in _CONNECT_PARAMS:
            return self._connect_paths(name, verbs, body_gvk)
        if name == "log":
            item["get"] = self._op(
                "get",
                f"read{gv}{scope}{kind}Log",
                f"read log of the specified {kind}",
                "get",
                {
                    "200": {
                        "content": {m: {"schema": {"type": "string"}} for m in (*MEDIA_TYPES, "text/plain")},
                        "description": "OK",
                    },
                    "401": {"description": "Unauthorized"},
                },
            )
            item["parameters"] = sorted(
                [*self._item_params(), *(param(p) for p in _LOG_PARAMS)], key=lambda p: str(p["name"])
            )
            return {path: item}
        if body_def is None:
            return {}
        obj = ref(body_def)
        if "create" in verbs:
            item["post"] = self._op(
                "post",
                f"create{gv}{scope}{kind}{sub}",
                f"create {name} of {_a(kind)}",
                "post",
                responses(obj, ("200", "201", "202")),
                body=self._body(body_def),
                gvk=body_gvk,
            )
            item["parameters"] = [*self._item_params(), *(param(p) for p in WRITE_PARAMS)]
            item["parameters"].sort(key=lambda p: str(p["name"]))
            return {path: item}
        if "get" in verbs:
            item["get"] = self._op(
                "get", f"read{gv}{scope}{kind}{sub}", f"read {what}", "get", responses(obj), gvk=body_gvk
            )
        if "patch" in verbs:
            item["patch"] = self._op(
                "patch",
                f"patch{gv}{scope}{kind}{sub}",
                f"partially update {what}",
                "patch",
                responses(obj, ("200", "201")),
                params=PATCH_PARAMS,
                body=self._patch_body(),
                gvk=body_gvk,
            )
        if "update" in verbs:
            item["put"] = self._op(
                "put",
                f"replace{gv}{scope}{kind}{sub}",
                f"replace {what}",
                "put",
                responses(obj, ("200", "201")),
                params=WRITE_PARAMS,
                body=self._body(body_def),
                gvk=body_gvk,
            )
        if item:
            item["parameters"] = self._item_params()
            return {path: item}
        return {}


def api_resources_path(group: str, version: str) -> dict[str, dict[str, Any]]:
    prefix = f"/apis/{group}/{version}/" if group else f"/api/{version}/"
    return {
        prefix: {
            "get": {
                "description": "get available resources",
                "operationId": f"get{gv_pascal(group, version)}APIResources",
                "responses": responses(ref(API_RESOURCE_LIST)),
                "tags": [tag(group, version)],
            }
        }
    }
