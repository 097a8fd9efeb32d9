#!/usr/bin/env bash
# Benchmark (not a test), run by `make bench`: vrouterd's IPv4 and IPv6 forwarding rates with one
# worker, beside dpdk-testpmd io forwarding and DPDK's l3fwd example (LPM) over the same net_pcap ->
# net_null vdevs and the same routes, in the same run.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The binaries are copied first: another shell may rebuild build/ during these minutes, and every
# run must measure the same vrouterd.
mkdir "$tmp/bin"
cp "$build/vrouterd" "$build/vrouterctl" "$tmp/bin/"
echo "bench: vrouterd built $(date -r "$build/vrouterd" '+%F %T'), tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
build=$tmp/bin
[[ $("$build/vrouterd" --help 2>&1 || true) == vrouterd:* ]] || die "the copy of vrouterd does not run (a build in progress?)"

runs=${BENCH_RUNS:-5}
routes=10000
frames=1024
# The large table: a million /29 and /30 routes (a full Internet table's size, every lookup
# through a tbl8), 8,192 frames to 8,192 of them.
routes1m=1000000
frames1m=8192
target=0.50
target6=0.8   # issue 7: vrouterd's IPv6 rate over its IPv4 rate, same run
testpmd=${TESTPMD:-dpdk-testpmd}
# Both forwarders get the same pool size, so neither wins on a smaller cache footprint (l3fwd's
# is raised to it below).
nbufs=16383

command -v "$testpmd" >/dev/null || die "no $testpmd; install dpdk-dev (make deps)"
l3fwd_src=/usr/share/dpdk/examples/l3fwd
[ -f "$l3fwd_src/main.c" ] || die "no $l3fwd_src; install dpdk-doc (make deps)"

# l3fwd, built from Debian's copy of the example into the scratch directory; nothing of it
# enters the repository. Changes, each because a vdev or this table needs it: the Rx
# offloads it asks for are masked by what the device offers (vdevs have no checksum offload,
# and stock l3fwd exits "Cannot configure device: err=-22"); its LPM table is sized for 10,000
# routes (stock: 1,024 rules, 256 tbl8 groups) and its FIB (rte_fib, DIR-24-8) for a million
# (stock: 65,536 routes; its 32,768 tbl8 groups hold the 31,250 /24s the routes split); its pool holds as many mbufs as vrouterd's
# (stock: at least 8,192, fewer than the 8,192 frames net_pcap keeps for the million-route rows
# plus the descriptor rings); and it logs only its first four IPv4 routes (a line per route).
# The million-route rows run l3fwd with --lookup=fib: rte_lpm keeps its rules in an array that
# each add scans (quadratic), and did not load a million in 120 s; rte_fib keeps them in a tree.
echo "bench: building l3fwd from $l3fwd_src"
cp -r "$l3fwd_src" "$tmp/l3fwd"
sed -i 's|^\t\tlocal_port_conf.rx_adv_conf.rss_conf.rss_hf &=|\t\tlocal_port_conf.rxmode.offloads \&= dev_info.rx_offload_capa;\n&|' \
  "$tmp/l3fwd/main.c"
sed -i 's|^\t\t\trxq_conf.offloads = port_conf.rxmode.offloads;|\t\t\trxq_conf.offloads = port_conf.rxmode.offloads \& dev_info.rx_offload_capa;|' \
  "$tmp/l3fwd/main.c"
sed -i 's|^#define IPV4_L3FWD_LPM_MAX_RULES .*|#define IPV4_L3FWD_LPM_MAX_RULES (1 << 20)|; s|^#define IPV4_L3FWD_LPM_NUMBER_TBL8S .*|#define IPV4_L3FWD_LPM_NUMBER_TBL8S (1 << 16)|' \
  "$tmp/l3fwd/l3fwd_lpm.c"
