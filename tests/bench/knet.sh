#!/usr/bin/env bash
# Benchmark (not a test), run by `make bench`: the knet exception path and the kernel route
# mirror, one table: packets per second to and from the kernel, what that costs forwarding, TCP
# between a kernel socket on the router and a host behind it, and the time the FIB takes to follow
# 100,000 kernel routes added, removed, and present at start.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_KNET_RUNS:-3}
offload_modes=${OFFLOAD_MODES:-off on}
nroutes=${BENCH_KNET_ROUTES:-100000}
senders=${BENCH_KNET_SENDERS:-2}          # UDP flood processes from the router's kernel
sender_cpus=${BENCH_KNET_SENDER_CPUS:-0}  # where they run: the control lcore's core
tcp_secs=${BENCH_KNET_TCP_SECONDS:-3}     # each iperf3 run, after 1 s left out
parts=${BENCH_KNET_PARTS:-to from cost tcp routes}
# Shorter windows than run.sh's: these rates are ~100 times lower and steadier per second, and
# the whole script must stay near 5 minutes.
[ -n "${BENCH_SECONDS:-}" ] || window=3
poll_ms=10           # route-sync polling period

command -v iperf3 >/dev/null || die "no iperf3; install iperf3 (make deps)"
command -v ethtool >/dev/null || die "no ethtool; install ethtool (make deps)"
command -v cc >/dev/null || die "no C compiler; install gcc (make deps)"

# The binaries are copied first: another shell may rebuild build/ during these minutes, and every
# run must measure the same vrouterd.
mkdir "$tmp/bin"
cp "$build/vrouterd" "$build/vrouterctl" "$tmp/bin/"
echo "bench: knet: vrouterd built $(date -r "$build/vrouterd" '+%F %T'), tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
build=$tmp/bin
[[ $("$build/vrouterd" --help 2>&1 || true) == vrouterd:* ]] || die "the copy of vrouterd does not run (a build in progress?)"

# Everything lives in two namespaces of our own: r (vrouterd, its knet0 and the router's
# kernel) and b (host B, for TCP, behind a veth the router reaches through net_af_packet).
ns_r=vrbench-r$$ ns_b=vrbench-b$$
made_ns=()
helpers=()  # long-lived helper processes (the UDP sink, the iperf3 server)
floods=()   # UDP senders of the current run
stop_pids() {
  local p
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}
knet_cleanup() {
  stop_pids "${floods[@]}" "${helpers[@]}"
  floods=() helpers=()
  stop_child
  local ns
  for ns in "${made_ns[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  made_ns=()
  cleanup
}
trap knet_cleanup EXIT

for ns in "$ns_r" "$ns_b"; do
  ip netns add "$ns"
  made_ns+=("$ns")
  ip -n "$ns" link set lo up
  # IPv4 only: knet passes IPv4, and IPv6 chatter on knet0 would only be counted and dropped.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add vr-b netns "$ns_r" type veth peer name eth0 netns "$ns_b"
for pair in "$ns_r vr-b" "$ns_b eth0"; do
  read -r ns dev <<<"$pair"
  ip -n "$ns" link set "$dev" up
  # af_packet sees frames as the kernel queued them: no partial checksums, no GSO super-frames.
  ip netns exec "$ns" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null
done
# The router namespace's kernel sees the af_packet port's veth too; it must not answer ARP on it.
ip -n "$ns_r" link set vr-b arp off
ip -n "$ns_b" addr add 198.19.253.2/24 dev eth0
ip -n "$ns_b" route add default via 198.19.253.1

# Traffic, configs, the route batches. The router: port in 198.19.254.1/24 (a net_pcap source or
# a silent net_null), port out 198.19.255.1/24 (net_null) with a static neighbour 198.19.255.2,
# 198.18.0.0/16 routed to it. Frames to the router are UDP to 198.19.254.1 port 9; forwarded
# frames go to 1024 hosts of 198.18.0.0/16. The routes the mirror follows are /32s from
# 198.18.0.0 up (100,000 reach 198.19.134.159), outside every subnet of the router's.
"$python" - "$tmp" "$nroutes" <<'EOF'
import sys
from scapy.all import Ether, IP, UDP, Raw, wrpcap

tmp, nroutes = sys.argv[1], int(sys.argv[2])

def frame(src, dst, sport, mac='02:00:00:00:00:01'):
    p = (Ether(dst=mac, src='02:00:00:00:00:02') /
         IP(src=src, dst=dst, ttl=64) / UDP(sport=sport, dport=9))
    p = p / Raw(b'\0' * (60 - len(p)))  # 64 bytes on the wire with the FCS
    assert len(bytes(p)) == 60
    return p

