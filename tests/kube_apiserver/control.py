"""What tests steer and inspect: injected faults, the --forbid authorizer, the request log."""

import collections
import threading

import api_errors as E

VERBS = ("create", "get", "list", "watch", "patch", "update", "delete", "deletecollection", "*")


class Faults:
    """Rules from POST /__test/faults; each matching request consumes one use of a rule."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.cleared = threading.Event()

    def add(self, spec):
        if not isinstance(spec, dict):
            raise E.bad_request("fault must be a JSON object")
        rule = {"verb": spec.get("verb", "*"), "resource": spec.get("resource", "*"),
                "status": spec.get("status"), "count": spec.get("count", 1),
                "latency_ms": spec.get("latency_ms", 0), "stall": bool(spec.get("stall")),
                "message": spec.get("message", "injected fault")}
        if rule["verb"] not in VERBS:
            raise E.bad_request(f"fault verb must be one of {', '.join(VERBS)}")
        if not isinstance(rule["resource"], str) or not rule["resource"]:
            raise E.bad_request("fault resource must be a resource name or *")
        for key in ("count", "latency_ms"):
            if not isinstance(rule[key], int) or isinstance(rule[key], bool):
                raise E.bad_request(f"fault {key} must be an integer")
        if rule["status"] is not None and (not isinstance(rule["status"], int) or
                                           not 400 <= rule["status"] <= 599):
            raise E.bad_request("fault status must be an HTTP error code (400-599)")
        if rule["status"] is None and not rule["stall"] and not rule["latency_ms"]:
            raise E.bad_request("fault needs a status, latency_ms or stall")
        if rule["count"] == 0 or rule["count"] < -1:
            raise E.bad_request("fault count must be positive, or -1 for ever")
        with self.lock:
            self.cleared.clear()
            self.rules.append(rule)
        return rule

    def clear(self):
        with self.lock:
            self.rules = []
            self.cleared.set()

    def list(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def take(self, verb, resource):
        """The first rule matching the request, with one use consumed; None if none matches."""
        with self.lock:
            for rule in self.rules:
                if rule["verb"] in ("*", verb) and rule["resource"] in ("*", resource):
                    if rule["count"] > 0:
                        rule["count"] -= 1
                        if rule["count"] == 0:
                            self.rules.remove(rule)
                    return dict(rule)
        return None


class Authorizer:
    """Denies what --forbid VERB:RESOURCE[.GROUP] names; everything else is allowed.
    A rule without .GROUP matches the resource in every group; `*` matches any verb/resource."""

    def __init__(self, specs):
        self.rules = []
        for spec in specs:
            verb, sep, target = spec.partition(":")
            if not sep or not verb or not target:
                raise ValueError(f"--forbid {spec!r}: expected VERB:RESOURCE[.GROUP]")
            resource, dot, group = target.partition(".")
            self.rules.append((verb, resource, group if dot else None))

    def allowed(self, verb, group, resource, subresource=""):
        full = resource + ("/" + subresource if subresource else "")
        for rverb, rresource, rgroup in self.rules:
            if rverb in ("*", verb) and rresource in ("*", full) and rgroup in (None, "*", group):
                return False
        return True

    @staticmethod
    def forbidden(user, verb, group, resource, subresource, namespace, name):
        """The 403 the real RBAC authorizer produces (responsewriters.forbiddenMessage)."""
        what = resource + ("/" + subresource if subresource else "")
        where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        why = (f'User "{user}" cannot {verb} resource "{what}" in API group "{group}" {where}')
        return E.forbidden(group, resource, name, why)


class RequestLog:
    def __init__(self, limit=10000):
        self.lock = threading.Lock()
        self.entries = collections.deque(maxlen=limit)

    def add(self, entry):
        with self.lock:
            self.entries.append(entry)

    def list(self):
        with self.lock:
            return list(self.entries)

    def clear(self):
        with self.lock:
            self.entries.clear()
