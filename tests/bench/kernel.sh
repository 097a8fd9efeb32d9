#!/usr/bin/env bash
# Benchmark (not a test): the Linux kernel forwarding run.sh's 64-byte IPv4/UDP frames between
# network namespaces over veth (S -> R -> D), the baseline a vrouterd user leaves behind.
#
# The sender is dpdk-testpmd in io mode from a net_pcap vdev (infinite_rx) to net_af_xdp on S's
# veth, pinned to CPU 0; RPS on R's ingress veth moves R's whole receive and forwarding softirq
# to CPU 1. The rate is what R's egress veth sent per second (cross-checked with R's own
# ForwDatagrams), beside CPU 1's softirq time and the sender's offered rate.
# BENCH_RUNS (3), BENCH_WARMUP (2 s), BENCH_SECONDS (5 s); with BENCH_ROWS=<file>, appends
# `name<TAB>median<TAB>min<TAB>max<TAB>unit<TAB>note` lines to it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_RUNS:-3}
routes=10000
frames=1024
testpmd=${TESTPMD:-dpdk-testpmd}
fwd_cpu=1      # R's forwarding softirq (RPS target)
sender_cpu=0   # testpmd's lcores, both
command -v "$testpmd" >/dev/null || die "no $testpmd; install dpdk-dev (make deps)"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs: the sender and the forwarding softirq each get one"

S=vrk-s$$ R=vrk-r$$ D=vrk-d$$
del_ns() { local n; for n in "$S" "$R" "$D"; do ip netns del "$n" 2>/dev/null || true; done; }
# The sender goes first (it holds a socket on S's veth), then the namespaces, on any exit.
trap 'cleanup; del_ns' EXIT

# Topology. r0 has run.sh's router MAC, so the same pcap frames are for R. d0's MAC differs
# from the static neighbour's: D receives every forwarded frame as PACKET_OTHERHOST and drops it
# at the top of ip_rcv, the cheapest consumption a veth peer allows (no route lookup, no ARP).
for n in "$S" "$R" "$D"; do
  ip netns add "$n"
  ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add s0 netns "$S" address 02:00:00:00:00:02 type veth peer name r0 netns "$R" address 02:00:00:00:00:01
ip link add r1 netns "$R" address 02:00:00:00:00:03 type veth peer name d0 netns "$D" address 02:00:00:00:00:05
ip -n "$S" link set s0 up
ip -n "$D" link set d0 up
ip -n "$R" addr add 198.19.254.1/24 dev r0
ip -n "$R" addr add 198.19.255.1/24 dev r1
ip -n "$R" link set r0 up
ip -n "$R" link set r1 up
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.r0.rp_filter=0
ip -n "$R" neigh replace 198.19.255.2 lladdr 02:00:00:00:00:04 dev r1 nud permanent
# RPS: every frame r0 receives is queued to CPU 1's backlog, so R's IP receive, forwarding and r1's
# transmit (and D's drop, which veth runs in the same softirq) happen there, away from the sender.
ip netns exec "$R" sh -c "printf %x $((1 << fwd_cpu)) >/sys/class/net/r0/queues/rx-0/rps_cpus"

# run.sh's routes and frames: route i is 198.18.0.0 + 8*i, /29 for even i, /30 for odd i, all via
# the static neighbour; 1,024 frames, each to a host of a different route (the same seeded sample).
"$python" - "$tmp" "$routes" "$frames" <<'EOF'
import random, sys
from scapy.all import Ether, IP, UDP, Raw, wrpcap

tmp, routes, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def ip(n):
    return '.'.join(str((n >> s) & 255) for s in (24, 16, 8, 0))
base = (198 << 24) | (18 << 16)
with open(f'{tmp}/routes.batch', 'w') as f:
    for i in range(routes):
        f.write(f'route add {ip(base + 8 * i)}/{29 if i % 2 == 0 else 30} via 198.19.255.2 dev r1\n')
rng = random.Random(1)
pkts = []
for i in rng.sample(range(routes), frames):
    hosts = 6 if i % 2 == 0 else 2
    dst = ip(base + 8 * i + 1 + rng.randrange(hosts))
    p = (Ether(dst='02:00:00:00:00:01', src='02:00:00:00:00:02') /
         IP(src='198.19.254.2', dst=dst, ttl=64) / UDP(sport=1024 + i, dport=9))
    p = p / Raw(b'\0' * (60 - len(p)))
    assert len(bytes(p)) == 60
    pkts.append(p)
wrpcap(f'{tmp}/traffic.pcap', pkts)
EOF
ip -n "$R" -batch "$tmp/routes.batch"
n=$(ip -n "$R" route show | grep -c 'via 198.19.255.2')
[ "$n" -eq "$routes" ] || die "R has $n routes via the neighbour, want $routes"