wrpcap(f'{tmp}/local.pcap', [frame('198.19.254.2', '198.19.254.1', 1024 + i) for i in range(32)])
# The same for port k (cost of the to-kernel direction to forwarding).
wrpcap(f'{tmp}/local_k.pcap', [frame('198.19.252.2', '198.19.252.1', 1024 + i, '02:00:00:00:00:06')
                               for i in range(32)])
wrpcap(f'{tmp}/fwd.pcap', [frame('198.19.254.2', f'198.18.{i >> 8}.{i & 255}', 1024 + i)
                           for i in range(1024)])

def config(name, in_dev, knet, routes=True, b_port=False, k_dev=None):
    lines = [
        'dataplane:', '  workers: 1', '  nbufs: 16383',
        'control:', f'  socket: {tmp}/{name}.sock',
        'metrics:', '  listen: "off"',
        'ports:',
        '  - name: in', f'    device: {in_dev}', '    mac: 02:00:00:00:00:01',
        '    addresses: [198.19.254.1/24]',
        '  - name: out', '    device: net_null9,no-rx=1', '    mac: 02:00:00:00:00:03',
        '    addresses: [198.19.255.1/24]',
    ]
    if k_dev:
        lines += ['  - name: k', f'    device: {k_dev}', '    mac: 02:00:00:00:00:06',
                  '    addresses: [198.19.252.1/24]']
    if b_port:
        lines += ['  - name: b', '    device: net_af_packet0,iface=vr-b',
                  '    mac: 02:00:00:00:00:05', '    addresses: [198.19.253.1/24]']
    lines += ['neighbours:', '  - {ip: 198.19.255.2, mac: "02:00:00:00:00:04", port: out}']
    if routes:
        lines += ['routes:', '  - {prefix: 198.18.0.0/16, via: 198.19.255.2}']
    lines += ['knet:'] + [f'  {k}' for k in knet]
    with open(f'{tmp}/{name}.yaml', 'w') as f:
        f.write('\n'.join(lines) + '\n')

local = f'net_pcap0,rx_pcap={tmp}/local.pcap,infinite_rx=1'
fwd = f'net_pcap0,rx_pcap={tmp}/fwd.pcap,infinite_rx=1'
quiet = 'net_null0,no-rx=1'
high = [f'rate: 100000000', 'burst: 1000000', 'mirror: "off"']
config('to_high', local, high)
config('to_default', local, ['mirror: "off"'])
config('from', quiet, high)
# Forwarding with a third port k, idle here; in fwd_to it floods the router at knet's defaults.
config('fwd', fwd, high, k_dev='net_null0,no-rx=1')
config('fwd_to', fwd, ['mirror: "off"'],
       k_dev=f'net_pcap1,rx_pcap={tmp}/local_k.pcap,infinite_rx=1')
# TCP as the config is: defaults but the mirror; the script appends `offload:` per mode.
config('tcp', quiet, ['mirror: "off"'], b_port=True)
config('mirror', quiet, ['mirror: {}'], routes=False)

def ip(n):
    return '.'.join(str(n >> s & 255) for s in (24, 16, 8, 0))
base = 198 << 24 | 18 << 16
with open(f'{tmp}/add.batch', 'w') as a, open(f'{tmp}/del.batch', 'w') as d, \
        open(f'{tmp}/present.batch', 'w') as p:
    for i in range(nroutes):
        a.write(f'route add {ip(base + i)}/32 via 198.19.255.2 proto static\n')
        d.write(f'route del {ip(base + i)}/32 proto static\n')
        p.write(f'route add {ip(base + i)}/32 via 198.19.255.2 dev knet0 onlink proto static\n')
EOF
for c in to_high to_default from fwd fwd_to tcp mirror; do
  "$build/vrouterd" --config "$tmp/$c.yaml" --check >/dev/null || die "the generated $c config is invalid"
done

# The router kernel's UDP flood toward port out: sendmmsg of 64 datagrams of 18 bytes (64-byte
# frames) per call, forever, on one connected socket per process.
cat >"$tmp/udpflood.c" <<'EOF'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: udpflood ADDR PORT BYTES\n");
    return 2;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 ||
      connect(s, (struct sockaddr*)&to, sizeof(to)) != 0) {
    perror("udpflood");
    return 1;
  }
  static char payload[1472];
  struct iovec iov = {payload, (size_t)atoi(argv[3])};
  struct mmsghdr msgs[64];
  memset(msgs, 0, sizeof(msgs));
  for (int i = 0; i < 64; i++) {
    msgs[i].msg_hdr.msg_iov = &iov;
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  for (;;) {
    if (sendmmsg(s, msgs, 64, 0) < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
      perror("udpflood: sendmmsg");
      return 1;
    }
  }
}
EOF
cc -O2 -o "$tmp/udpflood" "$tmp/udpflood.c" || die "udpflood did not build"

