"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and an approximation of
strategic merge patch (lists merged by their patchMergeKey, with the $patch, $retainKeys,
$setElementOrder and $deleteFromPrimitiveList directives kubectl sends)."""

import copy
import json

import api_errors as E
import kinds


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- RFC 6902 ------------------------------------------------------------------------------
def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, parts, path):
    node = doc
    for p in parts[:-1]:
        if isinstance(node, dict) and p in node:
            node = node[p]
        elif isinstance(node, list) and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
        else:
            raise ValueError(f"doc is missing path: {path!r}")
    return node


def _get(doc, path):
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    key = parts[-1]
    if isinstance(parent, dict) and key in parent:
        return parent[key]
    if isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
        return parent[int(key)]
    raise ValueError(f"doc is missing path: {path!r}")


def _remove(doc, path):
    parts = _pointer(path)
    parent = _parent(doc, parts, path)
    key = parts[-1]
    if isinstance(parent, dict) and key in parent:
        return parent.pop(key)
    if isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
        return parent.pop(int(key))
    raise ValueError(f"unable to remove nonexistent key: {key}: missing value")


def _add(doc, path, value, replace=False):
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    key = parts[-1]
    if isinstance(parent, dict):
        if replace and key not in parent:
            raise ValueError(f"replace operation does not apply: doc is missing key: {path}")
        parent[key] = value
    elif isinstance(parent, list):
        if key == "-" and not replace:
            parent.append(value)
        elif key.isdigit() and int(key) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(key)] = value
            else:
                parent.insert(int(key), value)
        else:
            raise ValueError(f"add operation does not apply: doc is missing path: {path!r}")
    else:
        raise ValueError(f"doc is missing path: {path!r}")
    return doc


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise E.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise E.bad_request("json patch operation is missing its op or path")
        kind, path = op.get("op"), op["path"]
        try:
            if kind == "add":
                doc = _add(doc, path, copy.deepcopy(op.get("value")))
            elif kind == "remove":
                _remove(doc, path)
            elif kind == "replace":
                doc = _add(doc, path, copy.deepcopy(op.get("value")), replace=True)
            elif kind == "move":
                value = _remove(doc, op.get("from", ""))
                doc = _add(doc, path, value)
            elif kind == "copy":
                doc = _add(doc, path, copy.deepcopy(_get(doc, op.get("from", ""))))
            elif kind == "test":
                if _get(doc, path) != op.get("value"):
                    raise ValueError(f"testing value {path} failed: test failed")
            else:
                raise E.bad_request(f"Unexpected kind: {kind}")
        except ValueError as err:
            raise E.unprocessable(str(err)) from None
    return doc


# --- strategic merge patch -----------------------------------------------------------------
def _key_of(item, key):
    if not isinstance(item, dict):
        return item
    value = item.get(key)
    return kinds.KEY_DEFAULTS.get(key) if value is None and key in kinds.KEY_DEFAULTS else value


def strategic_merge(kind, original, patch, names=()):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    orders = {}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = [x for x in result[field] if x not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            if value.get("$patch") == "delete":
                result.pop(key, None)
            else:
                result[key] = strategic_merge(kind, result.get(key), value, names + (key,))
        elif isinstance(value, list):
            result[key] = _merge_list(kind, result.get(key), value, names + (key,))
        else:
            result[key] = value
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    for field, order in orders.items():
        if isinstance(result.get(field), list) and isinstance(order, list):
            result[field] = _reorder(kind, result[field], order, names + (field,))
    return result


def _merge_list(kind, original, patch, names):
    merge_key = kinds.smp_merge_key(kind, names)
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [copy.deepcopy(x) for x in patch
                if not (isinstance(x, dict) and "$patch" in x)]
    if merge_key is None or not isinstance(original, list):
        return [copy.deepcopy(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    result = copy.deepcopy(original)
    if merge_key == "":
        for x in patch:
            if x not in result:
                result.append(copy.deepcopy(x))
        return result
    for item in patch:
        if not isinstance(item, dict):
            continue
        key = _key_of(item, merge_key)
        at = next((i for i, x in enumerate(result) if _key_of(x, merge_key) == key), None)
        if item.get("$patch") == "delete":
            result = [x for x in result if _key_of(x, merge_key) != key]
        elif at is None:
            result.append({k: copy.deepcopy(v) for k, v in item.items() if k != "$patch"})
        else:
            result[at] = strategic_merge(kind, result[at], item, names)
    return result


def _reorder(kind, items, order, names):
    merge_key = kinds.smp_merge_key(kind, names)
    if merge_key:
        wanted = [_key_of(o, merge_key) for o in order]
        pos = {k: i for i, k in enumerate(wanted)}
        return sorted(items, key=lambda x: pos.get(_key_of(x, merge_key), len(pos)))
    pos = {json.dumps(v, sort_keys=True): i for i, v in enumerate(order)}
    return sorted(items, key=lambda x: pos.get(json.dumps(x, sort_keys=True), len(pos)))