# One snapshot of every counter the window needs, into $tmp/snap.$1: the time (midpoint), R's
# /proc/net/snmp and veth counters, S's veth TX count, /proc/stat and the sender's CPU time.
snap() {
  local f=$tmp/snap.$1 a
  a=$EPOCHREALTIME
  {
    echo "S $(ip netns exec "$S" cat /sys/class/net/s0/statistics/tx_packets)"
    # One cat, so r1's count and ForwDatagrams are read microseconds apart.
    ip netns exec "$R" cat /sys/class/net/r0/statistics/rx_packets /sys/class/net/r0/statistics/rx_dropped \
      /sys/class/net/r1/statistics/tx_packets /sys/class/net/r1/statistics/tx_dropped /proc/net/snmp |
      awk 'NR <= 4 { split("r0/statistics/rx_packets r0/statistics/rx_dropped r1/statistics/tx_packets r1/statistics/tx_dropped", k, " ");
                     print "R", k[NR], $1; next } /^Ip:/'
    grep '^cpu[0-9]' /proc/stat
    [ -z "$child" ] || echo "sender_ns $(worker_ns "$child")"
  } >"$f"
  echo "t $(awk -v a="$a" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", (a + b) / 2 }')" >>"$f"
}

# Sender: testpmd io-forwards the pcap's frames (port 0) to s0 (port 1) through net_af_xdp
# (KERNEL_SENDER=af_xdp, the default) or net_af_packet (af_packet). Its two lcores share CPU 0:
# the main one blocks on its prompt, the forwarding one spins. Both hand each frame to
# veth directly, without a qdisc, as a NIC driver's ring would; af_xdp's copy mode allocates one
# skb per frame in sendto(), and in trials offered about 1.6x af_packet's rate from the same CPU.
sender=${KERNEL_SENDER:-af_xdp}
case $sender in
  af_xdp) sender_vdev=net_af_xdp0,iface=s0,start_queue=0,queue_count=1 ;;
  af_packet) sender_vdev=net_af_packet0,iface=s0,qdisc_bypass=1,blocksz=4096,framesz=2048,framecnt=2048 ;;
  *) die "KERNEL_SENDER is af_xdp or af_packet, not $sender" ;;
esac
# testpmd's prompt reads this FIFO, held open read-write here so it never sees EOF: its main lcore
# blocks in read() and leaves CPU 0 to the sender or the probe.
mkfifo "$tmp/testpmd.in"
exec {testpmd_cmd}<>"$tmp/testpmd.in"
start_sender() {
  local log=$tmp/testpmd.$1.log i
  ip netns exec "$S" stdbuf -oL "$testpmd" --lcores="0@$sender_cpu,1@$sender_cpu" --in-memory --no-pci \
    --no-telemetry --log-level='*:notice' \
    --vdev "net_pcap0,rx_pcap=$tmp/traffic.pcap,infinite_rx=1" \
    --vdev "$sender_vdev" -- \
    --forward-mode=io --auto-start --nb-cores=1 --burst=32 --total-num-mbufs=16383 -i \
    <"$tmp/testpmd.in" >"$log" 2>&1 &
  child=$!
  wait_testpmd "$log"
}

