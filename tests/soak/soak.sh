# `make soak`: vrouterd under mixed traffic for SOAK_SECONDS (600) while its config is reloaded, its
# groups changed and a link flapped; then every packet accounted for, the pool and memory checked.
#
# Sources: a net_pcap port replaying tests/soak/soak.py's mixed pcap at full rate into a net_null
# sink; host A flooding through an af_packet port whose veth is flapped; the router's kernel and
# host K talking through knet. Exits non-zero if a check fails (see tests/soak/README.md).
source "$(dirname "${BASH_SOURCE[0]}")/../bench/lib.sh"

die() { echo "soak: $*" >&2; exit 1; }

seconds=${SOAK_SECONDS:-600}
warmup=${SOAK_WARMUP:-20}   # memory samples before this (s) are not compared
[ "$seconds" -ge 30 ] || die "SOAK_SECONDS must be at least 30"
helper=$root/tests/soak/soak.py

# Everything the soak starts, by PID, and the namespaces it made: removed on any exit.
ns_r=vrsoak-r-$$ ns_a=vrsoak-a-$$ ns_k=vrsoak-k-$$
pids=()
soak_cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  cleanup  # lib.sh: vrouterd by its PID, the scratch directory
  for n in "$ns_a" "$ns_k" "$ns_r"; do ip netns del "$n" 2>/dev/null || true; done
}
trap soak_cleanup EXIT
bg() { "$@" & pids+=($!); }

ctl() { "$build/vrouterctl" -s "$sock" "$@"; }
in_use() { ctl -j stats | "$python" -c 'import json,sys; print(json.load(sys.stdin)["pool"]["in_use"])'; }
metrics() { ip netns exec "$ns_r" curl -sf "http://127.0.0.1:$metrics_port/metrics"; }

# Binaries copied, so a rebuild of $BUILD during the soak does not change what runs.
mkdir "$tmp/bin"
cp "$build/vrouterd" "$build/vrouterctl" "$tmp/bin/"
echo "soak: vrouterd built $(date -r "$build/vrouterd" '+%F %T'), tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes'); $seconds s"
build=$tmp/bin
sock=$tmp/control.sock
metrics_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# Topology: the router's namespace (vrouterd, knet0, its kernel), host A on vr-a, host K on vr-k.
for n in "$ns_r" "$ns_a" "$ns_k"; do ip netns add "$n"; done
ip -n "$ns_r" link set lo up
ip link add vr-a netns "$ns_r" type veth peer name a0 netns "$ns_a"
ip link add vr-k netns "$ns_r" type veth peer name k0 netns "$ns_k"
for d in vr-a vr-k; do
  # The router namespace's kernel must not answer ARP on the ports' veths for knet0's addresses.
  ip -n "$ns_r" link set "$d" arp off up
  # Nor send its own IPv6 neighbour discovery into the ports (knet0 gets IPv6 from vrouterd).
  ip netns exec "$ns_r" sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"
done
setup_host() {  # namespace, device, MAC, address, router
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$1" link set lo up
  ip -n "$1" link set "$2" address "$3" up
  ip -n "$1" addr add "$4/24" dev "$2"
  ip -n "$1" route add default via "$5"
}
setup_host "$ns_a" a0 02:00:00:00:0a:02 198.18.2.2 198.18.2.1
setup_host "$ns_k" k0 02:00:00:00:0b:02 198.18.3.2 198.18.3.1

frames=$("$python" "$helper" pcap "$tmp/mixed.pcap")
for v in S A B D; do "$python" "$helper" config "$tmp/$v.yaml" "$v" "$tmp" "$metrics_port"; done
for v in S A B D; do "$build/vrouterd" --config "$tmp/$v.yaml" --check >/dev/null || die "config $v is invalid"; done
config=$tmp/vrouter.yaml
put_config() { cp "$tmp/$1.yaml" "$config.new" && mv "$config.new" "$config"; }

# Start without the pcap port: the pool's use at rest, then with the pcap loaded (net_pcap's
# infinite_rx keeps each frame of the file in an nbuf).
put_config S
start_vrouterd_in "$ns_r" "$config" "$tmp/vrouterd.log"
sleep 1
pool_base=$(in_use)
put_config A
ctl reload >/dev/null || { show_log "$tmp/vrouterd.log"; die "the reload that adds the pcap port failed"; }
# Traffic flows from here: what is in flight moves the count, so the lowest of ten readings.
pool_loaded=$(for i in $(seq 10); do sleep 0.1; in_use; done | sort -n | head -1)
echo "soak: nbufs in use at rest $pool_base, with the pcap port $pool_loaded ($frames frames)"

# Memory every 10 s: seconds since start, VmRSS + HugetlbPages in kB.
start=$SECONDS
bg bash -c 'while :; do
  awk -v t=$(( SECONDS )) "/^(VmRSS|HugetlbPages):/ { kb += \$2 } END { print t, kb }" /proc/'"$child"'/status >>"'"$tmp"'/rss.txt" || exit 0
  sleep 10
done'

bg ip netns exec "$ns_r" "$python" "$helper" sample "$build/vrouterctl" "$sock" \
  "http://127.0.0.1:$metrics_port/metrics" "$tmp/samples.txt"

