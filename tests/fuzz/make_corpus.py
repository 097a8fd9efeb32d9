#!/usr/bin/python3
# Writes the seed corpora of tests/fuzz/corpus/: frames of every kind the packet target's router
# meets, each control request form, YAML configs, and rtnetlink messages captured from a kernel.
#
#   tests/fuzz/make_corpus.py            packet, command and yaml seeds
#   tests/fuzz/make_corpus.py --netlink  netlink seeds too (root: captured in a network namespace)
import ctypes
import os
import shutil
import socket
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from packets import checksum, ether, ip4_header, ip4_udp, mac_bytes  # noqa: E402

# The packet target's router (tests/fuzz/packet_fuzz.cc): ports a and b, a.100, b.10.20.
MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"
HOST = "02:00:00:00:00:aa"
BCAST = "ff:ff:ff:ff:ff:ff"
ETH_IP, ETH_ARP, ETH_IP6, ETH_VLAN, ETH_QINQ = 0x0800, 0x0806, 0x86DD, 0x8100, 0x88A8
PORT_A, PORT_B, KERNEL, TICK = 0, 1, 2, 3


def record(kind, data):
    return bytes([kind]) + struct.pack("!H", len(data)) + data


def tick(steps):
    return bytes([TICK]) + struct.pack("!H", steps)


def ip4(a):
    return socket.inet_pton(socket.AF_INET, a)


def ip6(a):
    return socket.inet_pton(socket.AF_INET6, a)


def icmp4_echo(src, dst, ident=1, seq=1, payload=b"ping" * 8, ttl=64, **kw):
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    return ip4_header(src, dst, len(body), proto=1, ttl=ttl, **kw) + body


def ip4_with_options(src, dst, options, payload, proto=17):
    hdr = ip4_header(src, dst, len(options) + len(payload), proto=proto,
                     ihl=5 + len(options) // 4)
    hdr = hdr[:10] + b"\0\0" + hdr[12:] + options
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_IP, 6, 4, op, mac_bytes(sha), ip4(spa),
                       mac_bytes(tha), ip4(tpa))


def ip6_packet(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hlim, ip6(src), ip6(dst)) + payload


def icmp6(src, dst, body):
    pseudo = ip6(src) + ip6(dst) + struct.pack("!I3xB", len(body), 58)
    csum = checksum(pseudo + body)
    return ip6_packet(src, dst, 58, body[:2] + struct.pack("!H", csum) + body[4:], hlim=255)


def icmp6_echo(src, dst, payload=b"ping" * 8):
    return icmp6(src, dst, struct.pack("!BBHHH", 128, 0, 0, 1, 1) + payload)


def solicited_node(addr):
    return "ff02::1:ff" + ip6(addr)[13:].hex()[:2] + ":" + ip6(addr)[14:].hex()


def nd_solicit(src, target, lladdr):
    body = struct.pack("!BBHI16s", 135, 0, 0, 0, ip6(target))
    body += struct.pack("!BB6s", 1, 1, mac_bytes(lladdr))
    return icmp6(src, solicited_node(target), body)


def nd_advert(src, dst, target, lladdr, flags=0x60000000):
    body = struct.pack("!BBHI16s", 136, 0, 0, flags, ip6(target))
    body += struct.pack("!BB6s", 2, 1, mac_bytes(lladdr))
    return icmp6(src, dst, body)


def udp6(src, dst, payload, sport=40000, dport=9):
    body = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = ip6(src) + ip6(dst) + struct.pack("!I3xB", len(body), 17)
    body = body[:6] + struct.pack("!H", checksum(pseudo + body)) + body[8:]
    return ip6_packet(src, dst, 17, body)


def vlan(dst, src, vid, ethertype, payload):
    return mac_bytes(dst) + mac_bytes(src) + struct.pack("!HHH", ETH_VLAN, vid, ethertype) + payload


