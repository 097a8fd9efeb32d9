#!/usr/bin/python3
# IPv6 through a real vrouterd: hosts A and B in namespaces resolve the router with NDP, ping
# across it and get the ICMPv6 errors RFC 4443 asks for; malformed packets are dropped and
# counted by reason, exactly.
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

ROUTER_A_MAC = "02:00:00:00:00:01"

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
    mac: 02:00:00:00:00:02
    mtu: 1400
    addresses: [198.18.2.1/24, 2001:db8:2::1/64]
routes:
  - prefix: 2001:db8:ffff::/48
    via: 2001:db8:2::2
  - prefix: 2001:db8:dead::/48
    type: blackhole
"""

ICMP6_DEST_UNREACH, ICMP6_TOO_BIG, ICMP6_TIME_EXCEEDED, ICMP6_PARAM = 1, 2, 3, 4


def ip6_bytes(a):
    return socket.inet_pton(socket.AF_INET6, a)


def ip6_packet(src, dst, payload, next_header=17, hop_limit=64):
    return ip6_header(src, dst, len(payload), next_header, hop_limit) + payload


def ip6_header(src, dst, payload_len, next_header=17, hop_limit=64):
    return struct.pack("!IHBB16s16s", 6 << 28, payload_len, next_header, hop_limit,
                       ip6_bytes(src), ip6_bytes(dst))


def udp6(src, dst, payload, sport=40000, dport=9):
    body = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = ip6_bytes(src) + ip6_bytes(dst) + struct.pack("!IxxxB", len(body), 17)
    csum = P.checksum(pseudo + body) or 0xffff
    return body[:6] + struct.pack("!H", csum) + body[8:]


class Ipv6Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.topo = Topology()
        t = cls.topo
        for ns, addr, gw in ((t.a, "2001:db8:1::2/64", "2001:db8:1::1"),
                             (t.b, "2001:db8:2::2/64", "2001:db8:2::1")):
            sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0", ns=ns)
            sh("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0", ns=ns)
            sh("sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=0", ns=ns)
            sh("ip", "-n", ns, "addr", "add", addr, "dev", "eth0", "nodad")
            sh("ip", "-n", ns, "-6", "route", "add", "default", "via", gw)
        sh("ip", "-n", t.b, "addr", "add", "2001:db8:ffff::1/128", "dev", "lo")
        cls.router = Router(cls.topo, CONFIG)
        cls.a_mac = t.mac(t.a, "eth0")
        # Let A's and B's link-locals settle (they are made without DAD too slowly otherwise).
        sh("ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "2001:db8:2::2", ns=t.a, check=False)

    @classmethod
    def tearDownClass(cls):
        rc = cls.router.stop()
        cls.topo.close()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"

    def flat(self):
        return self.router.flat()

    def settle(self, done, timeout=3.0):
        deadline = time.time() + timeout
        while True:
            f = self.flat()
            if done(f) or time.time() > deadline:
                return f
            time.sleep(0.05)

    def send_from_a(self, frames):
        with P.packet_socket(socket_in, self.topo.a, "eth0") as s:
            for f in frames:
                s.send(f)

    def frame6(self, ip_packet):
        return P.ether(ROUTER_A_MAC, self.a_mac, ip_packet, ethertype=0x86DD)

    def icmp6_from_router(self, send, want_type, timeout=3.0):
        """Sends with `send()` and returns (source, type, code, body) of the first ICMPv6
        message of `want_type` A receives, or None."""
        s = socket_in(self.topo.a, socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        with s:
            s.setblocking(False)
            send()
            deadline = time.time() + timeout
            while time.time() < deadline:
                r, _, _ = select.select([s], [], [], deadline - time.time())
                if not r:
                    break
                data, addr = s.recvfrom(65535)
                if data[0] == want_type:
                    return addr[0], data[0], data[1], data[4:]
        return None

    # --- forwarding and NDP --------------------------------------------------------------------

    def test_ping6_across_the_router_and_neighbours_resolved(self):
        before = self.flat()
        sh("ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "2001:db8:2::2", ns=self.topo.a)
        sh("ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "2001:db8:1::2", ns=self.topo.b)
        after = self.flat()
        self.assertGreaterEqual(after["ip6_forwarded"] - before["ip6_forwarded"], 12)
        neigh = {n["ip"]: n for n in self.router.stats_json("neigh", "show")}
        for host in ("2001:db8:1::2", "2001:db8:2::2"):
            self.assertIn(neigh[host]["state"], ("reachable", "stale", "delay", "probe"))
        self.assertEqual(neigh["2001:db8:1::2"]["port"], "a")

    def test_static_route_reaches_a_remote_prefix(self):
        sh("ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "2001:db8:ffff::1", ns=self.topo.a)

    def test_router_answers_echo_on_its_global_and_link_local_addresses(self):
        before = self.flat()
        sh("ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "2001:db8:1::1", ns=self.topo.a)
        # fe80::/64 + modified EUI-64 of 02:00:00:00:00:01
        sh("ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "fe80::ff:fe00:1%eth0", ns=self.topo.a)
        after = self.flat()
        self.assertEqual(after["icmp6_echo_replies"] - before["icmp6_echo_replies"], 2)

    def test_routes_and_addresses_change_at_run_time(self):
        a = self.topo.a
        sh("ip", "-n", self.topo.b, "addr", "add", "2001:db8:eeee::1/128", "dev", "lo")
        r = self.router.ctl("route", "add", "2001:db8:eeee::/48", "via", "2001:db8:9::9",
                            check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("2001:db8:9::9 is not inside any port's IPv6 subnet", r.stderr)
        self.router.ctl("route", "add", "2001:db8:eeee::/48", "via", "2001:db8:2::2")
        sh("ping", "-6", "-c", "1", "-W", "2", "2001:db8:eeee::1", ns=a)
        routes = {x["prefix"]: x for x in self.router.stats_json("route", "show")}
        self.assertEqual(routes["2001:db8:eeee::/48"]["via"], "2001:db8:2::2")
        self.router.ctl("route", "del", "2001:db8:eeee::/48")
        self.assertNotEqual(sh("ping", "-6", "-c", "1", "-W", "1", "2001:db8:eeee::1", ns=a,
                               check=False).returncode, 0)
        # A new address answers at once; its subnet is connected; it goes with addr del.
        self.router.ctl("addr", "add", "2001:db8:3::1/64", "dev", "b")
        sh("ping", "-6", "-c", "1", "-W", "2", "2001:db8:3::1", ns=a)
        self.assertIn("2001:db8:3::/64", {x["prefix"] for x in
                                          self.router.stats_json("route", "show")})
        self.router.ctl("addr", "del", "2001:db8:3::1/64", "dev", "b")
        self.assertNotIn("2001:db8:3::/64", {x["prefix"] for x in
                                             self.router.stats_json("route", "show")})
        self.assertNotEqual(sh("ping", "-6", "-c", "1", "-W", "1", "2001:db8:3::1", ns=a,
                               check=False).returncode, 0)

    # --- ICMPv6 errors -------------------------------------------------------------------------

    def test_hop_limit_1_gets_time_exceeded(self):
        pkt = ip6_packet("2001:db8:1::2", "2001:db8:2::2",
                         udp6("2001:db8:1::2", "2001:db8:2::2", b"ttl", dport=33434), hop_limit=1)
        before = self.flat()
        got = self.icmp6_from_router(lambda: self.send_from_a([self.frame6(pkt)]),
                                     ICMP6_TIME_EXCEEDED)
        self.assertIsNotNone(got)
        src, _, code, body = got
        self.assertEqual((src, code), ("2001:db8:1::1", 0))
        self.assertEqual(body[4:4 + 40], pkt[:40], "the offending header is quoted")
        k = "ip6_hop_limit_exceeded"
        after = self.settle(lambda f: f[k] > before[k])
        self.assertEqual(after["ip6_hop_limit_exceeded"] - before["ip6_hop_limit_exceeded"], 1)

    def test_too_big_for_the_egress_port_gets_packet_too_big_with_its_mtu(self):
        payload = b"x" * 1400  # 40 + 8 + 1400 = 1448 > port b's 1400
        pkt = ip6_packet("2001:db8:1::2", "2001:db8:2::2",
                         udp6("2001:db8:1::2", "2001:db8:2::2", payload))
        before = self.flat()
        got = self.icmp6_from_router(lambda: self.send_from_a([self.frame6(pkt)]), ICMP6_TOO_BIG)
        self.assertIsNotNone(got)
        src, _, code, body = got
        self.assertEqual(src, "2001:db8:1::1")
        self.assertEqual(struct.unpack("!I", body[:4])[0], 1400)
        self.assertLessEqual(len(body) + 4 + 40, 1280, "errors fit the IPv6 minimum MTU")
        after = self.settle(lambda f: f["ip6_too_big"] > before["ip6_too_big"])
        self.assertEqual(after["ip6_too_big"] - before["ip6_too_big"], 1)

    def test_no_route_gets_destination_unreachable(self):
        sh("ip", "-n", self.topo.a, "-6", "route", "replace", "2001:db8:9::/48", "via",
           "2001:db8:1::1")
        got = self.icmp6_from_router(
            lambda: sh("ping", "-6", "-c", "1", "-W", "1", "2001:db8:9::1", ns=self.topo.a,
                       check=False), ICMP6_DEST_UNREACH)
        self.assertIsNotNone(got)
        self.assertEqual((got[0], got[2]), ("2001:db8:1::1", 0))

    def test_blackhole_route_drops_silently(self):
        before = self.flat()
        pkt = ip6_packet("2001:db8:1::2", "2001:db8:dead::1",
                         udp6("2001:db8:1::2", "2001:db8:dead::1", b"bh!"))
        self.send_from_a([self.frame6(pkt)] * 3)
        after = self.settle(lambda f: f["ip6_blackhole"] - before["ip6_blackhole"] >= 3)
        self.assertEqual(after["ip6_blackhole"] - before["ip6_blackhole"], 3)

    # --- malformed input -----------------------------------------------------------------------

    def test_malformed_ipv6_is_dropped_and_counted_exactly(self):
        good = ip6_packet("2001:db8:1::2", "2001:db8:2::2",
                          udp6("2001:db8:1::2", "2001:db8:2::2", b"abc"))
        bad_length = good[:4] + struct.pack("!H", 200) + good[6:]
        bad_version = bytes([0x40]) + good[1:]
        # A hop-by-hop header that says 16 bytes with 8 in the packet.
        truncated_chain = ip6_header("2001:db8:1::2", "2001:db8:2::2", 8, next_header=0) + \
            bytes([17, 1, 1, 4, 0, 0, 0, 0])
        # An unknown hop-by-hop option with action 01: discard silently.
        hbh_discard = ip6_packet("2001:db8:1::2", "2001:db8:2::2",
                                 bytes([17, 0, 0x5e, 4, 0, 0, 0, 0]) +
                                 udp6("2001:db8:1::2", "2001:db8:2::2", b"abc"), next_header=0)
        martian = ip6_packet("::1", "2001:db8:2::2", udp6("::1", "2001:db8:2::2", b"abc"))
        cases = {"ip6_bad_payload_length": bad_length, "ip6_bad_version": bad_version,
                 "ip6_bad_extension": truncated_chain, "ip6_hbh_discard": hbh_discard,
                 "ip6_martian_source": martian}
        before = self.flat()
        self.send_from_a([self.frame6(p) for p in cases.values()] * 2)
        after = self.settle(lambda f: all(f[k] - before[k] >= 2 for k in cases))
        for k in cases:
            self.assertEqual(after[k] - before[k], 2, k)
        self.assertEqual(after["ip6_forwarded"], before["ip6_forwarded"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
