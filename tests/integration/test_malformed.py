#!/usr/bin/python3
# The malformed-packet matrix (issue 9): one dual-stack router between hosts A and B, and a table
# of packet classes a router must never forward: broken Ethernet, VLAN, IPv4 (RFC 1812 §5.2.2,
# §5.3.7), IPv6 (RFC 8200, RFC 4291) and ARP (RFC 826). For every class, N frames go in from A and
# the test asserts exactly: the class's drop reason moved by N and no other reason moved, nothing
# was forwarded (ip4_forwarded, ip6_forwarded, no frame with the class's marker on B's wire), ICMP
# errors went back to A only where the RFCs ask for them, and good UDP still crosses after.
import collections
import ipaddress
import json
import os
import select
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import packets as P  # noqa: E402
from topology import Router, Topology, sh, socket_in  # noqa: E402

N = 7  # frames per class
ROUTER_A_MAC = "02:00:00:00:00:01"
ROUTER_B_MAC = "02:00:00:00:00:02"
A4, B4, R4 = "198.18.1.2", "198.18.2.2", "198.18.1.1"
A6, B6, R6 = "2001:db8:1::2", "2001:db8:2::2", "2001:db8:1::1"
ARP_SENDER = "198.18.1.3"  # an unused address on A's link: a reply to it could be nothing else
PROBE_PORT = 9999
ETH_P_IPV6, ETH_P_ARP, ETH_P_8021Q, ETH_P_8021AD = 0x86DD, 0x0806, 0x8100, 0x88A8

CONFIG = f"""
dataplane:
  workers: 1
  nbufs: 8191
control:
  socket: @SOCKET@
metrics:
  listen: "off"
icmp:
  rate_per_second: 100000
  burst: 100000
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    mac: {ROUTER_A_MAC}
    addresses: [198.18.1.1/24, 2001:db8:1::1/64]
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: {ROUTER_B_MAC}
    addresses: [198.18.2.1/24, 2001:db8:2::1/64]
"""
# A third port added by a reload for the one class the kernel cannot put on a veth: a frame
# shorter than an Ethernet header (packet sockets refuse to send one, and veth would not carry it).
# net_pcap reads the file once and stops; with rx_pcap only it drops what is sent to it.
RUNT_PORT = """  - name: c
    device: net_pcap0,rx_pcap=@PCAP@
    mac: 02:00:00:00:00:03
"""


# --- frame builders ------------------------------------------------------------------------------

def ip6_bytes(a):
    return socket.inet_pton(socket.AF_INET6, a)


def ip6_header(src, dst, payload_len, next_header=17, hop_limit=64):
    return struct.pack("!IHBB16s16s", 6 << 28, payload_len, next_header, hop_limit,
                       ip6_bytes(src), ip6_bytes(dst))


def udp6(src, dst, payload, sport=40000, dport=9):
    body = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = ip6_bytes(src) + ip6_bytes(dst) + struct.pack("!IxxxB", len(body), 17)
    csum = P.checksum(pseudo + body) or 0xFFFF
    return body[:6] + struct.pack("!H", csum) + body[8:]


def ip6_udp(src, dst, payload, hop_limit=64, dport=9, hbh=None):
    """IPv6 + UDP, with `hbh` (the bytes of a hop-by-hop header whose next header is UDP) first."""
    body = udp6(src, dst, payload, dport=dport)
    if hbh is None:
        return ip6_header(src, dst, len(body), 17, hop_limit) + body
    return ip6_header(src, dst, len(hbh) + len(body), 0, hop_limit) + hbh + body


def multicast_mac6(dst):
    return "33:33:" + ":".join(f"{b:02x}" for b in ip6_bytes(dst)[12:])


def arp_body(tpa, op=1, sha=None, spa=ARP_SENDER, htype=1, ptype=0x0800, hlen=6, plen=4):
    return struct.pack("!HHBBH6s4s6s4s", htype, ptype, hlen, plen, op, P.mac_bytes(sha),
                       ipaddress.IPv4Address(spa).packed, bytes(6),
                       ipaddress.IPv4Address(tpa).packed)