def qinq(dst, src, outer, inner, ethertype, payload, outer_tpid=ETH_QINQ):
    return (mac_bytes(dst) + mac_bytes(src) +
            struct.pack("!HHHHH", outer_tpid, outer, ETH_VLAN, inner, ethertype) + payload)


def packet_seeds():
    udp_fwd = ether(MAC_A, HOST, ip4_udp("198.18.1.2", "198.19.0.5", b"x" * 32))
    echo_a = ether(MAC_A, HOST, icmp4_echo("198.18.1.2", "198.18.1.1"))
    unresolved = ether(MAC_A, HOST, ip4_udp("198.18.1.2", "198.18.2.77", b"y" * 32))
    arp_req = ether(BCAST, HOST, arp(1, HOST, "198.18.1.2", "00:00:00:00:00:00", "198.18.1.1"),
                    ETH_ARP)
    arp_gw_reply = ether(MAC_A, HOST, arp(2, HOST, "198.18.1.254", MAC_A, "198.18.1.1"), ETH_ARP)
    arp_b_reply = ether(MAC_B, HOST, arp(2, HOST, "198.18.2.77", MAC_B, "198.18.2.1"), ETH_ARP)
    big = b"z" * 1400
    seeds = {
        "ip4-udp-forward": record(PORT_A, udp_fwd),
        "ip4-icmp-echo": record(PORT_A, echo_a),
        "ip4-broadcast": record(PORT_A, ether(BCAST, HOST,
                                              ip4_udp("198.18.1.2", "198.18.1.255", b"b"))),
        "ip4-default-route": record(PORT_B, ether(MAC_B, HOST,
                                                  ip4_udp("198.18.2.2", "203.0.113.9", b"d"))),
        "ip4-blackhole": record(PORT_A, ether(MAC_A, HOST,
                                              ip4_udp("198.18.1.2", "198.19.255.1", b"h"))),
        "ip4-unreachable": record(PORT_A, ether(MAC_A, HOST,
                                                ip4_udp("198.18.1.2", "198.18.130.1", b"u"))),
        "ip4-ttl-1": record(PORT_A, ether(MAC_A, HOST, ip4_udp("198.18.1.2", "198.19.0.5", b"t",
                                                               ttl=1))),
        "ip4-bad-checksum": record(PORT_A, ether(MAC_A, HOST, ip4_udp(
            "198.18.1.2", "198.19.0.5", b"c", bad_checksum=True))),
        "ip4-options": record(PORT_A, ether(MAC_A, HOST, ip4_with_options(
            "198.18.1.2", "198.19.0.5", b"\x01\x01\x01\x00", b"o" * 8))),
        "ip4-udp-to-router-knet": record(PORT_A, ether(MAC_A, HOST, ip4_udp(
            "198.18.1.2", "198.18.1.1", b"k", dport=179))),
        "ip4-resolve-then-reply": record(PORT_A, unresolved) + record(PORT_B, arp_b_reply),
        "ip4-resolve-timeout": record(PORT_A, unresolved) + tick(15) + tick(40),
        "ip4-gateway-resolved": record(PORT_A, arp_gw_reply) + record(PORT_B, ether(
            MAC_B, HOST, ip4_udp("198.18.2.2", "203.0.113.9", b"g"))),
        "arp-request": record(PORT_A, arp_req),
        "arp-reply-gateway": record(PORT_A, arp_gw_reply),
        "arp-truncated": record(PORT_A, arp_req[:30]),
        "ip4-fragment-needed-df": record(PORT_A, ether(MAC_A, HOST, ip4_udp(
            "198.18.1.2", "198.18.3.9", big, df=True))),
        "ip4-fragmented-into-vlan": (
            record(PORT_A, vlan(MAC_A, HOST, 100, ETH_ARP,
                                arp(2, HOST, "198.18.3.2", MAC_A, "198.18.3.1"))) +
            record(PORT_B, ether(MAC_B, HOST, ip4_udp("198.18.2.2", "198.20.0.5", big)))),
        "vlan-echo": record(PORT_A, vlan(MAC_A, HOST, 100, ETH_IP,
                                         icmp4_echo("198.18.3.2", "198.18.3.1"))),
        "vlan-unknown-tag": record(PORT_A, vlan(MAC_A, HOST, 101, ETH_IP,
                                                icmp4_echo("198.18.3.2", "198.18.3.1"))),
        "vlan-truncated-tag": record(PORT_A, vlan(MAC_A, HOST, 100, ETH_IP, b"")[:15]),
        "qinq-udp": record(PORT_B, qinq(MAC_B, HOST, 10, 20, ETH_IP,
                                        ip4_udp("198.18.4.2", "198.18.4.1", b"q", dport=53))),
        "qinq-double-8100": record(PORT_B, qinq(MAC_B, HOST, 10, 20, ETH_IP, icmp4_echo(
            "198.18.4.2", "198.18.4.1"), outer_tpid=ETH_VLAN)),
        "qinq-truncated": record(PORT_B, qinq(MAC_B, HOST, 10, 20, ETH_IP, b"")[:19]),
        "runt": record(PORT_A, mac_bytes(MAC_A) + mac_bytes(HOST)[:4]),
        "ip4-truncated-header": record(PORT_A, udp_fwd[:30]),
        "ip4-padded": record(PORT_A, udp_fwd + b"\0" * 20),
        "ip6-udp-forward": record(PORT_A, ether(MAC_A, HOST, udp6(
            "2001:db8:1::2", "2001:db8:100::5", b"x" * 32), ETH_IP6)),
        "ip6-default-via-link-local": record(PORT_B, ether(MAC_B, HOST, udp6(
            "2001:db8:2::2", "2001:db8:7777::1", b"d"), ETH_IP6)),
        "ip6-echo": record(PORT_A, ether(MAC_A, HOST, icmp6_echo("2001:db8:1::2", "2001:db8:1::1"),
                                         ETH_IP6)),
        "ip6-echo-link-local": record(PORT_A, ether(MAC_A, HOST, icmp6_echo("fe80::aa", "fe80::1"),
                                                    ETH_IP6)),
        "ip6-unreachable": record(PORT_A, ether(MAC_A, HOST, udp6(
            "2001:db8:1::2", "2001:db8:ff00::1", b"u"), ETH_IP6)),
        "ip6-hop-limit-1": record(PORT_A, ether(MAC_A, HOST, ip6_packet(
            "2001:db8:1::2", "2001:db8:100::5", 17, b"\0" * 16, hlim=1), ETH_IP6)),
        "ip6-hop-by-hop": record(PORT_A, ether(MAC_A, HOST, ip6_packet(
            "2001:db8:1::2", "2001:db8:100::5", 0, bytes([17, 0, 1, 4, 0, 0, 0, 0]) + b"\0" * 16),
            ETH_IP6)),
        "ip6-too-big-for-vlan": record(PORT_B, ether(MAC_B, HOST, udp6(
            "2001:db8:2::2", "2001:db8:3::9", big), ETH_IP6)),
        "ip6-resolve-then-advert": (
            record(PORT_A, ether(MAC_A, HOST, udp6("2001:db8:1::2", "2001:db8:2::77", b"r"),
                                 ETH_IP6)) +
            record(PORT_B, ether(MAC_B, HOST, nd_advert("2001:db8:2::77", "2001:db8:2::1",
                                                        "2001:db8:2::77", HOST), ETH_IP6))),
        "nd-solicit": record(PORT_A, ether("33:33:ff:00:00:01", HOST, nd_solicit(
            "2001:db8:1::2", "2001:db8:1::1", HOST), ETH_IP6)),
        "nd-solicit-link-local": record(PORT_A, ether("33:33:ff:00:00:01", HOST, nd_solicit(
            "fe80::aa", "fe80::1", HOST), ETH_IP6)),
        "nd-advert": record(PORT_A, ether(MAC_A, HOST, nd_advert(
            "fe80::2", "fe80::1", "fe80::2", HOST), ETH_IP6)),
        "ip6-truncated": record(PORT_A, ether(MAC_A, HOST, udp6(
            "2001:db8:1::2", "2001:db8:100::5", b"x"), ETH_IP6)[:40]),
        "kernel-ip4": record(KERNEL, ether(MAC_A, MAC_A, ip4_udp("198.18.1.1", "198.18.2.2",
                                                                 b"from the kernel"))),
        "kernel-ip4-unresolved": record(KERNEL, ether(MAC_A, MAC_A, ip4_udp(
            "198.18.1.1", "198.18.1.50", b"k"))),
        "kernel-ip6": record(KERNEL, ether(MAC_A, MAC_A, udp6("2001:db8:1::1", "2001:db8:100::1",
                                                              b"from the kernel"), ETH_IP6)),
        "mixed-burst": b"".join(record(PORT_A, f) for f in
                                (udp_fwd, echo_a, arp_req, unresolved, udp_fwd)) +
                       record(PORT_B, arp_b_reply),
    }
    return seeds


