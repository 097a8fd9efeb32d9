#!/usr/bin/python3
# Sub-interfaces with real tagged frames: a template group of 64 VLAN vifs and a QinQ vif on port
# a, traffic in both directions with the right tags, and group-wide changes (down, MTU,
# impairment) applied with one request and seen in the counters.
import ipaddress
import json
import os
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import packets as P  # noqa: E402
from topology import RouterTestCase, sh, socket_in  # noqa: E402
from scapy.layers.inet import UDP  # noqa: E402
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA,  # noqa: E402
                                ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr,
                                ICMPv6TimeExceeded, IPv6, in6_getnsma, in6_getnsmac)
from scapy.layers.l2 import Dot1Q, Ether  # noqa: E402

ROUTER_A = "02:00:00:00:00:01"
HOST_MAC = "02:00:00:00:aa:01"  # the customer hosts behind port a (static neighbours)

CONFIG = f"""
dataplane:
  workers: 1
  nbufs: 8191
control:
  socket: @SOCKET@
groups:
  - id: 10
    name: customers
    templates:
      - parent: a
        vlan: 100-163
        address: 198.18.64.0/31
vifs:
  - parent: a
    outer: 5
    inner: 6
    addresses: [198.18.65.1/30]
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    mac: {ROUTER_A}
    addresses: [198.18.1.1/24]
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: 02:00:00:00:00:02
    addresses: [198.18.2.1/24]
neighbours:
  - {{ip: 198.18.64.3, mac: {HOST_MAC}, port: a.101}}
  - {{ip: 198.18.65.2, mac: {HOST_MAC}, port: a.5.6}}
"""

SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10


def tag(tpid, vid):
    return struct.pack("!HH", tpid, vid)


def tagged(tags, ip_packet, src=HOST_MAC, dst=ROUTER_A):
    return P.mac_bytes(dst) + P.mac_bytes(src) + b"".join(tags) + struct.pack("!H", 0x0800) + \
        ip_packet


