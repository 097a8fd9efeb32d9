#!/usr/bin/env bash
# Benchmark (not a test): one-way latency through vrouterd at half of its maximum rate, measured by
# tests/bench/latency_probe over two memif pairs, beside testpmd io forwarding over the same pairs.
#
# The probe (memif servers, CPU 0) sends 64-byte IPv4/UDP frames stamped with the TSC to port `in`
# of the forwarder (memif clients; control lcore on CPU 0, worker on CPU 1) and times them back
# from port `out`. Max rate first (the probe sending as fast as the ring takes frames), then
# latency at half of vrouterd's median max rate, vrouterd and testpmd alternating per round.
# BENCH_RUNS (3), BENCH_WARMUP (2 s), BENCH_SECONDS (5 s); BENCH_ROWS=<file> appends
# `name<TAB>median<TAB>min<TAB>max<TAB>unit<TAB>note` lines.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_RUNS:-3}
routes=10000
testpmd=${TESTPMD:-dpdk-testpmd}
nbufs=16383
command -v "$testpmd" >/dev/null || die "no $testpmd; install dpdk-dev (make deps)"
[ -x "$build/tests/bench/latency_probe" ] || die "no $build/tests/bench/latency_probe; run make build"

# The same binaries for every run, whatever another shell rebuilds meanwhile.
mkdir "$tmp/bin"
cp "$build/vrouterd" "$build/vrouterctl" "$build/tests/bench/latency_probe" "$tmp/bin/"
echo "bench: vrouterd built $(date -r "$build/vrouterd" '+%F %T'), tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
build=$tmp/bin
probe_bin=$tmp/bin/latency_probe

probe=""
stop_probe() {
  [ -n "$probe" ] || return 0
  kill -TERM "$probe" 2>/dev/null || true
  wait "$probe" 2>/dev/null || true
  probe=""
}
trap 'stop_probe; cleanup' EXIT

# Socket files of the two memif pairs: the probe is the server of both, the forwarder the client.
in_sock=$tmp/in.sock
out_sock=$tmp/out.sock
memif_in() { echo "net_memif0,role=$1,id=0,socket=$in_sock,socket-abstract=no"; }
memif_out() { echo "net_memif1,role=$1,id=0,socket=$out_sock,socket-abstract=no"; }

# vrouterd: run.sh's router with memif ports: 10,000 routes (/29 and /30 from 198.18.0.0) via a
# static neighbour on `out`. The probe sends to route hosts from the same scheme.
sock=$tmp/control.sock
config=$tmp/latency.yaml
metrics_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" - "$config" "$routes" "$nbufs" "$sock" "$metrics_port" "$(memif_in client)" "$(memif_out client)" <<'EOF'
import sys
path, routes, nbufs, sock, metrics_port, dev_in, dev_out = sys.argv[1:]
def ip(n):
    return '.'.join(str((n >> s) & 255) for s in (24, 16, 8, 0))
base = (198 << 24) | (18 << 16)
lines = ['dataplane:', '  workers: 1', f'  nbufs: {nbufs}',
         'control:', f'  socket: {sock}',
         'metrics:', f'  listen: 127.0.0.1:{metrics_port}',
         'ports:',
         '  - name: in', f'    device: {dev_in}', '    mac: 02:00:00:00:00:01',
         '    addresses: [198.19.254.1/24]',
         '  - name: out', f'    device: {dev_out}', '    mac: 02:00:00:00:00:03',
         '    addresses: [198.19.255.1/24]',
         'neighbours:', '  - {ip: 198.19.255.2, mac: "02:00:00:00:00:04", port: out}',
         'routes:']
for i in range(int(routes)):
    lines.append(f'  - {{prefix: {ip(base + 8 * i)}/{29 if i % 2 == 0 else 30}, via: 198.19.255.2}}')
open(path, 'w').write('\n'.join(lines) + '\n')
EOF
"$build/vrouterd" --config "$config" --check >/dev/null || die "the generated config is invalid"