# The command target's router (tests/fuzz/command_fuzz.cc).
COMMANDS = {
    "ping": "ping",
    "stats": "stats",
    "stats-s": "-j stats -s",
    "link-show": "link show",
    "link-show-dev": "-j link show dev a.7",
    "link-show-group": "link show group customers",
    "link-help": "link help",
    "link-set-dev": "link set dev a mtu 1400 down",
    "link-set-dev-up-group": "link set dev a.7 up group wholesale",
    "link-set-group": "link set group customers mtu 1300 down",
    "link-set-impair-drop": "link set dev b.5.6 impair drop 5 seed 7",
    "link-set-impair-flap": "link set group wholesale impair flap 100 900",
    "link-set-member": "link set dev b.10.3 mtu 1200 impair pass",
    "link-add-template": "link add group customers template parent a vlan 200-215 address "
                         "198.18.64.0/31 mac 02:00:00:00:10:00 mac-step 1",
    "link-add-template-qinq": "link add group wholesale template parent b outer 30-31 inner 1-8",
    "link-del-template": "link del group wholesale template parent b outer 10-11 inner 1-4",
    "link-del-template-all": "link del group wholesale template",
    "link-add-dev": "link add dev a.9 parent a vlan 9 group customers",
    "link-add-dev-qinq": "link add dev b.7.8 parent b outer 7 inner 8 mac 02:00:00:00:00:99",
    "link-del-dev": "link del dev b.5.6",
    "group-show": "-j group show",
    "addr-show": "addr show dev a",
    "addr-add": "addr add 198.18.9.1/24 dev b.5.6",
    "addr-del": "addr del 198.18.3.1/24 dev a.7",
    "addr6-add": "addr add 2001:db8:9::1/64 dev b",
    "addr6-del": "address del 2001:db8:3::1/64 dev a.7",
    "route-show": "-j route show",
    "route-get": "route get 198.19.1.1",
    "route-get-json": "-j route get 198.18.96.5",
    "route-add": "route add 10.0.0.0/8 via 198.18.1.2",
    "route-add-blackhole": "route add blackhole 192.0.2.0/24",
    "route-del": "route del 198.19.0.0/16",
    "route6-add": "route add 2001:db8:200::/48 via 2001:db8:1::2",
    "route6-add-unreachable": "route add unreachable 2001:db8:300::/48",
    "route6-del": "route del 2001:db8:100::/48",
    "neigh-show": "neigh show",
    "neigh-add": "neigh add 198.18.1.9 lladdr 02:00:00:00:00:cc",
    "neigh-add-dev": "neighbour add 198.18.3.9 lladdr 02:00:00:00:00:cd dev a.7",
    "neigh-del": "neighbor del 198.18.2.2",
    "config-show": "config show",
    "reload": "reload",
    "session": "link add dev a.9 parent a vlan 9\naddr add 198.18.9.1/24 dev a.9\n"
               "addr add 2001:db8:9::1/64 dev a.9\nroute add 10.9.0.0/16 via 198.18.9.2\n"
               "link set dev a.9 mtu 1300\nlink show dev a.9\nroute del 10.9.0.0/16",
    "session-undo": "route add 10.0.0.0/8 via 198.18.1.2\nroute del 10.0.0.0/8\n"
                    "link set group customers up\nreload",
}

