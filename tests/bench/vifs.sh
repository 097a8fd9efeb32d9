#!/usr/bin/env bash
# Benchmark (not a test), run by `make bench` after run.sh: grouped sub-interfaces at scale, one
# table: YAML to forwarding, memory per vif, group MTU change end to end, tagged forwarding rate.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_VIF_RUNS:-3}   # starts per size, and rounds of forwarding runs
sets=11                     # `link set group` requests timed per start
# Frames spread over every one of the 65,536 vifs; infinite_rx keeps them all in nbufs, so the
# pool holds them twice over.
frames=65536
nbufs=131071

# Configs. Members are QinQ sub-interfaces of port `in` (outer x inner tags), one /31 each from
# 10.0.0.0: a million /31s do not fit in the test ranges, and no frame ever carries these
# addresses (the traffic below goes from 198.18.0.0/16 to 198.19.0.0/17, between vdevs only).
# `base` is the same router without the template, for memory per vif.
# The forwarding configs serve metrics, per-interface series included, on a free loopback port.
metrics_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" - "$tmp" "$frames" "$nbufs" "$metrics_port" <<'EOF'
import struct, sys

tmp, frames, nbufs, metrics_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def config(name, outers, in_dev, metrics=False, address6=''):
    lines = [
        'dataplane:', '  workers: 1', f'  nbufs: {nbufs}',
        'control:', f'  socket: {tmp}/{name}.sock',
        'metrics:',
        f'  listen: 127.0.0.1:{metrics_port}' if metrics else '  listen: "off"',
        f'  interfaces: {frames}' if metrics else '  interfaces: 0',
        'ports:',
        '  - name: in', f'    device: {in_dev}', '    mac: 02:00:00:00:00:01',
        '    addresses: [198.18.254.1/24]',
        '  - name: out', '    device: net_null1,no-rx=1', '    mac: 02:00:00:00:00:03',
        '    addresses: [198.19.255.1/24]',
        'neighbours:',
        '  - {ip: 198.19.255.2, mac: "02:00:00:00:00:04", port: out}',
        'routes:',
        '  - {prefix: 198.19.0.0/16, via: 198.19.255.2}',
    ]
    if outers:
        lines += ['groups:', '  - id: 10', '    name: customers', '    templates:',
                  f'      - {{parent: in, outer: 1-{outers}, inner: 1-2048, address: 10.0.0.0/31'
                  + (f', address6: {address6}' if address6 else '') + '}']
    with open(f'{tmp}/{name}.yaml', 'w') as f:
        f.write('\n'.join(lines) + '\n')

null_in = 'net_null0,no-rx=1'
config('base', 0, null_in)
config('s65536', 32, null_in)
config('s1048576', 512, null_in)
# The same 65,536 members dual stack: a /64 each as well, in sequence from 2001:db8:100::/48.
config('s65536_6', 32, null_in, address6='2001:db8:100::1/64')
for kind in ('tagged', 'untagged'):
    config(f'fwd_{kind}', 32, f'net_pcap0,rx_pcap={tmp}/{kind}.pcap,infinite_rx=1', metrics=True)

# Frame i arrives on vif (outer 1 + i / 2048, inner 1 + i % 2048): every vif gets one frame.
# The untagged run replays the same IP packets without tags, on the port itself. Both kinds are
# 60 bytes in the pcap (64 on the wire with the FCS): the tagged frame is a minimum-size frame,
# and the untagged one carries the same IP packet plus 8 bytes of Ethernet padding. Equal sizes
# matter: net_pcap copies every frame, and a 68-byte frame would cost the source a second cache
# line that is no work of the router's. Built with struct, not scapy: 131,072 frames in a second
# rather than minutes.
def csum(b):
    s = sum(struct.unpack(f'!{len(b) // 2}H', b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def wrpcap(path, frames):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))  # Ethernet, no snap
        for p in frames:
            f.write(struct.pack('<IIII', 0, 0, len(p), len(p)) + p)