# A UDP socket on port 9 of the router's kernel that never reads: the kernel takes each datagram
# up to the socket's queue and drops it there (UDP RcvbufErrors), so no ICMP port unreachable goes
# back through knet and the to-kernel figure is that direction alone.
ip netns exec "$ns_r" "$python" -c '
import signal, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
s.bind(("0.0.0.0", 9))
signal.pause()' &
helpers+=($!)
ip netns exec "$ns_b" iperf3 -s -B 198.19.253.2 -p 5201 >"$tmp/iperf3-server.log" 2>&1 &
helpers+=($!)

# One snapshot of the router and of its namespace's kernel: vrouterctl -j stats (timed at the
# midpoint of its request, as in lib.sh), /proc/net/snmp, knet0's link counters, and the CPU time
# of the worker and of the control lcore.
snap() {
  local p=$tmp/snap.$1 t
  t=$EPOCHREALTIME
  "$build/vrouterctl" -j -s "$sock" stats >"$p.json"
  t=$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", (a + b) / 2 }')
  ip netns exec "$ns_r" cat /proc/net/snmp >"$p.snmp"
  ip -n "$ns_r" -s -j link show knet0 >"$p.link"
  echo "$t $(worker_ns "$child") $(control_ns "$child")" >"$p.cpu"
}
# Per-second rates between snapshots $1 and $2 of the counters named after them, in order:
# knet.F, counters.F, drops.F, port.NAME.F, snmp.Udp.F, link.tx.F (knet0), and cpu.worker /
# cpu.control (the share of the window each thread was on a CPU); level.pool.F is a value at
# the end of the window, not a rate.
cat >"$tmp/rates.py" <<'EOF'
import json, sys

def load(p):
    s = json.load(open(p + '.json'))
    flat = {}
    for k in ('knet', 'counters', 'drops'):
        for f, v in s.get(k, {}).items():
            flat[f'{k}.{f}'] = v
    for f, v in s.get('pool', {}).items():
        flat[f'pool.{f}'] = v
    for port in s['ports']:
        for f, v in port.items():
            flat[f'port.{port["name"]}.{f}'] = v
    lines = open(p + '.snmp').read().splitlines()
    for head, vals in zip(lines[0::2], lines[1::2]):
        proto = head.split(':')[0]
        for f, v in zip(head.split()[1:], vals.split()[1:]):
            flat[f'snmp.{proto}.{f}'] = int(v)
    for d, st in json.load(open(p + '.link'))[0]['stats64'].items():
        for f, v in st.items():
            flat[f'link.{d}.{f}'] = v
    t, worker, control = map(float, open(p + '.cpu').read().split())
    return flat, t, worker, control

(a, ta, wa, ca), (b, tb, wb, cb) = load(sys.argv[1]), load(sys.argv[2])
dt = tb - ta
out = []
for key in sys.argv[3:]:
    if key == 'cpu.worker':
        out.append(f'{(wb - wa) / 1e9 / dt:.2f}')
    elif key == 'cpu.control':
        out.append(f'{(cb - ca) / 1e9 / dt:.2f}')
    elif key.startswith('level.'):  # a level, not a rate: its value at the window's end
        out.append(str(b[key[6:]]))
    else:
        out.append(f'{(b[key] - a[key]) / dt:.0f}')
print(' '.join(out))
EOF
# Sets `vals` to the rates of keys $@ over one window of the running vrouterd, after the warm-up.
measure() {
  sleep "$warmup"
  snap a
  sleep "$window"
  snap b
  local out
  out=$("$python" "$tmp/rates.py" "$tmp/snap.a" "$tmp/snap.b" "$@") || die "cannot compute rates from the snapshots"
  read -r -a vals <<<"$out"
}
start_floods() {
  local i
  for i in $(seq "$senders"); do
    ip netns exec "$ns_r" taskset -c "$sender_cpus" "$tmp/udpflood" 198.19.255.2 9 18 &
    floods+=($!)
  done
}
stop_floods() { stop_pids "${floods[@]}"; floods=(); }
k() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }'; }  # per second -> thousands