# Traffic that crosses a flapping link, and traffic through knet both ways.
bg ip netns exec "$ns_a" ping -f -q 198.18.2.1 >/dev/null 2>&1
bg ip netns exec "$ns_a" "$python" "$helper" udp-send 198.19.1.1 9 20000 "$tmp/udp_a.txt"
bg ip netns exec "$ns_r" "$python" "$helper" udp-echo 198.18.3.1 7
bg ip netns exec "$ns_r" ping -q -i 0.002 198.18.3.2 >/dev/null 2>&1
bg ip netns exec "$ns_k" "$python" "$helper" udp-send 198.18.3.1 7 2000 "$tmp/udp_k.txt"
senders=("${pids[@]:2}")

reloads=0 reload_cli=0 reload_hup=0 reload_errors=0 mtu_changes=0 mtu_errors=0 flaps=0
variant=A a_down=0 mtu=1400
echo "soak: running for $seconds s"
for ((t = 1; t <= seconds; t++)); do
  sleep 1
  kill -0 "$child" 2>/dev/null || { show_log "$tmp/vrouterd.log"; die "vrouterd died at $t s"; }
  if ((t % 3 == 0)); then  # a reload, alternating the two configs and the two ways to ask
    variant=$([ "$variant" = A ] && echo B || echo A)
    put_config "$variant"
    reloads=$((reloads + 1))
    if ((reloads % 2)); then
      reload_cli=$((reload_cli + 1))
      ctl reload >/dev/null 2>"$tmp/reload.err" || { reload_errors=$((reload_errors + 1)); cat "$tmp/reload.err" >&2; }
    else
      reload_hup=$((reload_hup + 1))
      kill -HUP "$child"
    fi
  fi
  if ((t % 4 == 1)); then  # host A's end down for a second, every 4 s
    ip -n "$ns_a" link set a0 down
    a_down=1
  elif ((a_down)); then
    ip -n "$ns_a" link set a0 up
    # The kernel drops a route through a link that goes down; the connected one comes back.
    ip -n "$ns_a" route replace default via 198.18.2.1
    a_down=0
    flaps=$((flaps + 1))
  fi
  if ((t % 5 == 2)); then  # a whole group's MTU in one request
    mtu=$([ "$mtu" = 1400 ] && echo 1500 || echo 1400)
    for g in customers wholesale; do
      mtu_changes=$((mtu_changes + 1))
      ctl link set group "$g" mtu "$mtu" >/dev/null || mtu_errors=$((mtu_errors + 1))
    done
  fi
  ((t % 60 == 0)) && echo "soak: $t s: $(ctl stats | grep -m1 '^worker')"
done
((a_down)) && { ip -n "$ns_a" link set a0 up; flaps=$((flaps + 1)); }
# Let the last SIGHUP's reload finish before the final ones.
sleep 1

# Stop: the hosts' senders by PID, then the pcap port: a reload sets it down (what it receives
# from then is port_down) and takes its IPv6 address and sub-interfaces away, its stats are read,
# and a reload removes it (its device is stopped and closed, so the replay stops).
for p in "${senders[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${senders[@]}"; do wait "$p" 2>/dev/null || true; done
kill -TERM "${pids[1]}" 2>/dev/null || true  # the sampler
put_config D
ctl reload >/dev/null || die "the reload that sets the pcap port down failed"
sleep 0.5
ctl -j stats >"$tmp/pre.json"
put_config S
ctl reload >/dev/null || die "the reload that removes the pcap port failed"
# Drained: nothing received and no nbuf moved for two readings a second apart.
prev=""
for i in $(seq 30); do
  sleep 1
  ctl -j stats >"$tmp/end.json"
  cur=$("$python" -c 'import json,sys; s = json.load(open(sys.argv[1])); print(sum(w["rx_packets"] for w in s["workers"]), s["pool"]["in_use"], s["knet"]["from_kernel_packets"])' "$tmp/end.json")
  [ "$cur" = "$prev" ] && break
  prev=$cur
done
sleep 1  # metrics are rebuilt every 500 ms
metrics >"$tmp/metrics.txt" || die "could not read /metrics"
kill -0 "$child" 2>/dev/null || die "vrouterd died at the end"
# The reload that added the pcap port and the two that took it away were asked by vrouterctl too.
reloads=$((reloads + 3)) reload_cli=$((reload_cli + 3))
cat >"$tmp/info.json" <<EOF
{"pool_base": $pool_base, "pool_loaded": $pool_loaded, "frames": $frames, "reloads": $reloads,
 "reload_cli": $reload_cli, "reload_hup": $reload_hup, "reload_errors": $reload_errors,
 "mtu_changes": $mtu_changes, "seconds": $((SECONDS - start)), "mtu_errors": $mtu_errors, "flaps": $flaps, "warmup": $warmup}
EOF
echo
rc=0
"$python" "$helper" account "$tmp" || rc=$?
[ -z "${SOAK_KEEP:-}" ] || { cp -r "$tmp" "$SOAK_KEEP"; echo "soak: files kept in $SOAK_KEEP"; }
exit "$rc"