def pcap_file(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1, i, len(frame), len(frame)) + frame)


# --- the matrix ----------------------------------------------------------------------------------

# build(t, mk) returns the frame (with `mk`, the class's marker, somewhere in it) or
# (frame, marker) where the marker cannot be in the frame. `events` are counters that must move by
# N times the value (every other listed in CHECKED_EVENTS must not move); `icmp` is (family, type,
# code) of the error A must get for every frame; `port` "pcap" sends through the runt port.
Case = collections.namedtuple("Case", "name reason build events icmp port",
                              defaults=({}, None, "a"))
CHECKED_EVENTS = ("ip4_forwarded", "ip6_forwarded", "icmp_errors_sent", "icmp6_errors_sent",
                  "icmp_errors_suppressed", "icmp6_errors_suppressed")
ICMP4_SENT = {"icmp_errors_sent": 1}
ICMP6_SENT = {"icmp6_errors_sent": 1}
ARP_PUNTED = {"arp_frames_punted": 1}  # at least: the router's own ARP traffic also counts here


def udp4(mk, src=A4, dst=B4, **kw):
    return P.ip4_udp(src, dst, mk, **kw)


def ip4_raw(mk, version=4, ihl=5, total_length=None, bad_checksum=False):
    """A UDP packet A->B whose header is then broken as asked, checksum made right after."""
    pkt = bytearray(udp4(mk, bad_checksum=bad_checksum))
    pkt[0] = (version << 4) | ihl
    if total_length is not None:
        pkt[2:4] = struct.pack("!H", total_length)
    if not bad_checksum:
        pkt[10:12] = b"\0\0"
        pkt[10:12] = struct.pack("!H", P.checksum(bytes(pkt[:20])))
    return bytes(pkt)


def ip6(mk, src=A6, dst=B6, **kw):
    return ip6_udp(src, dst, mk, **kw)


