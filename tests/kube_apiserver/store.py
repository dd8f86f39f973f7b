"""The object store: every resource's objects, one global resourceVersion counter, the event
history that watches and consistent list pages are served from, and the controllers whose
effects clients rely on (CRD establishment, garbage collection, namespace deletion,
Deployment readiness for tests). One lock; HTTP handler threads call in concurrently.
"""

import base64
import binascii
import collections
import copy
import json
import queue
import random
import threading
import time
import uuid

import api_errors as E
import deletion
import kinds
import managed_fields
from objects import object_key, key_string, now, output

class Event:
    __slots__ = ("rv", "rkey", "type", "obj", "prev")

    def __init__(self, rv, rkey, type_, obj, prev):
        self.rv, self.rkey, self.type, self.obj, self.prev = rv, rkey, type_, obj, prev


class Watcher:
    """One open watch. Events go to `events` as (type, object); None ends the stream."""

    def __init__(self, kind, namespace, label_selector, field_selector):
        self.kind, self.namespace = kind, namespace
        self.label_selector, self.field_selector = label_selector, field_selector
        self.events = queue.Queue()

    def matches(self, obj):
        meta = obj.get("metadata") or {}
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        return self.label_selector.matches(meta.get("labels")) and self.field_selector.matches(obj)

    def offer(self, ev):
        # An object whose labels stop (start) matching leaves (enters) the watched set.
        now_in = ev.type != "DELETED" and self.matches(ev.obj)
        was_in = ev.prev is not None and self.matches(ev.prev)
        if ev.type == "DELETED":
            kind = "DELETED" if was_in else None
        elif now_in:
            kind = "MODIFIED" if was_in else "ADDED"
        else:
            kind = "DELETED" if was_in else None
        if kind:
            self.events.put((kind, output(self.kind, ev.obj)))

    def fail(self, status):
        self.events.put(("ERROR", status))
        self.events.put(None)


