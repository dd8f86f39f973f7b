#!/usr/bin/env python3
"""Rename C++20 keywords that protoc 3.21 emits as identifiers, e.g. `requires`.

Envoy's jwt_authn RequirementRule has a field named `requires`; protoc 3.21 generates a
`requires()` accessor that does not compile as C++20 (envoyproxy/envoy#21010). Protobuf 22
added these keywords to protoc's list and appends an underscore (`requires_()`); this gives
the bare keyword the same suffix. Prefixed accessors (`mutable_requires()`) are valid C++
and keep their names. String literals (the embedded descriptors) and comments are untouched.

Usage: escape_cxx20_keywords.py FILE...   (files are rewritten in place only if affected)
"""
import re
import sys

KEYWORDS = ("char8_t", "co_await", "co_return", "co_yield", "concept", "consteval",
            "constinit", "requires")
TOKEN = re.compile(r"//[^\n]*|/\*.*?\*/"            # comments
                   r"|\"(?:\\.|[^\"\\\n])*\""         # string literals
                   r"|'(?:\\.|[^'\\\n])*'"            # character literals
                   r"|\b(" + "|".join(KEYWORDS) + r")\b", re.S)


def main() -> int:
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if not any(k in text for k in KEYWORDS):
            continue
        fixed = TOKEN.sub(lambda m: m.group(1) + "_" if m.group(1) else m.group(0), text)
        if fixed != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(fixed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