macs = bytes.fromhex('020000000001' '020000000002')
tagged, untagged = [], []
for i in range(frames):
    src = bytes([198, 18, i >> 8 & 255, i & 255])
    dst = bytes([198, 19, i >> 8 & 127, i & 255])
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 38, 1, 0, 64, 17, 0, src, dst)
    hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
    ip = hdr + struct.pack('!HHHH', 1024 + i % 50000, 9, 18, 0) + bytes(10)  # UDP, no checksum
    untagged.append(macs + b'\x08\x00' + ip + bytes(8))
    tags = struct.pack('!HHHH', 0x88a8, 1 + i // 2048, 0x8100, 1 + i % 2048)
    tagged.append(macs + tags + b'\x08\x00' + ip)
    assert len(tagged[-1]) == len(untagged[-1]) == 60
wrpcap(f'{tmp}/tagged.pcap', tagged)
wrpcap(f'{tmp}/untagged.pcap', untagged)
EOF
for c in base s65536 s65536_6 s1048576 fwd_tagged; do
  "$build/vrouterd" --config "$tmp/$c.yaml" --check >/dev/null || die "the generated $c config is invalid"
done

# Kilobytes of RAM and hugepages process $1 holds.
memory_kb() {
  awk '/^VmRSS:|^HugetlbPages:/ { kb += $2 } END { print kb }' "/proc/$1/status"
}

# Starts vrouterd on config $1, waits for forwarding, and sets `start_s` (launch to the
# "forwarding:" line), `mem_kb`, and `set_ms` (the link-set latencies, one per line).
measure_start() {
  local name=$1 log=$tmp/$1.start.log sock=$tmp/$1.sock i t0 t1 mtu n
  rm -f "$sock"
  t0=$EPOCHREALTIME
  start_vrouterd "$tmp/$name.yaml" "$log"
  t1=$EPOCHREALTIME
  start_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  mem_kb=$(memory_kb "$child")
  set_ms=""
  if [ "$name" != base ]; then
    n=$("$build/vrouterctl" -s "$sock" group show | awk '$2 == "customers" { print $3 }')
    n=${n#(}
    want=${name#s} want=${want%_6}
    [ "$n" = "$want" ] || die "$name: group customers has '$n' interfaces, want $want"
    for i in $(seq "$sets"); do
      mtu=$((1400 + i % 2 * 100))
      t0=$EPOCHREALTIME
      "$build/vrouterctl" -s "$sock" link set group customers mtu "$mtu" >/dev/null ||
        die "$name: link set group customers mtu $mtu failed"
      t1=$EPOCHREALTIME
      set_ms+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) * 1000 }')"$'\n'
    done
    # The change must have reached the members, not only the answer.
    "$build/vrouterctl" -j -s "$sock" link show dev in.32.2048 | grep -q "\"mtu\":$mtu" ||
      die "$name: a member does not show mtu $mtu after the group change"
  fi
  stop_child
}

echo "bench: vifs: QinQ templates on one port, $runs starts per size, $sets group changes per start"
declare -A start mem sets_all
for name in base s65536 s65536_6 s1048576; do
  start[$name]="" mem[$name]="" sets_all[$name]=""
  for r in $(seq "$runs"); do
    measure_start "$name"
    start[$name]+="$start_s " mem[$name]+="$mem_kb " sets_all[$name]+="$set_ms"
    echo "bench: $name start $r: ${start_s} s to forwarding, $((mem_kb / 1024)) MB"
  done
done

# Forwarding over the 65,536 vifs: the same IP packets, tagged across every vif or untagged on
# the port, one worker, pcap -> null as in run.sh. Each round also runs the tagged router while
# /metrics is scraped ten times a second (Prometheus's default is once every 15 s, so any cost
# shows), and while /metrics/interfaces (65,536 interfaces) is scraped once a second. Kinds
# alternate within a round, so a noisy neighbour slows them alike.
echo "bench: forwarding: $frames frames, tagged over 65,536 vifs vs untagged, and tagged while scraped; $runs rounds"
tag=() untag=() scraped=() scraped_if=()
for r in $(seq "$runs"); do
  config=$tmp/fwd_tagged.yaml sock=$tmp/fwd_tagged.sock
  run_vrouterd "t$r"; tag+=("$result")
  run_vrouterd "m$r" /metrics 0.1; scraped+=("$result")
  config=$tmp/fwd_untagged.yaml sock=$tmp/fwd_untagged.sock
  run_vrouterd "u$r"; untag+=("$result")
  config=$tmp/fwd_tagged.yaml sock=$tmp/fwd_tagged.sock
  run_vrouterd "i$r" /metrics/interfaces 1; scraped_if+=("$result")
  echo "bench: round $r: tagged ${tag[-1]}, untagged ${untag[-1]}, tagged scraped: /metrics ${scraped[-1]}, /metrics/interfaces ${scraped_if[-1]} Mpps"
done
for path in _metrics _metrics_interfaces; do
  [ -s "$tmp/scrape$path.times" ] || die "no scrape of ${path//_//} answered"
  [ ! -s "$tmp/scrape$path.failed" ] || die "$(wc -l <"$tmp/scrape$path.failed") scrapes of ${path//_//} failed"
done

# shellcheck disable=SC2086  # the per-size lists are space-separated on purpose
{
  read -r base_mem _ _ < <(stats ${mem[base]})
  echo
  printf '%-10s %-22s %-22s %-30s\n' vifs 'to forwarding, s' 'memory per vif, B' 'link set group mtu, ms'
  printf '%-10s %-22s %-22s %-30s\n' '' 'median (min-max)' 'median (target <= 1024)' 'median / max (target)'
  for name in s65536 s65536_6 s1048576; do
    n=${name#s} n=${n%_6}
    read -r s_med s_min s_max < <(stats ${start[$name]})
    read -r m_med _ _ < <(stats ${mem[$name]})
    mapfile -t lat < <(printf '%s' "${sets_all[$name]}")
    read -r l_med _ l_max < <(stats "${lat[@]}")
    per_vif=$(awk -v m="$m_med" -v b="$base_mem" -v n="$n" 'BEGIN { printf "%.0f", (m - b) * 1024 / n }')
    target=$([ "$n" = 65536 ] && echo 10 || echo 100)
    label=$n
    [ "$name" = s65536_6 ] && label="$n+v6"  # a /64 each too: what IPv6 on members costs
    printf '%-10s %-22s %-22s %-30s\n' "$label" "$s_med ($s_min-$s_max)" "$per_vif" \
      "$l_med / $l_max (<= $target)"
  done
  read -r t_med t_min t_max < <(stats "${tag[@]}")
  read -r u_med u_min u_max < <(stats "${untag[@]}")
  ratio=$(awk -v a="$t_med" -v b="$u_med" 'BEGIN { printf "%.2f", a / b }')
  echo
  printf 'forwarding, Mpps median (min-max): tagged over 65,536 vifs %s (%s-%s), untagged %s (%s-%s)\n' \
    "$t_med" "$t_min" "$t_max" "$u_med" "$u_min" "$u_max"
  echo "ratio tagged/untagged: $ratio (target >= 0.80: $(awk -v r="$ratio" 'BEGIN { print (r >= 0.8) ? "met" : "NOT met" }'))"
  add_row vrouterd_vifs "$t_med" "$t_min" "$t_max" Mpps "vrouterd IPv4, 65,536 QinQ vifs, one frame each"
  add_row vrouterd_untagged "$u_med" "$u_min" "$u_max" Mpps "vrouterd IPv4, the same packets untagged"
  echo
  printf '%-40s %-8s %-24s %-34s\n' 'scrapes, 65,536 vifs' count 'time ms median / max' 'forwarding cost, median of rounds'
  for kind in metrics interfaces; do
    if [ "$kind" = metrics ]; then
      path=_metrics label='/metrics, 10/s (target <= 50 ms, <= 1%)' runs_with=("${scraped[@]}")
    else
      path=_metrics_interfaces label='/metrics/interfaces, 1/s' runs_with=("${scraped_if[@]}")
    fi
    mapfile -t times < <(awk '{ printf "%.3f\n", $1 * 1000 }' "$tmp/scrape$path.times")
    read -r s_med _ s_max < <(stats "${times[@]}")
    # Each round's scraped run against the same round's unscraped one: neighbours in time, so
    # slow drifts of a shared machine cancel. The spread of those ratios is the noise floor.
    ratios=()
    for i in "${!tag[@]}"; do ratios+=("$(div "${runs_with[i]}" "${tag[i]}")"); done
    read -r r_med r_min r_max < <(stats "${ratios[@]}")
    cost=$(awk -v m="$r_med" -v lo="$r_min" -v hi="$r_max" \
      'BEGIN { printf "%.1f%% (rounds %.1f%% to %.1f%%)", (1 - m) * 100, (1 - hi) * 100, (1 - lo) * 100 }')
    printf '%-40s %-8s %-24s %-34s\n' "$label" "${#times[@]}" "$s_med / $s_max" "$cost"
  done
  echo "memory per vif = (RSS + hugepages with the template - without it) / vifs, medians of $runs starts"
}
