"""Deletion and the controllers that act on it, as a mixin of store.Store: finalizers,
propagationPolicy (Foreground/Background/Orphan) and the garbage collector, and the
namespace and CRD-finalizer controllers that empty a deleted namespace or CRD shortly after
the DELETE. Every method here runs with Store.lock held."""

import copy
import threading

import api_errors as E
from objects import now, object_key, output

CRD_CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


class Deletion:
    def delete(self, kind, namespace, name, propagation="", preconditions=None, dry_run=False):
        """Returns the response body: the object, or a Status, as the real registry does."""
        with self.lock:
            old = self.objects.get(kind.rkey, {}).get((namespace or "", name))
            if old is None:
                raise E.not_found(kind.group, kind.plural, name)
            pre = preconditions or {}
            if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
                raise E.conflict(kind.group, kind.plural, name,
                                 f"Precondition failed: UID in precondition: {pre['uid']}, "
                                 f"UID in object meta: {old['metadata']['uid']}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != \
                    old["metadata"]["resourceVersion"]:
                raise E.conflict(kind.group, kind.plural, name,
                                 f"Precondition failed: ResourceVersion in precondition: "
                                 f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                 f"{old['metadata']['resourceVersion']}")
            if dry_run:
                return self._deleted_response(kind, old)
            return self._delete_locked(kind, old, propagation or "Background")

    def _deleted_response(self, kind, obj):
        if kind.return_deleted_object:
            return output(kind, obj)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": obj["metadata"]["name"], "group": kind.group,
                            "kind": kind.plural, "uid": obj["metadata"]["uid"]}}

    def _mark_deleting(self, kind, old, add_finalizer=None):
        obj = copy.deepcopy(old)
        meta = obj["metadata"]
        meta["deletionTimestamp"] = now()
        meta["deletionGracePeriodSeconds"] = 0
        if add_finalizer and add_finalizer not in (meta.get("finalizers") or []):
            meta["finalizers"] = (meta.get("finalizers") or []) + [add_finalizer]
        if kind.kind == "Namespace":
            obj["status"] = {"phase": "Terminating"}
        return self._commit(kind, "MODIFIED", obj, old)

    def _remove_finalizer(self, kind, obj, finalizer):
        current = self.objects.get(kind.rkey, {}).get(object_key(obj))
        if current is None:
            return
        new = copy.deepcopy(current)
        new["metadata"]["finalizers"] = [f for f in new["metadata"].get("finalizers") or []
                                         if f != finalizer]
        if not new["metadata"]["finalizers"]:
            del new["metadata"]["finalizers"]
            self._commit(kind, "DELETED", new, current)
            self._after_delete(kind, new)
        else:
            self._commit(kind, "MODIFIED", new, current)

    def _delete_locked(self, kind, old, propagation):
        meta = old["metadata"]
        if meta.get("deletionTimestamp"):
            if kind.kind == "Namespace":
                raise E.conflict("", "namespaces", meta["name"],
                                 "The system is ensuring all content is removed from this "
                                 "namespace.  Upon completion, this namespace will "
                                 "automatically be purged by the system.")
            return output(kind, old)
        if kind.kind in ("Namespace", "CustomResourceDefinition"):
            # Like the namespace and CRD-finalizer controllers, the contents go a little later.
            finalizer = CRD_CLEANUP_FINALIZER if kind.kind != "Namespace" else None
            marked = self._mark_deleting(kind, old, finalizer)
            self._later(self._finalize, kind, meta["name"], meta["uid"])
            return output(kind, marked)
        if propagation in ("Foreground", "Orphan"):
            finalizer = "foregroundDeletion" if propagation == "Foreground" else "orphan"
            marked = output(kind, self._mark_deleting(kind, old, finalizer))
            self._collect_dependents(meta["uid"], propagation)
            self._remove_finalizer(kind, marked, finalizer)
            return marked
        if meta.get("finalizers"):
            return output(kind, self._mark_deleting(kind, old))
        gone = copy.deepcopy(old)
        self._commit(kind, "DELETED", gone, old)
        self._after_delete(kind, gone)
        return self._deleted_response(kind, gone)

    def _later(self, fn, *args):
        if self.finalize_delay <= 0:
            fn(*args)
            return
        timer = threading.Timer(self.finalize_delay, fn, args)
        timer.daemon = True
        timer.start()

    def _finalize(self, kind, name, uid):
        with self.lock:
            obj = self.objects.get(kind.rkey, {}).get(("", name))
            if obj is None or obj["metadata"]["uid"] != uid:
                return
            if kind.kind == "Namespace":
                for rkey, table in list(self.objects.items()):
                    k = self.storage_kinds.get(rkey)
                    if k is not None and k.namespaced:
                        for key in [key for key in table if key[0] == name]:
                            if key in table:
                                self._delete_locked(k, table[key], "Background")
                self._maybe_finish_namespace(name)
            else:
                rkey = (obj["spec"]["group"], obj["spec"]["names"]["plural"])
                k = self.storage_kinds.get(rkey)
                for cr in list(self.objects.get(rkey, {}).values()):
                    self._delete_locked(k, cr, "Background")
                self._maybe_finish_crd(rkey)

    def _after_delete(self, kind, obj):
        """Work the controllers do once an object is really gone."""
        meta = obj["metadata"]
        self._collect_dependents(meta["uid"], "Background")
        if kind.namespaced:
            self._maybe_finish_namespace(meta["namespace"])
        elif kind.kind == "CustomResourceDefinition":
            self._unregister_crd(meta["name"])
        if not kind.builtin:
            self._maybe_finish_crd(kind.rkey)

    def _maybe_finish_namespace(self, namespace):
        ns_kind = self.storage_kinds[("", "namespaces")]
        ns = self.objects.get(ns_kind.rkey, {}).get(("", namespace))
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        for rkey, table in self.objects.items():
            k = self.storage_kinds.get(rkey)
            if k is not None and k.namespaced and any(key[0] == namespace for key in table):
                return
        gone = copy.deepcopy(ns)
        gone["spec"] = {}
        self._commit(ns_kind, "DELETED", gone, ns)

    def _crd_terminating(self, rkey):
        for crd in self.objects.get(("apiextensions.k8s.io", "customresourcedefinitions"),
                                    {}).values():
            if (crd["spec"]["group"], crd["spec"]["names"]["plural"]) == rkey:
                return bool(crd["metadata"].get("deletionTimestamp"))
        return False

    def _maybe_finish_crd(self, rkey):
        crd_kind = self.storage_kinds[("apiextensions.k8s.io", "customresourcedefinitions")]
        for crd in list(self.objects.get(crd_kind.rkey, {}).values()):
            if (crd["spec"]["group"], crd["spec"]["names"]["plural"]) == rkey and \
                    crd["metadata"].get("deletionTimestamp") and not self.objects.get(rkey):
                self._remove_finalizer(crd_kind, crd, CRD_CLEANUP_FINALIZER)

    def _collect_dependents(self, uid, propagation):
        """The garbage collector: dependents of a deleted owner are deleted or orphaned."""
        live_uids = None
        for rkey, table in list(self.objects.items()):
            k = self.storage_kinds.get(rkey)
            if k is None:
                continue
            for key, obj in list(table.items()):
                refs = obj["metadata"].get("ownerReferences") or []
                if not any(r.get("uid") == uid for r in refs):
                    continue
                if live_uids is None:
                    live_uids = {o["metadata"]["uid"] for t in self.objects.values()
                                 for o in t.values()}
                rest = [r for r in refs if r.get("uid") != uid]
                current = table.get(key)
                if current is None:
                    continue
                if propagation == "Orphan" or any(r.get("uid") in live_uids for r in rest):
                    new = copy.deepcopy(current)
                    if rest:
                        new["metadata"]["ownerReferences"] = rest
                    else:
                        new["metadata"].pop("ownerReferences", None)
                    self._commit(k, "MODIFIED", new, current)
                else:
                    self._delete_locked(k, current, "Background")

    def delete_collection(self, kind, namespace, label_selector, field_selector, propagation="",
                          dry_run=False):
        with self.lock:
            items, _, _, _ = self.list(kind, namespace, label_selector, field_selector)
            out = []
            for item in items:
                old = self.objects.get(kind.rkey, {}).get(object_key(item))
                if old is None:
                    continue
                if not dry_run:
                    self._delete_locked(kind, old, propagation or "Background")
                out.append(item)
            return out

