"""The kinds the test API server serves: one row per built-in kind, plus rows made from CRDs.

A row carries everything the other modules need (REST path, discovery, deletion response,
status subresource, which lists are associative for patches and server-side apply). Per-kind
defaulting and validation follow the real registry strategies, reduced to what clients see.
"""

import base64
import binascii
import re
from dataclasses import dataclass, field

import api_errors as E

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple = ()
    verbs: tuple = ALL_VERBS
    categories: tuple = ()
    singular: str = ""
    builtin: bool = True
    status_subresource: bool = False
    has_generation: bool = False
    # Pods, Services and custom resources answer DELETE with the deleted object, others with a
    # Status (registry.Store.ReturnDeletedObject).
    return_deleted_object: bool = False
    name_rule: str = "subdomain"
    create_on_update: bool = False
    # (specReplicasPath, statusReplicasPath, labelSelectorPath) when /scale is served.
    scale_paths: tuple = ()
    # For custom resources: the version's openAPIV3Schema (list types) and printer columns.
    schema: dict = field(default=None, compare=False, hash=False)
    printer_columns: tuple = field(default=(), compare=False, hash=False)

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def rkey(self):
        """Storage key: objects of a resource are shared by all its served versions."""
        return (self.group, self.plural)

    @property
    def singular_name(self):
        return self.singular or self.kind.lower()


def _k(group, version, kind, plural, namespaced, short=(), **kw):
    return Kind(group, version, kind, plural, namespaced, tuple(short), **kw)


BUILTIN_KINDS = [
    _k("", "v1", "Namespace", "namespaces", False, ["ns"], status_subresource=True,
       name_rule="label1123", return_deleted_object=True),
    _k("", "v1", "Service", "services", True, ["svc"], categories=("all",),
       status_subresource=True, name_rule="label1035", return_deleted_object=True),
    _k("", "v1", "Endpoints", "endpoints", True, ["ep"], create_on_update=True),
    _k("", "v1", "Pod", "pods", True, ["po"], categories=("all",), status_subresource=True,
       return_deleted_object=True),
    _k("", "v1", "Node", "nodes", False, ["no"], status_subresource=True),
    _k("", "v1", "ConfigMap", "configmaps", True, ["cm"]),
    _k("", "v1", "Secret", "secrets", True),
    _k("", "v1", "ServiceAccount", "serviceaccounts", True, ["sa"]),
    _k("apps", "v1", "Deployment", "deployments", True, ["deploy"], categories=("all",),
       status_subresource=True, has_generation=True,
       scale_paths=(".spec.replicas", ".status.replicas", "")),
    _k("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ["pdb"],
       status_subresource=True, has_generation=True),
    _k("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False,
       name_rule="path"),
    _k("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False,
       name_rule="path"),
    _k("rbac.authorization.k8s.io", "v1", "Role", "roles", True, name_rule="path"),
    _k("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, name_rule="path"),
    _k("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True, has_generation=True),
    _k("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
       False, ["crd", "crds"], categories=("api-extensions",), status_subresource=True,
       has_generation=True),
    _k("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration",
       "mutatingwebhookconfigurations", False, categories=("api-extensions",),
       has_generation=True),
    _k("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration",
       "validatingwebhookconfigurations", False, categories=("api-extensions",),
       has_generation=True),
    _k("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
       False, verbs=("create",)),
]


def kind_from_crd(crd, version):
    """The row a served version of an established CRD adds."""
    spec = crd["spec"]
    names = spec["names"]
    subresources = version.get("subresources") or {}
    scale = subresources.get("scale")
    scale_paths = ()
    if isinstance(scale, dict) and scale.get("specReplicasPath"):
        scale_paths = (scale["specReplicasPath"], scale.get("statusReplicasPath", ""),
                       scale.get("labelSelectorPath", ""))
    return Kind(
        group=spec["group"], version=version["name"], kind=names["kind"],
        plural=names["plural"], namespaced=spec.get("scope") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        singular=names.get("singular") or names["kind"].lower(), builtin=False,
        status_subresource="status" in subresources, has_generation=True,
        return_deleted_object=True, scale_paths=scale_paths,
        schema=(version.get("schema") or {}).get("openAPIV3Schema"),
        printer_columns=tuple(version.get("additionalPrinterColumns") or ()))


# --- associative lists -------------------------------------------------------------------
# Built-in lists that strategic merge patch and server-side apply merge by key instead of
# replacing (the `patchMergeKey` / `listType=map` markers of the Go types). Others are atomic.
_BUILTIN_MAP_LISTS = {
    "containers": ("name",), "initContainers": ("name",), "ephemeralContainers": ("name",),
    "env": ("name",), "volumes": ("name",), "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",), "imagePullSecrets": ("name",), "ownerReferences": ("uid",),
    "conditions": ("type",), "webhooks": ("name",), "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "resourceClaims": ("name",),
}
_BUILTIN_SETS = {"finalizers"}
# Values a key field takes when absent, so `{containerPort: 80}` matches the stored
# `{containerPort: 80, protocol: TCP}`.
KEY_DEFAULTS = {"protocol": "TCP"}


def list_type(kind, names):
    """("atomic",) | ("set",) | ("map", keys) for the list at field-name path `names`."""
    if not kind.builtin and names and names[0] not in ("metadata",):
        return _schema_list_type(kind.schema, names)
    last = names[-1] if names else ""
    if last in _BUILTIN_SETS:
        return ("set",)
    if last == "ports":
        parent = names[-2] if len(names) > 1 else ""
        if parent in ("containers", "initContainers", "ephemeralContainers"):
            return ("map", ("containerPort", "protocol"))
        if kind.kind == "Service" and names == ("spec", "ports"):
            return ("map", ("port", "protocol"))
        return ("atomic",)
    if last in _BUILTIN_MAP_LISTS:
        return ("map", _BUILTIN_MAP_LISTS[last])
    return ("atomic",)


def _schema_list_type(schema, names):
    node = schema or {}
    for name in names:
        if node.get("type") == "array":
            node = node.get("items") or {}
        props = node.get("properties")
        if props is None or name not in props:
            return ("atomic",)
        node = props[name]
    lt = node.get("x-kubernetes-list-type")
    if lt == "set":
        return ("set",)
    if lt == "map" and node.get("x-kubernetes-list-map-keys"):
        return ("map", tuple(node["x-kubernetes-list-map-keys"]))
    return ("atomic",)


def smp_merge_key(kind, names):
    """The strategic-merge-patch key of a list (its first key), None if the list is replaced."""
    lt = list_type(kind, names)
    if lt[0] == "map":
        return lt[1][0]
    return "" if lt[0] == "set" else None


# --- names -------------------------------------------------------------------------------
_LABEL1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_MSG_SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                  "characters, '-' or '.', and must start and end with an alphanumeric character "
                  "(e.g. 'example.com', regex used for validation is "
                  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
_MSG_LABEL1123 = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                  "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',"
                  "  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
_MSG_LABEL1035 = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                  "start with an alphabetic character, and end with an alphanumeric character "
                  "(e.g. 'my-name',  or 'abc-123', regex used for validation is "
                  "'[a-z]([-a-z0-9]*[a-z0-9])?')")