class Store(deletion.Deletion):
    def __init__(self, auto_ready=False, crd_establish_delay_ms=0, finalize_delay_ms=0,
                 history_limit=20000):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 0
        self.objects = {}          # rkey -> {(namespace, name): object}
        self.history = collections.deque()
        self.compacted_rv = 0      # events up to here are gone
        self.history_limit = history_limit
        self.watchers = set()
        self.kinds = {}            # (group, version, plural) -> Kind
        self.storage_kinds = {}    # rkey -> Kind used for writes the server makes itself
        self.crd_kinds = {}        # CRD name -> [Kind] of its served versions
        self.established = set()   # names of CRDs shown in discovery
        self._establishing = set()  # CRDs waiting for --crd-establish-delay-ms
        self.auto_ready = auto_ready
        self.crd_delay = crd_establish_delay_ms / 1000.0
        self.finalize_delay = finalize_delay_ms / 1000.0
        self._next_ip = 1
        for k in kinds.BUILTIN_KINDS:
            self.kinds[(k.group, k.version, k.plural)] = k
            self.storage_kinds[k.rkey] = k
        ns_kind = self.kinds[("", "v1", "namespaces")]
        for name in ("default", "kube-system"):
            self.create(ns_kind, "", {"metadata": {"name": name}}, "kube-apiserver")

    # --- kinds and discovery -----------------------------------------------------------
    def resolve(self, group, version, plural):
        with self.lock:
            return self.kinds.get((group, version, plural))

    def discovery(self):
        """{group: {version: [Kind]}} for built-ins and established CRDs."""
        with self.lock:
            out = {}
            hidden = {(k.group, k.version, k.plural) for name, ks in self.crd_kinds.items()
                      if name not in self.established for k in ks}
            for key, k in self.kinds.items():
                if key not in hidden:
                    out.setdefault(k.group, {}).setdefault(k.version, []).append(k)
            return out

    def _register_crd(self, crd):
        name = crd["metadata"]["name"]
        self._unregister_crd(name, close_watches=False)
        ks = [kinds.kind_from_crd(crd, v) for v in crd["spec"]["versions"]
              if v.get("served", True)]
        self.crd_kinds[name] = ks
        for k in ks:
            self.kinds[(k.group, k.version, k.plural)] = k
        storage = next(v for v in crd["spec"]["versions"] if v.get("storage"))
        storage_kind = kinds.kind_from_crd(crd, storage)
        self.storage_kinds[storage_kind.rkey] = storage_kind

    def _unregister_crd(self, name, close_watches=True):
        for k in self.crd_kinds.pop(name, []):
            self.kinds.pop((k.group, k.version, k.plural), None)
            if close_watches:
                self.storage_kinds.pop(k.rkey, None)
                for w in [w for w in self.watchers if w.kind.rkey == k.rkey]:
                    w.events.put(None)
                    self.watchers.discard(w)
        self.established.discard(name)

    # --- reads -------------------------------------------------------------------------
    def get(self, kind, namespace, name):
        with self.lock:
            obj = self.objects.get(kind.rkey, {}).get((namespace or "", name))
            if obj is None:
                raise E.not_found(kind.group, kind.plural, name)
            return output(kind, obj)

    def _wait_for_rv(self, rv):
        deadline = time.monotonic() + 3
        while self.rv < rv:
            left = deadline - time.monotonic()
            if left <= 0:
                raise E.too_large_rv(rv, self.rv)
            self.changed.wait(left)

    def _snapshot(self, rkey, rv):
        state = dict(self.objects.get(rkey, {}))
        for ev in reversed(self.history):
            if ev.rv <= rv:
                break
            if ev.rkey == rkey:
                if ev.type == "ADDED":
                    state.pop(object_key(ev.obj), None)
                else:
                    state[object_key(ev.prev)] = ev.prev
        return state

    def list(self, kind, namespace, label_selector, field_selector, limit=0, continue_token="",
             resource_version="", rv_match=""):
        """Returns (items, list resourceVersion, continue token, remainingItemCount)."""
        with self.lock:
            start = ""
            if continue_token:
                snap_rv, start = self._decode_continue(continue_token)
                if snap_rv < self.compacted_rv:
                    raise E.expired(
                        "The provided continue parameter is too old to display a consistent list "
                        "result. You can start a new list without the continue parameter, or use "
                        "the continue token in this response to retrieve the remainder of the "
                        "results. Continuing with the provided token results in an inconsistent "
                        "list - objects that were created, modified, or deleted between the time "
                        "the first chunk was returned and now may show up in the list.",
                        {"continue": self._encode_continue(-1, start)})
                state = self._snapshot(kind.rkey, snap_rv)
            elif rv_match == "Exact":
                snap_rv = parse_rv(resource_version)
                if snap_rv < self.compacted_rv:
                    raise E.too_old_rv(snap_rv, self.compacted_rv)
                self._wait_for_rv(snap_rv)
                state = self._snapshot(kind.rkey, snap_rv)
            else:
                if resource_version not in ("", "0"):
                    self._wait_for_rv(parse_rv(resource_version))
                snap_rv = self.rv
                state = self.objects.get(kind.rkey, {})
            # The watch cache serves resourceVersion=0 whole, ignoring limit.
            if resource_version == "0" and not continue_token:
                limit = 0
            keys = sorted((k for k, obj in state.items()
                           if (not namespace or k[0] == namespace) and key_string(k) >= start
                           and label_selector.matches((obj["metadata"]).get("labels"))
                           and field_selector.matches(obj)), key=key_string)
            token, remaining = "", None
            if limit and len(keys) > limit:
                token = self._encode_continue(snap_rv, key_string(keys[limit - 1]) + "\x00")
                if label_selector.empty() and field_selector.requirements == []:
                    remaining = len(keys) - limit
                keys = keys[:limit]
            return [output(kind, state[k]) for k in keys], str(snap_rv), token, remaining

    @staticmethod
    def _encode_continue(rv, start):
        raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start},
                         separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def _decode_continue(token):
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw)
            if data.get("v") != "meta.k8s.io/v1" or not isinstance(data.get("rv"), int) or \
                    not isinstance(data.get("start"), str):
                raise ValueError("incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            if data["rv"] <= 0:
                raise ValueError("continue key is not valid: resource version is not valid")
            return data["rv"], data["start"]
        except (ValueError, binascii.Error, TypeError, AttributeError) as err:
            raise E.bad_request(f"invalid continue token: continue key is not valid: {err}")

    # --- watch -------------------------------------------------------------------------
    def watch(self, kind, namespace, label_selector, field_selector, resource_version="",
              send_initial_events=False, allow_bookmarks=False):
        with self.lock:
            w = Watcher(kind, namespace, label_selector, field_selector)
            initial = resource_version in ("", "0") or send_initial_events
            if not initial:
                rv = parse_rv(resource_version)
                if rv < self.compacted_rv:
                    # The cacher reports this as an ERROR event, not an HTTP error.
                    w.fail(E.too_old_rv(rv, self.compacted_rv).status())
                    return w
                self._wait_for_rv(rv)
                for ev in self.history:
                    if ev.rv > rv and ev.rkey == kind.rkey:
                        w.offer(ev)
            else:
                if resource_version not in ("", "0"):
                    self._wait_for_rv(parse_rv(resource_version))
                state = self.objects.get(kind.rkey, {})
                for key in sorted(state, key=key_string):
                    if w.matches(state[key]):
                        w.events.put(("ADDED", output(kind, state[key])))
                if send_initial_events and allow_bookmarks:
                    w.events.put(("BOOKMARK", self._bookmark(kind, initial_end=True)))
            self.watchers.add(w)
            return w

    def _bookmark(self, kind, initial_end=False):
        meta = {"resourceVersion": str(self.rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta}

    def bookmark(self, w):
        """A BOOKMARK object if `w` has nothing queued (so the rv is not ahead of its events)."""
        with self.lock:
            return self._bookmark(w.kind) if w.events.empty() else None

    def stop_watch(self, w):
        with self.lock:
            self.watchers.discard(w)

    def compact(self):
        """Forget all history: older resourceVersions now give 410 and open watches end."""
        with self.lock:
            self.compacted_rv = self.rv
            self.history.clear()
            status = E.expired("The resourceVersion for the provided watch is too old.").status()
            for w in self.watchers:
                w.fail(status)
            self.watchers.clear()
            return self.rv

    # --- writes ------------------------------------------------------------------------
    def _commit(self, kind, etype, obj, prev):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        table = self.objects.setdefault(kind.rkey, {})
        if etype == "DELETED":
            table.pop(object_key(obj), None)
        else:
            table[object_key(obj)] = obj
        ev = Event(self.rv, kind.rkey, etype, obj, prev)
        self.history.append(ev)
        while len(self.history) > self.history_limit:
            self.compacted_rv = self.history.popleft().rv
        for w in self.watchers:
            if w.kind.rkey == kind.rkey:
                w.offer(ev)
        self.changed.notify_all()
        return obj

    def _check_body(self, kind, body):
        if not isinstance(body, dict):
            raise E.bad_request("the object provided is unrecognized or invalid: "
                                "expected a JSON object")
        api_version, kind_name = body.get("apiVersion"), body.get("kind")
        if api_version and api_version != kind.api_version:
            raise E.bad_request(f"the API version in the data ({api_version}) does not match "
                                f"the expected API version ({kind.api_version})")
        if kind_name and kind_name != kind.kind:
            raise E.bad_request(f'no kind "{kind_name}" is registered for version '
                                f'"{kind.api_version}" in scheme "k8s.io/kube-apiserver"')
        meta = body.get("metadata", {})
        if not isinstance(meta, dict):
            raise E.bad_request("the object provided is unrecognized or invalid: metadata "
                                "must be an object")
        kinds.check_types(kind, body)
        for key in [k for k, v in meta.items() if v is None]:
            del meta[key]  # null means unset for typed ObjectMeta fields

    def _check_namespace_usable(self, kind, namespace, name):
        if not kind.namespaced:
            return
        ns = self.objects.get(("", "namespaces"), {}).get(("", namespace))
        if ns is None:
            raise E.not_found("", "namespaces", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            err = E.forbidden(kind.group, kind.plural, name,
                              f"unable to create new content in namespace {namespace} because "
                              "it is being terminated")
            err.details["causes"] = [{"reason": "NamespaceTerminating", "field":
                                      "metadata.namespace", "message": f"namespace {namespace} "
                                      "is being terminated"}]
            raise err

    def _validate(self, kind, obj, old=None):
        errs = kinds.validate_meta(kind, obj) + kinds.validate_object(kind, obj, old)
        if errs:
            raise E.invalid(kind.kind, kind.group, obj["metadata"].get("name", ""), errs)

    def _allocate_ip(self):
        n = self._next_ip
        self._next_ip += 1
        return f"10.96.{n // 250}.{n % 250 + 1}"

    @staticmethod
    def _fold_string_data(obj):
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict):
            data = obj.setdefault("data", {})
            for k, v in string_data.items():
                data[k] = base64.b64encode(str(v).encode()).decode()

    def create(self, kind, namespace, body, manager, dry_run=False, track=True):
        with self.lock:
            self._check_body(kind, body)
            obj = copy.deepcopy(body)
            obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
            meta = obj.setdefault("metadata", {})
            if kind.namespaced:
                if meta.get("namespace") and meta["namespace"] != namespace:
                    raise E.bad_request("the namespace of the provided object does not match "
                                        "the namespace sent on the request")
                meta["namespace"] = namespace
            else:
                meta.pop("namespace", None)
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + "".join(
                    random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
            self._check_namespace_usable(kind, namespace, meta.get("name", ""))
            if not kind.builtin and self._crd_terminating(kind.rkey):
                raise E.ApiError(405, "MethodNotAllowed", "create not allowed while custom "
                                 "resource definition is terminating", {})
            for key in ("resourceVersion", "uid", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "selfLink"):
                meta.pop(key, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now()
            if kind.has_generation:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            if kind.status_subresource:
                obj["status"] = {}
            if kind.kind == "Namespace":
                obj["status"] = {"phase": "Active"}
            elif kind.kind == "Secret":
                self._fold_string_data(obj)
            kinds.apply_defaults(kind, obj, self._allocate_ip)
            self._validate(kind, obj)
            if object_key(obj) in self.objects.get(kind.rkey, {}):
                raise E.already_exists(kind.group, kind.plural, meta["name"])
            if kind.kind == "CustomResourceDefinition":
                obj["status"] = self._crd_status(obj, {})
            if track:
                managed_fields.track_update(kind, None, obj, manager, kind.api_version, now())
            if dry_run:
                return output(kind, obj)
            self._commit(kind, "ADDED", obj, None)
            self._after_write(kind, obj)
            return output(kind, obj)

    def _after_write(self, kind, obj):
        if kind.kind == "CustomResourceDefinition" and not obj["metadata"].get("deletionTimestamp"):
            self._register_crd(obj)
            established = any(c.get("type") == "Established" and c.get("status") == "True"
                              for c in obj["status"].get("conditions", []))
            name = obj["metadata"]["name"]
            if established:
                self.established.add(name)
            elif name not in self._establishing:
                self._establishing.add(name)
                timer = threading.Timer(self.crd_delay, self._establish, [name])
                timer.daemon = True
                timer.start()
        if kind.kind == "Deployment" and self.auto_ready:
            status = obj.get("status") or {}
            if status.get("observedGeneration") != obj["metadata"].get("generation") or \
                    status.get("readyReplicas") != obj["spec"].get("replicas"):
                self._set_ready(kind, obj)

    def _crd_status(self, crd, old_status):
        spec = crd["spec"]
        status = copy.deepcopy(old_status) if old_status else {}
        status["acceptedNames"] = {k: v for k, v in spec["names"].items()}
        storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
        stored = status.get("storedVersions") or []
        status["storedVersions"] = stored + [storage] if storage not in stored else stored
        if not status.get("conditions"):
            ts = now()
            status["conditions"] = [
                {"type": "NamesAccepted", "status": "True", "lastTransitionTime": ts,
                 "reason": "NoConflicts", "message": "no conflicts found"},
                {"type": "Established", "status": "False" if self.crd_delay else "True",
                 "lastTransitionTime": ts,
                 "reason": "Installing" if self.crd_delay else "InitialNamesAccepted",
                 "message": "the initial CustomResourceDefinition is being installed"
                 if self.crd_delay else "the initial names have been accepted"}]
        return status

    def _establish(self, name):
        with self.lock:
            self._establishing.discard(name)
            kind = self.kinds[("apiextensions.k8s.io", "v1", "customresourcedefinitions")]
            old = self.objects.get(kind.rkey, {}).get(("", name))
            if old is None or old["metadata"].get("deletionTimestamp"):
                return
            crd = copy.deepcopy(old)
            for c in crd["status"]["conditions"]:
                if c["type"] == "Established":
                    c.update(status="True", lastTransitionTime=now(),
                             reason="InitialNamesAccepted",
                             message="the initial names have been accepted")
            managed_fields.track_update(kind, old, crd, "kube-apiserver", kind.api_version,
                                        now(), "status")
            self._commit(kind, "MODIFIED", crd, old)
            self.established.add(name)

    def update(self, kind, namespace, name, body, manager, dry_run=False, subresource=""):
        with self.lock:
            old = self.objects.get(kind.rkey, {}).get((namespace or "", name))
            if old is None:
                if kind.create_on_update and not subresource:
                    self._check_body(kind, body)
                    return self.create(kind, namespace, body, manager, dry_run), True
                raise E.not_found(kind.group, kind.plural, name)
            return self._update_locked(kind, old, body, manager, dry_run, subresource), False

    def patch(self, kind, namespace, name, patch_fn, manager, dry_run=False, subresource=""):
        """patch_fn maps the current object to the patched one (raising ApiError on failure)."""
        with self.lock:
            old = self.objects.get(kind.rkey, {}).get((namespace or "", name))
            if old is None:
                raise E.not_found(kind.group, kind.plural, name)
            body = patch_fn(copy.deepcopy(output(kind, old)))
            return self._update_locked(kind, old, body, manager, dry_run, subresource)

    def apply(self, kind, namespace, name, applied, manager, force, dry_run=False,
              subresource=""):
        """Server-side apply; returns (object, created)."""
        with self.lock:
            self._check_body(kind, applied)
            if applied.get("apiVersion") != kind.api_version or applied.get("kind") != kind.kind:
                raise E.bad_request(f"apiVersion and kind must be {kind.api_version} and "
                                    f"{kind.kind} in an apply configuration")
            meta = applied.get("metadata") or {}
            if meta.get("name", name) != name:
                raise E.bad_request(f"the name of the object ({meta.get('name')}) does not match "
                                    f"the name on the URL ({name})")
            if meta.get("managedFields") is not None:
                raise E.bad_request("metadata.managedFields must be nil")
            old = self.objects.get(kind.rkey, {}).get((namespace or "", name))
            applied = copy.deepcopy(applied)
            applied.setdefault("metadata", {})["name"] = name
            if kind.namespaced:
                if meta.get("namespace") and meta["namespace"] != namespace:
                    raise E.bad_request("the namespace of the provided object does not match "
                                        "the namespace sent on the request")
                applied["metadata"]["namespace"] = namespace
            live = output(kind, old) if old is not None else None
            merged = managed_fields.apply(kind, live, applied, manager, force,
                                          kind.api_version, now(), subresource)
            if old is None:
                if subresource:
                    raise E.not_found(kind.group, kind.plural, name)
                return self.create(kind, namespace, merged, manager, dry_run, track=False), True
            return self._update_locked(kind, old, merged, None, dry_run, subresource), False

    def _update_locked(self, kind, old, body, manager, dry_run, subresource):
        self._check_body(kind, body)
        meta = body.get("metadata") or {}
        name = old["metadata"]["name"]
        if meta.get("name", name) != name:
            raise E.bad_request(f"the name of the object ({meta.get('name')}) does not match the "
                                f"name on the URL ({name})")
        if kind.namespaced and meta.get("namespace", old["metadata"]["namespace"]) != \
                old["metadata"]["namespace"]:
            raise E.bad_request("the namespace of the provided object does not match the "
                                "namespace sent on the request")
        if meta.get("resourceVersion") and meta["resourceVersion"] != \
                old["metadata"]["resourceVersion"]:
            raise E.conflict(kind.group, kind.plural, name, E.MODIFIED_CONFLICT)
        if meta.get("uid") and meta["uid"] != old["metadata"]["uid"]:
            raise E.conflict(kind.group, kind.plural, name,
                             f"Precondition failed: UID in precondition: {meta['uid']}, "
                             f"UID in object meta: {old['metadata']['uid']}")
        if subresource == "status":
            obj = copy.deepcopy(old)
            obj["status"] = copy.deepcopy(body.get("status"))
            if "managedFields" in meta:
                obj["metadata"]["managedFields"] = copy.deepcopy(meta["managedFields"])
        else:
            obj = copy.deepcopy(body)
            new_meta = obj.setdefault("metadata", {})
            for key in ("name", "namespace", "uid", "creationTimestamp", "generation",
                        "deletionTimestamp", "deletionGracePeriodSeconds"):
                if key in old["metadata"]:
                    new_meta[key] = old["metadata"][key]
                else:
                    new_meta.pop(key, None)
            if kind.status_subresource or kind.kind == "Namespace":
                obj["status"] = copy.deepcopy(old.get("status"))
            if kind.kind == "Namespace":
                obj["spec"] = copy.deepcopy(old.get("spec"))
            if kind.kind == "Secret":
                self._fold_string_data(obj)
            if kind.kind == "Service" and isinstance(obj.get("spec"), dict):
                for key in ("clusterIP", "clusterIPs"):
                    if key not in obj["spec"] and key in (old.get("spec") or {}):
                        obj["spec"][key] = old["spec"][key]
            kinds.apply_defaults(kind, obj, self._allocate_ip)
            self._validate(kind, obj, old)
        obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
        if kind.has_generation and _spec_view(kind, obj) != _spec_view(kind, old):
            obj["metadata"]["generation"] = old["metadata"].get("generation", 0) + 1
        if kind.kind == "CustomResourceDefinition":
            obj["status"] = self._crd_status(obj, obj.get("status") or {})
        if manager is not None:
            managed_fields.track_update(kind, old, obj, manager, kind.api_version, now(),
                                        subresource)
        elif not (obj.get("metadata") or {}).get("managedFields"):
            obj["metadata"].pop("managedFields", None)
        obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if _comparable(obj) == _comparable(old):
            return output(kind, old)  # a no-op write keeps the resourceVersion, sends no event
        if dry_run:
            return output(kind, obj)
        if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
            self._commit(kind, "DELETED", obj, old)
            self._after_delete(kind, obj)
            return output(kind, obj)
        self._commit(kind, "MODIFIED", obj, old)
        self._after_write(kind, obj)
        return output(kind, obj)

    # --- scale subresource ---------------------------------------------------------------
    @staticmethod
    def _scale_of(kind, obj):
        spec_path, status_path, selector_path = kind.scale_paths
        meta = obj["metadata"]
        if selector_path:
            selector = _get_path(obj, selector_path) or ""
        else:
            match = _get_path(obj, ".spec.selector.matchLabels")
            match = match if isinstance(match, dict) else {}
            selector = ",".join(f"{k}={v}" for k, v in sorted(match.items()))
        status = {"replicas": _get_path(obj, status_path) or 0}
        if selector:
            status["selector"] = selector
        return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                 "creationTimestamp") if k in meta},
            "spec": {"replicas": _get_path(obj, spec_path) or 0}, "status": status}

    def scale(self, kind, namespace, name, change=None, manager=None, dry_run=False):
        """GET (change None), PUT or PATCH of /scale; change maps the current Scale to the new."""
        with self.lock:
            old = self.objects.get(kind.rkey, {}).get((namespace or "", name))
            if old is None:
                raise E.not_found(kind.group, kind.plural, name)
            current = self._scale_of(kind, old)
            if change is None:
                return current
            wanted = change(copy.deepcopy(current))
            spec = wanted.get("spec") if isinstance(wanted, dict) else None
            replicas = spec.get("replicas") if isinstance(spec, dict) else None
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise E.invalid("Scale", "autoscaling", name, [E.invalid_value(
                    "spec.replicas", replicas, "must be greater than or equal to 0")])
            meta = wanted.get("metadata")
            rv = meta.get("resourceVersion") if isinstance(meta, dict) else None
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise E.conflict(kind.group, kind.plural, name, E.MODIFIED_CONFLICT)
            body = copy.deepcopy(output(kind, old))
            _set_path(body, kind.scale_paths[0], replicas)
            return self._scale_of(kind, self._update_locked(kind, old, body, manager, dry_run, ""))

    # --- test controls -----------------------------------------------------------------
    def _set_ready(self, kind, old):
        obj = copy.deepcopy(old)
        replicas = (obj.get("spec") or {}).get("replicas", 1)
        ts = now()
        obj["status"] = {
            "observedGeneration": obj["metadata"].get("generation", 1),
            "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "lastUpdateTime": ts,
                 "lastTransitionTime": ts, "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "lastUpdateTime": ts,
                 "lastTransitionTime": ts, "reason": "NewReplicaSetAvailable",
                 "message": f'ReplicaSet "{obj["metadata"]["name"]}-5d8f6b7c9" has '
                            "successfully progressed."}]}
        if replicas == 0:
            for key in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
                del obj["status"][key]
        managed_fields.track_update(kind, old, obj, "kube-controller-manager", kind.api_version,
                                    ts, "status")
        return self._commit(kind, "MODIFIED", obj, old)

    def mark_ready(self, namespace, name, kind_name="Deployment"):
        with self.lock:
            kind = self.storage_kinds[("apps", "deployments")]
            if kind_name != "Deployment":
                raise E.bad_request("only Deployments can be marked ready")
            old = self.objects.get(kind.rkey, {}).get((namespace, name))
            if old is None:
                raise E.not_found(kind.group, kind.plural, name)
            return output(kind, self._set_ready(kind, old))


def parse_rv(text):
    try:
        rv = int(text)
        if rv < 0:
            raise ValueError
        return rv
    except (TypeError, ValueError):
        raise E.bad_request(f'resourceVersion: Invalid value: "{text}": must be a non-negative '
                            "integer") from None


def _get_path(obj, json_path):
    node = obj
    for part in [p for p in (json_path or "").split(".") if p]:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _set_path(obj, json_path, value):
    parts = [p for p in json_path.split(".") if p]
    node = obj
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise E.bad_request(f"{json_path}: the object has no such field")
    node[parts[-1]] = value


def _spec_view(kind, obj):
    skip = {"metadata", "apiVersion", "kind"} | ({"status"} if kind.status_subresource else set())
    return {k: v for k, v in obj.items() if k not in skip}


def _comparable(obj):
    o = dict(obj)
    meta = dict(o.get("metadata") or {})
    meta.pop("resourceVersion", None)
    meta["managedFields"] = [{k: v for k, v in e.items() if k != "time"}
                             for e in meta.get("managedFields") or [] if isinstance(e, dict)]
    o["metadata"] = meta
    return o