# 1. To the kernel: net_pcap replays frames for the router's address as fast as the worker
# takes them; every one is punted. knet.rate at its maximum, then at its default.
to_kpps=() to_outq=() to_ctl=() to_norm=() to_inuse=() def_kpps=() def_lim=() def_outq=() def_inuse=()
# 2. From the kernel: `senders` floods to 198.19.255.2 (port out's static neighbour).
from_kpps=() from_offer=() from_drop=() from_routed=() from_ctl=() from_norm=()
# 3. Forwarding (net_pcap -> net_null, as run.sh) alone and during the flood from the kernel.
fwd_alone=() fwd_flood=() fwd_ratio=() fwd_from_k=() wk_alone=() wk_flood=() wk_to=()
# The same ratios per second of the worker's CPU: what is left when a neighbour took its core.
fwd_nratio=() fwd_to_nratio=()
nratio() { awk -v a="$1" -v wa="$2" -v b="$3" -v wb="$4" 'BEGIN { printf "%.3f", (wa > 0 && wb > 0 ? (b / wb) / (a / wa) : 0) }'; }
# ... and with port k flooding the router at knet's default rate (fwd_to).
fwd_to=() fwd_to_ratio=() fwd_to_k=() fwd_to_inuse=()
for r in $(seq "$runs"); do
  if [[ " $parts " == *" to "* ]]; then
    config=$tmp/to_high.yaml sock=$tmp/to_high.sock
    start_vrouterd_in "$ns_r" "$config" "$tmp/to_high.$r.log"
    measure knet.to_kernel_packets counters.knet_punted drops.outq_full \
      knet.to_kernel_errors snmp.Udp.InDatagrams snmp.Udp.RcvbufErrors cpu.control cpu.worker \
      level.pool.in_use
    stop_child
    read -r tk punted outq errors in_dg rcvbuf ctl wk inuse <<<"${vals[*]}"
    [ "$tk" -gt 0 ] || { show_log "$tmp/to_high.$r.log"; die "run $r: nothing reached the kernel"; }
    # The kernel's own count must agree (its snapshot is a few ms after vrouterd's).
    awk -v k="$((in_dg + rcvbuf))" -v t="$tk" 'BEGIN { exit !(k > 0.95 * t && k < 1.05 * t) }' ||
      die "run $r: knet wrote $tk/s but the kernel's UDP received $((in_dg + rcvbuf))/s"
    to_kpps+=("$(k "$tk")") to_outq+=("$(k "$outq")") to_ctl+=("$ctl") to_inuse+=("$inuse")
    to_norm+=("$(awk -v v="$tk" -v c="$ctl" 'BEGIN { printf "%.1f", (c > 0 ? v / c / 1000 : 0) }')")
    echo "bench: run $r: to kernel $(k "$tk") kpps (kernel UDP $(k "$((in_dg + rcvbuf))"), errors $errors/s); punted $(k "$punted") kpps, outq_full $(k "$outq") kpps; nbufs in use $inuse; control cpu $ctl, worker $wk"

    config=$tmp/to_default.yaml sock=$tmp/to_default.sock
    start_vrouterd_in "$ns_r" "$config" "$tmp/to_default.$r.log"
    measure knet.to_kernel_packets drops.knet_rate_limited drops.outq_full cpu.control level.pool.in_use
    stop_child
    read -r tk limited outq ctl inuse <<<"${vals[*]}"
    def_kpps+=("$(k "$tk")") def_lim+=("$(k "$limited")") def_outq+=("$(k "$outq")") def_inuse+=("$inuse")
    echo "bench: run $r: to kernel at the default rate: $(k "$tk") kpps, knet_rate_limited $(k "$limited") kpps, outq_full $(k "$outq") kpps, nbufs in use $inuse, control cpu $ctl"
  fi

  if [[ " $parts " == *" from "* ]]; then
    config=$tmp/from.yaml sock=$tmp/from.sock
    start_vrouterd_in "$ns_r" "$config" "$tmp/from.$r.log"
    start_floods
    measure knet.from_kernel_packets counters.knet_routed port.out.tx_packets snmp.Udp.OutDatagrams \
      link.tx.packets link.tx.dropped knet.from_kernel_rate_limited knet.from_kernel_no_nbuf \
      drops.knet_not_routed cpu.control cpu.worker
    stop_floods
    stop_child
    read -r fk routed out_tx offered tap_tx tap_drop lim nonbuf notrouted ctl wk <<<"${vals[*]}"
    [ "$fk" -gt 0 ] || { show_log "$tmp/from.$r.log"; die "run $r: nothing came from the kernel"; }
    from_kpps+=("$(k "$fk")") from_offer+=("$(k "$offered")") from_drop+=("$(k "$tap_drop")")
    from_routed+=("$(k "$routed")") from_ctl+=("$ctl")
    from_norm+=("$(awk -v v="$fk" -v c="$ctl" 'BEGIN { printf "%.1f", (c > 0 ? v / c / 1000 : 0) }')")
    echo "bench: run $r: from kernel $(k "$fk") kpps, routed $(k "$routed"), port out $(k "$out_tx"); senders $(k "$offered") kpps, knet0 tx $(k "$tap_tx") dropped $(k "$tap_drop"); rate-limited $lim/s, no nbuf $nonbuf/s, not routed $notrouted/s; control cpu $ctl, worker $wk"
  fi

  if [[ " $parts " == *" cost "* ]]; then
    config=$tmp/fwd.yaml sock=$tmp/fwd.sock
    start_vrouterd_in "$ns_r" "$config" "$tmp/fwd.$r.log"
    measure counters.ip4_forwarded cpu.worker
    read -r alone wk1 <<<"${vals[*]}"
    start_floods
    measure counters.ip4_forwarded counters.knet_routed knet.from_kernel_packets cpu.worker cpu.control
    stop_floods
    stop_child
    read -r flood routed fk wk2 ctl <<<"${vals[*]}"
    [ "$alone" -gt 0 ] && [ "$flood" -gt 0 ] || { show_log "$tmp/fwd.$r.log"; die "run $r: nothing forwarded"; }
    fwd_alone+=("$(awk -v v="$alone" 'BEGIN { printf "%.3f", v / 1e6 }')")
    fwd_flood+=("$(awk -v v="$flood" 'BEGIN { printf "%.3f", v / 1e6 }')")
    fwd_ratio+=("$(div "$flood" "$alone")") fwd_from_k+=("$(k "$fk")") wk_alone+=("$wk1") wk_flood+=("$wk2")
    fwd_nratio+=("$(nratio "$alone" "$wk1" "$flood" "$wk2")")
    echo "bench: run $r: forwarding ${fwd_alone[-1]} Mpps alone (worker cpu $wk1), ${fwd_flood[-1]} Mpps while $(k "$fk") kpps came from the kernel ($(k "$routed") routed; worker cpu $wk2, control $ctl)"

    config=$tmp/fwd_to.yaml sock=$tmp/fwd_to.sock
    start_vrouterd_in "$ns_r" "$config" "$tmp/fwd_to.$r.log"
    measure counters.ip4_forwarded knet.to_kernel_packets drops.knet_rate_limited drops.outq_full \
      port.in.rx_packets cpu.worker cpu.control level.pool.in_use
    stop_child
    read -r fwd tk limited outq in_rx wk ctl inuse <<<"${vals[*]}"
    fwd_to_inuse+=("$inuse")
    fwd_to+=("$(awk -v v="$fwd" 'BEGIN { printf "%.3f", v / 1e6 }')")
    fwd_to_ratio+=("$(div "$fwd" "$alone")") fwd_to_k+=("$(k "$tk")") wk_to+=("$wk")
    fwd_to_nratio+=("$(nratio "$alone" "$wk1" "$fwd" "$wk")")
    echo "bench: run $r: forwarding ${fwd_to[-1]} Mpps (port in received $(k "$in_rx") kpps) while port k flooded the router: $(k "$tk") kpps to the kernel, knet_rate_limited $(k "$limited"), outq_full $(k "$outq") kpps; nbufs in use $inuse; worker cpu $wk, control $ctl"
  fi