class VifsTest(RouterTestCase):
    CONFIG = CONFIG

    def setUp(self):
        self.b_rx = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_DGRAM)
        self.b_rx.bind(("198.18.2.2", 9999))
        self.b_rx.settimeout(0.5)
        self.addCleanup(self.b_rx.close)

    def send_a(self, frames):
        s = P.packet_socket(socket_in, self.topo.a, "eth0")
        for f in frames:
            s.send(f)
        s.close()

    def received_b(self, want, timeout=3.0):
        got, deadline = [], time.time() + timeout
        while len(got) < want and time.time() < deadline:
            try:
                got.append(self.b_rx.recvfrom(2048))
            except socket.timeout:
                pass
        return got

    def capture_a(self):
        s = P.packet_socket(socket_in, self.topo.a, "eth0")
        # The kernel takes a frame's outer tag out into metadata before packet sockets see it.
        s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        s.settimeout(0.2)
        return s

    def frames_a(self, s, want, timeout=3.0):
        """{destination: [tag ids of each IPv4 frame to it]} leaving the router on port a."""
        out, deadline = {}, time.time() + timeout
        while sum(len(v) for v in out.values()) < want and time.time() < deadline:
            try:
                data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(32))
            except socket.timeout:
                continue
            vid = None
            for level, kind, blob in anc:
                if level == SOL_PACKET and kind == PACKET_AUXDATA:
                    status, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", blob[:20])
                    if status & TP_STATUS_VLAN_VALID:
                        vid = tci & 0xFFF
            off = 12
            inner = []
            while data[off:off + 2] in (b"\x81\x00", b"\x88\xa8"):
                inner.append(struct.unpack("!H", data[off + 2:off + 4])[0] & 0xFFF)
                off += 4
            if data[off:off + 2] != b"\x08\x00":
                continue
            ip = P.Ip4(data[off + 2:])
            if ip.dst.startswith("198.18.6"):
                out.setdefault(ip.dst, []).append(([vid] if vid is not None else []) + inner)
        return out

    def link(self, name):
        return json.loads(self.ok("-j", "link", "show", "dev", name))[0]

    def udp_from_member(self, tags, src, n=5, size=64):
        ip = P.ip4_udp(src, "198.18.2.2", b"x" * size, dport=9999)
        self.send_a([tagged(tags, ip)] * n)

    def test_template_members_are_listed_with_their_addresses(self):
        links = json.loads(self.ok("-j", "link", "show", "group", "customers"))
        self.assertEqual(len(links), 64)
        self.assertEqual(links[0]["name"], "a.100")
        self.assertEqual(links[63]["name"], "a.163")
        self.assertEqual(links[1]["vlan"], 101)
        self.assertEqual(links[1]["kind"], "vlan")
        addrs = json.loads(self.ok("-j", "addr", "show", "dev", "a.163"))
        self.assertEqual(addrs[0]["addresses"], ["198.18.64.126/31"])
        qinq = self.link("a.5.6")
        self.assertEqual((qinq["kind"], qinq["outer"], qinq["inner"]), ("qinq", 5, 6))
        self.assertIn("10 customers (64 interfaces, 0 ports)", self.ok("group", "show"))
        self.assertIn("198.18.64.2/31 dev a.101", self.ok("route", "show"))

    def test_tagged_frames_are_classified_and_forwarded_untagged(self):
        before = self.link("a.101")["stats"]
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=5)
        self.assertEqual(len(self.received_b(5)), 5)
        after = self.link("a.101")["stats"]
        self.assertEqual(after["rx_packets"] - before["rx_packets"], 5)
        before = self.link("a.5.6")["stats"]
        self.udp_from_member([tag(0x88A8, 5), tag(0x8100, 6)], "198.18.65.2", n=3)
        self.assertEqual(len(self.received_b(3)), 3)
        self.assertEqual(self.link("a.5.6")["stats"]["rx_packets"] - before["rx_packets"], 3)

    def test_unknown_tags_are_dropped_and_counted(self):
        before = self.router.flat()
        self.udp_from_member([tag(0x8100, 99)], "198.18.64.3", n=4)
        self.udp_from_member([tag(0x88A8, 5), tag(0x8100, 7)], "198.18.65.2", n=3)
        self.assertEqual(self.received_b(1, timeout=1.0), [])
        after = self.router.flat()
        self.assertEqual(after["vlan_unknown"] - before["vlan_unknown"], 7)

    def test_tagged_frames_on_a_port_without_subinterfaces_are_unknown_tags(self):
        # Port b has no sub-interfaces, so its bursts skip classification; tags still count.
        before = self.router.flat()
        ip = P.ip4_udp("198.18.2.2", "198.18.1.2", b"x" * 32, dport=9999)
        s = P.packet_socket(socket_in, self.topo.b, "eth0")
        with s:
            for tags in ([tag(0x8100, 7)], [tag(0x88A8, 5), tag(0x8100, 6)]):
                for _ in range(3):
                    s.send(tagged(tags, ip, src=self.topo.mac(self.topo.b, "eth0"),
                                  dst="02:00:00:00:00:02"))
        time.sleep(0.3)
        after = self.router.flat()
        self.assertEqual(after["vlan_unknown"] - before["vlan_unknown"], 6)
        self.assertEqual(after["ip4_forwarded"], before["ip4_forwarded"])

    def test_egress_pushes_the_vifs_tags(self):
        cap = self.capture_a()
        self.addCleanup(cap.close)
        tx = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(tx.close)
        for _ in range(3):
            tx.sendto(b"hello", ("198.18.64.3", 7777))
            tx.sendto(b"hello", ("198.18.65.2", 7777))
        seen = self.frames_a(cap, 6)
        self.assertEqual(seen.get("198.18.64.3"), [[101]] * 3)
        self.assertEqual(seen.get("198.18.65.2"), [[5, 6]] * 3)

    def test_group_down_is_one_request_and_drops_by_reason(self):
        out = self.ok("link", "set", "group", "customers", "down")
        self.addCleanup(self.ctl, "link", "set", "group", "customers", "up")
        self.assertIn("64 interfaces", out)
        self.assertFalse(self.link("a.163")["admin_up"])
        self.assertTrue(self.link("a.5.6")["admin_up"], "not in the group")
        before = self.router.flat()
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=6)
        self.assertEqual(self.received_b(1, timeout=1.0), [])
        self.assertEqual(self.router.flat()["vif_down"] - before["vif_down"], 6)
        self.ok("link", "set", "group", "customers", "up")
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=2)
        self.assertEqual(len(self.received_b(2)), 2)
        self.assertIn("state: up", self.ok("config", "show"))

    def test_group_mtu_applies_to_members(self):
        self.ok("link", "set", "group", "customers", "mtu", "1000")
        self.addCleanup(self.ctl, "link", "set", "group", "customers", "mtu", "1500")
        self.assertEqual(self.link("a.140")["mtu"], 1000)
        self.assertEqual(self.link("a.5.6")["mtu"], 1500)
        # DF set and over the member's MTU: frag-needed back to B, nothing leaves on a.101.
        icmp = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.addCleanup(icmp.close)
        icmp.settimeout(3)
        tx = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(tx.close)
        tx.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO: DF set
        before = self.router.flat()
        try:
            tx.sendto(b"y" * 1200, ("198.18.64.3", 7777))
        except OSError:
            pass
        deadline = time.time() + 3
        seen = None
        while time.time() < deadline and seen is None:
            data = icmp.recv(2048)
            ihl = (data[0] & 0xF) * 4
            if data[ihl] == 3 and data[ihl + 1] == 4:
                seen = struct.unpack("!H", data[ihl + 6:ihl + 8])[0]
        self.assertEqual(seen, 1000, "fragmentation needed with the member's MTU")
        self.assertEqual(self.router.flat()["ip4_frag_needed"] - before["ip4_frag_needed"], 1)

    def test_impairment_drops_are_counted_apart(self):
        self.ok("link", "set", "group", "customers", "impair", "drop", "100")
        self.addCleanup(self.ctl, "link", "set", "group", "customers", "impair", "pass")
        self.assertEqual(self.link("a.101")["impairment"], "drop 100% seed 1")
        before, stats = self.router.flat(), self.link("a.101")["stats"]
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=5)
        self.assertEqual(self.received_b(1, timeout=1.0), [])
        after = self.router.flat()
        self.assertEqual(after["impairment_dropped"] - before["impairment_dropped"], 5)
        self.assertEqual(self.link("a.101")["stats"]["impairment_drops"] -
                         stats["impairment_drops"], 5)
        self.assertEqual(sum(after[k] - before[k] for k in after
                             if k in ("vif_down", "vlan_unknown", "port_down")), 0,
                         "not counted as any other drop")

    def test_template_added_and_removed_at_run_time(self):
        out = self.ok("link", "add", "group", "customers", "template", "parent", "a",
                      "vlan", "200-203", "address", "198.18.66.0/31")
        self.assertIn("4 interfaces added", out)
        self.assertEqual(self.link("a.203")["group"], "customers")
        self.udp_from_member([tag(0x8100, 202)], "198.18.66.5", n=2)
        self.assertEqual(len(self.received_b(2)), 2)
        r = self.ctl("link", "add", "group", "customers", "template", "parent", "a",
                     "vlan", "150-210")
        self.assertEqual(r.returncode, 1)
        self.assertIn("150", r.stderr)
        r = self.ctl("link", "del", "group", "customers", "template")
        self.assertEqual(r.returncode, 1, "a static neighbour still names a.101")
        self.assertIn("a.101", r.stderr)
        self.assertIn("4 interfaces removed",
                      self.ok("link", "del", "group", "customers", "template", "parent", "a",
                              "vlan", "200-203"))
        self.assertEqual(self.ctl("link", "show", "dev", "a.203").returncode, 1)
        self.assertEqual(len(json.loads(self.ok("-j", "link", "show", "group", "customers"))), 64)

    def test_a_member_keeps_its_own_settings_until_the_group_is_set(self):
        self.ok("link", "set", "dev", "a.101", "down")
        self.addCleanup(self.ctl, "link", "set", "group", "customers", "up")
        self.assertFalse(self.link("a.101")["admin_up"])
        self.assertTrue(self.link("a.102")["admin_up"], "the other members keep the group's")
        self.assertIn("members:", self.ok("config", "show"))
        before = self.router.flat()
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=4)
        self.assertEqual(self.received_b(1, timeout=1.0), [])
        self.assertEqual(self.router.flat()["vif_down"] - before["vif_down"], 4)
        # A group request covers every member, this one too, as `ip link set group` would.
        self.ok("link", "set", "group", "customers", "up")
        self.assertTrue(self.link("a.101")["admin_up"])
        self.assertNotIn("members:", self.ok("config", "show"))
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=2)
        self.assertEqual(len(self.received_b(2)), 2)
        r = self.ctl("link", "set", "dev", "a.120", "group", "default")
        self.assertEqual(r.returncode, 1)
        self.assertIn("a template member is in its template's group", r.stderr)

