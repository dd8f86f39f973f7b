"""The REST API: discovery documents, resource paths, and each verb's semantics over the store.
The HTTP plumbing (auth, faults, streaming) is in http_handler.py."""

import hashlib
import json
import re
from dataclasses import dataclass

import api_errors as E
import patches
import protobuf
import tables
from label_selectors import FieldSelector, LabelSelector

MAX_DEPTH = 100
VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-meshctl-test",
           "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
           "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.4", "compiler": "gc",
           "platform": "linux/amd64"}
BUILTIN_GROUP_ORDER = ["", "apps", "policy", "rbac.authorization.k8s.io", "discovery.k8s.io",
                       "apiextensions.k8s.io", "admissionregistration.k8s.io",
                       "authorization.k8s.io"]
PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml"]
BODY_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]

try:
    import yaml

    class _Loader(yaml.SafeLoader):
        """YAML without timestamp typing, so values stay strings as in sigs.k8s.io/yaml."""

    _Loader.yaml_implicit_resolvers = {
        k: [(tag, regexp) for tag, regexp in v if tag != "tag:yaml.org,2002:timestamp"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
except ImportError:  # JSON is YAML: apply patches from kubectl are JSON anyway
    yaml = None


@dataclass
class Route:
    kind: object
    namespace: str
    name: str
    subresource: str
    verb: str


# --- decoding ------------------------------------------------------------------------------
def _check_depth(value):
    """Rejects documents nested deeper than MAX_DEPTH (and YAML alias bombs) without recursion."""
    stack, visited = [(value, 1)], 0
    while stack:
        node, depth = stack.pop()
        visited += 1
        if depth > MAX_DEPTH or visited > 2_000_000:
            raise E.bad_request(f"the object nesting exceeds the maximum depth of {MAX_DEPTH}")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def _jsonable(value):
    """YAML values as JSON values: non-string keys become strings, like sigs.k8s.io/yaml."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else json.dumps(k) if not isinstance(k, bool)
                else str(k).lower(): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def decode(body, content_type, allow_yaml):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise E.bad_request("the request body is not valid UTF-8") from None
    try:
        value = json.loads(text)
        _check_depth(value)
        return value
    except RecursionError:
        raise E.bad_request(f"the object nesting exceeds the maximum depth of {MAX_DEPTH}") \
            from None
    except json.JSONDecodeError as err:
        if not allow_yaml:
            raise E.bad_request(f"couldn't get version/kind; json parse error: {err}") from None
    if yaml is None:
        raise E.bad_request("this test server has no YAML parser (python3-yaml); send JSON")
    try:
        value = yaml.load(text, Loader=_Loader)
        _check_depth(value)
        return _jsonable(value)
    except RecursionError:
        raise E.bad_request(f"the object nesting exceeds the maximum depth of {MAX_DEPTH}") \
            from None
    except yaml.YAMLError as err:
        raise E.bad_request(f"error converting YAML to JSON: {err}".replace("\n", " ")) from None


def media_type(content_type):
    return (content_type or "").split(";")[0].strip().lower()


# --- discovery -----------------------------------------------------------------------------
def _version_priority(version):
    """Kubernetes version ordering: GA before beta before alpha, higher numbers first."""
    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", version)
    if not m:
        return (3, 0, 0, version)
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (stage, -int(m.group(1)), -int(m.group(3) or 0), version)


def _resource_entries(ks):
    out = []
    for k in sorted(ks, key=lambda k: k.plural):
        entry = {"name": k.plural, "singularName": k.singular_name, "namespaced": k.namespaced,
                 "kind": k.kind, "verbs": list(k.verbs)}
        if k.short_names:
            entry["shortNames"] = list(k.short_names)
        if k.categories:
            entry["categories"] = list(k.categories)
        out.append(entry)
        if k.status_subresource:
            out.append({"name": k.plural + "/status", "singularName": "",
                        "namespaced": k.namespaced, "kind": k.kind,
                        "verbs": ["get", "patch", "update"]})
        if k.scale_paths:
            out.append({"name": k.plural + "/scale", "singularName": "",
                        "namespaced": k.namespaced, "group": "autoscaling", "version": "v1",
                        "kind": "Scale", "verbs": ["get", "patch", "update"]})
    return out


def _group_entry(group, versions):
    ordered = sorted(versions, key=_version_priority)
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in ordered]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def discovery(store, path, server_address):
    """The body for a discovery path, or None if `path` is not one."""
    if path == "/version":
        return VERSION
    groups = store.discovery()
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}
    if path == "/api/v1":
        return {"kind": "APIResourceList", "groupVersion": "v1",
                "resources": _resource_entries(groups[""]["v1"])}
    if path == "/apis":
        names = [g for g in BUILTIN_GROUP_ORDER if g in groups] + \
            sorted(g for g in groups if g not in BUILTIN_GROUP_ORDER)
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [_group_entry(g, groups[g]) for g in names if g]}
    parts = path.strip("/").split("/")
    if parts[0] == "apis" and len(parts) == 2 and parts[1] in groups and parts[1]:
        return dict({"kind": "APIGroup", "apiVersion": "v1"},
                    **_group_entry(parts[1], groups[parts[1]]))
    if parts[0] == "apis" and len(parts) == 3 and parts[2] in groups.get(parts[1], {}):
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": f"{parts[1]}/{parts[2]}",
                "resources": _resource_entries(groups[parts[1]][parts[2]])}
    return None


# --- OpenAPI v3 ----------------------------------------------------------------------------
# kubectl reads /openapi/v3 to learn whether the server validates fields itself (a PATCH
# operation with a `fieldValidation` query parameter for the kind). When it does, kubectl
# sends fieldValidation=Strict and skips client-side schema validation, which would need the
# full /openapi/v2 protobuf document. These documents hold just those operations, no schemas;
# without strategic-merge-patch in a requestBody, kubectl builds strategic merge patches from
# its compiled-in types, as it does for any server without v3 schemas.
_PATCH_PARAMS = ["dryRun", "fieldManager", "fieldValidation", "force", "pretty"]


def _gv_path(group, version):
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3(store, path):
    """The body for an /openapi/v3 path, or None."""
    groups = store.discovery()
    docs = {_gv_path(g, v): ks for g, versions in groups.items() for v, ks in versions.items()}
    if path == "/openapi/v3":
        out = {}
        for gv, ks in sorted(docs.items()):
            digest = hashlib.sha256(json.dumps(sorted(k.plural for k in ks)).encode())
            out[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest.hexdigest()[:32]}"}
        return {"paths": out}
    gv = path[len("/openapi/v3/"):]
    if gv not in docs:
        return None
    paths = {}
    for k in docs[gv]:
        if "patch" not in k.verbs:
            continue
        scope = "/namespaces/{namespace}" if k.namespaced else ""
        types = [t for t in PATCH_TYPES if "strategic" not in t]
        paths[f"/{gv}{scope}/{k.plural}/{{name}}"] = {"patch": {
            "operationId": f"patch{k.kind}",
            "parameters": [{"name": p, "in": "query", "schema": {"type": "string"}}
                           for p in _PATCH_PARAMS],
            "requestBody": {"content": {t: {"schema": {"type": "object"}} for t in types}},
            "responses": {"200": {"description": "OK"}},
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": k.group, "version": k.version,
                                                "kind": k.kind}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": {}}}


# --- routing -------------------------------------------------------------------------------
def route(store, method, path, query):
    parts = [p for p in path.split("/") if p != ""]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise E.route_not_found()
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and not (len(rest) == 3 and
                                                           rest[2] in ("status", "finalize")):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise E.route_not_found()
    kind = store.resolve(group, version, rest[0])
    if kind is None or (namespace is not None and not kind.namespaced):
        raise E.route_not_found()
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if kind.namespaced and namespace is None and name:
        raise E.route_not_found()
    if sub and not ((sub == "status" and kind.status_subresource) or
                    (sub == "scale" and kind.scale_paths)):
        raise E.route_not_found()
    watching = query.get("watch") in ("1", "true")
    if name:
        verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
    else:
        verb = {"GET": "watch" if watching else "list", "POST": "create",
                "DELETE": "deletecollection"}.get(method)
    if verb is None or (kind.namespaced and namespace is None and verb not in ("list", "watch")) \
            or verb not in kind.verbs or (sub and verb == "delete"):
        raise E.method_not_allowed()
    return Route(kind, namespace or "", name, sub, verb)


def authz_name(r, query):
    """The name authorization sees: the URL's, or a metadata.name field selector's."""
    if r.name or r.verb not in ("list", "watch"):
        return r.name
    return FieldSelector.parse(query.get("fieldSelector", "")).single_name()


# --- verbs ---------------------------------------------------------------------------------
class Api:
    def __init__(self, store, authorizer):
        self.store = store
        self.authorizer = authorizer

    @staticmethod
    def _dry_run(query):
        value = query.get("dryRun", "")
        if value not in ("", "All"):
            raise E.bad_request(f'Invalid dryRun value "{value}": only "All" is supported')
        return value == "All"

    @staticmethod
    def _manager(query, user_agent):
        manager = query.get("fieldManager", "")
        if len(manager) > 128:
            raise E.bad_request("fieldManager: Too long: may not be more than 128 bytes")
        return manager or (user_agent or "unknown").split("/")[0][:128]

    def serve(self, r, query, req):
        """Returns (code, body) for every verb but watch."""
        k, s = r.kind, self.store
        if r.subresource == "scale":
            return self._scale(r, query, req)
        if r.verb == "get":
            obj = s.get(k, r.namespace, r.name)
            return 200, self._maybe_table(k, [obj], req, obj["metadata"].get("resourceVersion"),
                                          single=obj)
        if r.verb == "list":
            items, rv, token, remaining = s.list(
                k, r.namespace, LabelSelector.parse(query.get("labelSelector", "")),
                FieldSelector.parse(query.get("fieldSelector", "")),
                query_int(query, "limit"), query.get("continue", ""),
                query.get("resourceVersion", ""), query.get("resourceVersionMatch", ""))
            meta = {"resourceVersion": rv}
            if token:
                meta["continue"] = token
            if remaining is not None:
                meta["remainingItemCount"] = remaining
            if wants_table(req.accept):
                t = self._maybe_table(k, items, req, rv)
                t["metadata"].update(meta)
                return 200, t
            return 200, {"kind": k.kind + "List", "apiVersion": k.api_version, "metadata": meta,
                         "items": items}
        dry_run = self._dry_run(query)
        manager = self._manager(query, req.user_agent)
        if r.verb == "create":
            body = self._body(req, BODY_TYPES)
            if k.kind == "SelfSubjectAccessReview":
                return 201, self._access_review(body, req.user)
            return 201, s.create(k, r.namespace, body, manager, dry_run)
        if r.verb == "update":
            obj, created = s.update(k, r.namespace, r.name, self._body(req, BODY_TYPES), manager,
                                    dry_run, r.subresource)
            return (201 if created else 200), obj
        if r.verb == "patch":
            return self._patch(r, query, req, manager, dry_run)
        if r.verb == "delete":
            opts = self._delete_options(query, req)
            return 200, s.delete(k, r.namespace, r.name, opts.get("propagationPolicy", ""),
                                 opts.get("preconditions"),
                                 dry_run or opts.get("dryRun") == ["All"])
        if r.verb == "deletecollection":
            opts = self._delete_options(query, req)
            items = s.delete_collection(k, r.namespace,
                                        LabelSelector.parse(query.get("labelSelector", "")),
                                        FieldSelector.parse(query.get("fieldSelector", "")),
                                        opts.get("propagationPolicy", ""), dry_run)
            return 200, {"kind": k.kind + "List", "apiVersion": k.api_version,
                         "metadata": {"resourceVersion": str(s.rv)}, "items": items}
        raise E.method_not_allowed()

    def _scale(self, r, query, req):
        if r.verb == "get":
            return 200, self.store.scale(r.kind, r.namespace, r.name)
        dry_run, manager = self._dry_run(query), self._manager(query, req.user_agent)
        if r.verb == "update":
            body = self._body(req, BODY_TYPES)
            change = lambda cur: body  # noqa: E731
        else:
            mt = media_type(req.content_type)
            if mt not in PATCH_TYPES[:3]:
                raise E.unsupported_media_type(PATCH_TYPES[:3])
            patch = decode(req.body, mt, False)
            if mt == "application/json-patch+json":
                change = lambda cur: patches.json_patch(cur, patch)  # noqa: E731
            else:
                change = lambda cur: patches.merge_patch(cur, patch)  # noqa: E731
        return 200, self.store.scale(r.kind, r.namespace, r.name, change, manager, dry_run)

    def _body(self, req, accepted):
        mt = media_type(req.content_type)
        if mt == "application/vnd.kubernetes.protobuf" and req.body:
            return protobuf.decode(req.body)
        if mt not in ("application/json", "application/yaml"):
            raise E.unsupported_media_type(accepted)
        if not req.body:
            raise E.bad_request("the request body is empty")
        return decode(req.body, mt, mt == "application/yaml")

    def _delete_options(self, query, req):
        opts = {}
        if req.body:
            opts = decode(req.body, "application/json", False)
            if not isinstance(opts, dict):
                raise E.bad_request("DeleteOptions must be a JSON object")
        if query.get("propagationPolicy"):
            opts["propagationPolicy"] = query["propagationPolicy"]
        orphan = query.get("orphanDependents", opts.get("orphanDependents"))
        if orphan in (True, "true") and not opts.get("propagationPolicy"):
            opts["propagationPolicy"] = "Orphan"
        policy = opts.get("propagationPolicy", "")
        if policy not in ("", "Foreground", "Background", "Orphan"):
            raise E.invalid("DeleteOptions", "meta.k8s.io", "", [E.FieldError(
                "propagationPolicy", "Unsupported value", 'supported values: "Foreground", '
                '"Background", "Orphan", nil', policy, True)])
        return opts

    def _patch(self, r, query, req, manager, dry_run):
        k, mt = r.kind, media_type(req.content_type)
        accepted = PATCH_TYPES if k.builtin else [t for t in PATCH_TYPES if "strategic" not in t]
        if mt not in accepted:
            raise E.unsupported_media_type(accepted)
        force = query.get("force", "")
        if mt != "application/apply-patch+yaml" and force:
            raise E.invalid("PatchOptions", "meta.k8s.io", "", [
                E.forbidden_field("force", "may not be specified for non-apply patch")])
        if not req.body:
            raise E.bad_request("the request body is empty")
        if mt == "application/apply-patch+yaml":
            if not query.get("fieldManager"):
                raise E.invalid("PatchOptions", "meta.k8s.io", "", [
                    E.required("fieldManager", "is required for apply patch")])
            applied = decode(req.body, mt, True)
            obj, created = self.store.apply(k, r.namespace, r.name, applied, manager,
                                            force in ("true", "1"), dry_run, r.subresource)
            return (201 if created else 200), obj
        patch = decode(req.body, mt, False)
        if mt == "application/json-patch+json":
            fn = lambda cur: patches.json_patch(cur, patch)  # noqa: E731
        elif not isinstance(patch, dict):
            raise E.bad_request("the patch must be a JSON object")
        elif mt == "application/merge-patch+json":
            fn = lambda cur: patches.merge_patch(cur, patch)  # noqa: E731
        else:
            fn = lambda cur: patches.strategic_merge(k, cur, patch)  # noqa: E731
        return 200, self.store.patch(k, r.namespace, r.name, fn, manager, dry_run, r.subresource)

    def _access_review(self, body, user):
        if not isinstance(body, dict):
            raise E.bad_request("SelfSubjectAccessReview must be a JSON object")
        spec = body.get("spec") or {}
        attrs = spec.get("resourceAttributes")
        allowed = True
        if attrs is None and spec.get("nonResourceAttributes") is None:
            raise E.invalid("SelfSubjectAccessReview", "authorization.k8s.io", "", [
                E.required("spec.resourceAttributes",
                           "exactly one of nonResourceAttributes or resourceAttributes must "
                           "be specified")])
        if attrs is not None:
            allowed = self.authorizer.allowed(attrs.get("verb", ""), attrs.get("group", ""),
                                              attrs.get("resource", ""),
                                              attrs.get("subresource", ""))
        out = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": spec,
               "status": {"allowed": allowed}}
        if not allowed:
            out["status"]["denied"] = False  # RBAC only ever declines to allow, with no reason
        return out

    def _maybe_table(self, kind, items, req, rv, single=None):
        if not wants_table(req.accept):
            return single if single is not None else items
        return tables.table(kind, items, rv or "",
                            include_object=req.query.get("includeObject", "Metadata"))


def wants_table(accept):
    for part in (accept or "").split(","):
        params = {p.split("=")[0].strip(): p.split("=", 1)[-1].strip()
                  for p in part.split(";")[1:]}
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and \
                params.get("v") in ("v1", "v1beta1"):
            return True
        if part.split(";")[0].strip() in ("application/json", "*/*") and "as" not in params:
            return False
    return False


def query_int(query, key):
    value = query.get(key, "")
    if value == "":
        return 0
    try:
        n = int(value)
        if n < 0:
            raise ValueError
        return n
    except ValueError:
        raise E.bad_request(f"{key}: Invalid value: \"{value}\": must be a non-negative "
                            "integer") from None


def check_accept(accept):
    """406 unless the client takes JSON (protobuf-only clients are not served)."""
    if not accept:
        return
    for part in accept.split(","):
        mt = part.split(";")[0].strip().lower()
        if mt in ("application/json", "*/*", "application/*"):
            return
    raise E.not_acceptable(["application/json"])