done

# 4. TCP between a kernel socket on the router (iperf3 in namespace r, through knet0) and host B
# (iperf3 server in namespace b, behind port b: net_af_packet on a veth), both ways, once per
# knet.offload value that vrouterd accepts.
tcp_gbps() {  # $1: run label, $2...: extra iperf3 client flags; prints Gbit/s received
  local out=$tmp/iperf3.$1.json
  timeout $((tcp_secs + 20)) ip netns exec "$ns_r" iperf3 -c 198.19.253.2 -p 5201 \
    -t "$tcp_secs" -O 1 --connect-timeout 3000 -J "${@:2}" >"$out" 2>&1 ||
    { tail -n 20 "$out" >&2; die "iperf3 $1 failed"; }
  "$python" -c 'import json, sys; print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$out"
}
declare -A tcp_out tcp_in tcp_note
tcp_modes=()
if [[ " $parts " == *" tcp "* ]]; then
  for mode in $offload_modes; do
    case $mode in
      on | true) v=true ;;
      off | false) v=false ;;
      *) die "OFFLOAD_MODES: '$mode' is not on, off, true or false" ;;
    esac
    cp "$tmp/tcp.yaml" "$tmp/tcp_$mode.yaml"
    sed -i "s|^  socket: .*|  socket: $tmp/tcp_$mode.sock|" "$tmp/tcp_$mode.yaml"
    echo "  offload: $v" >>"$tmp/tcp_$mode.yaml"  # the knet section is the file's last
    if ! "$build/vrouterd" --config "$tmp/tcp_$mode.yaml" --check >"$tmp/tcp_$mode.check" 2>&1; then
      tcp_note[$mode]="skipped: vrouterd rejects knet.offload: $v: $(head -n 1 "$tmp/tcp_$mode.check")"
      echo "bench: tcp offload $mode ${tcp_note[$mode]}"
      continue
    fi
    tcp_modes+=("$mode")
  done
  if [ "${#tcp_modes[@]}" -eq 0 ]; then
    echo "bench: tcp: no offload mode accepted; measuring the config without the key"
    cp "$tmp/tcp.yaml" "$tmp/tcp_default.yaml"
    sed -i "s|^  socket: .*|  socket: $tmp/tcp_default.sock|" "$tmp/tcp_default.yaml"
    tcp_modes=(default)
  fi
  for mode in "${tcp_modes[@]}"; do
    config=$tmp/tcp_$mode.yaml sock=$tmp/tcp_$mode.sock
    start_vrouterd_in "$ns_r" "$config" "$tmp/tcp_$mode.log"
    # B's first ARP for its gateway, and the path end to end.
    ip netns exec "$ns_r" ping -c 1 -W 2 198.19.253.2 >/dev/null ||
      { show_log "$tmp/tcp_$mode.log"; die "tcp $mode: the router's kernel cannot reach B"; }
    snap a
    for r in $(seq "$runs"); do
      tcp_out[$mode]+="$(tcp_gbps "$mode.out.$r") "
      tcp_in[$mode]+="$(tcp_gbps "$mode.in.$r" -R) "
      echo "bench: tcp offload $mode run $r: router -> B $(echo ${tcp_out[$mode]} | awk '{print $NF}') Gbit/s, B -> router $(echo ${tcp_in[$mode]} | awk '{print $NF}') Gbit/s"
    done
    snap b
    stop_child
    "$python" - "$tmp/snap.a.json" "$tmp/snap.b.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
