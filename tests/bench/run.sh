#!/usr/bin/env bash
# Benchmark (not a test), run by `make bench`: vrouterd's IPv4 forwarding rate with one worker,
# beside dpdk-testpmd io forwarding over the same net_pcap -> net_null vdevs, in the same run.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_RUNS:-5}
routes=10000
frames=1024
target=0.50
testpmd=${TESTPMD:-dpdk-testpmd}
# Both forwarders get the same pool size, so neither wins on a smaller cache footprint.
nbufs=16383

command -v "$testpmd" >/dev/null || die "no $testpmd; install dpdk-dev (make deps)"

# Traffic and config. Route i is 198.18.0.0 + 8*i, /29 for even i and /30 for odd i, so the FIB
# holds 10,000 prefixes longer than /24 (every lookup goes through a tbl8). Each frame
# goes to a host inside a different route, so the lookups spread over the table.
# A free loopback port for the metrics endpoint, so a bench never collides with a router running here.
metrics_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" - "$tmp" "$routes" "$frames" "$nbufs" "$metrics_port" <<'EOF'
import random, sys
from scapy.all import Ether, IP, UDP, Raw, wrpcap

tmp, routes, frames, nbufs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
metrics_port = sys.argv[5]

def ip(n):
    return '.'.join(str((n >> s) & 255) for s in (24, 16, 8, 0))

base = (198 << 24) | (18 << 16)
rng = random.Random(1)  # the same frames every run, so runs and machines compare
pkts = []
for i in rng.sample(range(routes), frames):
    hosts = 6 if i % 2 == 0 else 2  # usable hosts of a /29 and a /30
    dst = ip(base + 8 * i + 1 + rng.randrange(hosts))
    p = (Ether(dst='02:00:00:00:00:01', src='02:00:00:00:00:02') /
         IP(src='198.19.254.2', dst=dst, ttl=64) / UDP(sport=1024 + i, dport=9))
    # 64-byte frames on the wire include the 4-byte FCS, which a pcap does not hold.
    p = p / Raw(b'\0' * (60 - len(p)))
    assert len(bytes(p)) == 60
    pkts.append(p)
wrpcap(f'{tmp}/traffic.pcap', pkts)

lines = [
    'dataplane:', '  workers: 1', f'  nbufs: {nbufs}',
    'control:', f'  socket: {tmp}/control.sock',
    'metrics:', f'  listen: 127.0.0.1:{metrics_port}',
    'ports:',
    '  - name: in',
    f'    device: net_pcap0,rx_pcap={tmp}/traffic.pcap,infinite_rx=1',
    '    mac: 02:00:00:00:00:01',
    '    addresses: [198.19.254.1/24]',
    '  - name: out',
    '    device: net_null0,no-rx=1',
    '    mac: 02:00:00:00:00:03',
    '    addresses: [198.19.255.1/24]',
    # Static, so no packet waits on ARP and the control lcore stays out of the path.
    'neighbours:',
    '  - {ip: 198.19.255.2, mac: "02:00:00:00:00:04", port: out}',
    'routes:',
]
for i in range(routes):
    lines.append(f'  - {{prefix: {ip(base + 8 * i)}/{29 if i % 2 == 0 else 30}, via: 198.19.255.2}}')
with open(f'{tmp}/bench.yaml', 'w') as f:
    f.write('\n'.join(lines) + '\n')
EOF
"$build/vrouterd" --config "$tmp/bench.yaml" --check >/dev/null || die "the generated config is invalid"

pcap=$tmp/traffic.pcap
config=$tmp/bench.yaml
sock=$tmp/control.sock
# net_pcap with only rx_pcap drops what is sent to it, and net_null with no-rx never receives:
# the only traffic is pcap -> null, for both forwarders.
in_dev="net_pcap0,rx_pcap=$pcap,infinite_rx=1"
out_dev="net_null0,no-rx=1"