def hbh(*options):
    """A hop-by-hop header (next header UDP) with `options`, padded to 8 bytes with PadN."""
    body = bytes([17, 0]) + b"".join(options)
    pad = -len(body) % 8
    if pad == 1:
        body += b"\0"
    elif pad:
        body += bytes([1, pad - 2]) + bytes(pad - 2)
    return bytes([17, len(body) // 8 - 1]) + body[2:]


CASES = [
    # Ethernet and VLAN.
    Case("runt of 13 bytes, one short of an Ethernet header", "eth_truncated",
         lambda t, mk: (t.eth(b"")[:13],) * 2, port="pcap"),
    Case("unknown EtherType 0x88b5", "ethertype_unsupported",
         lambda t, mk: t.eth(mk + bytes(40), ethertype=0x88B5)),
    Case("802.3 length field (LLC, STP group)", "ethertype_unsupported",
         lambda t, mk: t.eth(b"\x42\x42\x03" + mk + bytes(30), ethertype=3 + len(mk) + 30,
                             dst="01:80:c2:00:00:00")),
    Case("unicast to another MAC", "l2_other_host",
         lambda t, mk: t.eth(udp4(mk), dst="02:00:00:00:99:99")),
    Case("802.1Q tag on a port without sub-interfaces", "vlan_unknown",
         lambda t, mk: t.eth(struct.pack("!HH", 100, 0x0800) + udp4(mk), ethertype=ETH_P_8021Q)),
    Case("802.1ad S-tag and C-tag on a port without sub-interfaces", "vlan_unknown",
         lambda t, mk: t.eth(struct.pack("!HHHH", 200, ETH_P_8021Q, 100, 0x0800) + udp4(mk),
                             ethertype=ETH_P_8021AD)),
    # IPv4 header checks, RFC 1812 §5.2.2, in the order the router makes them.
    Case("IPv4 of 19 bytes", "ip4_truncated",
         lambda t, mk: (lambda p: (t.eth(p[:19]), p[:8]))(udp4(mk, ident=0xBAD4))),
    Case("IPv4 EtherType, version 6", "ip4_bad_version", lambda t, mk: t.eth(ip4_raw(mk, 6))),
    Case("IPv4 EtherType, version 5", "ip4_bad_version", lambda t, mk: t.eth(ip4_raw(mk, 5))),
    Case("IHL 4", "ip4_bad_ihl", lambda t, mk: t.eth(ip4_raw(mk, ihl=4))),
    Case("IHL 15 beyond a 48-byte packet", "ip4_bad_ihl",
         lambda t, mk: t.eth(ip4_raw(mk, ihl=15))),
    Case("total length beyond the frame", "ip4_bad_total_length",
         lambda t, mk: t.eth(ip4_raw(mk, total_length=1000))),
    Case("total length below the header length", "ip4_bad_total_length",
         lambda t, mk: t.eth(ip4_raw(mk, total_length=16))),
    Case("bad header checksum", "ip4_bad_checksum",
         lambda t, mk: t.eth(ip4_raw(mk, bad_checksum=True))),
    # IPv4 martians, RFC 1812 §5.3.7, silently discarded.
    Case("source 0.0.0.0/8", "ip4_martian_source", lambda t, mk: t.eth(udp4(mk, src="0.1.2.3"))),
    Case("source 127.0.0.0/8", "ip4_martian_source",
         lambda t, mk: t.eth(udp4(mk, src="127.0.0.1"))),
    Case("source multicast 224.0.0.0/4", "ip4_martian_source",
         lambda t, mk: t.eth(udp4(mk, src="224.0.0.5"))),
    Case("source limited broadcast", "ip4_martian_source",
         lambda t, mk: t.eth(udp4(mk, src="255.255.255.255"))),
    Case("source class E 240.0.0.0/4", "ip4_martian_source",
         lambda t, mk: t.eth(udp4(mk, src="240.0.0.1"))),
    Case("destination 127.0.0.0/8", "ip4_martian_destination",
         lambda t, mk: t.eth(udp4(mk, dst="127.0.0.1"))),
    Case("destination 0.0.0.0/8", "ip4_martian_destination",
         lambda t, mk: t.eth(udp4(mk, dst="0.0.0.9"))),
    Case("destination limited broadcast, unicast frame", "ip4_martian_destination",
         lambda t, mk: t.eth(udp4(mk, dst="255.255.255.255"))),
    Case("destination limited broadcast, broadcast frame", "ip4_martian_destination",
         lambda t, mk: t.eth(udp4(mk, dst="255.255.255.255"), dst="ff:ff:ff:ff:ff:ff")),
    Case("destination class E", "ip4_martian_destination",
         lambda t, mk: t.eth(udp4(mk, dst="240.0.0.1"))),
    Case("destination multicast (no multicast routing)", "ip4_multicast",
         lambda t, mk: t.eth(udp4(mk, dst="239.1.2.3"), dst="01:00:5e:01:02:03")),
    Case("directed broadcast to B's subnet (RFC 2644)", "ip4_directed_broadcast",
         lambda t, mk: t.eth(udp4(mk, dst="198.18.2.255"))),
    Case("unicast IPv4 in a link-layer broadcast (§5.3.4)", "ip4_link_broadcast",
         lambda t, mk: t.eth(udp4(mk), dst="ff:ff:ff:ff:ff:ff")),
    Case("TTL 1", "ip4_ttl_exceeded", lambda t, mk: t.eth(udp4(mk, ttl=1)),
         events=ICMP4_SENT, icmp=(4, 11, 0)),
    Case("TTL 0", "ip4_ttl_exceeded", lambda t, mk: t.eth(udp4(mk, ttl=0)),
         events=ICMP4_SENT, icmp=(4, 11, 0)),
    # IPv6, RFC 8200 §3-4 and RFC 4291.
    Case("IPv6 of 39 bytes", "ip6_truncated",
         lambda t, mk: (t.eth6(ip6(mk, src="2001:db8:1::bad6")[:39]),
                        ip6_bytes("2001:db8:1::bad6"))),
    Case("IPv6 EtherType, version 4", "ip6_bad_version",
         lambda t, mk: t.eth6(bytes([0x40]) + ip6(mk)[1:])),
    Case("payload length beyond the frame", "ip6_bad_payload_length",
         lambda t, mk: t.eth6((lambda p: p[:4] + struct.pack("!H", 400) + p[6:])(ip6(mk)))),
    Case("hop-by-hop header running past the packet", "ip6_bad_extension",
         lambda t, mk: t.eth6(ip6_header(A6, B6, 8 + len(mk), next_header=0) +
                              bytes([17, 4, 1, 4, 0, 0, 0, 0]) + mk)),
    Case("hop-by-hop option past its header", "ip6_bad_extension",
         lambda t, mk: t.eth6(ip6_header(A6, B6, 8 + len(mk), next_header=0) +
                              bytes([17, 0, 0x1e, 9, 0, 0, 0, 0]) + mk)),
    Case("unknown hop-by-hop option, action 01 (discard)", "ip6_hbh_discard",
         lambda t, mk: t.eth6(ip6(mk, hbh=hbh(bytes([0x5E, 2, 0, 0]))))),
    Case("unknown hop-by-hop option, action 10 (parameter problem)", "ip6_hbh_param_problem",
         lambda t, mk: t.eth6(ip6(mk, hbh=hbh(bytes([0x9E, 2, 0, 0])))),
         events=ICMP6_SENT, icmp=(6, 4, 2)),
    Case("source multicast", "ip6_martian_source", lambda t, mk: t.eth6(ip6(mk, src="ff02::1"))),
    Case("source loopback", "ip6_martian_source", lambda t, mk: t.eth6(ip6(mk, src="::1"))),
    Case("source unspecified", "ip6_martian_source", lambda t, mk: t.eth6(ip6(mk, src="::"))),
    Case("source IPv4-mapped ::ffff:0:0/96", "ip6_martian_source",
         lambda t, mk: t.eth6(ip6(mk, src="::ffff:198.18.1.2"))),
    Case("destination loopback", "ip6_martian_destination",
         lambda t, mk: t.eth6(ip6(mk, dst="::1"))),
    Case("destination unspecified", "ip6_martian_destination",
         lambda t, mk: t.eth6(ip6(mk, dst="::"))),
    Case("link-local source to B's global address", "ip6_link_local",
         lambda t, mk: t.eth6(ip6(mk, src=t.a_ll)), events=ICMP6_SENT, icmp=(6, 1, 2)),
    Case("link-local destination", "ip6_link_local",
         lambda t, mk: t.eth6(ip6(mk, dst="fe80::99"))),
    Case("global multicast destination ff0e::1", "ip6_multicast",
         lambda t, mk: t.eth6(ip6(mk, dst="ff0e::1"), dst=multicast_mac6("ff0e::1"))),
    Case("link-scope multicast UDP to ff02::1", "ip6_multicast",
         lambda t, mk: t.eth6(ip6(mk, dst="ff02::1"), dst=multicast_mac6("ff02::1"))),
    Case("hop limit 1", "ip6_hop_limit_exceeded", lambda t, mk: t.eth6(ip6(mk, hop_limit=1)),
         events=ICMP6_SENT, icmp=(6, 3, 0)),
    Case("hop limit 0", "ip6_hop_limit_exceeded", lambda t, mk: t.eth6(ip6(mk, hop_limit=0)),
         events=ICMP6_SENT, icmp=(6, 3, 0)),
    # ARP (RFC 826), on the control lcore. Every request asks for the router's own address, so
    # only the broken field keeps it from being answered.
    Case("ARP hardware type 6", "arp_invalid", lambda t, mk: t.arp(mk, R4, htype=6), ARP_PUNTED),
    Case("ARP protocol type IPv6", "arp_invalid", lambda t, mk: t.arp(mk, R4, ptype=ETH_P_IPV6),
         ARP_PUNTED),
    Case("ARP hardware length 8", "arp_invalid", lambda t, mk: t.arp(mk, R4, hlen=8), ARP_PUNTED),
    Case("ARP protocol length 16", "arp_invalid", lambda t, mk: t.arp(mk, R4, plen=16),
         ARP_PUNTED),
    Case("ARP opcode 3 (RARP)", "arp_invalid", lambda t, mk: t.arp(mk, R4, op=3), ARP_PUNTED),
    Case("ARP multicast sender MAC", "arp_invalid",
         lambda t, mk: t.arp(mk, R4, sha="01:00:5e:00:00:01"), ARP_PUNTED),
    Case("ARP of 20 bytes", "arp_invalid", lambda t, mk: t.arp(mk, R4, cut=20), ARP_PUNTED),
    Case("ARP request for another host", "arp_not_for_us",
         lambda t, mk: t.arp(mk, "198.18.1.77"), ARP_PUNTED),
    Case("ARP request on port a for port b's address (answered per interface)", "arp_not_for_us",
         lambda t, mk: t.arp(mk, "198.18.2.1"), ARP_PUNTED),
]


class IcmpListener:
    """A raw ICMP (or ICMPv6) socket in a namespace, and the messages read from it."""

    def __init__(self, ns, family):
        self.family = family
        if family == 4:
            self.sock = socket_in(ns, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        else:
            self.sock = socket_in(ns, socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        self.sock.setblocking(False)
        self.msgs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def _take(self, data):
        # IPv4 raw sockets return the IP header too; IPv6 ones the ICMPv6 message alone.
        self.msgs.append(P.Ip4(data).payload if self.family == 4 else data)

    def wait(self, marker, count, timeout=5.0):
        """Reads until `count` messages quote `marker`, or the timeout."""
        deadline = time.time() + timeout
        while len(self.quoting(marker, read=False)) < count and time.time() < deadline:
            r, _, _ = select.select([self.sock], [], [], max(0.0, deadline - time.time()))
            if r:
                self._take(self.sock.recv(65535))

    def quoting(self, marker, read=True):
        """(family, type, code) of every message that quotes `marker`."""
        while read:
            try:
                self._take(self.sock.recv(65535))
            except BlockingIOError:
                break
        return [(self.family, m[0], m[1]) for m in self.msgs if marker in m[8:]]


class MalformedMatrixTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.topo = t = Topology()
        for ns, addr, gw in ((t.a, A6 + "/64", R6), (t.b, B6 + "/64", "2001:db8:2::1")):
            # Quiet hosts: no router solicitations, no DAD; what is left of their IPv6 chatter
            # (MLD reports on joining groups) is over before the matrix starts.
            for conf in ("all", "default", "eth0", "lo"):
                sh("sysctl", "-qw", f"net.ipv6.conf.{conf}.router_solicitations=0", ns=ns)
                sh("sysctl", "-qw", f"net.ipv6.conf.{conf}.accept_dad=0", ns=ns)
            for conf in ("all", "eth0", "lo"):
                sh("sysctl", "-qw", f"net.ipv6.conf.{conf}.disable_ipv6=0", ns=ns)
            sh("ip", "-n", ns, "addr", "add", addr, "dev", "eth0", "nodad")
            sh("ip", "-n", ns, "-6", "route", "add", "default", "via", gw)
        cls.router = Router(t, CONFIG)
        cls.a_mac = t.mac(t.a, "eth0")
        cls.a_ll = cls.link_local(t.a)
        # B listens on the probe port, so good probes are taken and never answered with a port
        # unreachable that would cross the router while a class is measured.
        cls.rx4 = socket_in(t.b, socket.AF_INET, socket.SOCK_DGRAM)
        cls.rx4.bind((B4, PROBE_PORT))
        cls.rx6 = socket_in(t.b, socket.AF_INET6, socket.SOCK_DGRAM)
        cls.rx6.bind((B6, PROBE_PORT))
        cls.probes = 0
        # Every neighbour resolved both ways and both families, so that nothing the matrix
        # sends waits on ARP or NDP.
        for ns, dst in ((t.a, B4), (t.b, A4), (t.a, B6), (t.b, A6), (t.a, R6),
                        (t.a, "fe80::ff:fe00:1")):  # the router's link-local (EUI-64 of its MAC)
            dst = dst + "%eth0" if dst.startswith("fe80") else dst
            sh("ping", "-c", "2", "-i", "0.2", "-W", "2", dst, ns=ns)
        cls.quiet()

    @classmethod
    def tearDownClass(cls):
        cls.rx4.close()
        cls.rx6.close()
        rc = cls.router.stop()
        cls.topo.close()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"

    @staticmethod
    def link_local(ns, timeout=10.0):
        deadline = time.time() + timeout
        while True:
            out = json.loads(sh("ip", "-j", "-6", "addr", "show", "dev", "eth0", "scope", "link",
                                ns=ns).stdout or "[]")
            found = [a["local"] for i in out for a in i.get("addr_info", []) if "local" in a]
            if found or time.time() > deadline:
                return found[0]
            time.sleep(0.1)

    @classmethod
    def quiet(cls, still=2.0, timeout=30.0):
        """Waits until no drop counter has moved for `still` seconds."""
        deadline = time.time() + timeout
        last, since = cls.router.stats()["drops"], time.time()
        while time.time() < deadline and time.time() - since < still:
            time.sleep(0.2)
            now = cls.router.stats()["drops"]
            if now != last:
                last, since = now, time.time()

    # --- helpers -------------------------------------------------------------------------------

    def eth(self, payload, dst=ROUTER_A_MAC, ethertype=P.ETH_P_IP):
        return P.ether(dst, self.a_mac, payload, ethertype)

    def eth6(self, payload, dst=ROUTER_A_MAC):
        return P.ether(dst, self.a_mac, payload, ETH_P_IPV6)

    def arp(self, mk, tpa, cut=None, sha=None, **kw):
        """A broadcast ARP frame, `mk` in its padding, or (frame, marker) when cut short."""
        body = arp_body(tpa, sha=sha or self.a_mac, **kw)
        if cut is not None:
            return self.eth(body[:cut], dst="ff:ff:ff:ff:ff:ff", ethertype=ETH_P_ARP), body[:cut]
        return self.eth(body + mk, dst="ff:ff:ff:ff:ff:ff", ethertype=ETH_P_ARP)

    def snapshot(self):
        s = self.router.stats()
        return dict(s["drops"]), dict(s["counters"])

    def wait_for(self, done, timeout=10.0):
        deadline = time.time() + timeout
        while True:
            snap = self.snapshot()
            if done(*snap) or time.time() > deadline:
                return snap
            time.sleep(0.05)

    def send_from_a(self, frames):
        with P.packet_socket(socket_in, self.topo.a, "eth0") as s:
            for f in frames:
                s.send(f)

    def send_runts(self, frames):
        """Adds port c reading `frames` from a pcap file, by a reload."""
        pcap = os.path.join(self.router.dir, "runts.pcap")
        pcap_file(pcap, frames)
        self.reload(CONFIG + RUNT_PORT.replace("@PCAP@", pcap))

    def reload(self, text):
        with open(self.router.config, "w") as f:
            f.write(text.replace("@SOCKET@", self.router.sock))
        r = self.router.ctl("reload", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)

    def listener(self, family):
        return IcmpListener(self.topo.a, family)

    def capture(self, ns):
        s = P.packet_socket(socket_in, ns, "eth0")
        s.setblocking(False)
        return s

    def drain(self, s):
        """Frames the interface received (not sent) since the socket opened."""
        frames = []
        while True:
            try:
                data, addr = s.recvfrom(65535)
            except BlockingIOError:
                return frames
            if addr[2] != socket.PACKET_OUTGOING:
                frames.append(data)

    def probe_crosses(self, family, timeout=5.0):
        """Sends one good UDP packet A->B as a raw frame; True when B's socket receives it."""
        MalformedMatrixTest.probes += 1
        payload = f"good-probe-{os.getpid()}-{self.probes}".encode()
        rx = self.rx4 if family == 4 else self.rx6
        rx.setblocking(False)
        try:
            while True:
                rx.recv(65535)  # what an earlier probe left
        except BlockingIOError:
            pass
        if family == 4:
            self.send_from_a([self.eth(P.ip4_udp(A4, B4, payload, dport=PROBE_PORT))])
        else:
            self.send_from_a([self.eth6(ip6_udp(A6, B6, payload, dport=PROBE_PORT))])
        deadline = time.time() + timeout
        while time.time() < deadline:
            r, _, _ = select.select([rx], [], [], max(0.0, deadline - time.time()))
            if r and rx.recv(65535) == payload:
                return True
        return False

    # --- the matrix ----------------------------------------------------------------------------

    def test_matrix(self):
        for i, case in enumerate(CASES):
            with self.subTest(case.name, reason=case.reason):
                self.run_case(case, f"<malformed-{i:02d}-{os.getpid()}>".encode())

    def test_every_reason_is_known(self):
        drops = self.router.stats()["drops"]
        for case in CASES:
            self.assertIn(case.reason, drops, case.name)

    def run_case(self, case, mk):
        try:
            self.check_case(case, mk)
        finally:
            if case.port == "pcap":
                self.reload(CONFIG)  # port c goes again

    def check_case(self, case, mk):
        built = case.build(self, mk)
        frame, marker = built if isinstance(built, tuple) else (built, mk)
        if isinstance(built, bytes):
            self.assertIn(marker, frame, "the builder lost the marker")
        # Everything wrong with the class is collected, so one failure tells the whole story.
        problems = []
        with self.capture(self.topo.b) as cap_b, self.capture(self.topo.a) as cap_a, \
                self.listener(4) as icmp4, self.listener(6) as icmp6:
            drops0, events0 = self.snapshot()
            if case.port == "pcap":
                self.send_runts([frame] * N)
            else:
                self.send_from_a([frame] * N)

            def done(drops, events):
                return (drops[case.reason] - drops0[case.reason] >= N and
                        all(events[k] - events0[k] >= v * N for k, v in case.events.items()))
            self.wait_for(done)
            time.sleep(0.3)  # anything counted late, or counted twice, shows up now
            drops1, events1 = self.snapshot()
            moved = {k: v - drops0[k] for k, v in drops1.items() if v != drops0[k]}
            if moved != {case.reason: N}:
                problems.append(f"drop reasons moved {moved}, want {{{case.reason!r}: {N}}}")
            for k in sorted(set(CHECKED_EVENTS) | set(case.events)):
                got, want = events1[k] - events0[k], case.events.get(k, 0) * N
                if got != want and (k in CHECKED_EVENTS or got < want):
                    problems.append(f"{k} moved by {got}, want {want}")
            want_icmp = {}
            if case.icmp is not None:
                family, icmp_type, code = case.icmp
                want_icmp = {(family, icmp_type, code): N}
                (icmp4 if family == 4 else icmp6).wait(marker, N)
            # Forwarding goes on; the probes also push out anything the router still held.
            if not self.probe_crosses(4):
                problems.append("a good IPv4 packet sent after did not reach B")
            if not self.probe_crosses(6):
                problems.append("a good IPv6 packet sent after did not reach B")
            got_icmp = collections.Counter(icmp4.quoting(marker) + icmp6.quoting(marker))
            if dict(got_icmp) != want_icmp:
                problems.append(f"ICMP errors at A (family, type, code): {dict(got_icmp)}, "
                                f"want {want_icmp}")
            on_b = [f for f in self.drain(cap_b) if marker in f]
            if on_b:
                problems.append(f"{len(on_b)} frames of this class reached B: {on_b[0].hex()}")
            replies = [f for f in self.drain(cap_a) if f[12:14] == struct.pack("!H", ETH_P_ARP)
                       and f[20:22] == b"\0\x02" and
                       f[38:42] == ipaddress.IPv4Address(ARP_SENDER).packed]
            if replies:
                problems.append(f"the router answered {len(replies)} of the ARP requests")
        self.assertEqual(problems, [], case.name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
