#!/usr/bin/env python3
"""Add `optional bool ignore_empty` to every validate.*Rules message lacking it.

The validate/validate.proto bundled with @grpc/grpc-js-xds predates the Envoy protos
beside it, which already use `ignore_empty`; protoc rejects them until the field exists.
The new field takes the message's highest field number + 1, which is exactly the number
upstream protoc-gen-validate gave it (8 in the numeric rules, 26 StringRules, 14 BytesRules,
5 RepeatedRules, 6 MapRules), so option values encode the same as with a current PGV.

Usage: patch_validate_proto.py IN OUT   (IN is never modified; OUT is written only on change)
"""
import pathlib
import re
import sys

FIELD_NUMBER = re.compile(r"=\s*(\d+)\s*[;\[]")


def patch(text: str) -> str:
    out, pos = [], 0
    for m in re.finditer(r"^message\s+(\w+Rules)\s*\{", text, re.M):
        # Find the message's closing brace (messages here nest only oneofs).
        depth, i = 0, m.end() - 1
        while True:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        body = re.sub(r"//[^\n]*", "", text[m.end():i])
        if re.search(r"\bignore_empty\b", body):
            continue
        number = max((int(n) for n in FIELD_NUMBER.findall(body)), default=0) + 1
        out.append(text[pos:i])
        out.append(f"\n    // Added by meshctl's build (api/README.md): newer Envoy protos use it.\n"
                   f"    optional bool ignore_empty = {number};\n")
        pos = i
    out.append(text[pos:])
    return "".join(out)


def main() -> int:
    src, dst = map(pathlib.Path, sys.argv[1:3])
    patched = patch(src.read_text())
    if not dst.exists() or dst.read_text() != patched:
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(patched)
    return 0


if __name__ == "__main__":
    sys.exit(main())
