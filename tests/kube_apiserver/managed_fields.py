"""Server-side apply and metadata.managedFields, after sigs.k8s.io/structured-merge-diff.

A field set is a set of paths; a path is a tuple of FieldsV1 keys ("f:spec", "k:{...}",
"v:...", "i:0"), ending at a leaf (scalar, atomic list, empty map) or at an item of an
associative list or set, which are owned themselves. Each manager entry (manager, operation,
subresource) owns a field set. Apply merges the applied configuration into the live object,
removes fields the manager applied before and no longer does (unless someone else owns them),
and refuses to change a field another manager owns unless forced. Updates (create, PUT,
non-apply PATCH) give the updater the fields it changed and take them from everyone else.
"""

import copy
import json

import api_errors as E
import kinds

# Fields no manager owns (fieldpath reset / stripped fields in k8s.io/apiserver).
_STRIPPED_META = {"name", "namespace", "creationTimestamp", "selfLink", "uid", "generation",
                  "managedFields", "resourceVersion", "deletionTimestamp",
                  "deletionGracePeriodSeconds"}


def _enc(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _item_key(item, keys):
    return {k: item.get(k, kinds.KEY_DEFAULTS.get(k)) for k in keys
            if k in item or k in kinds.KEY_DEFAULTS}


def owned_view(kind, obj, subresource=""):
    """The part of an object whose fields managers can own."""
    if not isinstance(obj, dict):
        return {}
    view = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    meta = view.get("metadata")
    if isinstance(meta, dict):
        view["metadata"] = {k: v for k, v in meta.items() if k not in _STRIPPED_META}
        if not view["metadata"]:
            del view["metadata"]
    if kind.status_subresource:
        if subresource == "status":
            view = {"status": view["status"]} if "status" in view else {}
        else:
            view.pop("status", None)
    return view


def field_paths(kind, obj, subresource=""):
    out = set()
    _walk(kind, owned_view(kind, obj, subresource), (), (), out)
    return out


def _walk(kind, value, path, names, out):
    for key, v in value.items():
        p, n = path + ("f:" + key,), names + (key,)
        if isinstance(v, dict) and v:
            _walk(kind, v, p, n, out)
        elif isinstance(v, list) and v:
            lt = kinds.list_type(kind, n)
            if lt[0] == "set":
                for x in v:
                    out.add(p + ("v:" + _enc(x),))
            elif lt[0] == "map" and all(isinstance(x, dict) for x in v):
                for item in v:
                    ip = p + ("k:" + _enc(_item_key(item, lt[1])),)
                    out.add(ip)
                    _walk(kind, item, ip, n, out)
            else:
                out.add(p)
        else:
            out.add(p)


def _step(node, el):
    """One path element down from node: (found, child, container, index-or-key)."""
    tag, rest = el[:2], el[2:]
    if tag == "f:":
        if isinstance(node, dict) and rest in node:
            return True, node[rest], node, rest
    elif tag == "k:" and isinstance(node, list):
        want = json.loads(rest)
        for i, item in enumerate(node):
            if isinstance(item, dict) and all(
                    item.get(k, kinds.KEY_DEFAULTS.get(k)) == v for k, v in want.items()):
                return True, item, node, i
    elif tag == "v:" and isinstance(node, list):
        want = json.loads(rest)
        for i, item in enumerate(node):
            if item == want:
                return True, item, node, i
    elif tag == "i:" and isinstance(node, list):
        i = int(rest)
        if i < len(node):
            return True, node[i], node, i
    return False, None, None, None


def value_at(obj, path):
    node = obj
    for el in path:
        found, node, _, _ = _step(node, el)
        if not found:
            return (False, None)
    if path and path[-1][:2] in ("k:", "v:"):
        return (True, None)  # list items are owned by presence
    return (True, node)


def remove_path(obj, path):
    trail, node = [], obj
    for el in path:
        found, child, container, at = _step(node, el)
        if not found:
            return
        trail.append((container, at))
        node = child
    if not trail:
        return
    i = len(trail) - 1
    container, at = trail[i]
    container.pop(at)
    # Drop maps and lists the removal left empty, as SMD does not keep them either.
    while i > 0 and not trail[i][0]:
        i -= 1
        parent, at = trail[i]
        parent.pop(at)


def path_string(path):
    """fieldpath.Path.String(): `.spec.containers[name="x"].image`."""
    out = ""
    for el in path:
        tag, rest = el[:2], el[2:]
        if tag == "f:":
            out += "." + rest
        elif tag == "k:":
            keys = sorted(json.loads(rest).items())
            out += "[" + ",".join(f"{k}={_enc(v)}" for k, v in keys) + "]"
        elif tag == "v:":
            out += "[=" + rest + "]"
        else:
            out += "[" + rest + "]"
    return out


# --- FieldsV1 encoding -----------------------------------------------------------------------
def encode_fields(paths):
    root = {}
    for p in paths:
        node = root
        for el in p:
            node = node.setdefault(el, {})
    for p in paths:
        node = root
        for el in p:
            node = node[el]
        if node:
            node["."] = {}
    return _sorted_tree(root)


def _sorted_tree(node):
    return {k: _sorted_tree(node[k]) for k in sorted(node)}


def decode_fields(tree, prefix=()):
    out = set()
    if not isinstance(tree, dict):
        return out
    for key, child in tree.items():
        if key == ".":
            out.add(prefix)
        elif isinstance(child, dict) and child:
            out |= decode_fields(child, prefix + (key,))
        else:
            out.add(prefix + (key,))
    return out


class Entry:
    def __init__(self, manager, operation, api_version, time, subresource="", paths=None):
        self.manager, self.operation, self.api_version = manager, operation, api_version
        self.time, self.subresource = time, subresource
        self.paths = set(paths or ())

    def ident(self):
        return (self.manager, self.operation, self.subresource)

    def encode(self):
        out = {"manager": self.manager, "operation": self.operation,
               "apiVersion": self.api_version}
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = encode_fields(self.paths)
        if self.subresource:
            out["subresource"] = self.subresource
        return out

    def describe(self):
        """printManager() of the conflict message."""
        s = json.dumps(self.manager)
        if self.subresource:
            s += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            s += f" using {self.api_version}"
        return s


def parse_entries(obj):
    entries = []
    for raw in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if not isinstance(raw, dict) or not raw.get("manager"):
            continue
        entries.append(Entry(raw["manager"], raw.get("operation", "Update"),
                             raw.get("apiVersion", ""), raw.get("time", ""),
                             raw.get("subresource", ""), decode_fields(raw.get("fieldsV1"))))
    return entries


def _store_entries(obj, entries):
    kept = [e.encode() for e in entries if e.paths]
    meta = obj.setdefault("metadata", {})
    if kept:
        meta["managedFields"] = kept
    else:
        meta.pop("managedFields", None)


def _changed(old, new, paths):
    return {p for p in paths if value_at(old, p) != value_at(new, p)}


def track_update(kind, old, new, manager, api_version, now, subresource=""):
    """Sets new.metadata.managedFields after an Update-operation write by `manager`."""
    requested = (new.get("metadata") or {}).get("managedFields")
    if requested == [{}]:
        entries = []  # the documented way to reset managed fields
    elif requested:
        entries = parse_entries(new)
    else:
        entries = parse_entries(old)
    old_view = owned_view(kind, old or {}, subresource)
    new_view = owned_view(kind, new, subresource)
    old_paths = field_paths(kind, old or {}, subresource)
    new_paths = field_paths(kind, new, subresource)
    changed = _changed(old_view, new_view, old_paths | new_paths)
    mine = next((e for e in entries if e.ident() == (manager, "Update", subresource)), None)
    for e in entries:
        if e is not mine:
            e.paths -= changed
    if changed & new_paths:
        if mine is None:
            mine = Entry(manager, "Update", api_version, now, subresource)
            entries.append(mine)
        mine.time, mine.api_version = now, api_version
    if mine is not None:
        mine.paths = (mine.paths - (changed - new_paths)) | (changed & new_paths)
    _store_entries(new, entries)


def _merge(kind, base, applied, names):
    if isinstance(applied, dict) and isinstance(base, dict):
        out = dict(base)
        for key, value in applied.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = _merge(kind, base.get(key), value, names + (key,))
        return out
    if isinstance(applied, list) and isinstance(base, list):
        lt = kinds.list_type(kind, names)
        if lt[0] == "set":
            return list(base) + [copy.deepcopy(x) for x in applied if x not in base]
        if lt[0] == "map" and all(isinstance(x, dict) for x in applied + base):
            out = list(base)
            index = {_enc(_item_key(x, lt[1])): i for i, x in enumerate(out)}
            for item in applied:
                key = _enc(_item_key(item, lt[1]))
                if key in index:
                    out[index[key]] = _merge(kind, out[index[key]], item, names)
                else:
                    index[key] = len(out)
                    out.append(copy.deepcopy(item))
            return out
    return copy.deepcopy(applied)


def apply(kind, live, applied, manager, force, api_version, now, subresource=""):
    """Returns the object after applying `applied` for `manager`; raises 409 on conflicts."""
    entries = parse_entries(live)
    applied_view = owned_view(kind, applied, subresource)
    applied_paths = field_paths(kind, applied, subresource)
    mine = next((e for e in entries if e.ident() == (manager, "Apply", subresource)), None)
    others = [e for e in entries if e is not mine]
    others_union = set().union(*(e.paths for e in others)) if others else set()

    merged = copy.deepcopy(live) if live else {}
    if mine is not None:
        keep = set()
        for p in applied_paths | others_union:
            keep.update(p[:i] for i in range(1, len(p) + 1))
        for p in sorted(mine.paths - keep, key=len):
            remove_path(merged, p)
    merged = _merge(kind, merged, applied_view, ())
    for key in ("apiVersion", "kind"):
        merged[key] = applied.get(key, merged.get(key))
    meta = merged.setdefault("metadata", {})
    for key in ("name", "namespace"):
        if (applied.get("metadata") or {}).get(key):
            meta[key] = applied["metadata"][key]

    conflicts = []
    live_view = owned_view(kind, live or {}, subresource)
    merged_view = owned_view(kind, merged, subresource)
    for p in sorted(applied_paths):
        if p in others_union and value_at(live_view, p) != value_at(merged_view, p):
            conflicts += [(e, p) for e in others if p in e.paths]
    if conflicts and not force:
        raise conflict_error(conflicts)
    for e, p in conflicts:
        e.paths.discard(p)
    if mine is None:
        mine = Entry(manager, "Apply", api_version, now, subresource)
        entries.append(mine)
    mine.paths, mine.api_version, mine.time = applied_paths, api_version, now
    _store_entries(merged, entries)
    return merged


def conflict_error(conflicts):
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {e.describe()}",
               "field": path_string(p)} for e, p in conflicts]
    if len(conflicts) == 1:
        e, p = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {e.describe()}: {path_string(p)}"
    else:
        by_manager = {}
        for e, p in conflicts:
            by_manager.setdefault(e.describe(), []).append(path_string(p))
        lines = []
        for who in sorted(by_manager):
            lines.append(f"conflicts with {who}:")
            lines += [f"- {p}" for p in by_manager[who]]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return E.ApiError(409, "Conflict", message, {"causes": causes})