d = {f'knet.{k}': b['knet'][k] - a['knet'][k] for k in b['knet'] if isinstance(b['knet'][k], int) and b['knet'][k] != a['knet'][k]}
d.update({k: b['drops'][k] - a['drops'][k] for k in b['drops'] if b['drops'][k] != a['drops'][k]})
print('bench: tcp counters over the runs:', ' '.join(f'{k}={v}' for k, v in sorted(d.items())))
PY
  done
fi

# 5. The route mirror. routesync.py asks vrouterd for `-j stats` over its control socket (the
# request vrouterctl sends, from one process rather than one per sample) every poll_ms and times
# route_mirror.installed reaching its goal. It and the `ip` it starts run on CPU 0, the control
# lcore's: a routing daemon on this appliance shares that core, and the worker keeps its own.
cat >"$tmp/routesync.py" <<'PY'
import json, socket, struct, subprocess, sys, threading, time

def stats(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(path)
        req = b'-j\0stats'
        s.sendall(struct.pack('!I', len(req)) + req)
        buf = b''
        while len(buf) < 4 or len(buf) < 4 + struct.unpack('!I', buf[:4])[0]:
            chunk = s.recv(1 << 20)
            if not chunk:
                raise OSError('vrouterd closed the connection')
            buf += chunk
    finally:
        s.close()
    body = buf[4:4 + struct.unpack('!I', buf[:4])[0]]
    if body[:1] != b'0':
        raise RuntimeError(body[1:].decode())
    return json.loads(body[1:])['route_mirror']

mode, path, want, period = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) / 1000
if mode == 'start':
    # Seconds from the launch of vrouterd (argv[5], wall clock) to its first answer that shows
    # `want` routes installed.
    t0, deadline, s = float(sys.argv[5]), time.time() + 30, None
    while True:
        try:
            s = stats(path)
            if s['installed'] == want and s['routes'] == want:
                print(f'{time.time() - t0:.3f}')
                break
        except (OSError, RuntimeError):
            pass
        if time.time() > deadline:
            sys.exit(f'vrouterd did not show {want} routes installed within 30 s; last seen: {s}')
        time.sleep(period)
    sys.exit(0)
# batch: runs `ip -n NS -batch FILE` and prints the seconds ip took, the seconds from its start
# until the mirror shows `want` routes installed (and ip is done), the lag between the two,
# and the mirror's overflows, resyncs and events meanwhile.
ns, batch = sys.argv[5], sys.argv[6]
before = stats(path)
t0 = time.monotonic()
ip = subprocess.Popen(['ip', '-n', ns, '-batch', batch])
ip_done = []
waiter = threading.Thread(target=lambda: (ip.wait(), ip_done.append(time.monotonic())))
waiter.start()
deadline = t0 + 120
while True:
    q0 = time.monotonic()
    s = stats(path)
    q1 = time.monotonic()
    if ip_done and s['installed'] == want and s['routes'] == want:
        synced = (q0 + q1) / 2
        break
    if q1 > deadline:
        sys.exit(f'after 120 s: {s["installed"]} routes installed, want {want}; ip done: {bool(ip_done)}')
    time.sleep(period)
waiter.join()
if ip.returncode != 0:
    sys.exit(f'ip -batch {batch} failed ({ip.returncode})')
