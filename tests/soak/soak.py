# Helpers of tests/soak/soak.sh: the mixed pcap, the configs it alternates, the hosts' senders
# and the final accounting table (every packet received matched to one named outcome).
import ipaddress
import json
import os
import re
import socket
import sys
import time

# Router side, shared by every config the soak writes.
IN_MAC = "02:00:00:00:00:01"
OUT_MAC = "02:00:00:00:00:02"
SINK_MAC = "02:00:00:00:00:bb"    # the static neighbour behind the null port `out`
A_MAC = "02:00:00:00:0a:02"       # host A's veth end (flapped)
K_MAC = "02:00:00:00:0b:02"       # host K's veth end (knet traffic)
VLAN_MAC = 0x020000001000         # template member i of group customers: base + i
QINQ_MAC = 0x020000002000         # of group wholesale
SRC4 = "198.19.254.{}"            # sources of the pcap's frames: routed back out of `out`

# Drop reasons that only follow another outcome already counted for the same packet: a forwarded
# packet the TX queue refused, an echo reply or ICMP error waiting for ARP, a punted frame the
# OutQ refused, a frame control read and found wanting. They are listed, never added to the
# balance, or a packet would count twice. Reasons control counts about its own frames too.
SECONDARY = {
    "tx_full", "outq_full", "inq_full", "nbuf_exhausted", "arp_hold_overflow",
    "arp_resolution_failed", "nd_hold_overflow", "nd_resolution_failed", "arp_invalid",
    "arp_not_for_us", "nd_invalid", "nd_router_solicit_invalid", "knet_not_routed",
    "ip4_frag_failed",
}


def mac(n):
    return ":".join(f"{(n >> s) & 255:02x}" for s in range(40, -8, -8))