ROUTER_B = "02:00:00:00:00:02"
MEMBER_MAC = "02:00:00:00:10:00"  # member i: + i

# IPv6 on template members: 64 vlan members on port a, each with a /64 of its own (member i:
# 2001:db8:100:i::1/64) beside its /31, and port b toward host B.
CONFIG6 = f"""
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
groups:
  - id: 10
    name: customers
    templates:
      - parent: a
        vlan: 100-163
        address: 198.18.64.0/31
        address6: 2001:db8:100::1/64
        mac: {MEMBER_MAC}
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    mac: {ROUTER_A}
    addresses: [198.18.1.1/24]
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: {ROUTER_B}
    addresses: [198.18.2.1/24, 2001:db8:2::1/64]
routes:
  - {{prefix: "2001:db8:ff00::/48", via: "2001:db8:100:3f::2"}}
"""


def member_mac(i):
    return f"02:00:00:00:10:{i:02x}"


def eui64_link_local(mac):
    b = P.mac_bytes(mac)
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + bytes([b[0] ^ 2]) + b[1:3] +
                                     b"\xff\xfe" + b[3:6]))


class Ipv6TemplateTest(RouterTestCase):
    """Members of a template with IPv6: their addresses answer echo and neighbour discovery
    (tagged, from the member's own address), hosts on and behind them are reached, ICMPv6
    errors come from them, and template changes apply as a diff."""

    CONFIG = CONFIG6

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        b = cls.topo.b
        for key in ("all", "eth0", "lo"):
            sh("sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=0", ns=b)
        sh("ip", "-n", b, "addr", "add", "2001:db8:2::2/64", "dev", "eth0", "nodad")
        sh("ip", "-n", b, "-6", "route", "add", "default", "via", "2001:db8:2::1")

    def capture(self):
        s = P.packet_socket(socket_in, self.topo.a, "eth0")
        s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        s.settimeout(0.1)
        self.addCleanup(s.close)
        return s

    def exchange(self, cap, frames, want, hosts=(), timeout=3.0):
        """Sends `frames` (scapy) from A, then returns the first IPv6 packet leaving the router
        on port a for which want(vid, ip6) holds, as (vid, Ether), or None. Meanwhile answers
        the router's neighbour solicitations for `hosts` ({address: vid}) as those hosts."""
        tx = P.packet_socket(socket_in, self.topo.a, "eth0")
        self.addCleanup(tx.close)
        for f in frames:
            tx.send(bytes(f))
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                data, anc, _, _ = cap.recvmsg(4096, socket.CMSG_SPACE(32))
            except socket.timeout:
                continue
            vid = None
            for level, kind, blob in anc:
                if level == SOL_PACKET and kind == PACKET_AUXDATA:
                    status, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", blob[:20])
                    if status & TP_STATUS_VLAN_VALID:
                        vid = tci & 0xFFF
            if data[6:12] == P.mac_bytes(HOST_MAC):
                continue  # our own
            eth = Ether(data)
            if IPv6 not in eth:
                continue
            ip = eth[IPv6]
            if ICMPv6ND_NS in ip and ip[ICMPv6ND_NS].tgt in hosts:
                target = ip[ICMPv6ND_NS].tgt
                tx.send(bytes(Ether(dst=eth.src, src=HOST_MAC) / Dot1Q(vlan=hosts[target]) /
                              IPv6(src=target, dst=ip.src, hlim=255) /
                              ICMPv6ND_NA(tgt=target, R=0, S=1, O=1) /
                              ICMPv6NDOptDstLLAddr(lladdr=HOST_MAC)))
                continue
            if want(vid, ip):
                return vid, eth
        return None

    def from_host(self, vid, member, ip6):
        return Ether(dst=member_mac(member), src=HOST_MAC) / Dot1Q(vlan=vid) / ip6

    def test_echo_to_member_addresses_is_answered_from_them(self):
        cap = self.capture()
        for member in (0, 63):
            vid = 100 + member
            own = str(ipaddress.IPv6Address(f"2001:db8:100:{member:x}::1"))
            host = str(ipaddress.IPv6Address(f"2001:db8:100:{member:x}::2"))
            # The host's solicitation gets an advertisement for the member's address, with
            # the member's MAC, on its vlan.
            group = in6_getnsma(socket.inet_pton(socket.AF_INET6, own))
            ns = (Ether(dst=in6_getnsmac(group), src=HOST_MAC) / Dot1Q(vlan=vid) /
                  IPv6(src=host, dst=socket.inet_ntop(socket.AF_INET6, group), hlim=255) /
                  ICMPv6ND_NS(tgt=own) / ICMPv6NDOptSrcLLAddr(lladdr=HOST_MAC))
            got = self.exchange(cap, [ns], lambda v, ip: ICMPv6ND_NA in ip)
            self.assertIsNotNone(got, f"no advertisement for {own}")
            v, eth = got
            self.assertEqual(v, vid)
            self.assertEqual(eth.src, member_mac(member))
            self.assertEqual(eth[ICMPv6ND_NA].tgt, own)
            self.assertEqual(eth[ICMPv6NDOptDstLLAddr].lladdr, member_mac(member))
            # Echo to the member's address: the reply comes from it, tagged.
            before = self.router.flat()
            echo = self.from_host(vid, member, IPv6(src=host, dst=own) /
                                  ICMPv6EchoRequest(id=0x77, seq=member, data=b"vr"))
            got = self.exchange(cap, [echo], lambda v, ip: ICMPv6EchoReply in ip,
                                hosts={host: vid})
            self.assertIsNotNone(got, f"no echo reply from {own}")
            v, eth = got
            self.assertEqual((v, eth[IPv6].src, eth[IPv6].dst), (vid, own, host))
            self.assertEqual(eth[ICMPv6EchoReply].seq, member)
            after = self.router.flat()
            self.assertEqual(after["icmp6_echo_replies"] - before["icmp6_echo_replies"], 1)

    def test_member_link_local_address_answers_echo(self):
        addrs = json.loads(self.ok("-j", "addr", "show", "dev", "a.163"))[0]
        self.assertEqual(addrs["addresses"], ["198.18.64.126/31", "2001:db8:100:3f::1/64"])
        ll = eui64_link_local(member_mac(63))
        self.assertEqual(addrs["link_local"], ll)
        cap = self.capture()
        echo = self.from_host(163, 63, IPv6(src="fe80::2", dst=ll) /
                              ICMPv6EchoRequest(id=0x78, seq=1))
        got = self.exchange(cap, [echo], lambda v, ip: ICMPv6EchoReply in ip,
                            hosts={"fe80::2": 163})
        self.assertIsNotNone(got, "no echo reply from the member's link-local address")
        self.assertEqual((got[0], got[1][IPv6].src), (163, ll))

    def test_hosts_on_and_behind_a_member_are_reached_by_forwarding(self):
        cap = self.capture()
        tx = socket_in(self.topo.b, socket.AF_INET6, socket.SOCK_DGRAM)
        self.addCleanup(tx.close)
        for dst in ("2001:db8:100:3f::2", "2001:db8:ff00::5"):
            before = self.router.flat()
            tx.sendto(b"to the member", (dst, 7777))
            got = self.exchange(cap, [], lambda v, ip, dst=dst: UDP in ip and ip.dst == dst,
                                hosts={"2001:db8:100:3f::2": 163})
            self.assertIsNotNone(got, f"nothing for {dst} on a.163")
            vid, eth = got
            self.assertEqual((vid, eth.src, eth.dst), (163, member_mac(63), HOST_MAC))
            self.assertEqual(eth[IPv6].hlim, 63, "forwarded: hop limit less one")
            after = self.router.flat()
            self.assertGreaterEqual(after["ip6_forwarded"] - before["ip6_forwarded"], 1)
        # And from the member's host to B.
        rx = socket_in(self.topo.b, socket.AF_INET6, socket.SOCK_DGRAM)
        self.addCleanup(rx.close)
        rx.bind(("2001:db8:2::2", 9999))
        rx.settimeout(3)
        up = self.from_host(163, 63, IPv6(src="2001:db8:100:3f::2", dst="2001:db8:2::2") /
                            UDP(sport=5555, dport=9999) / b"from the member")
        self.exchange(self.capture(), [up], lambda v, ip: False, timeout=0.2)
        data, addr = rx.recvfrom(2048)
        self.assertEqual((data, addr[0]), (b"from the member", "2001:db8:100:3f::2"))

    def test_icmp6_errors_come_from_the_members_address(self):
        cap = self.capture()
        pkt = self.from_host(163, 63, IPv6(src="2001:db8:100:3f::2", dst="2001:db8:2::2", hlim=1) /
                             UDP(sport=5555, dport=33434) / b"ttl")
        got = self.exchange(cap, [pkt], lambda v, ip: ICMPv6TimeExceeded in ip,
                            hosts={"2001:db8:100:3f::2": 163})
        self.assertIsNotNone(got, "no time exceeded")
        vid, eth = got
        self.assertEqual((vid, eth[IPv6].src, eth[IPv6].dst),
                         (163, "2001:db8:100:3f::1", "2001:db8:100:3f::2"))

    def test_member_routes_are_listed_and_route_get_finds_them(self):
        routes = {(r["prefix"], r["type"]): r for r in
                  json.loads(self.ok("-j", "route", "show"))}
        self.assertEqual(routes[("2001:db8:100:3f::/64", "connected")]["port"], "a.163")
        self.assertEqual(routes[("2001:db8:100:3f::1/128", "local")]["port"], "a.163")
        self.assertEqual(routes[("2001:db8:100::/64", "connected")]["port"], "a.100")
        get = json.loads(self.ok("-j", "route", "get", "2001:db8:100:3f::1"))
        self.assertEqual((get["type"], get["port"], get["prefix"]),
                         ("local", "a.163", "2001:db8:100:3f::1/128"))
        get = json.loads(self.ok("-j", "route", "get", "2001:db8:100:3f::99"))
        self.assertEqual((get["type"], get["port"]), ("connected", "a.163"))
        self.assertIn("2001:db8:ff00::1 via 2001:db8:100:3f::2 dev a.163",
                      self.ok("route", "get", "2001:db8:ff00::1"))
        self.fails(1, "no route to 2001:db8:9::1", "route", "get", "2001:db8:9::1")

    def test_template_changes_apply_as_a_diff(self):
        cap = self.capture()
        out = self.ok("link", "add", "group", "customers", "template", "parent", "a",
                      "vlan", "200-203", "address", "2001:db8:300::/127", "step", "2")
        self.assertIn("4 interfaces added", out)
        self.assertIn("address6: 2001:db8:300::/127", self.ok("config", "show"))
        echo = self.from_host(203, 0, IPv6(src="2001:db8:300::7", dst="2001:db8:300::6") /
                              ICMPv6EchoRequest(id=0x79, seq=3))
        echo[Ether].dst = ROUTER_A  # no mac in this template: the members use port a's
        got = self.exchange(cap, [echo], lambda v, ip: ICMPv6EchoReply in ip,
                            hosts={"2001:db8:300::7": 203})
        self.assertIsNotNone(got, "no echo reply from a member added at run time")
        self.assertEqual((got[0], got[1][IPv6].src), (203, "2001:db8:300::6"))
        # Overlaps and bad steps are refused with the loader's words, and change nothing.
        self.fails(1, "overlap", "link", "add", "group", "customers", "template", "parent", "a",
                   "vlan", "210-211", "address", "2001:db8:300::4/127")
        self.fails(1, "expected a multiple of 2^64, the size of a /64 subnet", "link", "add",
                   "group", "customers", "template", "parent", "a", "vlan", "210-211",
                   "address", "2001:db8:400::1/64", "step", "2")
        self.assertIn("4 interfaces removed",
                      self.ok("link", "del", "group", "customers", "template", "parent", "a",
                              "vlan", "200-203"))
        routes = {r["prefix"] for r in json.loads(self.ok("-j", "route", "show"))}
        self.assertNotIn("2001:db8:300::6/127", routes)
        self.assertIn("2001:db8:100:3f::/64", routes, "the other template is untouched")
        self.assertIsNone(self.exchange(cap, [echo], lambda v, ip: ICMPv6EchoReply in ip,
                                        timeout=1.0))

    def test_a_template_the_ipv6_fib_has_no_room_for_is_refused_whole(self):
        # 9,900 members, each /64 under a /48 of its own: about 19,800 tbl8 groups, beyond the
        # 16,384 the FIB keeps free for changes after the start.
        before = self.ok("config", "show")
        r = self.fails(1, "the IPv6 FIB was sized when vrouterd started", "link", "add", "group",
                       "customers", "template", "parent", "a", "outer", "1-99", "inner", "1-100",
                       "address", "2001:db8:1000::1/64", "step", "0:0:1::")
        self.assertIn("IPv6 FIB out of memory for longer prefixes", r.stderr)
        self.assertEqual(self.ok("config", "show"), before)
        self.assertEqual(len(json.loads(self.ok("-j", "link", "show", "group", "customers"))), 64)
        self.assertEqual(self.ctl("link", "show", "dev", "a.1.1").returncode, 1)
        self.assertNotIn("2001:db8:1000::/64",
                         {r["prefix"] for r in json.loads(self.ok("-j", "route", "show"))})
        # What it took is back: a template that fits still goes in.
        self.assertIn("2 interfaces added",
                      self.ok("link", "add", "group", "customers", "template", "parent", "a",
                              "vlan", "300-301", "address", "2001:db8:1000::1/64"))
        self.ok("link", "del", "group", "customers", "template", "parent", "a", "vlan", "300-301")

    def test_reload_moves_the_members_addresses(self):
        with open(self.router.config) as f:
            original = f.read()
        self.addCleanup(self.restore, original)
        with open(self.router.config, "w") as f:
            f.write(original.replace("address6: 2001:db8:100::1/64", "address6: 2001:db8:101::1/64")
                    .replace('via: "2001:db8:100:3f::2"', 'via: "2001:db8:101:3f::2"'))
        self.ok("reload")
        cap = self.capture()
        for own, expect in (("2001:db8:101:3f::1", True), ("2001:db8:100:3f::1", False)):
            host = own[:-1] + "2"
            echo = self.from_host(163, 63, IPv6(src=host, dst=own) /
                                  ICMPv6EchoRequest(id=0x7a, seq=9))
            got = self.exchange(cap, [echo], lambda v, ip: ICMPv6EchoReply in ip,
                                hosts={host: 163}, timeout=3.0 if expect else 1.0)
            self.assertEqual(got is not None, expect, own)

    def restore(self, text):
        with open(self.router.config, "w") as f:
            f.write(text)
        self.ok("reload")


if __name__ == "__main__":
    unittest.main()