print(f'{ip_done[0] - t0:.3f} {synced - t0:.3f} {max(0.0, synced - ip_done[0]):.3f} '
      f'{s["overflows"] - before["overflows"]} {s["resyncs"] - before["resyncs"]} '
      f'{s["events"] - before["events"]}')
PY
# Launches vrouterd on the mirror config without waiting for it (the poll does) and sets
# `result` to the seconds until it shows $1 kernel routes installed; its log is mirror.$2.log.
# Not a $(...) function: the child's PID must stay visible to the traps.
mirror_start() {
  local t0
  config=$tmp/mirror.yaml sock=$tmp/mirror.sock mirror_log=$tmp/mirror.$2.log
  rm -f "$sock"
  t0=$EPOCHREALTIME
  ip netns exec "$ns_r" "$build/vrouterd" --config "$config" >"$mirror_log" 2>&1 &
  child=$!
  result=$(taskset -c 0 "$python" "$tmp/routesync.py" start "$sock" "$1" "$poll_ms" "$t0") ||
    { show_log "$mirror_log"; die "vrouterd did not show $1 kernel routes"; }
}
sync_batch() {  # $1 batch file, $2 routes wanted at the end; sets `result`
  result=$(taskset -c 0 "$python" "$tmp/routesync.py" batch "$sock" "$2" "$poll_ms" "$ns_r" "$1") ||
    { show_log "$mirror_log"; die "route sync ($1) failed"; }
}
start_empty=() add_ip=() add_sync=() add_lag=() del_ip=() del_sync=() del_lag=() ip_alone=()
start_full=() mirror_notes=()
if [[ " $parts " == *" routes "* ]]; then
  for r in $(seq "$runs"); do
    mirror_start 0 "e$r"
    start_empty+=("$result")
    sync_batch "$tmp/add.batch" "$nroutes"
    read -r i s l ovf rs ev <<<"$result"
    add_ip+=("$i") add_sync+=("$s") add_lag+=("$l")
    echo "bench: routes run $r: add $nroutes: ip -batch $i s, installed after $s s (lag $l s); overflows $ovf, resyncs $rs, events $ev"
    mirror_notes+=("add: $ovf overflows, $rs resyncs")
    sync_batch "$tmp/del.batch" 0
    read -r i s l ovf rs ev <<<"$result"
    del_ip+=("$i") del_sync+=("$s") del_lag+=("$l")
    echo "bench: routes run $r: remove: ip -batch $i s, none left after $s s (lag $l s); overflows $ovf, resyncs $rs, events $ev"
    mirror_notes+=("remove: $ovf overflows, $rs resyncs")
    stop_child
    # Routes present at start: knet0, and every route through it, leave with vrouterd, and the
    # mirror installs only routes out of knet0. So a persistent knet0 of the operator's
    # (vrouterd attaches to it and leaves it), the routes through it `onlink` (it has no
    # address until vrouterd starts). The adds are timed: the kernel's own time, no vrouterd
    # listening.
    ip -n "$ns_r" tuntap add knet0 mode tap vnet_hdr
    ip -n "$ns_r" link set knet0 up
    t0=$EPOCHREALTIME
    taskset -c 0 ip -n "$ns_r" -batch "$tmp/present.batch"
    ip_alone+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')")
    mirror_start "$nroutes" "f$r"
    start_full+=("$result")
    echo "bench: routes run $r: vrouterd start to $nroutes installed ${start_full[-1]} s (no routes: ${start_empty[-1]} s); ip -batch alone ${ip_alone[-1]} s"
    stop_child
    ip -n "$ns_r" tuntap del knet0 mode tap  # its routes go with it
  done
fi

# The table: medians (min-max) of the runs, targets beside them.
verdict() {  # $1 median, $2 op (ge|le), $3 target
  awk -v m="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == "ge" ? m >= t : m <= t); print (ok ? "met" : "NOT met") }'
}
median() { read -r m _ < <(stats "$@"); echo "$m"; }
row() { printf '%-58s %-26s %s\n' "$1" "$2" "${3:-}"; }
echo
row "knet, one worker, $runs runs (window ${window} s)" 'median (min-max)' target
if [ "${#to_kpps[@]}" -gt 0 ]; then
  m=$(median "${to_kpps[@]}")
  row 'to the kernel, kpps (knet.rate 1e8)' "$(spread %.1f "${to_kpps[@]}")" ">= 500: $(verdict "$m" ge 500)"
  row '  meanwhile OutQ full at the worker (outq_full), kpps' "$(spread %.1f "${to_outq[@]}")"
  row '  nbufs in use at the end (of 16,383)' "$(spread %.0f "${to_inuse[@]}")"
  row '  control lcore CPU share' "$(spread %.2f "${to_ctl[@]}")"
  row '  per second of control-lcore CPU, kpps' "$(spread %.1f "${to_norm[@]}")"
  row 'to the kernel at the default knet.rate (500000), kpps' "$(spread %.1f "${def_kpps[@]}")"
  row '  knet_rate_limited, kpps' "$(spread %.1f "${def_lim[@]}")"
  row '  outq_full, kpps' "$(spread %.1f "${def_outq[@]}")"
  row '  nbufs in use at the end (of 16,383)' "$(spread %.0f "${def_inuse[@]}")"
