"""Decoding of application/vnd.kubernetes.protobuf request bodies for a few built-in kinds.

kubectl's typed clients (kubectl create namespace|configmap|secret|serviceaccount|role|...,
kubectl auth can-i) send protobuf: the magic "k8s\\0", then a runtime.Unknown message whose
`raw` field holds the object. This decoder knows the field numbers of the kinds below (from
their generated.proto); other kinds answer 415. Responses are always JSON, which these
clients accept too.
"""

import base64
import json
import time

import api_errors as E

MAGIC = b"k8s\x00"

S, B, INT, BOOL, TIME, MAP_SS, MAP_SB, JSON_RAW = ("string", "bytes", "int", "bool", "time",
                                                   "map_ss", "map_sb", "json_raw")

# message -> {field number: (json name, type or message name, repeated)}
SCHEMAS = {
    "ObjectMeta": {1: ("name", S, False), 2: ("generateName", S, False),
                   3: ("namespace", S, False), 5: ("uid", S, False),
                   6: ("resourceVersion", S, False), 7: ("generation", INT, False),
                   8: ("creationTimestamp", TIME, False), 9: ("deletionTimestamp", TIME, False),
                   10: ("deletionGracePeriodSeconds", INT, False), 11: ("labels", MAP_SS, False),
                   12: ("annotations", MAP_SS, False),
                   13: ("ownerReferences", "OwnerReference", True),
                   14: ("finalizers", S, True), 17: ("managedFields", "ManagedFieldsEntry", True)},
    "OwnerReference": {1: ("kind", S, False), 3: ("name", S, False), 4: ("uid", S, False),
                       5: ("apiVersion", S, False), 6: ("controller", BOOL, False),
                       7: ("blockOwnerDeletion", BOOL, False)},
    "ManagedFieldsEntry": {1: ("manager", S, False), 2: ("operation", S, False),
                           3: ("apiVersion", S, False), 4: ("time", TIME, False),
                           6: ("fieldsType", S, False), 7: ("fieldsV1", "FieldsV1", False),
                           8: ("subresource", S, False)},
    "FieldsV1": {1: ("raw", JSON_RAW, False)},
    "ConfigMap": {1: ("metadata", "ObjectMeta", False), 2: ("data", MAP_SS, False),
                  3: ("binaryData", MAP_SB, False), 4: ("immutable", BOOL, False)},
    "Secret": {1: ("metadata", "ObjectMeta", False), 2: ("data", MAP_SB, False),
               3: ("type", S, False), 4: ("stringData", MAP_SS, False),
               5: ("immutable", BOOL, False)},
    "Namespace": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "NamespaceSpec", False)},
    "NamespaceSpec": {1: ("finalizers", S, True)},
    "ServiceAccount": {1: ("metadata", "ObjectMeta", False),
                       2: ("secrets", "ObjectReference", True),
                       3: ("imagePullSecrets", "LocalObjectReference", True),
                       4: ("automountServiceAccountToken", BOOL, False)},
    "ObjectReference": {1: ("kind", S, False), 2: ("namespace", S, False), 3: ("name", S, False),
                        4: ("uid", S, False), 5: ("apiVersion", S, False),
                        6: ("resourceVersion", S, False), 7: ("fieldPath", S, False)},
    "LocalObjectReference": {1: ("name", S, False)},
    "Role": {1: ("metadata", "ObjectMeta", False), 2: ("rules", "PolicyRule", True)},
    "ClusterRole": {1: ("metadata", "ObjectMeta", False), 2: ("rules", "PolicyRule", True),
                    3: ("aggregationRule", "AggregationRule", False)},
    "AggregationRule": {1: ("clusterRoleSelectors", "LabelSelector", True)},
    "PolicyRule": {1: ("verbs", S, True), 2: ("apiGroups", S, True), 3: ("resources", S, True),
                   4: ("resourceNames", S, True), 5: ("nonResourceURLs", S, True)},
    "RoleBinding": {1: ("metadata", "ObjectMeta", False), 2: ("subjects", "Subject", True),
                    3: ("roleRef", "RoleRef", False)},
    "ClusterRoleBinding": {1: ("metadata", "ObjectMeta", False),
                           2: ("subjects", "Subject", True), 3: ("roleRef", "RoleRef", False)},
    "Subject": {1: ("kind", S, False), 2: ("apiGroup", S, False), 3: ("name", S, False),
                4: ("namespace", S, False)},
    "RoleRef": {1: ("apiGroup", S, False), 2: ("kind", S, False), 3: ("name", S, False)},
    "LabelSelector": {1: ("matchLabels", MAP_SS, False),
                      2: ("matchExpressions", "LabelSelectorRequirement", True)},
    "LabelSelectorRequirement": {1: ("key", S, False), 2: ("operator", S, False),
                                 3: ("values", S, True)},
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta", False),
                                2: ("spec", "SelfSubjectAccessReviewSpec", False)},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes", False),
                                    2: ("nonResourceAttributes", "NonResourceAttributes", False)},
    "ResourceAttributes": {1: ("namespace", S, False), 2: ("verb", S, False),
                           3: ("group", S, False), 4: ("version", S, False),
                           5: ("resource", S, False), 6: ("subresource", S, False),
                           7: ("name", S, False)},
    "NonResourceAttributes": {1: ("path", S, False), 2: ("verb", S, False)},
}
DECODABLE_KINDS = {"ConfigMap", "Secret", "Namespace", "ServiceAccount", "Role", "ClusterRole",
                   "RoleBinding", "ClusterRoleBinding", "SelfSubjectAccessReview"}