def name_errors(rule, name, field_path="metadata.name"):
    msgs = []
    if rule == "path":
        if name in (".", ".."):
            msgs.append(f"may not be '{name}'")
        for ch in "/%":
            if ch in name:
                msgs.append(f"may not contain '{ch}'")
    elif rule == "subdomain":
        if len(name) > 253:
            msgs.append("must be no more than 253 characters")
        if not _SUBDOMAIN.match(name):
            msgs.append(_MSG_SUBDOMAIN)
    else:
        if len(name) > 63:
            msgs.append("must be no more than 63 characters")
        regex, msg = (_LABEL1123, _MSG_LABEL1123) if rule == "label1123" else (_LABEL1035,
                                                                             _MSG_LABEL1035)
        if not regex.match(name):
            msgs.append(msg)
    return [E.invalid_value(field_path, name, m) for m in msgs]


_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _label_errors(labels, path):
    errs = []
    if labels is None:
        return errs
    if not isinstance(labels, dict):
        return [E.invalid_value(path, labels, "must be a map of strings")]
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if (prefix and not _SUBDOMAIN.match(prefix)) or len(name) > 63 or \
                not _LABEL_NAME.match(name):
            errs.append(E.invalid_value(path, key, "name part must consist of alphanumeric "
                                        "characters, '-', '_' or '.', and must start and end "
                                        "with an alphanumeric character"))
        if not isinstance(value, str):
            errs.append(E.invalid_value(f"{path}.{key}", value, "must be a string"))
        elif len(value) > 63 or not _LABEL_VALUE.match(value):
            errs.append(E.invalid_value(path, value, "a valid label must be an empty string or "
                                        "consist of alphanumeric characters, '-', '_' or '.', "
                                        "and must start and end with an alphanumeric character"))
    return errs