def pcap(path):
    """One pass of the mixed traffic: 1024 frames, each class a known share."""
    from scapy.all import ARP, Dot1AD, Dot1Q, Ether, ICMP, ICMPv6EchoRequest, IP, IPv6, Raw, UDP, wrpcap

    def pad(p, size=60):
        b = bytes(p)
        return b + b"\0" * max(0, size - len(b))

    eth = Ether(dst=IN_MAC, src="02:00:00:00:0c:01")
    frames = []
    add = lambda n, make: frames.extend(pad(make(i)) for i in range(n))
    # Forwarded: IPv4 and IPv6 to the static routes, out of the null port.
    add(560, lambda i: eth / IP(src=SRC4.format(1 + i % 200), dst=f"198.19.{i % 16}.{1 + i % 250}") /
        UDP(sport=1024 + i, dport=9))
    add(200, lambda i: Ether(dst=IN_MAC, src="02:00:00:00:0c:01") /
        IPv6(src=f"2001:db8:1::{100 + i % 50:x}", dst=f"2001:db8:100:{i % 64:x}::{1 + i:x}") /
        UDP(sport=1024 + i, dport=9))
    # Sub-interfaces: vlan 100-131 (in both configs), qinq 10.1-10.16 and 11.1-11.16.
    add(64, lambda i: Ether(dst=mac(VLAN_MAC + i % 32), src="02:00:00:00:0c:01") /
        Dot1Q(vlan=100 + i % 32) / IP(src=SRC4.format(1 + i), dst=f"198.19.1.{1 + i}") / UDP(dport=9))
    add(32, lambda i: Ether(dst=mac(QINQ_MAC + (i // 16) * 100 + i % 16), src="02:00:00:00:0c:01") /
        Dot1AD(vlan=10 + i // 16) / Dot1Q(vlan=1 + i % 16) /
        IP(src=SRC4.format(1 + i), dst=f"198.19.2.{1 + i}") / UDP(dport=9))
    # Only config A has these: vlan 150 (template 100-163 there, 100-131 in B), a route and an
    # IPv6 route. In B: vlan_unknown, ip4_no_route (an ICMP error back), ip6_no_route.
    add(8, lambda i: Ether(dst=mac(VLAN_MAC + 50), src="02:00:00:00:0c:01") / Dot1Q(vlan=150) /
        IP(src=SRC4.format(1 + i), dst="198.19.3.1") / UDP(dport=9))
    add(16, lambda i: eth / IP(src=SRC4.format(1 + i), dst=f"198.19.64.{1 + i}") / UDP(dport=9))
    add(8, lambda i: Ether(dst=IN_MAC, src="02:00:00:00:0c:01") /
        IPv6(src="2001:db8:1::100", dst=f"2001:db8:200::{1 + i:x}") / UDP(dport=9))
    # For the router: echo requests of both families, answered in place; UDP to its address,
    # up to the kernel through knet (rate-limited); ARP requests for its address.
    add(16, lambda i: eth / IP(src=SRC4.format(1 + i), dst="198.18.0.1") / ICMP(id=7, seq=i))
    add(16, lambda i: Ether(dst=IN_MAC, src="02:00:00:00:0c:01") /
        IPv6(src="2001:db8:1::100", dst="2001:db8:1::1") / ICMPv6EchoRequest(id=7, seq=i))
    add(2, lambda i: eth / IP(src=SRC4.format(1 + i), dst="198.18.0.1") / UDP(sport=4000, dport=9))
    add(2, lambda i: Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:0c:01") /
        ARP(op=1, hwsrc="02:00:00:00:0c:01", psrc="198.18.0.9", pdst="198.18.0.1"))
    # Malformed or forbidden, each to its own drop reason.
    bad = eth / IP(src=SRC4.format(1), dst="198.19.0.1") / UDP(dport=9)
    b = bytearray(pad(bad))
    b[24] ^= 0xff  # IPv4 header checksum
    frames += [bytes(b)] * 8                                                  # ip4_bad_checksum
    add(8, lambda i: eth / IP(src=SRC4.format(1 + i), dst="198.19.0.1", ttl=1) / UDP(dport=9))  # ip4_ttl_exceeded
    add(8, lambda i: eth / IP(src="127.0.0.1", dst="198.19.0.1") / UDP(dport=9))  # ip4_martian_source
    add(8, lambda i: eth / IP(src=SRC4.format(1), dst="224.0.0.9") / UDP(dport=9))  # ip4_multicast
    frames += [bytes(eth)[:12] + b"\x08\x00" + bytes(IP(src=SRC4.format(1), dst="198.19.0.1"))[:10]] * 8  # ip4_truncated
    add(8, lambda i: Ether(dst=IN_MAC, src="02:00:00:00:0c:01", type=0x88b5) / Raw(b"x" * 46))  # ethertype_unsupported
    add(8, lambda i: Ether(dst="02:00:00:00:0d:01", src="02:00:00:00:0c:01") /
        IP(src=SRC4.format(1), dst="198.19.0.1") / UDP(dport=9))              # l2_other_host
    add(8, lambda i: Ether(dst=IN_MAC, src="02:00:00:00:0c:01") / Dot1Q(vlan=999) /
        IP(src=SRC4.format(1), dst="198.19.0.1") / UDP(dport=9))              # vlan_unknown
    add(8, lambda i: Ether(dst=IN_MAC, src="02:00:00:00:0c:01") /
        IPv6(src="2001:db8:1::100", dst="2001:db8:100::1", hlim=1) / UDP(dport=9))  # ip6_hop_limit_exceeded
    add(8, lambda i: Ether(dst=IN_MAC, src="02:00:00:00:0c:01") /
        IPv6(src="2001:db8:1::100", dst="2001:db8:ffff::1") / UDP(dport=9))   # ip6_no_route
    frames += [bytes(eth)[:13]] * 4                                           # eth_truncated
    # Fill to 1024 with more forwarded IPv4.
    add(1024 - len(frames), lambda i: eth / IP(src=SRC4.format(1 + i), dst=f"198.19.5.{1 + i % 250}") /
        UDP(dport=9))
    # Written by hand: scapy's writer wants packets of one link type, these are raw bytes.
    import struct
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
    print(len(frames))


def config(path, variant, tmp, metrics_port):
    """Variant S: no pcap port (start and end). A and B: the pcap port and its templates, with
    the differences a reload must apply (routes, a template range, a listed group member).
    D: the pcap port set down without its IPv6 address or templates, the step before S (a port
    is removed only once it has no IPv6 address)."""
    with_in = variant in ("A", "B")
    down = variant == "D"
    lines = [
        "dataplane: {workers: 1, nbufs: 16383}",
        f"control: {{socket: {tmp}/control.sock}}",
        f'metrics: {{listen: "127.0.0.1:{metrics_port}"}}',
        "knet: {name: knet0, mtu: 1500, rate: 50000, burst: 1024, mirror: \"off\"}",
        "groups:",
        "  - id: 10",
        "    name: customers",
    ]
    if with_in:
        vlan_hi = 163 if variant == "A" else 131
        lines += [
            "    templates:",
            f"      - {{parent: in, vlan: 100-{vlan_hi}, address: 198.18.64.0/31, mac: {mac(VLAN_MAC)}}}",
        ]
    lines += ["  - id: 20", "    name: wholesale"]
    if with_in:
        lines += [
            "    templates:",
            f"      - parent: in",
            f"        outer: 10-11",
            f"        inner: 1-100",
            f"        address: 198.18.96.1/30",
            f"        address_step: 4",
            f"        mac: {mac(QINQ_MAC)}",
        ]
        if variant == "A":
            lines += ["        members:", "          - {outer: 10, inner: 5, mtu: 1400}"]
    lines += ["ports:"]
    if down:
        lines += [
            "  - name: in",
            f"    device: net_pcap0,rx_pcap={tmp}/mixed.pcap,infinite_rx=1",
            f"    mac: {IN_MAC}",
            "    state: down",
            "    addresses: [198.18.0.1/24]",
        ]
    if with_in:
        lines += [
            "  - name: in",
            f"    device: net_pcap0,rx_pcap={tmp}/mixed.pcap,infinite_rx=1",
            f"    mac: {IN_MAC}",
            "    addresses: [198.18.0.1/24, 2001:db8:1::1/64]",
        ]
    lines += [
        "  - name: out",
        "    device: net_null0,no-rx=1",
        f"    mac: {OUT_MAC}",
        "    addresses: [198.18.1.1/24, 2001:db8:2::1/64]",
        "  - name: a",
        "    device: net_af_packet0,iface=vr-a",
        "    mac: 02:00:00:00:0a:01",
        "    addresses: [198.18.2.1/24, 2001:db8:3::1/64]",
        "  - name: k",
        "    device: net_af_packet1,iface=vr-k",
        "    mac: 02:00:00:00:0b:01",
        "    addresses: [198.18.3.1/24]",
        "routes:",
        "  - {prefix: 198.19.0.0/20, via: 198.18.1.2}",
        "  - {prefix: 198.19.254.0/24, via: 198.18.1.2}",
        '  - {prefix: "2001:db8:100::/48", via: "2001:db8:2::2"}',
    ]
    if variant == "A":
        lines += [
            "  - {prefix: 198.19.64.0/20, via: 198.18.1.2}",
            '  - {prefix: "2001:db8:200::/48", via: "2001:db8:2::2"}',
        ]
    lines += [
        "neighbours:",
        f"  - {{ip: 198.18.1.2, mac: {SINK_MAC}}}",
        f'  - {{ip: "2001:db8:2::2", mac: {SINK_MAC}}}',
        f"  - {{ip: 198.18.2.2, mac: {A_MAC}}}",
        f"  - {{ip: 198.18.3.2, mac: {K_MAC}}}",
    ]
    if with_in:
        # The pcap's IPv6 sources sit on `in`'s subnet: a static neighbour, so the echo replies
        # and errors back to them never wait for neighbour discovery.
        lines += [f'  - {{ip: "2001:db8:1::100", mac: 02:00:00:00:0c:01}}']
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def udp_send(dst, port, pps, seconds_file):
    """Sends numbered UDP datagrams to dst:port at about pps until killed; errors (the link is
    down while it flaps) are counted, not fatal. Writes `sent errors` to seconds_file at exit."""
    import signal
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = errors = 0
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True
    signal.signal(signal.SIGTERM, on_term)
    gap = 1.0 / pps
    batch = max(1, pps // 100)
    nxt = time.monotonic()
    while not stop:
        for _ in range(batch):
            try:
                s.sendto(sent.to_bytes(8, "big"), (dst, port))
                sent += 1
            except OSError:
                errors += 1
        nxt += gap * batch
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)
        else:
            nxt = time.monotonic()
    with open(seconds_file, "w") as f:
        f.write(f"{sent} {errors}\n")


def udp_echo(addr, port):
    """A UDP echo server in the router's namespace: its kernel answers through knet."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)


def sample(ctl, sock, metrics_url, out):
    """Once a second until killed: seconds, nbufs in use, the worker's idle polls, OutQ and InQ
    depth (from /metrics, up to 500 ms old), and how long the stats request took (the control
    lcore answers it: a long one means the control lcore was not running)."""
    import subprocess
    import urllib.request
    t0 = time.monotonic()
    with open(out, "a") as f:
        while True:
            a = time.monotonic()
            r = subprocess.run([ctl, "-j", "-s", sock, "stats"], capture_output=True, text=True)
            took = time.monotonic() - a
            try:
                s = json.loads(r.stdout)
                text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
                outq = metric(text, "vrouter_ring_depth", {"ring": "outq"})
                inq = metric(text, "vrouter_ring_depth", {"ring": "inq"})
                f.write(f"{a - t0:.1f} {s['pool']['in_use']} {sum(w['idle_polls'] for w in s['workers'])} "
                        f"{outq} {inq} {took * 1000:.0f}\n")
                f.flush()
            except Exception:
                pass
            time.sleep(max(0.0, 1.0 - (time.monotonic() - a)))


def metric(text, name, labels=None):
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        m = re.match(r'^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$', line)
        if not m or m.group(1) != name:
            continue
        if labels and not all(f'{k}="{v}"' in (m.group(2) or "") for k, v in labels.items()):
            continue
        total += float(m.group(3))
    return int(total)


def account(tmp):
    """The table. pre.json: the last stats while the pcap port existed (after it was set down);
    end.json: after it was removed and every source stopped; metrics.txt: /metrics at the end."""
    pre = json.load(open(f"{tmp}/pre.json"))
    end = json.load(open(f"{tmp}/end.json"))
    metrics = open(f"{tmp}/metrics.txt").read()
    info = json.load(open(f"{tmp}/info.json"))
    ev, dr = end["counters"], end["drops"]
    ok = True
    rows = []

    def row(label, value, note=""):
        rows.append((label, value, note))

    # Received: the workers' count is the whole; each port's from its device, `in` as the rest
    # (its device's counters left with it, so the last reading before that is shown too).
    worker_rx = sum(w["rx_packets"] for w in end["workers"])
    ports = {p["name"]: p for p in end["ports"]}
    pre_ports = {p["name"]: p for p in pre["ports"]}
    others = sum(p["rx_packets"] for p in end["ports"])
    print("received (packets the worker took from each port)")
    print(f"  {'in (net_pcap, removed at the end)':44} {worker_rx - others:>16,}   "
          f"(worker rx minus the other ports; its device said {pre_ports['in']['rx_packets']:,} "
          f"just before removal)")
    for name in ("out", "a", "k"):
        print(f"  {name + ' (' + ports[name]['device'].split(',')[0] + ')':44} {ports[name]['rx_packets']:>16,}")
    print(f"  {'total (worker rx_packets)':44} {worker_rx:>16,}   ({worker_rx / info['seconds'] / 1e6:.2f} Mpps over the {info['seconds']} s)")
    print()
    print("outcome of every packet received")
    primary = [
        ("forwarded IPv4 (ip4_forwarded)", ev["ip4_forwarded"]),
        ("forwarded IPv6 (ip6_forwarded)", ev["ip6_forwarded"]),
        ("to the kernel through knet (knet_punted)", ev["knet_punted"]),
        ("local: echo answered (icmp_echo_replies)", ev["icmp_echo_replies"]),
        ("local: echo answered (icmp6_echo_replies)", ev["icmp6_echo_replies"]),
        ("local: ARP to control (arp_frames_punted)", ev["arp_frames_punted"]),
        ("local: ND to control (nd_frames_punted)", ev["nd_frames_punted"]),
        ("dropped on purpose (impairment_dropped)", ev["impairment_dropped"]),
    ]
    accounted = 0
    for label, v in primary:
        accounted += v
        print(f"  {label:44} {v:>16,}")
    for reason, v in sorted(dr.items(), key=lambda kv: -kv[1]):
        if v == 0 or reason in SECONDARY:
            continue
        accounted += v
        print(f"  {'dropped: ' + reason:44} {v:>16,}")
    # port_down, vif_down, ip4_no_route, ip6_no_route and impairment_dropped also count packets
    # that already had an outcome above and were refused on the way out (or the router's own):
    # output_dropped counts those, so they are taken off once.
    accounted -= ev["output_dropped"]
    print(f"  {'less: counted twice (output_dropped)':44} {-ev['output_dropped']:>16,}")
    print(f"  {'total accounted':44} {accounted:>16,}")
    diff = worker_rx - accounted
    print(f"  {'difference (received - accounted)':44} {diff:>16,}")
    if diff != 0:
        ok = False
        print("  FAIL: packets received with no outcome counted")
    print()
    print("after an outcome: drops of packets counted above, and of the router's own frames")
    any_secondary = False
    for reason in sorted(SECONDARY):
        if dr.get(reason):
            any_secondary = True
            print(f"  {'dropped: ' + reason:44} {dr[reason]:>16,}")
    if not any_secondary:
        print("  (none)")
    print()
    print("before the worker: device drops (never received, so outside the balance)")
    for name, p in sorted(pre_ports.items()):
        src = ports.get(name, p)
        for key, label in (("rx_missed", "imissed"), ("rx_nombuf", "no nbuf"), ("rx_errors", "rx errors")):
            print(f"  {name + ': ' + label:44} {src[key]:>16,}" + ("   (last reading before removal)" if name not in ports else ""))
    print()
    print("sent by each port (device counters; tx errors are the device's refusals, in tx_full)")
    for name, p in sorted(pre_ports.items()):
        src = ports.get(name, p)
        print(f"  {name + ': tx packets / tx errors':44} {src['tx_packets']:>16,} / {src['tx_errors']:,}")
    print()
    k = end["knet"]
    print("knet")
    print(f"  {'to the kernel: packets (writes)':44} {k['to_kernel_packets']:>16,}   ({k['to_kernel_writes']:,}; errors {k['to_kernel_errors']:,})")
    print(f"  {'from the kernel: packets (reads)':44} {k['from_kernel_packets']:>16,}   ({k['from_kernel_reads']:,}; rate-limited {k['from_kernel_rate_limited']:,}, no nbuf {k['from_kernel_no_nbuf']:,}, unsupported {k['from_kernel_unsupported']:,})")
    print(f"  {'from the kernel: routed out (knet_routed)':44} {ev['knet_routed']:>16,}")
    if ev["knet_punted"] != k["to_kernel_packets"] + k["to_kernel_errors"]:
        ok = False
        print(f"  FAIL: knet_punted {ev['knet_punted']:,} != to_kernel_packets + errors")
    kin = k["from_kernel_packets"]
    kout = ev["knet_routed"] + dr["knet_not_routed"]
    print(f"  {'from the kernel: routed + not routed':44} {kout:>16,}   (must equal packets from the kernel)")
    if kin != kout:
        ok = False
        print(f"  FAIL: {kin - kout:,} frames from the kernel with no outcome")
    if k["to_kernel_packets"] == 0 or kin == 0:
        ok = False
        print("  FAIL: no traffic through knet in one direction")
    print()
    print("router's own traffic (not received, so outside the balance)")
    for name in ("icmp_errors_sent", "icmp_errors_ratelimited", "icmp6_errors_sent",
                 "icmp6_errors_ratelimited", "arp_replies_sent", "arp_requests_sent",
                 "nd_router_adverts_sent"):
        print(f"  {name:44} {ev[name]:>16,}")
    print()
    # The pool while the traffic ran, from the sampler: where it went when it filled, and the
    # loop iterations that found nothing to do (with the pcap replaying forever, only a pool with
    # no free nbuf for net_pcap makes one).
    path = f"{tmp}/samples.txt"
    rows_s = [l.split() for l in open(path) if l.strip()] if os.path.exists(path) else []
    if rows_s:
        s = [(float(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows_s]
        top = max(s, key=lambda r: r[1])
        print("while the traffic ran (one sample a second)")
        print(f"  {'nbufs in use: median / max':44} {sorted(r[1] for r in s)[len(s) // 2]:>10,} / {top[1]:,}   (max at {top[0]:.0f} s, OutQ {top[3]:,}, InQ {top[4]:,})")
        print(f"  {'OutQ depth max':44} {max(r[3] for r in s):>16,}")
        print(f"  {'worker idle polls with the pcap loaded':44} {s[-1][2] - s[0][2]:>16,}")
        slow = [r for r in s if r[5] > 500]
        print(f"  {'stats requests slower than 500 ms':44} {len(slow):>16,}" +
              (f"   (slowest {max(r[5] for r in s):,} ms at {max(s, key=lambda r: r[5])[0]:.0f} s)" if slow else ""))
        print()
    base, loaded, final = info["pool_base"], info["pool_loaded"], end["pool"]["in_use"]
    print("nbuf pool")
    print(f"  {'in use at start, before the pcap port':44} {base:>16,}")
    print(f"  {'in use with the pcap port loaded':44} {loaded:>16,}   (+{loaded - base:,}: the pcap's {info['frames']:,} frames, which "
          f"infinite_rx keeps in nbufs, and {loaded - base - info['frames']:,} in flight at the lowest of ten readings)")
    print(f"  {'in use at the end, pcap port removed':44} {final:>16,}")
    if final != base:
        ok = False
        print(f"  FAIL: {final - base:+,} nbufs against the start: a leak")
    print()
    rel = {"success": metric(metrics, "vrouter_config_reloads_total", {"result": "success"}),
           "failure": metric(metrics, "vrouter_config_reloads_total", {"result": "failure"})}
    print("control")
    print(f"  {'reloads asked (vrouterctl + SIGHUP)':44} {info['reloads']:>16,}   ({info['reload_cli']:,} + {info['reload_hup']:,}; vrouterctl errors {info['reload_errors']:,})")
    print(f"  {'reloads done / failed (metrics)':44} {rel['success']:>10,} / {rel['failure']:,}")
    print(f"  {'link set group mtu':44} {info['mtu_changes']:>16,}   (errors {info['mtu_errors']:,})")
    print(f"  {'link flaps (host A down and up)':44} {info['flaps']:>16,}")
    for host, name in (("A", "udp_a"), ("K", "udp_k")):
        if os.path.exists(f"{tmp}/{name}.txt"):
            sent, errors = map(int, open(f"{tmp}/{name}.txt").read().split())
            print(f"  {'host ' + host + ' UDP datagrams sent / send errors':44} {sent:>10,} / {errors:,}")
    if rel["failure"] or info["reload_errors"] or info["mtu_errors"]:
        ok = False
        print("  FAIL: a reload or group change failed")
    # SIGHUPs that land during a reload fold into one more (the design), so at least one each.
    if rel["success"] < info["reload_cli"]:
        ok = False
        print("  FAIL: fewer successful reloads than vrouterctl asked for")
    print()
    # Resident memory: VmRSS + HugetlbPages every 10 s; the first sample after warm-up against
    # the last. Flat: within 4 MiB or 2% of the first, whichever is larger.
    samples = [tuple(map(int, l.split())) for l in open(f"{tmp}/rss.txt") if l.strip()]
    warm = info["warmup"]
    series = [(t, kb) for t, kb in samples if t >= warm]
    print("memory (VmRSS + HugetlbPages, kB, every 10 s)")
    if len(series) < 2:
        ok = False
        print("  FAIL: fewer than two samples after warm-up")
    else:
        vals = [kb for _, kb in series]
        first, last = vals[0], vals[-1]
        allowed = max(4096, first * 0.02)
        print(f"  samples after {warm} s warm-up: {len(vals)}; first {first:,} last {last:,} "
              f"min {min(vals):,} max {max(vals):,}; last - first {last - first:+,} kB")
        print("  series: " + " ".join(f"{kb // 1024}M" for kb in vals))
        if last - first > allowed:
            ok = False
            print(f"  FAIL: grew more than {allowed / 1024:.0f} MiB")
        else:
            print(f"  flat (within {allowed / 1024:.0f} MiB of the first sample)")
    print()
    print("soak: PASS" if ok else "soak: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "pcap":
        pcap(sys.argv[2])
    elif cmd == "config":
        config(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "udp-send":
        udp_send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif cmd == "udp-echo":
        udp_echo(sys.argv[2], int(sys.argv[3]))
    elif cmd == "sample":
        sample(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "account":
        sys.exit(account(sys.argv[2]))
    else:
        sys.exit(f"unknown command {cmd}")