# testpmd is measured like vrouterd: its cumulative TX count on port 1 (net_null0; vdevs are
# numbered in command-line order) read at both ends of the window. Its periodic stats are not
# used because their period drifts between 1 and 2 s. Commands go through a FIFO to its
# interactive prompt; each is read at once by the idle main lcore, so the send time is the
# sample time. stdbuf: without a terminal its replies would sit in a buffer until exit.
run_testpmd() {
  local log=$tmp/testpmd.$1.log fifo=$tmp/testpmd.in cmd i t0 t1 c0 c1
  rm -f "$fifo"
  mkfifo "$fifo"
  # Read-write, so opening never blocks and testpmd sees no EOF between commands.
  exec {cmd}<>"$fifo"
  stdbuf -oL "$testpmd" -l 0-1 --in-memory --no-pci --no-telemetry --log-level='*:notice' \
    --vdev "$in_dev" --vdev "$out_dev" -- \
    -i --forward-mode=io --auto-start --nb-cores=1 --burst=32 --total-num-mbufs="$nbufs" \
    <"$fifo" >"$log" 2>&1 &
  child=$!
  for i in $(seq 300); do
    grep -aq 'Start automatic packet forwarding' "$log" && break
    kill -0 "$child" 2>/dev/null || { show_log "$log"; die "testpmd exited during start-up"; }
    sleep 0.1
  done
  grep -aq 'Start automatic packet forwarding' "$log" ||
    { show_log "$log"; die "testpmd did not start forwarding in 30 s"; }
  sleep "$warmup"
  c0=$(worker_ns "$child") || die "testpmd run $1: cannot read the worker's CPU time"
  t0=$EPOCHREALTIME
  echo "show port stats 1" >&"$cmd"
  sleep "$window"
  t1=$EPOCHREALTIME
  echo "show port stats 1" >&"$cmd"
  c1=$(worker_ns "$child") || die "testpmd run $1: cannot read the worker's CPU time"
  cpu=$(share "$c0" "$c1" "$t0" "$t1")
  echo "quit" >&"$cmd"
  # quit prints the final stats and closes the ports; TERM only if it hangs.
  for i in $(seq 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
  stop_child
  exec {cmd}>&-
  result=$(awk -v t0="$t0" -v t1="$t1" '
    /NIC statistics for port/ { port = $(NF - 1) + 0 }
    /^ *TX-packets:/ && port == 1 && n < 2 { tx[++n] = $2 }
    END { if (n < 2 || tx[2] <= tx[1]) exit 1; printf "%.3f\n", (tx[2] - tx[1]) / (t1 - t0) / 1e6 }' "$log") ||
    { show_log "$log"; die "testpmd run $1 failed to measure (no TX on port 1 in the window)"; }
}

echo "bench: $frames x 64-byte IPv4/UDP frames to $routes routes, net_pcap (infinite_rx) -> net_null"
echo "bench: one forwarding lcore each; $runs runs of $window s after $warmup s warm-up, alternating"
vr=() vr_cpu=() tp=() tp_cpu=()
for r in $(seq "$runs"); do
  # Alternating spreads the noise of a shared machine over both forwarders alike.
  run_vrouterd "$r"; vr+=("$result"); vr_cpu+=("$cpu")
  run_testpmd "$r"; tp+=("$result"); tp_cpu+=("$cpu")
  echo "bench: run $r: vrouterd ${vr[-1]} Mpps, testpmd ${tp[-1]} Mpps"
done

read -r vr_med vr_min vr_max < <(stats "${vr[@]}")
read -r tp_med tp_min tp_max < <(stats "${tp[@]}")

echo
printf '%-7s %14s %5s %14s %5s %7s\n' run 'vrouterd Mpps' cpu 'testpmd Mpps' cpu ratio
vr_norm=() tp_norm=() busy=0
for i in "${!vr[@]}"; do
  printf '%-7s %14s %5s %14s %5s %7.2f\n' "$((i + 1))" "${vr[i]}" "${vr_cpu[i]}" "${tp[i]}" \
    "${tp_cpu[i]}" "$(div "${vr[i]}" "${tp[i]}")"
  vr_norm+=("$(div "${vr[i]}" "${vr_cpu[i]}")")
  tp_norm+=("$(div "${tp[i]}" "${tp_cpu[i]}")")
  if awk -v a="${vr_cpu[i]}" -v b="${tp_cpu[i]}" 'BEGIN { exit !(a < 0.95 || b < 0.95) }'; then
    busy=1
  fi
done
printf '%-7s %14s %5s %14s\n' median "$vr_med" '' "$tp_med"
printf '%-7s %14s %5s %14s\n' min "$vr_min" '' "$tp_min"
printf '%-7s %14s %5s %14s\n' max "$vr_max" '' "$tp_max"
ratio=$(awk -v a="$vr_med" -v b="$tp_med" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$ratio" -v t="$target" 'BEGIN { print (r >= t) ? "met" : "NOT met" }')
echo
echo "ratio of medians vrouterd/testpmd: $ratio (target >= $target: $met)"
if [ "$busy" -eq 1 ]; then
  # Rates divided by the CPU share: what each would forward per second of its own CPU time.
  read -r vr_nmed _ < <(stats "${vr_norm[@]}")
  read -r tp_nmed _ < <(stats "${tp_norm[@]}")
  echo "warning: a forwarding lcore got less than 95% of its CPU in some runs (column cpu):"
  echo "         other processes share the cores, so the rates above are low and noisy."
  printf "         Per CPU-second: vrouterd %s, testpmd %s Mpps, ratio %.2f\n" "$vr_nmed" "$tp_nmed" "$(div "$vr_nmed" "$tp_nmed")"
fi
