#!/usr/bin/env bash
# The README's test command on a loaded machine: two busy loops hold both cores while
# the suite runs; every one of the runs (default 3) must pass. Extra arguments go to
# pytest (e.g. -m 'not slow' for a quick look).
#
#   scripts/stress_tests.sh [RUNS] [PYTEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shift || true
busy() { while :; do :; done; }
busy & first=$!
busy & second=$!
trap 'kill "$first" "$second" 2>/dev/null || true' EXIT
for run in $(seq 1 "$runs"); do
  started=$(date +%s)
  echo "stress run $run of $runs: both cores held by busy loops"
  python -m pytest -q "$@"
  echo "stress run $run of $runs passed in $(( $(date +%s) - started )) s"
done
