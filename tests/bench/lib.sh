# Helpers shared by the benchmarks: one forwarder at a time, stopped by PID on any exit, its
# worker's CPU share read from /proc, and vrouterd's forwarding rate read from its own counters.
# Sourced; the caller sets `config` and `sock` before run_vrouterd.
set -euo pipefail
# EPOCHREALTIME and awk must print '.' as the decimal separator, whatever the caller's locale.
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-build}   # as in the Makefile; relative to the project root
[[ $build == /* ]] || build=$root/$build
warmup=${BENCH_WARMUP:-2}    # seconds of forwarding before the window opens
window=${BENCH_SECONDS:-5}   # seconds measured
# Debian's python3-scapy lives under the system interpreter; a pyenv python3 earlier on PATH lacks it.
python=/usr/bin/python3

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$build/vrouterd" ] && [ -x "$build/vrouterctl" ] || die "no $build/vrouterd; run make build"
"$python" -c 'import scapy' 2>/dev/null || die "$python lacks scapy; install python3-scapy (make deps)"
[ "$(id -u)" -eq 0 ] || echo "bench: not root; DPDK will probably fail to start" >&2

tmp=$(mktemp -d /tmp/vrouter-bench.XXXXXX)
# At most one forwarder runs at a time; the traps stop it by its PID, so an interrupted bench
# leaves no DPDK process holding lcore 1 or hugepages.
child=""
stop_child() {
  [ -n "$child" ] || return 0
  local pid=$child i
  child=""
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
scraper=""
stop_scraper() {
  [ -n "$scraper" ] || return 0
  kill -TERM "$scraper" 2>/dev/null || true
  wait "$scraper" 2>/dev/null || true
  scraper=""
}
runtime_dir=""  # a DPDK runtime directory the caller's forwarder made, removed at exit
cleanup() {
  stop_scraper
  stop_child
  [ -z "$runtime_dir" ] || rm -rf "$runtime_dir"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_log() { echo "---- $1 (last lines)" >&2; tail -n 20 "$1" >&2 || true; }

# Nanoseconds the forwarding lcore of process $1 has run on a CPU. The machine is shared: a
# process spinning on the same core halves the rate without any fault of the forwarder, and the
# worker's CPU time over the window shows it. DPDK 22.11 names lcore 1's thread rte-worker-1.
worker_ns() {
  local t ns rest
  for t in /proc/"$1"/task/*; do
    if [ "$(cat "$t/comm" 2>/dev/null)" = rte-worker-1 ]; then
      read -r ns rest <"$t/schedstat" && echo "$ns" && return 0
    fi
  done
  echo "bench: no rte-worker-1 thread in process $1" >&2
  return 1
}
# CPU share of a window: worker_ns delta over wall-clock delta.
share() { awk -v c0="$1" -v c1="$2" -v t0="$3" -v t1="$4" 'BEGIN { printf "%.2f", (c1 - c0) / 1e9 / (t1 - t0) }'; }

# Starts vrouterd on config $1 with its log in $2 and waits, polling every 10 ms, until it says it
# is forwarding; dies with the log after 180 s (a million routes in YAML take tens of seconds to
# parse) or if it exits. Sets `child`. vrouterd takes lcores 0-1 itself (control + one worker)
# and runs --in-memory. Not a $(...) function: the child's PID must stay visible to the traps.
start_vrouterd() {
  local i
  "$build/vrouterd" --config "$1" >"$2" 2>&1 &
  child=$!
  for i in $(seq 18000); do
    grep -qs 'forwarding:' "$2" && return 0  # -s: the background shell may not have made it yet
    kill -0 "$child" 2>/dev/null || { show_log "$2"; die "vrouterd ($1) exited during start-up"; }
    sleep 0.01
  done
  show_log "$2"
  die "vrouterd ($1) did not start forwarding in 180 s"
}

# Waits until the testpmd started in the background as `child` (log $1) forwards; dies with its
# log after 30 s or if it exits.
wait_testpmd() {
  local i
  for i in $(seq 300); do
    grep -saq 'Start automatic packet forwarding' "$1" && return 0
    kill -0 "$child" 2>/dev/null || { show_log "$1"; die "testpmd exited during start-up"; }
    sleep 0.1
  done
  show_log "$1"
  die "testpmd did not start forwarding in 30 s"
}

# Appends a row to the summary table of `make bench` (tests/bench/table.py) when BENCH_ROWS
# names a file: name, median, min, max, unit, note; tab-separated.
add_row() {
  [ -n "${BENCH_ROWS:-}" ] || return 0
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_ROWS"
}

# Sets `result` (Mpps) and `cpu` (the worker's CPU share) of one window of vrouterd on $config,
# One measuring window of the running vrouterd ($child), run $1: its stats at both ends in
# $tmp/a.json and $tmp/b.json, each timed at the midpoint of its request (a request takes
# milliseconds), as t0 and t1; the worker's CPU share over the window in `cpu`.
sample_window() {
  c0=$(worker_ns "$child") || die "vrouterd run $1: cannot read the worker's CPU time"
  t0=$EPOCHREALTIME
  "$build/vrouterctl" -j -s "$sock" stats >"$tmp/a.json"
  t0=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", (a + b) / 2 }')
  sleep "$window"
  t1=$EPOCHREALTIME
  "$build/vrouterctl" -j -s "$sock" stats >"$tmp/b.json"
  t1=$(awk -v a="$t1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", (a + b) / 2 }')
  c1=$(worker_ns "$child") || die "vrouterd run $1: cannot read the worker's CPU time"
  cpu=$(share "$c0" "$c1" "$t0" "$t1")
}

# run $1; with $2 and $3, scrapes path $2 of its metrics endpoint ($metrics_port) every $3 s.
run_vrouterd() {
  local log=$tmp/vrouterd.$1.log t0 t1 c0 c1
  rm -f "$sock"
  start_vrouterd "$config" "$log"
  if grep -q 'no hugepages' "$log"; then
    echo "bench: warning: vrouterd runs without hugepages; its rate is not comparable" >&2
  fi
  sleep "$warmup"
  if [ -n "${2:-}" ]; then
    # Scrapes of path $2 every $3 seconds through the window, each timed (request to last byte)
    # into $tmp/scrape$2.times with / as _. A scrape that fails is recorded, so the cost is never
    # measured on fewer than asked. One process over a kept-alive connection, as Prometheus
    # scrapes: a curl forked per scrape cost this 2-core machine more than the scrape did. It
    # stays on lcore 0's core (the control lcore's, where the endpoint's threads run too):
    # Prometheus runs on another machine, so a scraper on the worker's core would measure the
    # scraper, not the router.
    local times=$tmp/scrape${2//\//_}
    taskset -c 0 "$python" "$root/tests/bench/scrape.py" "http://127.0.0.1:$metrics_port$2" "$3" \
      "$times.times" "$times.failed" &
    scraper=$!
  fi
  sample_window "$1"
  stop_scraper
  stop_child
  # Only packets that left port out count; a window that forwarded nothing, or that dropped
  # much of what it received, measured something other than forwarding.
  result=$("$python" - "$tmp/a.json" "$tmp/b.json" "$t0" "$t1" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
dt = float(sys.argv[4]) - float(sys.argv[3])
def port(s, name, key):
    return next(p[key] for p in s['ports'] if p['name'] == name)
tx = port(b, 'out', 'tx_packets') - port(a, 'out', 'tx_packets')
rx = port(b, 'in', 'rx_packets') - port(a, 'in', 'rx_packets')
fwd = b['counters']['ip4_forwarded'] - a['counters']['ip4_forwarded']
drops = {k: b['drops'][k] - a['drops'][k] for k in b['drops'] if b['drops'][k] != a['drops'][k]}
if fwd <= 0 or tx <= 0:
    sys.exit(f'nothing forwarded in the window (rx {rx}, ip4_forwarded {fwd}, tx {tx}): '
             'the benchmark measured nothing')
if sum(drops.values()) > fwd / 1000:
    sys.exit(f'drops in the window {drops} against {fwd} forwarded: not a forwarding measurement')
if abs(tx - fwd) > fwd / 100:
    sys.exit(f'port out sent {tx} packets but {fwd} were forwarded')
print(f'{tx / dt / 1e6:.3f}')
EOF
  ) || { show_log "$log"; die "vrouterd run $1 failed to measure"; }
}

# start_vrouterd with vrouterd inside network namespace $1 (its knet device and the kernel it
# talks to live there): config $2, log $3. `ip netns exec` execs vrouterd in its own process, so
# `child` is vrouterd's PID, as the traps and worker_ns need.
start_vrouterd_in() {
  local i
  ip netns exec "$1" "$build/vrouterd" --config "$2" >"$3" 2>&1 &
  child=$!
  for i in $(seq 6000); do
    grep -qs 'forwarding:' "$3" && return 0
    kill -0 "$child" 2>/dev/null || { show_log "$3"; die "vrouterd ($2, netns $1) exited during start-up"; }
    sleep 0.01
  done
  show_log "$3"
  die "vrouterd ($2, netns $1) did not start forwarding in 60 s"
}

# Nanoseconds the control lcore (lcore 0: the process's main thread) of process $1 has run on a
# CPU; with worker_ns, the share of each core the router really had over a window.
control_ns() {
  local ns rest
  read -r ns rest <"/proc/$1/task/$1/schedstat" && echo "$ns"
}

# Median, min, max of the arguments.
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
  END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'; }
# "median (min-max)" of the arguments after the first, each printed with printf format $1.
spread() {
  local f=$1
  shift
  printf '%s\n' "$@" | sort -g | awk -v f="$f" '{ v[NR] = $1 }
    END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf f " (" f "-" f ")\n", m, v[1], v[NR] }'
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# run_vrouterd for traffic that vrouterd counts under event counter $1 (ip4_forwarded,
# ip6_forwarded), run $2, on $config: sets `result` (Mpps: packets port out sent per second of the
# window, which must agree with counter $1 within 1%) and `cpu`. Also keeps the window's changed
# drop counters in $tmp/drops.$2, and names them when a window forwarded nothing, and the
# worker's own TSC accounting (busy cycles over packets received) in `cpp`.
run_vrouterd_counted() {
  local counter=$1 log=$tmp/vrouterd.$1.$2.log t0 t1 c0 c1
  rm -f "$sock"
  start_vrouterd "$config" "$log"
  if grep -q 'no hugepages' "$log"; then
    echo "bench: warning: vrouterd runs without hugepages; its rate is not comparable" >&2
  fi
  sleep "$warmup"
  sample_window "$2"
  stop_child
  result=$("$python" - "$tmp/a.json" "$tmp/b.json" "$t0" "$t1" "$counter" "$tmp/drops.$2" "$tmp/cpp.$2" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
busy = sum(w['busy_cycles'] for w in b['workers']) - sum(w['busy_cycles'] for w in a['workers'])
got = sum(w['rx_packets'] for w in b['workers']) - sum(w['rx_packets'] for w in a['workers'])
with open(sys.argv[7], 'w') as f:
    f.write(f'{busy / got:.1f}\n' if got > 0 else 'nan\n')
dt = float(sys.argv[4]) - float(sys.argv[3])
counter = sys.argv[5]
def port(s, name, key):
    return next(p[key] for p in s['ports'] if p['name'] == name)
tx = port(b, 'out', 'tx_packets') - port(a, 'out', 'tx_packets')
rx = port(b, 'in', 'rx_packets') - port(a, 'in', 'rx_packets')
fwd = b['counters'][counter] - a['counters'][counter]
drops = {k: b['drops'][k] - a['drops'][k] for k in b['drops'] if b['drops'][k] != a['drops'][k]}
with open(sys.argv[6], 'w') as f:
    f.write(' '.join(f'{k}={v}' for k, v in sorted(drops.items())) + '\n')
if fwd <= 0 or tx <= 0:
    sys.exit(f'nothing forwarded in the window (rx {rx}, {counter} {fwd}, tx {tx}, drops {drops}): '
             'the benchmark measured nothing')
if sum(drops.values()) > fwd / 1000:
    sys.exit(f'drops in the window {drops} against {fwd} forwarded: not a forwarding measurement')
if abs(tx - fwd) > fwd / 100:
    sys.exit(f'port out sent {tx} packets but {counter} is {fwd}')
print(f'{tx / dt / 1e6:.3f}')
EOF
  ) || { show_log "$log"; die "vrouterd run $2 ($counter) failed to measure"; }
  cpp=$(cat "$tmp/cpp.$2")
}