class _Malformed(Exception):
    pass


def _varint(data, i):
    shift = value = 0
    while True:
        if i >= len(data) or shift > 63:
            raise _Malformed("truncated varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _fields(data):
    """Wire-format fields: [(number, int or bytes)]; only varint and length-delimited."""
    out, i = [], 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            n, i = _varint(data, i)
            if i + n > len(data):
                raise _Malformed("truncated field")
            value, i = data[i:i + n], i + n
        elif wire == 1:
            value, i = int.from_bytes(data[i:i + 8], "little"), i + 8
        elif wire == 5:
            value, i = int.from_bytes(data[i:i + 4], "little"), i + 4
        else:
            raise _Malformed(f"unsupported wire type {wire}")
        out.append((number, value))
    return out


def _scalar(kind, value, depth):
    if kind == S:
        return value.decode("utf-8")
    if kind == INT:
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == BOOL:
        return bool(value)
    if kind == TIME:
        seconds = dict(_fields(value)).get(1, 0)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds)) if seconds else None
    if kind == JSON_RAW:
        return json.loads(value)
    if kind in (MAP_SS, MAP_SB):
        entry = dict(_fields(value))
        v = entry.get(2, b"")
        return (entry.get(1, b"").decode("utf-8"),
                v.decode("utf-8") if kind == MAP_SS else base64.b64encode(v).decode())
    return _message(kind, value, depth + 1)


def _message(name, data, depth=0):
    if depth > 20:
        raise _Malformed("nested too deeply")
    schema, out = SCHEMAS[name], {}
    for number, value in _fields(data):
        if number not in schema:
            continue
        key, kind, repeated = schema[number]
        v = _scalar(kind, value, depth)
        if kind in (MAP_SS, MAP_SB):
            out.setdefault(key, {})[v[0]] = v[1]
        elif repeated:
            out.setdefault(key, []).append(v)
        else:
            out[key] = v
    if name == "FieldsV1":
        return out.get("raw", {})
    # Proto3 writes zero values that JSON leaves out.
    return {k: v for k, v in out.items() if v not in ("", None, 0) or isinstance(v, bool)}


def decode(body):
    """(apiVersion, kind, object) from a protobuf-encoded request body; raises ApiError."""
    if not body.startswith(MAGIC):
        raise E.bad_request("the protobuf body does not start with the k8s magic prefix")
    try:
        unknown = dict(_fields(body[len(MAGIC):]))
        type_meta = dict(_fields(unknown.get(1, b"")))
        api_version = type_meta.get(1, b"").decode()
        kind = type_meta.get(2, b"").decode()
        if kind not in DECODABLE_KINDS:
            raise E.unsupported_media_type(["application/json", "application/yaml"])
        obj = {"apiVersion": api_version, "kind": kind}
        obj.update(_message(kind, unknown.get(2, b"")))
        return obj
    except (_Malformed, UnicodeDecodeError, ValueError) as err:
        raise E.bad_request(f"unable to decode the protobuf body: {err}") from None