# testpmd's prompt reads this FIFO, held open read-write here so it never sees EOF: its main lcore
# blocks in read() and leaves CPU 0 to the sender or the probe.
mkfifo "$tmp/testpmd.in"
exec {testpmd_cmd}<>"$tmp/testpmd.in"
# Starts the forwarder $1 (vrouterd or testpmd) as `child`, memif clients of the running probe.
start_forwarder() {
  local log=$2 i
  rm -f "$sock"
  if [ "$1" = vrouterd ]; then
    start_vrouterd "$config" "$log"
    return 0
  fi
  # testpmd like run.sh's: lcores 0-1 (main, one forwarding lcore), io mode, bursts of 32; port 0
  # (in) to port 1 (out); the main lcore blocks on its prompt.
  stdbuf -oL "$testpmd" -l 0-1 --in-memory --no-pci --no-telemetry --log-level='*:notice' \
    --vdev "$(memif_in client)" --vdev "$(memif_out client)" -- \
    --forward-mode=io --auto-start --nb-cores=1 --burst=32 --total-num-mbufs="$nbufs" -i \
    <"$tmp/testpmd.in" >"$log" 2>&1 &
  child=$!
  wait_testpmd "$log"
}

# One probe run through forwarder $1 at rate $2 (frames/s, 0 = as fast as it can), tag $3. Sets
# p_<key> from the probe's result line (p_cpu: the probe's CPU share over its window) and `cpu`:
# the forwarder's worker's CPU share from the forwarder's start to the probe's end.
measure() {
  local fwd=$1 rate=$2 tag=$3 plog=$tmp/probe.$3.log flog=$tmp/$1.$3.log i c0 c1 t0 t1 kv
  rm -f "$in_sock" "$out_sock"
  # Probe on CPU 0, beside the forwarder's control lcore (idle but for its 1 ms poll timeouts).
  taskset -c 0 "$probe_bin" -l 0 --in-memory --no-pci --no-telemetry --log-level='*:notice' \
    --vdev "$(memif_in server)" --vdev "$(memif_out server)" -- \
    --tx net_memif0 --rx net_memif1 --rate "$rate" --warmup "$warmup" --seconds "$window" \
    --routes "$routes" --dst-mac 02:00:00:00:00:01 --timeout 60 >"$plog" 2>&1 &
  probe=$!
  for i in $(seq 300); do
    grep -sq 'latency_probe: listening' "$plog" && break
    kill -0 "$probe" 2>/dev/null || { show_log "$plog"; die "latency_probe exited during start-up"; }
    sleep 0.1
  done
  start_forwarder "$fwd" "$flog"
  c0=$(worker_ns "$child") || die "$fwd: no worker thread"
  t0=$EPOCHREALTIME
  # The probe prints its result line and then waits for TERM: the forwarder leaves first.
  until grep -sq '^window_s=' "$plog"; do
    kill -0 "$probe" 2>/dev/null || { show_log "$plog"; show_log "$flog"; die "latency_probe through $fwd failed"; }
    sleep 0.1
  done
  t1=$EPOCHREALTIME
  c1=$(worker_ns "$child")
  stop_child
  stop_probe
  cpu=$(share "$c0" "$c1" "$t0" "$t1")
  for kv in $(grep '^window_s=' "$plog"); do declare -g "p_${kv%%=*}=${kv#*=}"; done
  [ -n "${p_p50_us:-}" ] || { show_log "$plog"; die "no result from latency_probe through $fwd"; }
}

echo "bench: memif pairs, probe on CPU 0, forwarders on lcores 0-1; $runs rounds, ${window} s windows after ${warmup} s"
vr_max=() tp_max=() max_lines=()
max_row='%-7s %14s %6s %9s %14s %6s %9s\n'
for r in $(seq "$runs"); do
  measure vrouterd 0 "max$r"; vr_max+=("$p_rx_mpps")
  local_line=("$r" "$p_rx_mpps" "$cpu" "$(awk -v a="$p_refused" -v b="$p_sent" 'BEGIN { printf "%.2f", b ? a / b : 0 }')")
  measure testpmd 0 "tmax$r"; tp_max+=("$p_rx_mpps")
  max_lines+=("$(printf "$max_row" "${local_line[@]}" "$p_rx_mpps" "$cpu" "$(awk -v a="$p_refused" -v b="$p_sent" 'BEGIN { printf "%.2f", b ? a / b : 0 }')")")
  echo "bench: max rate round $r: vrouterd ${vr_max[-1]} Mpps, testpmd ${tp_max[-1]} Mpps (probe sending as fast as the ring takes)"
