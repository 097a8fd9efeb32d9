#!/usr/bin/env bash
# `make demo`: host A - vrouterd - host B in three network namespaces; ping and a TCP transfer cross
# the router next to its counters. Ctrl-C, or the end of DEMO_SECONDS when set, removes all it made.
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${BUILD:-build}
CONFIG=config/examples/demo.yaml
DEMO_SECONDS=${DEMO_SECONDS:-}
TRANSFER_MB=${TRANSFER_MB:-20}
TICK=2
# The system interpreter, not a pyenv shim: deps.sh installs python3 there and JSON is all we need.
PY=/usr/bin/python3
NC=nc.openbsd   # -N (close after EOF) is what ends the transfer; other netcats spell it differently
# vrouterd's Prometheus endpoint (metrics.listen, default 127.0.0.1:9420). It listens in the
# router's namespace, so it is reached from there, never from the host's loopback.
METRICS_URL=http://127.0.0.1:9420/metrics

die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root for network namespaces and DPDK: sudo make demo"
[[ -z "$DEMO_SECONDS" || "$DEMO_SECONDS" =~ ^[0-9]+$ ]] || die "DEMO_SECONDS must be a whole number of seconds, got '$DEMO_SECONDS'"
[[ "$TRANSFER_MB" =~ ^[1-9][0-9]*$ ]] || die "TRANSFER_MB must be a positive whole number, got '$TRANSFER_MB'"
for tool in ip ethtool ping ss sha256sum curl "$NC" "$PY"; do
  # deps.sh installs only what is missing, so running it here costs nothing when all is present.
  command -v "$tool" >/dev/null || { bash scripts/deps.sh; break; }
done
{ [ -x "$BUILD/vrouterd" ] && [ -x "$BUILD/vrouterctl" ]; } || die "no $BUILD/vrouterd; run 'make demo', which builds first"

# Our PID in every name: two demos, or a demo beside the integration tests, never share anything.
declare -A NS=([A]=vrdemo-a-$$ [R]=vrdemo-r-$$ [B]=vrdemo-b-$$)
TMP=$(mktemp -d /tmp/vrouter-demo.XXXXXX)
SOCK=$TMP/control.sock
VR_LOG=$TMP/vrouterd.log
VR_PID="" RX_PID="" PING_PID="" vr_log_shown=""
created_ns=()
caught=""

if [ -t 1 ]; then BOLD=$'\e[1m' DIM=$'\e[2m' OFF=$'\e[0m'; else BOLD="" DIM="" OFF=""; fi
section() { printf '\n%s== %s ==%s\n' "$BOLD" "$*" "$OFF"; }
in_ns() { local host=$1; shift; ip netns exec "${NS[$host]}" "$@"; }
# Echo before running, so the reader sees which host ran what.
run() { local host=$1; shift; printf '%s%s$ %s%s\n' "$DIM" "$host" "$*" "$OFF"; in_ns "$host" "$@"; }
ctl() { "$BUILD/vrouterctl" -s "$SOCK" "$@"; }

# Waits up to $2 seconds for a child to exit; `wait` alone could hang the demo forever.
# Returns the child's status, or 124 (as timeout(1) does) while it still runs.
wait_pid() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 124
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || return $?
}