# The YAML target reads its input as config/fuzz.yaml, so `group_file: group` is config/group.
YAMLS = {
    "minimal": "ports:\n  - {name: a, device: net_null0, addresses: [198.18.1.1/24]}\n",
    "knet": "knet:\n  name: knet0\n  rate: 1000\n  mirror: {table: 100, protocols: [bgp, 4]}\n"
            "ports:\n  - {name: a, device: net_null0, addresses: [198.18.1.1/24]}\n",
    "sections": "dataplane: {workers: 2, nbufs: 4095}\ncontrol: {socket: /tmp/x.sock, group: adm}\n"
                "metrics: {listen: \"[::1]:9420\", interfaces: 100}\n"
                "arp: {hold_packets: 4, reachable_seconds: 10, retries: 2, retry_ms: 200, "
                "gc_seconds: 60}\nicmp: {rate_per_second: 10, burst: 5}\n"
                "ports:\n  - {name: a, device: \"0000:00:08.0\", mtu: 9000, state: down}\n",
    "group-file": "group_file: group\ngroups:\n  - {id: 7, name: edge, mtu: 1400}\n"
                  "ports:\n  - {name: a, device: net_null0, group: edge, "
                  "addresses: [198.18.1.1/24]}\n",
    "errors-duplicate-key": "ports:\n  - {name: a, device: net_null0}\nports: []\n",
    "errors-two-documents": "ports: []\n---\nports: []\n",
}