fi
if [ "${#from_kpps[@]}" -gt 0 ]; then
  m=$(median "${from_kpps[@]}")
  row "from the kernel, kpps ($senders senders on CPU $sender_cpus)" "$(spread %.1f "${from_kpps[@]}")" ">= 500: $(verdict "$m" ge 500)"
  row '  knet_routed, kpps' "$(spread %.1f "${from_routed[@]}")"
  row "  the senders' own rate, kpps" "$(spread %.1f "${from_offer[@]}")"
  row '  dropped at knet0 (its queue full), kpps' "$(spread %.1f "${from_drop[@]}")"
  row '  control lcore CPU share' "$(spread %.2f "${from_ctl[@]}")"
  row '  per second of control-lcore CPU, kpps' "$(spread %.1f "${from_norm[@]}")"
fi
if [ "${#fwd_alone[@]}" -gt 0 ]; then
  row 'forwarding alone (net_pcap -> net_null), Mpps' "$(spread %.3f "${fwd_alone[@]}")" \
    "worker cpu $(median "${wk_alone[@]}" | xargs printf %.2f)"
  row "  while the kernel floods out (from kernel, kpps: $(median "${fwd_from_k[@]}" | xargs printf %.1f))" "$(spread %.3f "${fwd_flood[@]}")" \
    "ratio $(spread %.2f "${fwd_ratio[@]}"), worker cpu $(median "${wk_flood[@]}" | xargs printf %.2f)"
  row '    ratio per second of worker CPU' "$(spread %.2f "${fwd_nratio[@]}")"
  row "  while port k floods the router (to kernel, kpps: $(median "${fwd_to_k[@]}" | xargs printf %.1f))" "$(spread %.3f "${fwd_to[@]}")" \
    "ratio $(spread %.2f "${fwd_to_ratio[@]}"), worker cpu $(median "${wk_to[@]}" | xargs printf %.2f)"
  row '    ratio per second of worker CPU' "$(spread %.2f "${fwd_to_nratio[@]}")"
  row '    nbufs in use at the end (of 16,383)' "$(spread %.0f "${fwd_to_inuse[@]}")"
fi
for mode in "${tcp_modes[@]}"; do
  read -r -a o <<<"${tcp_out[$mode]}"
  read -r -a i <<<"${tcp_in[$mode]}"
  label=$([ "$mode" = default ] && echo 'as configured' || echo "knet.offload $mode")
  row "TCP router -> B, Gbit/s ($label)" "$(spread %.3f "${o[@]}")"
  row "TCP B -> router, Gbit/s ($label)" "$(spread %.3f "${i[@]}")"
done
for mode in "${!tcp_note[@]}"; do row "TCP, knet.offload $mode" "${tcp_note[$mode]}"; done
if [ "${#add_ip[@]}" -gt 0 ]; then
  n=$(echo "$nroutes" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')
  row "$n kernel routes added: ip -batch, s" "$(spread %.3f "${add_ip[@]}")"
  row "  from the start of ip until all installed, s" "$(spread %.3f "${add_sync[@]}")"
  row "  lag after ip finished, s" "$(spread %.3f "${add_lag[@]}")" "<= 1: $(verdict "$(median "${add_lag[@]}")" le 1)"
  row "$n kernel routes removed: ip -batch, s" "$(spread %.3f "${del_ip[@]}")"
  row "  from the start of ip until none left, s" "$(spread %.3f "${del_sync[@]}")"
  row "  lag after ip finished, s" "$(spread %.3f "${del_lag[@]}")" "<= 1: $(verdict "$(median "${del_lag[@]}")" le 1)"
  row "  the same adds with no vrouterd running, s" "$(spread %.3f "${ip_alone[@]}")"
  row "vrouterd start to $n routes installed, s" "$(spread %.3f "${start_full[@]}")"
  row "  with no kernel routes, s" "$(spread %.3f "${start_empty[@]}")"
  overflowed=$(printf '%s\n' "${mirror_notes[@]}" | awk '$2 != 0 || $4 != 0' | wc -l)
  [ "$overflowed" -eq 0 ] || echo "route mirror: $overflowed batches overflowed the netlink socket or resynced (see the run lines above)"
fi
echo "CPU shares below ~0.95 for the worker (run lines) mean other processes shared its core: this VM has 2 vCPUs."