cleanup() {
  local rc=$?
  # A second Ctrl-C must not cut cleanup short and strand namespaces or a router.
  trap '' INT TERM HUP
  trap - ERR
  set +e
  section "cleanup"
  for pid in $PING_PID $RX_PID; do
    kill "$pid" 2>/dev/null
    wait_pid "$pid" 5
    [ $? -ne 124 ] || kill -KILL "$pid" 2>/dev/null
  done
  if [ -n "$VR_PID" ]; then
    # vrouterd stops its workers and releases ports and hugepages on SIGTERM; SIGKILL is a last resort.
    kill -TERM "$VR_PID" 2>/dev/null
    wait_pid "$VR_PID" 15
    local vrc=$?
    if [ "$vrc" -eq 0 ]; then
      echo "vrouterd (pid $VR_PID) stopped cleanly"
    elif [ "$vrc" -eq 124 ]; then
      echo "vrouterd (pid $VR_PID) ignored SIGTERM for 15 s; killing it"
      kill -KILL "$VR_PID" 2>/dev/null
      wait "$VR_PID" 2>/dev/null
    else
      echo "vrouterd (pid $VR_PID) exited with status $vrc${vr_log_shown:+ (log above)}"
      [ -n "$vr_log_shown" ] || sed 's/^/    /' "$VR_LOG"
    fi
    [ "$vrc" -eq 0 ] || [ "$rc" -ne 0 ] || rc=1
  fi
  # Namespaces go after the processes in them: a namespace with a live process outlives `ip netns del`.
  # Anything still inside one was started by this script, so it is ours to stop, by PID.
  local stray
  for ns in "${created_ns[@]}"; do
    mapfile -t stray < <(ip netns pids "$ns" 2>/dev/null)
    if [ ${#stray[@]} -gt 0 ]; then
      echo "stopping processes left in $ns: ${stray[*]}"
      kill "${stray[@]}" 2>/dev/null
      sleep 0.5
      mapfile -t stray < <(ip netns pids "$ns" 2>/dev/null)
      [ ${#stray[@]} -eq 0 ] || kill -KILL "${stray[@]}" 2>/dev/null
    fi
    ip netns del "$ns" && echo "removed namespace $ns"
  done
  rm -rf "$TMP"
  if [ -n "$caught" ]; then
    # Dying by the same signal tells make and shells that we were interrupted, not that we failed.
    trap - EXIT "$caught"
    kill -"$caught" $$
  fi
  exit "$rc"
}
trap cleanup EXIT
# set -e alone exits without a word; say which command failed.
trap 'echo "demo: failed (status $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'caught=INT; exit 130' INT
trap 'caught=TERM; exit 143' TERM
trap 'caught=HUP; exit 129' HUP

# Summaries of `vrouterctl -j stats`: a change between two snapshots, or one live line.
counters() {
  "$PY" - "$@" <<'PY'
import json, sys
mode, old, new = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
ports = {p["name"]: p for p in new["ports"]}
oports = {p["name"]: p for p in old["ports"]}
if mode == "delta":
    parts = []
    for name, p in ports.items():
        o = oports[name]
        parts.append("port %s rx +%d tx +%d" % (name, p["rx_packets"] - o["rx_packets"],
                                                p["tx_packets"] - o["tx_packets"]))
    changed = ["%s +%d" % (k, v - old[sect][k]) for sect in ("counters", "drops")
               for k, v in new[sect].items() if v != old[sect][k]]
    print("router: " + ", ".join(parts) + ("; " + ", ".join(changed) if changed else "; no other counter moved"))
else:
    secs = float(sys.argv[4])
    fwd = new["counters"]["ip4_forwarded"]
    rate = (fwd - old["counters"]["ip4_forwarded"]) / secs if secs > 0 else 0
    line = "  ".join("%s rx %d tx %d" % (n, p["rx_packets"], p["tx_packets"]) for n, p in ports.items())
    print("%s | forwarded %d (%.0f/s) | drops %d | nbufs in use %d" % (
        line, fwd, rate, sum(new["drops"].values()), new["pool"]["in_use"]))
PY
}
snap() { ctl -j stats >"$TMP/$1.json"; }
# Prints what the router counted since the last call, so each step shows its own footprint.
router_delta() { snap now; counters delta "$TMP/last.json" "$TMP/now.json"; mv "$TMP/now.json" "$TMP/last.json"; }

section "topology"
cat <<EOF
      host A                          router                            host B
  +----------------+      +-------------------------------+      +--------------------+
  | eth0           | veth | vr-a       vrouterd      vr-b | veth |               eth0 |
  | 198.18.1.2/24  |------| port a                 port b |------| 198.18.2.2/24      |
  | default via    |      | 198.18.1.1/24   198.18.2.1/24 |      | lo 198.19.0.1/32   |
  |   198.18.1.1   |      | DPDK net_af_packet on both;   |      | default via        |
  +----------------+      | no kernel addresses           |      |   198.18.2.1       |
                          +-------------------------------+      +--------------------+
  namespaces: A ${NS[A]}, router ${NS[R]}, B ${NS[B]}
  routes: 198.19.0.0/16 via 198.18.2.2, 198.19.255.0/24 blackhole, 198.18.128.0/20 unreachable
EOF

for host in A R B; do
  ip netns add "${NS[$host]}"
  created_ns+=("${NS[$host]}")
  # No IPv6 anywhere: router solicitations and MLD reports would otherwise show up as drops.
  in_ns "$host" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
  ip -n "${NS[$host]}" link set lo up
done
ip link add vr-a netns "${NS[R]}" type veth peer name eth0 netns "${NS[A]}"
ip link add vr-b netns "${NS[R]}" type veth peer name eth0 netns "${NS[B]}"
ip -n "${NS[A]}" addr add 198.18.1.2/24 dev eth0
ip -n "${NS[A]}" link set eth0 up
ip -n "${NS[A]}" route add default via 198.18.1.1
ip -n "${NS[B]}" addr add 198.18.2.2/24 dev eth0
ip -n "${NS[B]}" addr add 198.19.0.1/32 dev lo
ip -n "${NS[B]}" link set eth0 up
ip -n "${NS[B]}" route add default via 198.18.2.1
# The router's veths carry no kernel address: vrouterd owns them through af_packet, not the kernel.
ip -n "${NS[R]}" link set vr-a up
ip -n "${NS[R]}" link set vr-b up
for end in "A eth0" "B eth0" "R vr-a" "R vr-b"; do
  read -r host dev <<<"$end"
  # veth leaves checksums to "hardware" and hands af_packet 64 KB super-frames; vrouterd would see
  # bad checksums and oversized packets, so every end computes and segments in software.
  in_ns "$host" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null
done

section "vrouterd"
# The socket goes in our temp dir: the config's /run/vrouter/control.sock may belong to a real router.
ip netns exec "${NS[R]}" "$BUILD/vrouterd" --config "$CONFIG" --control_socket "$SOCK" >"$VR_LOG" 2>&1 &
VR_PID=$!
echo "${NS[R]}\$ $BUILD/vrouterd --config $CONFIG --control_socket $SOCK   (pid $VR_PID)"
deadline=$((SECONDS + 30))
until grep -q "forwarding:" "$VR_LOG"; do
  if ! kill -0 "$VR_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    echo "demo: vrouterd did not start forwarding; its log:" >&2
    sed 's/^/    /' "$VR_LOG" >&2
    vr_log_shown=1
    exit 1
  fi
  sleep 0.1
done
sed 's/^/    /' "$VR_LOG"
snap last
echo "metrics: $METRICS_URL inside namespace ${NS[R]}; for example:"
echo "    ip netns exec ${NS[R]} curl -s $METRICS_URL | grep '^vrouter_port_receive_packets_total'"

section "route show"
ctl route show

section "ping"
run A ping -c 2 -i 0.2 -W 1 198.18.1.1
router_delta
echo
run A ping -c 3 -i 0.2 -W 1 198.18.2.2
router_delta
echo
run A ping -c 3 -i 0.2 -W 1 198.19.0.1
router_delta

section "ICMP errors from the router (these pings are meant to fail)"
# Each shows a different RFC 1812 path; ping exits non-zero for all of them, which is the point.
echo "TTL 1: the router must not forward it, and answers 'time exceeded'"
run A ping -c 1 -W 1 -t 1 198.19.0.1 || true
router_delta
echo
echo "198.18.128.0/20 is an 'unreachable' route: dropped with 'destination unreachable'"
run A ping -c 1 -W 1 198.18.128.1 || true
router_delta
echo
echo "198.19.255.0/24 is a blackhole: dropped without a word"
run A ping -c 1 -W 1 198.19.255.1 || true
router_delta

section "TCP: $TRANSFER_MB MB from A to B port 5001"
head -c "${TRANSFER_MB}M" /dev/urandom >"$TMP/payload"
# Not through in_ns: a function run in the background is a subshell, so $! would name the subshell
# and killing it would leave nc running.
echo "B\$ $NC -l -p 5001 > received &"
ip netns exec "${NS[B]}" "$NC" -l -p 5001 >"$TMP/received" &
RX_PID=$!
deadline=$((SECONDS + 5))
until in_ns B ss -Hltn 'sport = :5001' | grep -q .; do
  [ "$SECONDS" -lt "$deadline" ] || die "netcat in host B never listened on port 5001"
  sleep 0.1
done
t0=$(date +%s%N)
echo "A\$ $NC -N 198.18.2.2 5001 < payload   (${TRANSFER_MB} MB from /dev/urandom)"
# --foreground keeps nc in our process group, so Ctrl-C reaches it instead of waiting 120 s.
in_ns A timeout --foreground 120 "$NC" -N 198.18.2.2 5001 <"$TMP/payload" || die "the transfer failed or took over 120 s"
wait_pid "$RX_PID" 10 || die "host B did not see the end of the transfer"
RX_PID=""
t1=$(date +%s%N)
sent=$(stat -c %s "$TMP/payload") received=$(stat -c %s "$TMP/received")
sum_a=$(sha256sum <"$TMP/payload" | cut -d' ' -f1)
sum_b=$(sha256sum <"$TMP/received" | cut -d' ' -f1)
awk -v b="$received" -v ns="$((t1 - t0))" \
  'BEGIN { printf "received %d bytes in %.2f s: %.0f Mbit/s\n", b, ns / 1e9, b * 8 / ns * 1e3 }'
echo "sha256 sent by A:     $sum_a"
echo "sha256 received by B: $sum_b"
{ [ "$sent" -eq "$received" ] && [ "$sum_a" = "$sum_b" ]; } || die "what B received differs from what A sent"
echo "match"
router_delta

section "vrouterctl stats"
ctl stats
section "metrics"
# The same counters as Prometheus scrapes them; grafana/README.md shows the dashboard over them.
# vrouterd refreshes what /metrics serves every 500 ms: wait, so the transfer above is in it.
sleep 1
echo "${NS[R]}\$ curl -s $METRICS_URL | grep -E '^vrouter_(port_(receive|transmit)_packets|events)_total'"
in_ns R curl -s --max-time 5 "$METRICS_URL" \
  | grep -E '^vrouter_(port_(receive|transmit)_packets|events)_total' \
  | grep -v ' 0$' | sed 's/^/    /' \
  || echo "    (no answer from $METRICS_URL: is this vrouterd built with the exporter?)"
section "vrouterctl neigh show"
ctl neigh show
section "router log"
sed 's/^/    /' "$VR_LOG"

# DEMO_SECONDS=0 means the walkthrough alone: a live phase of no length would only show a lost ping.
if [ "$DEMO_SECONDS" = 0 ]; then exit 0; fi
if [ -n "$DEMO_SECONDS" ]; then
  section "live: A pings 198.19.0.1; counters every $TICK s for $DEMO_SECONDS s"
else
  section "live: A pings 198.19.0.1; counters every $TICK s until Ctrl-C"
fi
# Not through in_ns either, so that $! is ping itself (see nc above).
ip netns exec "${NS[A]}" ping -i 0.2 198.19.0.1 >"$TMP/ping.log" 2>&1 &
PING_PID=$!
start=$SECONDS
snap tick
t_prev=$(date +%s%N)
while :; do
  elapsed=$((SECONDS - start))
  if [ -n "$DEMO_SECONDS" ]; then
    [ "$elapsed" -lt "$DEMO_SECONDS" ] || break
    step=$((DEMO_SECONDS - elapsed < TICK ? DEMO_SECONDS - elapsed : TICK))
  else
    step=$TICK
  fi
  sleep "$step"
  snap now
  t_now=$(date +%s%N)
  secs=$(awk -v ns="$((t_now - t_prev))" 'BEGIN { print ns / 1e9 }')
  t_prev=$t_now
  printf '%4ds  %s\n' "$((SECONDS - start))" "$(counters line "$TMP/tick.json" "$TMP/now.json" "$secs")"
  printf '       %s%s%s\n' "$DIM" "$(tail -n 1 "$TMP/ping.log")" "$OFF"
  mv "$TMP/now.json" "$TMP/tick.json"
done
# SIGINT is how ping is asked for its summary.
kill -INT "$PING_PID"
ping_rc=0
wait_pid "$PING_PID" 5 || ping_rc=$?
# Forgotten only once it is gone; if it still runs, cleanup stops it.
[ "$ping_rc" -eq 124 ] || PING_PID=""
grep -A2 -- '--- .* ping statistics ---' "$TMP/ping.log" || true

section "vrouterctl stats (final)"
ctl stats