def write(directory, seeds):
    path = os.path.join(HERE, "corpus", directory)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    for name, data in seeds.items():
        with open(os.path.join(path, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
    print(f"{path}: {len(seeds)} seeds")


def yaml_seeds():
    seeds = dict(YAMLS)
    for name in sorted(os.listdir(os.path.join(ROOT, "config", "examples"))):
        with open(os.path.join(ROOT, "config", "examples", name)) as f:
            seeds["example-" + name.removesuffix(".yaml")] = f.read()
    for target in ("packet", "command"):
        with open(os.path.join(HERE, target + "_fuzz.cc")) as f:
            text = f.read()
        body = text.split('kRouterYaml[] = R"(', 1)[1].split(')";', 1)[0]
        seeds["testbed-" + target] = body.replace("%s", "/tmp/vr-fuzz.sock")
    return seeds


# rtnetlink multicast groups as bind() takes them (the RTMGRP_* bits).
RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV4_ROUTE = 0x1, 0x10, 0x40
RTMGRP_IPV6_IFADDR, RTMGRP_IPV6_ROUTE = 0x100, 0x400


def netlink_seeds():
    """Runs `ip` in a new network namespace and keeps the first datagram each step makes."""
    if ctypes.CDLL(None, use_errno=True).unshare(0x40000000) != 0:  # CLONE_NEWNET
        sys.exit("--netlink needs root (unshare(CLONE_NEWNET))")
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR |
               RTMGRP_IPV6_ROUTE))
    sock.setsockopt(270, 1, 32)  # SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_NEXTHOP
    sock.settimeout(0.5)

    def step(cmd):
        subprocess.run(["ip"] + cmd.split(), check=True)
        got = []
        try:
            while True:
                got.append(sock.recv(65536))
        except socket.timeout:
            pass
        return got

    def first(datagrams, rtm_type, family=None):
        for d in datagrams:
            t = struct.unpack_from("=H", d, 4)[0]
            if t == rtm_type and (family is None or d[16] == family):
                return d
        raise SystemExit(f"no message of type {rtm_type} captured")

    RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_DELROUTE = 16, 20, 24, 25
    seeds = {}
    step("link set lo up")
    got = step("link add vrm0 type veth peer name vrm1")
    seeds["newlink"] = first(got, RTM_NEWLINK)
    step("link set vrm1 up")
    got = step("link set vrm0 up")
    seeds["newlink-up"] = first(got, RTM_NEWLINK)
    got = step("addr add 198.18.0.1/24 dev vrm0")
    seeds["newaddr"] = first(got, RTM_NEWADDR, socket.AF_INET)
    got = step("addr add 2001:db8:1::1/64 dev vrm0 nodad")
    seeds["newaddr6"] = first(got, RTM_NEWADDR, socket.AF_INET6)
    got = step("route add 198.19.0.0/16 via 198.18.0.2 proto bird metric 10")
    seeds["newroute"] = add = first(got, RTM_NEWROUTE, socket.AF_INET)
    got = step("route replace 198.19.0.0/16 via 198.18.0.3 proto bird metric 10")
    seeds["newroute-replace"] = first(got, RTM_NEWROUTE, socket.AF_INET)
    got = step("route add blackhole 198.20.0.0/16 proto static")
    seeds["newroute-blackhole"] = first(got, RTM_NEWROUTE, socket.AF_INET)
    got = step("route add unreachable 198.21.0.0/16")
    seeds["newroute-unreachable"] = first(got, RTM_NEWROUTE, socket.AF_INET)
    got = step("route add default via 198.18.0.254 proto zebra")
    seeds["newroute-default"] = first(got, RTM_NEWROUTE, socket.AF_INET)
    got = step("route add 198.22.0.0/16 nexthop via 198.18.0.2 nexthop via 198.18.0.3")
    seeds["newroute-multipath"] = first(got, RTM_NEWROUTE, socket.AF_INET)
    got = step("route del 198.19.0.0/16 proto bird metric 10")
    seeds["delroute"] = delete = first(got, RTM_DELROUTE, socket.AF_INET)
    seeds["newroute-then-delroute"] = add + delete
    got = step("-6 route add 2001:db8:100::/48 via 2001:db8:1::2 proto bird")
    seeds["newroute6"] = add6 = first(got, RTM_NEWROUTE, socket.AF_INET6)
    got = step("-6 route add 2001:db8:200::/48 via fe80::2 dev vrm0 proto bgp")
    seeds["newroute6-link-local"] = first(got, RTM_NEWROUTE, socket.AF_INET6)
    got = step("-6 route add blackhole 2001:db8:300::/48 proto static")
    seeds["newroute6-blackhole"] = first(got, RTM_NEWROUTE, socket.AF_INET6)
    got = step("-6 route del 2001:db8:100::/48 via 2001:db8:1::2 proto bird")
    seeds["delroute6"] = delete6 = first(got, RTM_DELROUTE, socket.AF_INET6)
    seeds["newroute6-then-delroute6"] = add6 + delete6
    got = step("nexthop add id 7 via 198.18.0.2 dev vrm0")
    seeds["newnexthop"] = first(got, 104)  # RTM_NEWNEXTHOP
    got = step("route add 198.23.0.0/16 nhid 7 proto bird")
    seeds["newroute-nhid"] = first(got, RTM_NEWROUTE, socket.AF_INET)
    got = step("nexthop del id 7")
    seeds["delnexthop"] = first(got, 105)  # RTM_DELNEXTHOP
    got = step("addr del 198.18.0.1/24 dev vrm0")
    seeds["deladdr"] = first(got, 21, socket.AF_INET)  # RTM_DELADDR
    got = step("link set vrm0 down")
    seeds["newlink-down"] = first(got, RTM_NEWLINK)
    got = step("link del vrm0")
    seeds["dellink"] = first(got, 17)  # RTM_DELLINK
    return seeds


def main():
    write("packet", packet_seeds())
    write("command", {k: v + "\n" for k, v in COMMANDS.items()})
    write("yaml", yaml_seeds())
    if "--netlink" in sys.argv:
        write("netlink", netlink_seeds())


if __name__ == "__main__":
    main()