def validate_meta(kind, obj):
    meta = obj.get("metadata") or {}
    errs = []
    name = meta.get("name") or ""
    if not name:
        errs.append(E.required("metadata.name", "name or generateName is required"))
    else:
        errs += name_errors(kind.name_rule, name)
    errs += _label_errors(meta.get("labels"), "metadata.labels")
    for i, ref in enumerate(meta.get("ownerReferences") or []):
        for key in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(key):
                errs.append(E.invalid_value(f"metadata.ownerReferences[{i}].{key}", "",
                                            f"{key} must not be empty"))
    for i, fin in enumerate(meta.get("finalizers") or []):
        if "/" not in fin and fin not in ("kubernetes", "orphan", "foregroundDeletion"):
            errs.append(E.forbidden_field(f"metadata.finalizers[{i}]", "name is neither a "
                                          "standard finalizer name nor is it fully qualified"))
    annotations = meta.get("annotations")
    if annotations is not None and (not isinstance(annotations, dict) or
                                    not all(isinstance(v, str) for v in annotations.values())):
        errs.append(E.invalid_value("metadata.annotations", annotations,
                                    "must be a map of strings"))
    return errs


# --- typed decoding --------------------------------------------------------------------------
def _json_type(v):
    return {bool: "bool", int: "number", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(v), "null")


def _string_map(value, where, base64_values=False):
    if value is None:
        return
    if not isinstance(value, dict):
        raise E.bad_request(f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                            f"{where} of type map[string]string")
    for v in value.values():
        if not isinstance(v, str):
            raise E.bad_request(f"json: cannot unmarshal {_json_type(v)} into Go struct field "
                                f"{where} of type string")
        if base64_values:
            try:
                base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError):
                raise E.bad_request(f"illegal base64 data in {where}") from None


def check_types(kind, obj):
    """The 400s the real server's typed decoding gives for mistyped fields clients set."""
    meta = obj.get("metadata") or {}
    for key in ("name", "generateName", "namespace", "resourceVersion", "uid"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise E.bad_request(f"json: cannot unmarshal {_json_type(meta[key])} into Go struct "
                                f"field ObjectMeta.metadata.{key} of type string")
    for key, item_type in (("finalizers", str), ("ownerReferences", dict),
                           ("managedFields", dict)):
        value = meta.get(key)
        if value is not None and (not isinstance(value, list) or
                                  not all(isinstance(x, item_type) for x in value)):
            go_type = "[]string" if item_type is str else f"[]v1.{key[0].upper()}{key[1:-1]}"
            raise E.bad_request(f"json: cannot unmarshal {_json_type(value)} into Go struct "
                                f"field ObjectMeta.metadata.{key} of type {go_type}")
    for ref in meta.get("ownerReferences") or []:
        for key in ("apiVersion", "kind", "name", "uid"):
            if ref.get(key) is not None and not isinstance(ref[key], str):
                raise E.bad_request(f"json: cannot unmarshal {_json_type(ref[key])} into Go "
                                    f"struct field OwnerReference.metadata.ownerReferences."
                                    f"{key} of type string")
    _string_map(meta.get("labels"), "ObjectMeta.metadata.labels")
    _string_map(meta.get("annotations"), "ObjectMeta.metadata.annotations")
    if kind.kind == "ConfigMap":
        _string_map(obj.get("data"), "ConfigMap.data")
        _string_map(obj.get("binaryData"), "ConfigMap.binaryData", base64_values=True)
    elif kind.kind == "Secret":
        _string_map(obj.get("data"), "Secret.data", base64_values=True)
        _string_map(obj.get("stringData"), "Secret.stringData")
    for key in ("spec", "status"):
        if kind.builtin and key in obj and obj[key] is not None and \
                not isinstance(obj[key], dict):
            raise E.bad_request(f"json: cannot unmarshal {_json_type(obj[key])} into Go struct "
                                f"field {kind.kind}.{key} of type object")


# --- defaulting ----------------------------------------------------------------------------
def _default_pod_spec(spec):
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for group in ("initContainers", "containers"):
        for c in spec.get(group) or []:
            if not isinstance(c, dict):
                continue
            image = c.get("image") or ""
            tagless = ":" not in image.rsplit("/", 1)[-1] and "@" not in image
            c.setdefault("imagePullPolicy", "Always" if tagless or image.endswith(":latest")
                         else "IfNotPresent")
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("resources", {})
            for p in c.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")


def apply_defaults(kind, obj, cluster_ip_allocator=None):
    """The defaulting the real API types run on decode, for the fields clients commonly read."""
    spec = obj.get("spec")
    if kind.kind == "Deployment" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {})
        if isinstance(strategy, dict):
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                ru = strategy.setdefault("rollingUpdate", {})
                if isinstance(ru, dict):
                    ru.setdefault("maxUnavailable", "25%")
                    ru.setdefault("maxSurge", "25%")
        template = spec.get("template")
        if isinstance(template, dict):
            _default_pod_spec(template.get("spec"))
    elif kind.kind == "Pod":
        _default_pod_spec(spec)
    elif kind.kind == "Service" and isinstance(spec, dict):
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for p in spec.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
                if "port" in p:
                    p.setdefault("targetPort", p["port"])
        if spec.get("type") != "ExternalName":
            if "clusterIP" not in spec and cluster_ip_allocator:
                spec["clusterIP"] = cluster_ip_allocator()
            if "clusterIP" in spec:
                spec.setdefault("clusterIPs", [spec["clusterIP"]])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
    elif kind.kind == "Secret":
        obj.setdefault("type", "Opaque")
    elif kind.kind == "Namespace":
        meta = obj.setdefault("metadata", {})
        labels = meta.get("labels")
        labels = dict(labels) if isinstance(labels, dict) else {}
        labels["kubernetes.io/metadata.name"] = meta.get("name", "")
        meta["labels"] = labels
        obj["spec"] = {"finalizers": ["kubernetes"]} if not spec else spec
    elif kind.kind == "CustomResourceDefinition" and isinstance(spec, dict):
        spec.setdefault("conversion", {"strategy": "None"})
        names = spec.get("names")
        if isinstance(names, dict) and isinstance(names.get("kind"), str):
            names.setdefault("singular", names["kind"].lower())
            names.setdefault("listKind", names["kind"] + "List")
    elif kind.kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for w in obj.get("webhooks") or []:
            if isinstance(w, dict):
                w.setdefault("failurePolicy", "Fail")
                w.setdefault("matchPolicy", "Equivalent")
                w.setdefault("namespaceSelector", {})
                w.setdefault("objectSelector", {})
                w.setdefault("timeoutSeconds", 10)
                if kind.kind == "MutatingWebhookConfiguration":
                    w.setdefault("reinvocationPolicy", "Never")


