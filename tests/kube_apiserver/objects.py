"""Helpers on stored objects shared by the store and its deletion controllers."""

import time

_META_ORDER = ["name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
               "generation", "creationTimestamp", "deletionTimestamp",
               "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
               "finalizers", "managedFields"]


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def output(kind, obj):
    """The object as served through `kind`'s version, fields in the Go types' order."""
    out = {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": obj.get("metadata")}
    for key, value in obj.items():
        if key not in out and key != "status":
            out[key] = value
    if "status" in obj:
        out["status"] = obj["status"]
    if out["metadata"] is None:
        del out["metadata"]
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        ordered = {k: meta[k] for k in _META_ORDER if k in meta}
        ordered.update({k: v for k, v in meta.items() if k not in ordered})
        out["metadata"] = ordered
    return out


def object_key(obj):
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta["name"])


def key_string(key):
    """The etcd key suffix lists are ordered and continued by."""
    return f"{key[0]}/{key[1]}" if key[0] else key[1]