done
read -r vm_med vm_min vm_max < <(stats "${vr_max[@]}")
read -r tm_med tm_min tm_max < <(stats "${tp_max[@]}")
rate=$(awk -v m="$vm_med" 'BEGIN { printf "%d", m * 1e6 / 2 }')
echo "bench: latency at $rate frames/s (half of vrouterd's median max rate)"

lat_row='%-9s %-9s %8s %8s %8s %8s %9s %8s %6s %6s\n'
lines=()
declare -A v
for r in $(seq "$runs"); do
  for f in vrouterd testpmd; do
    measure "$f" "$rate" "$f.lat$r"
    for k in p50_us p99_us p999_us max_us rx_mpps lost; do
      v[$f.$k]+="$(eval echo "\$p_$k") "
    done
    v[$f.cpu]+="$cpu "
    lines+=("$(printf "$lat_row" "$r" "$f" "$p_p50_us" "$p_p99_us" "$p_p999_us" "$p_max_us" "$p_rx_mpps" "$p_lost" "$cpu" "$p_cpu")")
    echo "bench: round $r $f: p50 $p_p50_us us, p99 $p_p99_us us, p99.9 $p_p999_us us, max $p_max_us us, lost $p_lost of $p_sent"
  done
done

echo
echo "max rate over memif, Mpps received by the probe (refused: share of the probe's frames the full ring refused)"
printf "$max_row" round 'vrouterd Mpps' cpu refused 'testpmd Mpps' cpu refused
printf '%s\n' "${max_lines[@]}"
printf "$max_row" median "$vm_med" '' '' "$tm_med" '' ''
printf "$max_row" min "$vm_min" '' '' "$tm_min" '' ''
printf "$max_row" max "$vm_max" '' '' "$tm_max" '' ''
echo
echo "one-way latency at $(awk -v r="$rate" 'BEGIN { printf "%.3f", r / 1e6 }') Mpps, us"
printf "$lat_row" run forwarder p50 p99 p99.9 max 'rx Mpps' lost cpu pcpu
printf '%s\n' "${lines[@]}"
for f in vrouterd testpmd; do
  for k in p50_us p99_us p999_us max_us; do
    read -r med mn mx < <(stats ${v[$f.$k]})
    declare -g "m_${f}_$k=$med" "lo_${f}_$k=$mn" "hi_${f}_$k=$mx"
  done
  printf "$lat_row" median "$f" "$(eval echo "\$m_${f}_p50_us")" "$(eval echo "\$m_${f}_p99_us")" \
    "$(eval echo "\$m_${f}_p999_us")" "$(eval echo "\$m_${f}_max_us")" '' '' '' ''
done
echo
echo "latency: probe TX (TSC stamp in the UDP payload) to probe RX of the same frame, through the"
echo "  forwarder's memif ports; p50/p99/p99.9/max over every frame sent in the window that came back;"
echo "  lost: frames of the window that never came back (refused by a full ring included)."
echo "  cpu: the forwarding lcore's share of CPU 1 from its start to the probe's result; pcpu: the"
echo "  probe's share of CPU 0 over its window, which it shares with the forwarder's control lcore."
echo "  Below about 0.95, other processes ran on that core and the figures measure them too."
note="probe->memif->forwarder->memif->probe, 64 B, $routes routes, probe on CPU0 (shared with control lcore), worker CPU1"
add_row vrouterd_memif "$vm_med" "$vm_min" "$vm_max" Mpps "max rate, $note"
add_row testpmd_memif "$tm_med" "$tm_min" "$tm_max" Mpps "max rate, io mode, $note"
for f in vrouterd testpmd; do
  for k in p50 p99 p999; do
    add_row "${f}_latency_$k" "$(eval echo "\$m_${f}_${k}_us")" "$(eval echo "\$lo_${f}_${k}_us")" \
      "$(eval echo "\$hi_${f}_${k}_us")" us "one-way at $rate frames/s (half of vrouterd's memif max), $note"
  done
done
