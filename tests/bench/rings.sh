#!/usr/bin/env bash
# Benchmark (not a test), run by `make bench` last: the InQ/OutQ ring against rte_ring SP/SC
# (tests/bench/xq_ring_bench.cc), medians of 5 repetitions, and their ratio per mode.
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-build}
[[ $build == /* ]] || build=$root/$build
bin=$build/tests/bench/xq_ring_bench
[ -x "$bin" ] || { echo "bench: no $bin; run make build" >&2; exit 1; }
out=$(mktemp /tmp/vrouter-rings.XXXXXX.json)
trap 'rm -f "$out"' EXIT
echo "bench: rings: 2^22 32-bit entries per run, producer on CPU 1, consumer on CPU 0, 5 repetitions"
"$bin" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$out" --benchmark_out_format=json >/dev/null
/usr/bin/python3 - "$out" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))['benchmarks']
med = {b['run_name'].split('/real_time')[0]: b['items_per_second'] / 1e6
       for b in runs if b.get('aggregate_name') == 'median'}
cv = {b['run_name'].split('/real_time')[0]: b['items_per_second'] * 100
      for b in runs if b.get('aggregate_name') == 'cv'}
print()
print(f"{'mode':<10} {'xq_ring M entries/s (cv)':>26} {'rte_ring SP/SC (cv)':>22} {'ratio':>7}")
for mode in ('single', 'burst32'):
    x, r = f'xq_ring/{mode}', f'rte_ring_spsc/{mode}'
    print(f"{mode:<10} {med[x]:>18.1f} ({cv[x]:4.1f}%) {med[r]:>14.1f} ({cv[r]:4.1f}%) "
          f"{med[x] / med[r]:>7.2f}")
ok = all(med[f'xq_ring/{m}'] >= 0.95 * med[f'rte_ring_spsc/{m}'] for m in ('single', 'burst32'))
print(f"\ntarget: InQ/OutQ at least as fast as rte_ring SP/SC (within 5%): {'met' if ok else 'NOT met'}")
print("Two spinning threads on a shared VM's two vCPUs: a cv above a few percent means the")
print("hypervisor, not the ring, set that figure; compare runs, not one reading.")
PY