echo "bench: kernel $(uname -r), $runs runs of ${window} s after ${warmup} s warm-up; sender ($sender) on CPU $sender_cpu, R's softirq on CPU $fwd_cpu (RPS)"
fw=() sm=() offered=() soft=() busy=() other=() per_cpu=() drops=() snd=()
for r in $(seq "$runs"); do
  start_sender "$r"
  sleep "$warmup"
  snap "$r.a"
  sleep "$window"
  snap "$r.b"
  stop_child
  read -r f o d sf bz ot pc fd sc < <("$python" - "$tmp/snap.$r.a" "$tmp/snap.$r.b" "$fwd_cpu" <<'EOF' || die "run failed to measure"
import os, sys
def load(p):
    d = {}
    for line in open(p):
        k = line.split()
        if k[0] == 'S': d['s0_tx'] = int(k[1])
        elif k[0] == 'R': d[k[1]] = int(k[2])
        elif k[0] == 'Ip:' and k[1].isdigit(): d['snmp'] = k
        elif k[0] == 'Ip:': d['snmp_keys'] = k
        elif k[0].startswith('cpu'): d[k[0]] = [int(x) for x in k[1:]]
        elif k[0] == 'sender_ns': d['sender_ns'] = int(k[1])
        elif k[0] == 't': d['t'] = float(k[1])
    d['forw'] = int(d['snmp'][d['snmp_keys'].index('ForwDatagrams')])
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
cpu = f'cpu{sys.argv[3]}'
dt = b['t'] - a['t']
delta = lambda k: b[k] - a[k]
fwd = delta('r1/statistics/tx_packets')
forw = delta('forw')
if fwd <= 0:
    sys.exit(f'R forwarded nothing in the window (ForwDatagrams {forw}, S sent {delta("s0_tx")})')
if abs(forw - fwd) > fwd / 100 + delta('r1/statistics/tx_dropped'):
    sys.exit(f'r1 sent {fwd} but ForwDatagrams moved {forw}')
# /proc/stat: user nice system idle iowait irq softirq steal ... in USER_HZ ticks.
c = [y - x for x, y in zip(a[cpu], b[cpu])]
hz = os.sysconf('SC_CLK_TCK')
total = sum(c[:8])
softirq_s = c[6] / hz
print(f'{fwd / dt / 1e6:.3f}',                                          # forwarded Mpps
      f'{delta("s0_tx") / dt / 1e6:.3f}',                               # offered Mpps (S's veth)
      f'{(delta("r0/statistics/rx_dropped") + delta("r1/statistics/tx_dropped")) / dt / 1e6:.3f}',
      f'{c[6] / total:.2f}',                                            # CPU 1 softirq share
      f'{(total - c[3] - c[4]) / total:.2f}',                           # CPU 1 busy share
      f'{(c[0] + c[1] + c[2]) / total:.2f}',                            # CPU 1 user+system
      f'{fwd / softirq_s / 1e6 if softirq_s else 0:.3f}',               # Mpps per softirq CPU-s
      f'{forw / dt / 1e6:.3f}',
      f'{(b["sender_ns"] - a["sender_ns"]) / 1e9 / dt:.2f}')            # sender lcore CPU share
EOF
  )
  fw+=("$f") offered+=("$o") drops+=("$d") soft+=("$sf") busy+=("$bz") other+=("$ot") per_cpu+=("$pc") sm+=("$fd") snd+=("$sc")
  echo "bench: run $r: R forwarded $f Mpps (ForwDatagrams $fd), S offered $o Mpps, CPU $fwd_cpu softirq $sf"
done

read -r fw_med fw_min fw_max < <(stats "${fw[@]}")
read -r of_med of_min of_max < <(stats "${offered[@]}")
read -r pc_med pc_min pc_max < <(stats "${per_cpu[@]}")
echo
row='%-7s %14s %13s %11s %12s %9s %13s %15s %10s\n'
printf "$row" run 'kernel Mpps' 'offered Mpps' 'drops Mpps' "cpu$fwd_cpu softirq" busy 'user+system' 'Mpps/softirq-s' 'sender cpu'
for i in "${!fw[@]}"; do
  printf "$row" "$((i + 1))" "${fw[i]}" "${offered[i]}" "${drops[i]}" "${soft[i]}" "${busy[i]}" "${other[i]}" "${per_cpu[i]}" "${snd[i]}"
done
printf "$row" median "$fw_med" "$of_med" '' '' '' '' "$pc_med" ''
printf "$row" min "$fw_min" "$of_min" '' '' '' '' "$pc_min" ''
printf "$row" max "$fw_max" "$of_max" '' '' '' '' "$pc_max" ''
echo
echo "kernel rate: packets R's egress veth (r1) sent per second, equal within 1% to R's ForwDatagrams;"
echo "  $routes routes (/29 and /30 from 198.18.0.0), $frames 64-byte frames replayed by testpmd"
echo "  (net_pcap -> net_$sender on S's veth, both lcores on CPU $sender_cpu); RPS puts R's receive,"
echo "  forwarding and D's drop on CPU $fwd_cpu; drops = r0 backlog drops + r1 tx_dropped"
limited=$(awk -v o="$of_med" -v f="$fw_med" 'BEGIN { print (o < 1.2 * f) ? 1 : 0 }')
if [ "$limited" -eq 1 ]; then
  echo "warning: the sender offered $of_med Mpps, less than 1.2x what R forwarded: the SENDER limits"
  echo "         this figure, which is then a lower bound of the kernel's rate"
  note_limit="sender-limited (offered $of_med Mpps)"
else
  echo "the sender offered $of_med Mpps, $(div "$of_med" "$fw_med")x the forwarded rate: not the bottleneck"
  note_limit="offered $of_med Mpps"
fi
add_row kernel "$fw_med" "$fw_min" "$fw_max" Mpps \
  "Linux $(uname -r) veth S->R->D, $routes routes; testpmd pcap->$sender sender on CPU$sender_cpu, RPS softirq on CPU$fwd_cpu; $note_limit"
add_row kernel_per_cpu "$pc_med" "$pc_min" "$pc_max" 'Mpps per softirq CPU-s' \
  "kernel rate over CPU$fwd_cpu softirq time (/proc/stat)"