# --- validation ----------------------------------------------------------------------------
def _selector_matches(selector, labels):
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for req in selector.get("matchExpressions") or []:
        key, op, values = req.get("key"), req.get("operator"), req.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def validate_object(kind, obj, old=None):
    """Kind-specific checks the real strategies run; returns field errors (422 if any)."""
    errs = []
    spec = obj.get("spec")
    if kind.kind == "Deployment":
        spec = spec if isinstance(spec, dict) else {}
        selector = spec.get("selector")
        template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        if not isinstance(selector, dict) or not selector:
            errs.append(E.required("spec.selector"))
        elif not _selector_matches(selector, labels):
            errs.append(E.invalid_value("spec.template.metadata.labels", labels,
                                        "`selector` does not match template `labels`"))
        containers = (template.get("spec") or {}).get("containers")
        if not containers:
            errs.append(E.required("spec.template.spec.containers"))
        if old is not None and selector != (old.get("spec") or {}).get("selector"):
            errs.append(E.invalid_value("spec.selector", selector, "field is immutable"))
    elif kind.kind == "ConfigMap" or kind.kind == "Secret":
        for key in list((obj.get("data") or {}).keys()) + list((obj.get("stringData") or {})):
            if not re.match(r"^[-._a-zA-Z0-9]+$", key):
                errs.append(E.invalid_value(f"data[{key}]", key, "a valid config key must consist"
                                            " of alphanumeric characters, '-', '_' or '.'"))
    elif kind.kind == "CustomResourceDefinition":
        errs += _validate_crd(obj, old)
    return errs


def _validate_crd(obj, old):
    errs = []
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
    group = spec.get("group")
    plural = names.get("plural")
    if not group:
        errs.append(E.required("spec.group"))
    if not plural:
        errs.append(E.required("spec.names.plural"))
    if not names.get("kind"):
        errs.append(E.required("spec.names.kind"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        errs.append(unsupported_value("spec.scope", spec.get("scope"),
                                           ["Cluster", "Namespaced"]))
    name = (obj.get("metadata") or {}).get("name")
    if group and plural and name != f"{plural}.{group}":
        errs.append(E.invalid_value("metadata.name", name,
                                    'must be spec.names.plural+"."+spec.group'))
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        errs.append(E.required("spec.versions", "must have exactly one version marked as "
                                                "storage version"))
    else:
        storage = [v for v in versions if isinstance(v, dict) and v.get("storage")]
        if len(storage) != 1:
            errs.append(E.invalid_value("spec.versions", versions and "[...]",
                                        "must have exactly one version marked as storage "
                                        "version"))
        for i, v in enumerate(versions):
            if not isinstance(v, dict) or not v.get("name"):
                errs.append(E.required(f"spec.versions[{i}].name"))
    if old is not None:
        old_spec = old.get("spec") or {}
        if spec.get("scope") != old_spec.get("scope"):
            errs.append(E.invalid_value("spec.scope", spec.get("scope"), "field is immutable"))
        if group != old_spec.get("group"):
            errs.append(E.invalid_value("spec.group", group, "field is immutable"))
    return errs


def unsupported_value(path, value, allowed):
    return E.FieldError(path, "Unsupported value", "supported values: " +
                        ", ".join(f'"{a}"' for a in allowed), value, True)
