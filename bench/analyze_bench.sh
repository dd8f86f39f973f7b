#!/usr/bin/env bash
# Benchmark: `meshctl analyze -A -R` over synthetic meshes of 1,000 and 10,000 services (with
# their pods), reporting wall time and peak RSS. Usage: bench/analyze_bench.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-rel}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in 1000 10000; do
  ns=$((n / 50))
  python3 bench/gen_mesh.py "$work/mesh$n" --services "$n" --namespaces "$ns" --pods
  resources=$(grep -h -c '^kind:' "$work/mesh$n"/*.yaml | awk '{s += $1} END {print s}')
  /usr/bin/time -f "%e s %M KB" -o "$work/time" "$build/cli/meshctl" analyze -A -R "$work/mesh$n" -o json \
    > "$work/out.json"
  messages=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$work/out.json")
  read -r secs _ kb _ < "$work/time"
  printf 'analyze %5d services (%d resources): %s s, peak RSS %d MB, %s messages\n' \
    "$n" "$resources" "$secs" $((kb / 1024)) "$messages"
done
