#!/usr/bin/env bash
# `make bench`: every benchmark in turn, then the one summary table (tests/bench/table.py) of
# the forwarding rows they measured in this run. Each script also prints its own details.
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
export BENCH_ROWS
BENCH_ROWS=$(mktemp /tmp/vrouter-bench-rows.XXXXXX)
trap 'rm -f "$BENCH_ROWS"' EXIT
rc=0
for b in run.sh vifs.sh kernel.sh latency.sh rings.sh knet.sh; do
  echo "==== tests/bench/$b"
  bash "$here/$b" || { echo "bench: tests/bench/$b failed" >&2; rc=1; }
done
/usr/bin/python3 "$here/table.py" "$BENCH_ROWS"
exit "$rc"
