"""labelSelector and fieldSelector query parameters, with the grammar of
k8s.io/apimachinery/pkg/labels and pkg/fields (=, ==, !=, in, notin, exists, !exists, <, >)."""

import api_errors as E

_SPECIAL = set(" \t,()!=<>")


def _tokens(text):
    i, out = 0, []
    while i < len(text):
        c = text[i]
        if c in " \t":
            i += 1
        elif text.startswith("==", i) or text.startswith("!=", i):
            out.append(text[i:i + 2])
            i += 2
        elif c in ",()!=<>":
            out.append(c)
            i += 1
        else:
            j = i
            while j < len(text) and text[j] not in _SPECIAL:
                j += 1
            out.append(text[i:j])
            i = j
    return out


class LabelSelector:
    """A parsed selector: a conjunction of (key, op, values) requirements."""

    def __init__(self, requirements):
        self.requirements = requirements

    @classmethod
    def parse(cls, text):
        toks = _tokens(text or "")
        reqs, i = [], 0

        def fail(msg):
            raise E.bad_request(f"unable to parse requirement: {msg}")

        def ident(j):
            if j >= len(toks) or toks[j] in ",()!=<>" or toks[j] in ("==", "!="):
                fail(f"found '{toks[j] if j < len(toks) else ''}', expected: identifier")
            return toks[j]

        while i < len(toks):
            if toks[i] == "!":
                reqs.append((ident(i + 1), "!", ()))
                i += 2
            else:
                key = ident(i)
                i += 1
                op = toks[i] if i < len(toks) else ","
                if op == ",":
                    reqs.append((key, "exists", ()))
                elif op in ("=", "==", "!=", "<", ">"):
                    value = toks[i + 1] if i + 1 < len(toks) and toks[i + 1] not in ",()" \
                        else ""
                    if op in "<>" and not value.lstrip("-").isdigit():
                        fail(f"for 'Gt', 'Lt' operators, the value must be an integer")
                    reqs.append((key, {"==": "="}.get(op, op), (value,)))
                    i += 2 if value else 1
                elif op in ("in", "notin"):
                    if i + 1 >= len(toks) or toks[i + 1] != "(":
                        fail(f"found '{toks[i + 1] if i + 1 < len(toks) else ''}', expected: '('")
                    i += 2
                    values = []
                    while i < len(toks) and toks[i] != ")":
                        if toks[i] != ",":
                            values.append(toks[i])
                        i += 1
                    if i >= len(toks):
                        fail("found '', expected: ')'")
                    i += 1
                    reqs.append((key, op, tuple(values)))
                else:
                    fail(f"found '{op}', expected: in, notin, =, ==, !=, gt, lt")
            if i < len(toks):
                if toks[i] != ",":
                    fail(f"found '{toks[i]}', expected: ',' or 'end of string'")
                i += 1
        return cls(reqs)

    def matches(self, labels):
        labels = labels or {}
        for key, op, values in self.requirements:
            present = key in labels
            value = labels.get(key)
            if op == "exists" and not present:
                return False
            if op == "!" and present:
                return False
            if op == "=" and value != values[0]:
                return False
            if op == "!=" and present and value == values[0]:
                return False
            if op == "in" and value not in values:
                return False
            if op == "notin" and present and value in values:
                return False
            if op in "<>":
                try:
                    n = int(value)
                except (TypeError, ValueError):
                    return False
                if (op == "<" and not n < int(values[0])) or (op == ">" and not n > int(values[0])):
                    return False
        return True

    def empty(self):
        return not self.requirements


class FieldSelector:
    """fieldSelector: every resource supports metadata.name and metadata.namespace."""

    FIELDS = {"metadata.name": ("metadata", "name"),
              "metadata.namespace": ("metadata", "namespace")}

    def __init__(self, requirements):
        self.requirements = requirements

    @classmethod
    def parse(cls, text):
        reqs = []
        for term in (text or "").split(","):
            term = term.strip()
            if not term:
                continue
            for op in ("!=", "==", "="):
                if op in term:
                    field, value = term.split(op, 1)
                    break
            else:
                raise E.bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
            field = field.strip()
            if field not in cls.FIELDS:
                raise E.bad_request(f"field label not supported: {field}")
            reqs.append((field, "!=" if op == "!=" else "=", value.strip()))
        return cls(reqs)

    def matches(self, obj):
        meta = obj.get("metadata") or {}
        for field, op, value in self.requirements:
            actual = meta.get(self.FIELDS[field][1], "") or ""
            if (actual == value) != (op == "="):
                return False
        return True

    def single_name(self):
        """The name a `metadata.name=X` selector pins, for authorization like the real server."""
        for field, op, value in self.requirements:
            if field == "metadata.name" and op == "=":
                return value
        return ""