sed -i "s|^\t(unsigned)8192)|\t(unsigned)$nbufs)|" "$tmp/l3fwd/main.c"
sed -i '0,/^\t\tprintf("LPM: Adding route/s//\t\tif (i < 4) printf("LPM: Adding route/' "$tmp/l3fwd/l3fwd_lpm.c"
sed -i 's|^\tconfig_ipv4.max_routes = (1 << 16);|\tconfig_ipv4.max_routes = (1 << 20);|
  0,/^\t\tif (inet_ntop(AF_INET, /s//\t\tif (i >= 4) {} else if (inet_ntop(AF_INET, /' "$tmp/l3fwd/l3fwd_fib.c"
[ "$(grep -c 'dev_info.rx_offload_capa' "$tmp/l3fwd/main.c")" -ge 2 ] &&
  grep -q 'LPM_NUMBER_TBL8S (1 << 16)' "$tmp/l3fwd/l3fwd_lpm.c" &&
  grep -q "(unsigned)$nbufs)" "$tmp/l3fwd/main.c" &&
  grep -q 'if (i < 4) printf("LPM: Adding route' "$tmp/l3fwd/l3fwd_lpm.c" &&
  grep -q 'max_routes = (1 << 20)' "$tmp/l3fwd/l3fwd_fib.c" &&
  grep -q 'if (i >= 4) {} else if (inet_ntop(AF_INET, ' "$tmp/l3fwd/l3fwd_fib.c" ||
  die "could not patch l3fwd: has $l3fwd_src changed?"
CFLAGS="-I$l3fwd_src/../common" make -s -C "$tmp/l3fwd" >"$tmp/l3fwd.build.log" 2>&1 ||
  { show_log "$tmp/l3fwd.build.log"; die "l3fwd did not build"; }
l3fwd=$tmp/l3fwd/build/l3fwd

# Traffic and config. Route i is 198.18.0.0 + 8*i, /29 for even i and /30 for odd i, so the FIB
# holds 10,000 prefixes longer than /24 (every lookup goes through a tbl8). Each frame
# goes to a host inside a different route, so the lookups spread over the table.
# IPv6 (issue 7): route i is 2001:db8:0:i::/64, the common length, handed out in sequence from
# 2001:db8::/48 as the IPv4 ones are from 198.18.0.0, all via 2001:db8:1:255::2, a static
# neighbour on port out (no neighbour discovery, as the IPv4 neighbour needs no ARP). Frame j of
# the IPv6 pcap goes to the route of frame j of the IPv4 pcap (the same seeded sample), to a
# random interface id in it: every lookup walks the table to the /64's level.
# A free loopback port for the metrics endpoint, so a bench never collides with a router running here.
metrics_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" - "$tmp" "$routes" "$frames" "$nbufs" "$metrics_port" "$routes1m" "$frames1m" <<'EOF'
import ipaddress, random, sys
from scapy.all import Ether, IP, IPv6, UDP, Raw, wrpcap

tmp, routes, frames, nbufs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
metrics_port = sys.argv[5]
routes1m, frames1m = int(sys.argv[6]), int(sys.argv[7])

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

# IPv6: Ethernet 14 + IPv6 40 + UDP 8 = 62 bytes before any payload, more than the IPv4 frames'
# 60: no IPv6/UDP frame fits 64 bytes with its FCS. As the issue counts it (64 bytes of frame,
# 2 of UDP payload), the pcap holds 64-byte frames, 68 on the wire.
base6 = int(ipaddress.IPv6Address('2001:db8::'))
def net6(i):
    return ipaddress.IPv6Network((base6 + (i << 64), 64))
rng = random.Random(1)
pkts6 = []
for i in rng.sample(range(routes), frames):
    dst = net6(i)[1 + rng.randrange((1 << 64) - 2)]  # not the Subnet-Router anycast address
    p = (Ether(dst='02:00:00:00:00:01', src='02:00:00:00:00:02') /
         IPv6(src='2001:db8:1:254::2', dst=str(dst), hlim=64) / UDP(sport=1024 + i, dport=9))
    p = p / Raw(b'\0' * (64 - len(p)))
    assert len(bytes(p)) == 64
    pkts6.append(p)
wrpcap(f'{tmp}/traffic6.pcap', pkts6)

# The same routes for l3fwd, all to port 1 (net_null0); its IPv6 table needs one entry.
with open(f'{tmp}/l3fwd_v4.cfg', 'w') as f:
    for i in range(routes):
        f.write(f'R{ip(base + 8 * i)}/{29 if i % 2 == 0 else 30} 1\n')
with open(f'{tmp}/l3fwd_v6.cfg', 'w') as f:
    f.write('R2001:db8::/64 1\n')

def config(pcap, v6):
    """The IPv4 router; with v6, the same router dual-stack: an IPv6 address on each port, the
    static IPv6 neighbour and the 10,000 IPv6 routes added."""
    a_in = '198.19.254.1/24' + (', 2001:db8:1:254::1/64' if v6 else '')
    a_out = '198.19.255.1/24' + (', 2001:db8:1:255::1/64' if v6 else '')
    lines = [
        'dataplane:', '  workers: 1', f'  nbufs: {nbufs}',
        'control:', f'  socket: {tmp}/control.sock',
        'metrics:', f'  listen: 127.0.0.1:{metrics_port}',
        'ports:',
        '  - name: in',
        f'    device: net_pcap0,rx_pcap={tmp}/{pcap},infinite_rx=1',
        '    mac: 02:00:00:00:00:01',
        f'    addresses: [{a_in}]',
        '  - name: out',
        '    device: net_null0,no-rx=1',
        '    mac: 02:00:00:00:00:03',
        f'    addresses: [{a_out}]',
        # Static, so no packet waits on ARP (or NDP) and the control lcore stays out of the path.
        'neighbours:',
        '  - {ip: 198.19.255.2, mac: "02:00:00:00:00:04", port: out}',
    ]
    if v6:
        lines.append('  - {ip: "2001:db8:1:255::2", mac: "02:00:00:00:00:04", port: out}')
    lines.append('routes:')
    for i in range(routes):
        lines.append(f'  - {{prefix: {ip(base + 8 * i)}/{29 if i % 2 == 0 else 30}, via: 198.19.255.2}}')
    if v6:
        for i in range(routes):
            lines.append(f'  - {{prefix: "{net6(i)}", via: "2001:db8:1:255::2"}}')
    return '\n'.join(lines) + '\n'

with open(f'{tmp}/bench.yaml', 'w') as f:
    f.write(config('traffic.pcap', False))
with open(f'{tmp}/bench6.yaml', 'w') as f:
    f.write(config('traffic6.pcap', True))

# The million routes: 1,000,000 x 8 addresses do not fit in 198.18.0.0/15, so they are
# 10.0.0.0 + 8*i, /29 and /30 alternating (10.0.0.0/9). These frames only ever pass from one
# vdev to another inside the process: no address of theirs reaches a network.
base1m = 10 << 24
rng = random.Random(2)
pkts = []
for i in rng.sample(range(routes1m), frames1m):
    hosts = 6 if i % 2 == 0 else 2
    dst = ip(base1m + 8 * i + 1 + rng.randrange(hosts))
    p = (Ether(dst='02:00:00:00:00:01', src='02:00:00:00:00:02') /
         IP(src='198.19.254.2', dst=dst, ttl=64) / UDP(sport=1024 + i % 60000, dport=9))
    pkts.append(p / Raw(b'\0' * (60 - len(p))))
wrpcap(f'{tmp}/traffic1m.pcap', pkts)
with open(f'{tmp}/l3fwd_v4_1m.cfg', 'w') as f:
    for i in range(routes1m):
        f.write(f'R{ip(base1m + 8 * i)}/{29 if i % 2 == 0 else 30} 1\n')
lines = config('traffic1m.pcap', False).split('\n')
lines = lines[:lines.index('routes:') + 1]
lines += [f'  - {{prefix: {ip(base1m + 8 * i)}/{29 if i % 2 == 0 else 30}, via: 198.19.255.2}}'
          for i in range(routes1m)]
with open(f'{tmp}/bench1m.yaml', 'w') as f:
    f.write('\n'.join(lines) + '\n')
EOF
"$build/vrouterd" --config "$tmp/bench.yaml" --check >/dev/null || die "the generated config is invalid"
"$build/vrouterd" --config "$tmp/bench6.yaml" --check >/dev/null || die "the generated IPv6 config is invalid"

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
  wait_testpmd "$log"
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

# l3fwd has no prompt or periodic stats: port 1's TX count is read through DPDK's telemetry
# socket, so it runs with its own file prefix (not --in-memory) and one lcore, which both
# forwards and is its main thread (net_pcap has one TX queue, and l3fwd wants one per lcore).
# stdbuf: without a terminal its start-up lines would sit in a buffer.
l3fwd_tx() {
  "$python" - "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(4096)
s.send(b'/ethdev/stats,1')
print(json.loads(s.recv(65536))['/ethdev/stats']['opackets'])
PY
}
# --huge-unlink: its hugepage files go when their mappings do, however it stops; the runtime
# directory goes at the end of the bench (lib.sh's cleanup).
# Run $1 over the IPv4 rules in file $2 with traffic from devargs $3, lookup $4 (lpm or fib).
runtime_dir=/var/run/dpdk/vrbench-l3fwd-$$
run_l3fwd() {
  local log=$tmp/l3fwd.$1.log sock=$runtime_dir/dpdk_telemetry.v2 i t0 t1 c0 c1 a b rest
  stdbuf -oL "$l3fwd" -l 1 --file-prefix="${runtime_dir##*/}" --huge-unlink --no-pci \
    --log-level='*:notice' \
    --vdev "$3" --vdev "$out_dev" -- -p 0x3 --config="(0,0,1),(1,0,1)" --lookup="$4" \
    --rule_ipv4="$2" --rule_ipv6="$tmp/l3fwd_v6.cfg" --parse-ptype -P \
    >"$log" 2>&1 &
  child=$!
  # A million rules take l3fwd some seconds to load.
  for i in $(seq 1200); do
    # The last line before its loop ("entering main loop" is INFO, below the log level).
    grep -saq '^Port 1 Link' "$log" && [ -S "$sock" ] && break
    kill -0 "$child" 2>/dev/null || { show_log "$log"; die "l3fwd exited during start-up"; }
    sleep 0.1
  done
  grep -aq '^Port 1 Link' "$log" || { show_log "$log"; die "l3fwd did not start in 120 s"; }
  sleep "$warmup"
  read -r c0 rest <"/proc/$child/schedstat"
  t0=$EPOCHREALTIME
  a=$(l3fwd_tx "$sock") || die "l3fwd run $1: cannot read its telemetry"
  sleep "$window"
  t1=$EPOCHREALTIME
  b=$(l3fwd_tx "$sock") || die "l3fwd run $1: cannot read its telemetry"
  read -r c1 rest <"/proc/$child/schedstat"
  cpu=$(share "$c0" "$c1" "$t0" "$t1")
  stop_child
  [ "$b" -gt "$a" ] || { show_log "$log"; die "l3fwd run $1 forwarded nothing"; }
  result=$(awk -v a="$a" -v b="$b" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.3f", (b - a) / (t1 - t0) / 1e6 }')
}

# vrouterd's rows: 10,000 IPv4 routes (bench.yaml); the same router dual-stack (bench6.yaml)
# with the IPv6 pcap on port in; a million IPv4 routes (bench1m.yaml).
run_vrouterd4() {
  local config=$tmp/bench.yaml
  run_vrouterd_counted ip4_forwarded "$1"
}
run_vrouterd6() {
  local config=$tmp/bench6.yaml
  run_vrouterd_counted ip6_forwarded "$1"
}
run_vrouterd1m() {
  local config=$tmp/bench1m.yaml
  run_vrouterd_counted ip4_forwarded "1m.$1"
}

echo "bench: $frames x 64-byte IPv4/UDP frames to $routes routes, net_pcap (infinite_rx) -> net_null"
echo "bench: and $frames x 64-byte IPv6/UDP frames (68 with FCS) to $routes IPv6 /64 routes, for vrouterd's IPv6 column"
echo "bench: and $frames1m x 64-byte IPv4/UDP frames to $routes1m routes, vrouterd and l3fwd (the 1M columns)"
echo "bench: one forwarding lcore each; $runs runs of $window s after $warmup s warm-up, alternating"
vr=() vr_cpu=() v6=() v6_cpu=() tp=() tp_cpu=() lf=() lf_cpu=() v6r=()
vm=() vm_cpu=() lm=() lm_cpu=() vr_cpp=() v6_cpp=() vm_cpp=()
for r in $(seq "$runs"); do
  # Alternating spreads the noise of a shared machine over the forwarders alike; IPv6 runs right
  # after IPv4 so that the round's ratio of the two sees the same machine.
  run_vrouterd4 "$r"; vr+=("$result"); vr_cpu+=("$cpu"); vr_cpp+=("$cpp")
  run_vrouterd6 "$r"; v6+=("$result"); v6_cpu+=("$cpu"); v6r+=("$(div "${v6[-1]}" "${vr[-1]}")"); v6_cpp+=("$cpp")
  run_testpmd "$r"; tp+=("$result"); tp_cpu+=("$cpu")
  run_l3fwd "$r" "$tmp/l3fwd_v4.cfg" "$in_dev" lpm; lf+=("$result"); lf_cpu+=("$cpu")
  run_vrouterd1m "$r"; vm+=("$result"); vm_cpu+=("$cpu"); vm_cpp+=("$cpp")
  run_l3fwd "1m.$r" "$tmp/l3fwd_v4_1m.cfg" "net_pcap0,rx_pcap=$tmp/traffic1m.pcap,infinite_rx=1" fib
  lm+=("$result"); lm_cpu+=("$cpu")
  echo "bench: run $r: vrouterd ${vr[-1]} Mpps, vrouterd IPv6 ${v6[-1]} Mpps, testpmd ${tp[-1]} Mpps, l3fwd ${lf[-1]} Mpps; 1M routes: vrouterd ${vm[-1]}, l3fwd ${lm[-1]} Mpps"
  [ "$(cat "$tmp/drops.$r")" = "" ] || echo "bench: run $r: IPv6 window drops: $(cat "$tmp/drops.$r")"
done

read -r vr_med vr_min vr_max < <(stats "${vr[@]}")
read -r v6_med v6_min v6_max < <(stats "${v6[@]}")
read -r tp_med tp_min tp_max < <(stats "${tp[@]}")
read -r lf_med lf_min lf_max < <(stats "${lf[@]}")
read -r vm_med vm_min vm_max < <(stats "${vm[@]}")
read -r lm_med lm_min lm_max < <(stats "${lm[@]}")

echo
r2() { awk -v r="$1" 'BEGIN { printf "%.2f", r }'; }
row='%-7s %14s %5s %14s %5s %14s %5s %12s %5s %7s %7s %12s %5s %10s %5s\n'
printf "$row" run 'vrouterd Mpps' cpu 'IPv6 Mpps' cpu 'testpmd Mpps' cpu 'l3fwd Mpps' cpu ratio 'v6/v4' \
  '1M vrouterd' cpu '1M l3fwd' cpu
vr_norm=() v6_norm=() tp_norm=() busy=0
for i in "${!vr[@]}"; do
  printf "$row" "$((i + 1))" "${vr[i]}" "${vr_cpu[i]}" "${v6[i]}" "${v6_cpu[i]}" "${tp[i]}" \
    "${tp_cpu[i]}" "${lf[i]}" "${lf_cpu[i]}" "$(r2 "$(div "${vr[i]}" "${tp[i]}")")" "$(r2 "${v6r[i]}")" \
    "${vm[i]}" "${vm_cpu[i]}" "${lm[i]}" "${lm_cpu[i]}"
  vr_norm+=("$(div "${vr[i]}" "${vr_cpu[i]}")")
  v6_norm+=("$(div "${v6[i]}" "${v6_cpu[i]}")")
  tp_norm+=("$(div "${tp[i]}" "${tp_cpu[i]}")")
  if awk -v a="${vr_cpu[i]}" -v b="${tp_cpu[i]}" -v c="${v6_cpu[i]}" 'BEGIN { exit !(a < 0.95 || b < 0.95 || c < 0.95) }'; then
    busy=1
  fi
done
printf "$row" median "$vr_med" '' "$v6_med" '' "$tp_med" '' "$lf_med" '' '' '' "$vm_med" '' "$lm_med" ''
printf "$row" min "$vr_min" '' "$v6_min" '' "$tp_min" '' "$lf_min" '' '' '' "$vm_min" '' "$lm_min" ''
printf "$row" max "$vr_max" '' "$v6_max" '' "$tp_max" '' "$lf_max" '' '' '' "$vm_max" '' "$lm_max" ''
ratio=$(awk -v a="$vr_med" -v b="$tp_med" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$ratio" -v t="$target" 'BEGIN { print (r >= t) ? "met" : "NOT met" }')
read -r v6r_med v6r_min v6r_max < <(stats "${v6r[@]}")
met6=$(awk -v r="$v6r_med" -v t="$target6" 'BEGIN { print (sprintf("%.2f", r) + 0 >= t) ? "met" : "NOT met" }')
echo
echo "ratio of medians vrouterd/testpmd: $ratio (target >= $target: $met)"
echo "ratio of medians vrouterd/l3fwd:   $(div "$vr_med" "$lf_med") (issue 8's target: >= 1.0)"
echo "ratio of medians vrouterd/l3fwd with 1,000,000 routes: $(div "$vm_med" "$lm_med") (issue 8's target: >= 0.9)"
read -r c4 _ < <(stats "${vr_cpp[@]}")
read -r c6 _ < <(stats "${v6_cpp[@]}")
read -r cm _ < <(stats "${vm_cpp[@]}")
echo "vrouterd cycles per packet received (the worker's own TSC accounting, medians): IPv4 $c4, IPv6 $c6, 1M routes $cm"
printf 'ratio vrouterd IPv6/IPv4, median of the runs: %.2f (%.2f-%.2f) (issue 7'"'"'s target >= %s: %s)\n' \
  "$v6r_med" "$v6r_min" "$v6r_max" "$target6" "$met6"
# The rows of make bench's summary table (tests/bench/table.py).
add_row testpmd "$tp_med" "$tp_min" "$tp_max" Mpps "testpmd io, upper bound"
add_row l3fwd "$lf_med" "$lf_min" "$lf_max" Mpps "DPDK l3fwd LPM, 10,000 routes"
add_row l3fwd_1m "$lm_med" "$lm_min" "$lm_max" Mpps "DPDK l3fwd FIB (rte_fib), 1,000,000 routes"
add_row vrouterd "$vr_med" "$vr_min" "$vr_max" Mpps "vrouterd IPv4, 10,000 routes, $c4 cycles/packet"
add_row vrouterd_1m "$vm_med" "$vm_min" "$vm_max" Mpps "vrouterd IPv4, 1,000,000 routes, $cm cycles/packet"
add_row vrouterd_v6 "$v6_med" "$v6_min" "$v6_max" Mpps "vrouterd IPv6, 10,000 /64 routes, $c6 cycles/packet"
echo "vrouterd rates: packets sent by port out per second, equal within 1% to the router's own"
echo "  ip4_forwarded (IPv4 column) and ip6_forwarded (IPv6 column) counters over the window"
if [ "$busy" -eq 1 ]; then
  # Rates divided by the CPU share: what each would forward per second of its own CPU time.
  read -r vr_nmed _ < <(stats "${vr_norm[@]}")
  read -r v6_nmed _ < <(stats "${v6_norm[@]}")
  read -r tp_nmed _ < <(stats "${tp_norm[@]}")
  echo "warning: a forwarding lcore got less than 95% of its CPU in some runs (column cpu):"
  echo "         other processes share the cores, so the rates above are low and noisy."
  printf "         Per CPU-second: vrouterd %s, testpmd %s Mpps, ratio %.2f\n" "$vr_nmed" "$tp_nmed" "$(div "$vr_nmed" "$tp_nmed")"
  printf "         Per CPU-second: vrouterd IPv6 %s Mpps, IPv6/IPv4 %.2f\n" "$v6_nmed" "$(div "$v6_nmed" "$vr_nmed")"
fi
