"""meta.k8s.io/v1 Table responses (Accept: application/json;as=Table;...), which `kubectl get`
asks for. Columns follow the real server's printers for the common kinds; custom resources
use their additionalPrinterColumns (simple .a.b.c JSON paths) plus Age."""

import calendar
import time


def human_duration(seconds):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years = hours // (24 * 365)
    return f"{years}y{(hours // 24) % 365}d" if years < 8 else f"{years}y"


def _age(obj):
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    created = calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))
    return human_duration(int(time.time() - created))


def _path(obj, json_path):
    node = obj
    for part in json_path.strip().lstrip(".").split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _status(obj, key, default=0):
    return (obj.get("status") or {}).get(key, default)


def _spec(obj, key, default=None):
    return (obj.get("spec") or {}).get(key, default)


def _ports(obj):
    ports = _spec(obj, "ports") or []
    return ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"


def _name(obj):
    return obj["metadata"]["name"]


_COLUMNS = {
    "Deployment": [
        ("Ready", "string", lambda o: f"{_status(o, 'readyReplicas')}/{_spec(o, 'replicas', 1)}"),
        ("Up-to-date", "integer", lambda o: _status(o, "updatedReplicas")),
        ("Available", "integer", lambda o: _status(o, "availableReplicas"))],
    "ConfigMap": [("Data", "integer", lambda o: len(o.get("data") or {}) +
                   len(o.get("binaryData") or {}))],
    "Secret": [("Type", "string", lambda o: o.get("type", "")),
               ("Data", "integer", lambda o: len(o.get("data") or {}))],
    "Namespace": [("Status", "string", lambda o: _status(o, "phase", ""))],
    "Service": [("Type", "string", lambda o: _spec(o, "type", "")),
                ("Cluster-IP", "string", lambda o: _spec(o, "clusterIP", "<none>")),
                ("External-IP", "string", lambda o: "<none>"),
                ("Port(s)", "string", _ports)],
    "Pod": [("Ready", "string", lambda o: f"0/{len(_spec(o, 'containers') or [])}"),
            ("Status", "string", lambda o: _status(o, "phase", "Pending")),
            ("Restarts", "string", lambda o: "0")],
    "ServiceAccount": [("Secrets", "integer", lambda o: len(o.get("secrets") or []))],
    "PodDisruptionBudget": [
        ("Min Available", "string", lambda o: str(_spec(o, "minAvailable", "N/A"))),
        ("Max Unavailable", "string", lambda o: str(_spec(o, "maxUnavailable", "N/A"))),
        ("Allowed Disruptions", "integer", lambda o: _status(o, "disruptionsAllowed"))],
}


def columns(kind):
    """[(name, type, format, cell function)] for `kind`."""
    cols = [("Name", "string", "name", _name)]
    if kind.kind in _COLUMNS:
        cols += [(n, t, "", f) for n, t, f in _COLUMNS[kind.kind]]
        return cols + [("Age", "string", "", _age)]
    if not kind.builtin:
        for c in kind.printer_columns:
            cols.append((c.get("name", ""), c.get("type", "string"), c.get("format", ""),
                         lambda o, p=c.get("jsonPath", ""): _path(o, p)))
        return cols + [("Age", "string", "", _age)]
    return cols + [("Created At", "date", "", lambda o: o["metadata"].get("creationTimestamp"))]


def table(kind, objects, resource_version="", headers=True, include_object="Metadata"):
    cols = columns(kind)
    rows = []
    for obj in objects:
        row = {"cells": [f(obj) for _, _, _, f in cols]}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj.get("metadata", {})}
        rows.append(row)
    out = {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
           "metadata": {"resourceVersion": resource_version} if resource_version else {}}
    if headers:
        out["columnDefinitions"] = [
            {"name": n, "type": t, "format": fmt, "description": "", "priority": 0}
            for n, t, fmt, _ in cols]
    out["rows"] = rows
    return out
