#!/usr/bin/python3
# IPv6 through a real vrouterd: hosts A and B in namespaces resolve the router with NDP, ping
# across it and get the ICMPv6 errors RFC 4443 asks for; malformed packets are dropped and
# counted by reason, exactly.
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

    # --- vrouterctl neigh and route get -------------------------------------------------------

    def ctl(self, *args):
        return self.router.ctl(*args, check=False)

    def neighbours(self):
        return {(n["ip"], n["port"]): n for n in self.router.stats_json("neigh", "show")}

    def test_static_ipv6_neighbour_from_the_cli_is_used_by_the_dataplane(self):
        mac, mac2 = "02:00:00:00:99:99", "02:00:00:00:99:9a"
        r = self.ctl("neigh", "add", "2001:db8:2::99", "lladdr", mac)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.addCleanup(self.ctl, "neigh", "del", "2001:db8:2::99")
        entry = self.neighbours()[("2001:db8:2::99", "b")]
        self.assertEqual((entry["mac"].lower(), entry["state"]), (mac, "permanent"))
        self.assertIn(f"2001:db8:2::99 dev b lladdr {mac.upper()} PERMANENT",
                      self.ctl("neigh", "show").stdout)
        self.assertIn("ip: 2001:db8:2::99", self.ctl("config", "show").stdout)
        # A packet to it leaves port b for that MAC at once: no solicitation first.
        pkt = ip6_packet("2001:db8:1::2", "2001:db8:2::99",
                         udp6("2001:db8:1::2", "2001:db8:2::99", b"static"))
        self.assertEqual(self.dst_mac_on_b(pkt, "2001:db8:2::99"), mac)
        # Added again: corrected in place, as `ip neigh replace` does.
        self.assertEqual(self.ctl("neigh", "add", "2001:db8:2::99", "lladdr", mac2).returncode, 0)
        self.assertEqual(self.neighbours()[("2001:db8:2::99", "b")]["mac"].lower(), mac2)
        self.assertEqual(self.dst_mac_on_b(pkt, "2001:db8:2::99"), mac2)
        r = self.ctl("neigh", "del", "2001:db8:2::99")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(("2001:db8:2::99", "b"), self.neighbours())
        self.assertNotIn("2001:db8:2::99", self.ctl("config", "show").stdout)

    def dst_mac_on_b(self, pkt, dst, timeout=3.0):
        """Sends `pkt` from A and returns the destination MAC of the frame carrying it to
        `dst` on B's link, or None."""
        want = ip6_bytes(dst)
        with P.packet_socket(socket_in, self.topo.b, "eth0") as cap:
            cap.settimeout(0.2)
            self.send_from_a([self.frame6(pkt)])
            deadline = time.time() + timeout
            while time.time() < deadline:
                try:
                    frame = cap.recv(4096)
                except socket.timeout:
                    continue
                if frame[12:14] == b"\x86\xdd" and frame[14 + 24:14 + 40] == want:
                    return ":".join(f"{x:02x}" for x in frame[:6])
        return None

    def test_link_local_static_neighbours_name_their_interface(self):
        mac = "02:00:00:00:99:98"
        r = self.ctl("neigh", "add", "fe80::99", "lladdr", mac)
        self.assertEqual(r.returncode, 1)
        self.assertIn("fe80::99 is a link-local address; say which interface it is on with dev D",
                      r.stderr)
        for dev in ("b", "a"):  # the same link-local address on two links: two neighbours
            r = self.ctl("neigh", "add", "fe80::99", "lladdr", mac, "dev", dev)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.addCleanup(self.ctl, "neigh", "del", "fe80::99", "dev", dev)
        neigh = self.neighbours()
        self.assertEqual(neigh[("fe80::99", "a")]["state"], "permanent")
        self.assertEqual(neigh[("fe80::99", "b")]["mac"].lower(), mac)
        r = self.ctl("neigh", "del", "fe80::99")
        self.assertEqual(r.returncode, 1)
        self.assertIn("fe80::99 is a static neighbour on b, a; say which with dev D", r.stderr)
        self.assertEqual(self.ctl("neigh", "del", "fe80::99", "dev", "a").returncode, 0)
        self.assertEqual(self.ctl("neigh", "del", "fe80::99").returncode, 0, "only b's is left")
        neigh = self.neighbours()
        self.assertNotIn(("fe80::99", "a"), neigh)
        self.assertNotIn(("fe80::99", "b"), neigh)

    def test_neigh_errors_say_what_is_wrong_and_change_nothing(self):
        mac = "02:00:00:00:99:97"
        before = self.ctl("config", "show").stdout
        cases = [
            (("neigh", "add", "2001:db8:9::5", "lladdr", mac), 1,
             "2001:db8:9::5 is not inside any interface's IPv6 subnet; name one with dev D"),
            (("neigh", "add", "2001:db8:2::1", "lladdr", mac), 1,
             "2001:db8:2::1 is the router's own address on port 'b'"),
            (("neigh", "add", "2001:db8:2::5", "lladdr", mac, "dev", "a"), 1,
             "2001:db8:2::5 is not inside an IPv6 subnet of port 'a' (a: 2001:db8:1::/64)"),
            (("neigh", "add", "2001:db8:2::5", "lladdr", mac, "dev", "zz"), 1,
             "no interface zz"),
            (("neigh", "add", "ff02::5", "lladdr", mac, "dev", "b"), 1,
             "ff02::5 is a multicast address (ff00::/8)"),
            (("neigh", "add", "2001:db8:2::5", "lladdr", "01:00:00:00:00:01"), 1,
             "not a unicast MAC address"),
            (("neigh", "add", "2001:db8:2::zz", "lladdr", mac), 1, "2001:db8:2::zz"),
            (("neigh", "del", "2001:db8:2::77"), 1, "no static neighbour 2001:db8:2::77"),
            (("neigh", "add", "2001:db8:2::5"), 2, "usage"),
        ]
        for args, code, words in cases:
            r = self.ctl(*args)
            self.assertEqual(r.returncode, code, f"{args}: {r.stdout} {r.stderr}")
            self.assertIn(words, r.stderr, args)
        self.assertEqual(self.ctl("config", "show").stdout, before)

    def test_route_get_takes_ipv6(self):
        get = self.router.stats_json("route", "get", "2001:db8:ffff::1")
        self.assertEqual((get["dst"], get["prefix"], get["type"], get["via"], get["port"]),
                         ("2001:db8:ffff::1", "2001:db8:ffff::/48", "forward", "2001:db8:2::2",
                          "b"))
        self.assertEqual(self.ctl("route", "get", "2001:db8:ffff::1").stdout,
                         "2001:db8:ffff::1 via 2001:db8:2::2 dev b (route 2001:db8:ffff::/48)\n")
        self.assertEqual(self.ctl("route", "get", "2001:db8:1::1").stdout,
                         "local 2001:db8:1::1 dev a (route 2001:db8:1::1/128)\n")
        self.assertEqual(self.ctl("route", "get", "2001:db8:2::77").stdout,
                         "connected 2001:db8:2::77 dev b (route 2001:db8:2::/64)\n")
        self.assertEqual(self.ctl("route", "get", "2001:db8:dead::1").stdout,
                         "blackhole 2001:db8:dead::1 (route 2001:db8:dead::/48)\n")
        r = self.ctl("route", "get", "2001:db8:9::1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no route to 2001:db8:9::1", r.stderr)

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


# --- Router advertisements -----------------------------------------------------------------------

RA_CONFIG = f"""
dataplane:
  workers: 1
  nbufs: 8191
control:
  socket: @SOCKET@
metrics:
  listen: "off"
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    mac: {ROUTER_A_MAC}
    addresses: [198.18.1.1/24, 2001:db8:1::1/64]
@RA@
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: 02:00:00:00:00:02
    addresses: [198.18.2.1/24, 2001:db8:2::1/64]
"""
# Initial advertisements at most 16 s apart, then 9.9-30 s: slow enough that an answer to a
# solicitation is told apart from an unsolicited one.
RA_ON = "    router_advertisements: {interval: 30, mtu: 1400}\n"
ROUTER_A_LL = "fe80::ff:fe00:1"  # EUI-64 of ROUTER_A_MAC
ICMP6_RS, ICMP6_RA = 133, 134


class RouterAdvertTest(unittest.TestCase):
    """Host A configures itself from the router's advertisements (SLAAC, default router, MTU),
    as a Linux host with accept_ra does, and forgets the router when it stops advertising.
    The tests run in name order: each step builds on the one before."""

    @classmethod
    def setUpClass(cls):
        cls.topo = Topology()
        t = cls.topo
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0", ns=t.b)
        sh("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0", ns=t.b)
        sh("ip", "-n", t.b, "addr", "add", "2001:db8:2::2/64", "dev", "eth0", "nodad")
        sh("ip", "-n", t.b, "-6", "route", "add", "default", "via", "2001:db8:2::1")
        cls.router = Router(t, RA_CONFIG.replace("@RA@", RA_ON))
        # A host, not a router: it takes advertisements (accept_ra 2 takes them whatever the
        # forwarding setting) and forms addresses from their prefixes. IPv6 comes up after the
        # router, so A's own solicitation is what gets it going.
        for key, value in (("forwarding", 0), ("accept_ra", 2), ("autoconf", 1),
                           ("accept_ra_mtu", 1), ("disable_ipv6", 0)):
            sh("sysctl", "-qw", f"net.ipv6.conf.all.{key}={value}", ns=t.a)
            sh("sysctl", "-qw", f"net.ipv6.conf.eth0.{key}={value}", ns=t.a)
        cls.a_ifindex = json.loads(sh("ip", "-j", "-n", t.a, "link", "show", "eth0").stdout)[0][
            "ifindex"]

    @classmethod
    def tearDownClass(cls):
        rc = cls.router.stop()  # None: test_5 stopped it
        cls.topo.close()
        assert rc in (0, None), f"vrouterd exited {rc}:\n{cls.router.log()}"

    def poll(self, what, timeout):
        deadline = time.time() + timeout
        while True:
            got = what()
            if got or time.time() > deadline:
                return got
            time.sleep(0.1)

    def slaac_addresses(self):
        out = sh("ip", "-j", "-6", "addr", "show", "dev", "eth0", "scope", "global",
                 ns=self.topo.a).stdout
        subnet = ipaddress.ip_network("2001:db8:1::/64")
        return [a["local"] for i in json.loads(out or "[]") for a in i.get("addr_info", [])
                if "local" in a and ipaddress.ip_address(a["local"]) in subnet and
                not a.get("tentative")]

    def default_routes(self):
        out = sh("ip", "-j", "-6", "route", "show", "default", ns=self.topo.a).stdout
        return json.loads(out or "[]")

    def solicit(self, hop_limit=255):
        """Sends a router solicitation from A to all routers, as a host does; returns the time."""
        s = socket_in(self.topo.a, socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        with s:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, hop_limit)
            mac = P.mac_bytes(self.topo.mac(self.topo.a, "eth0"))
            # Type, code, checksum (the kernel's), reserved; source link-layer address option.
            rs = struct.pack("!BBHI", ICMP6_RS, 0, 0, 0) + bytes([1, 1]) + mac
            sent = time.time()
            s.sendto(rs, ("ff02::2", 0, 0, self.a_ifindex))
        return sent

    def next_advert(self, listener, timeout):
        """The time the next router advertisement from the router reaches A, and its body."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            r, _, _ = select.select([listener], [], [], deadline - time.time())
            if not r:
                break
            data, addr = listener.recvfrom(65535)
            if data[0] == ICMP6_RA and addr[0].split("%")[0] == ROUTER_A_LL:
                return time.time(), data
        return None

    def listener(self):
        s = socket_in(self.topo.a, socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        s.setblocking(False)
        return s

    def test_1_host_configures_itself(self):
        addrs = self.poll(self.slaac_addresses, 15)
        self.assertTrue(addrs, "no SLAAC address in 2001:db8:1::/64:\n" +
                        sh("ip", "-6", "addr", ns=self.topo.a).stdout + self.router.log())
        # The advertised /64 with the modified EUI-64 of A's MAC (RFC 4291 appendix A).
        m = P.mac_bytes(self.topo.mac(self.topo.a, "eth0"))
        iid = bytes([m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]])
        self.assertIn(socket.inet_ntop(socket.AF_INET6, ip6_bytes("2001:db8:1::")[:8] + iid),
                      addrs)
        routes = self.poll(self.default_routes, 5)
        self.assertEqual(len(routes), 1, routes)
        self.assertEqual((routes[0]["gateway"], routes[0]["dev"], routes[0]["protocol"]),
                         (ROUTER_A_LL, "eth0", "ra"))
        mtu = self.poll(lambda: sh("sysctl", "-n", "net.ipv6.conf.eth0.mtu",
                                   ns=self.topo.a).stdout.strip() == "1400", 5)
        self.assertTrue(mtu, "the MTU option set A's IPv6 MTU")
        # The default route it learned carries traffic: A to B through the router.
        sh("ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "2001:db8:2::2", ns=self.topo.a)
        shown = self.router.ctl("config", "show").stdout
        self.assertIn("    router_advertisements:\n      interval: 30\n", shown)
        self.assertIn("      mtu: 1400\n", shown)
        flat = self.router.flat()
        self.assertGreaterEqual(flat["nd_router_adverts_sent"], 1)
        self.assertGreaterEqual(flat["nd_router_solicits_received"], 1, "A solicited on start")

    def test_2_solicitation_is_answered_within_a_second(self):
        with self.listener() as listener:
            # A first exchange sets where the last advertisement was; answers come at most one
            # per 3 s, so the second solicitation goes 3 s after it.
            self.solicit()
            first = self.next_advert(listener, 5)
            self.assertIsNotNone(first, "no advertisement after a solicitation")
            time.sleep(max(0.0, first[0] + 3.1 - time.time()))
            before = self.router.flat()
            sent = self.solicit()
            second = self.next_advert(listener, 2)
        self.assertIsNotNone(second, "solicitation not answered")
        self.assertLess(second[0] - sent, 1.0)
        body = second[1]
        self.assertEqual(struct.unpack("!H", body[6:8])[0], 90, "router lifetime 3 x interval")
        after = self.router.flat()
        self.assertEqual(after["nd_router_solicits_received"] - before["nd_router_solicits_received"],
                         1)
        self.assertEqual(after["nd_router_adverts_sent"] - before["nd_router_adverts_sent"], 1)

    def test_3_invalid_solicitation_is_counted_and_not_answered(self):
        before = self.router.flat()
        self.solicit(hop_limit=64)  # not 255: it may have come from off the link (§6.1.1)
        k = "nd_router_solicit_invalid"
        after = self.poll(lambda: (lambda f: f if f[k] > before[k] else None)(self.router.flat()),
                          3)
        self.assertIsNotNone(after)
        self.assertEqual(after[k] - before[k], 1)
        self.assertEqual(after["nd_router_solicits_received"],
                         before["nd_router_solicits_received"])

    def test_4_reload_without_advertisements_withdraws_the_router(self):
        self.assertTrue(self.default_routes())
        with open(self.router.config, "w") as f:
            f.write(RA_CONFIG.replace("@RA@", "").replace("@SOCKET@", self.router.sock))
        with self.listener() as listener:
            self.router.ctl("reload")
            final = self.next_advert(listener, 2)
        self.assertIsNotNone(final, "no final advertisement")
        self.assertEqual(struct.unpack("!H", final[1][6:8])[0], 0, "router lifetime 0 (§6.2.5)")
        gone = self.poll(lambda: not self.default_routes(), 3)
        self.assertTrue(gone, f"A still routes via the router: {self.default_routes()}")
        self.assertNotIn("router_advertisements", self.router.ctl("config", "show").stdout)

    def test_5_stopping_vrouterd_withdraws_the_router(self):
        with open(self.router.config, "w") as f:
            f.write(RA_CONFIG.replace("@RA@", RA_ON).replace("@SOCKET@", self.router.sock))
        self.router.ctl("reload")
        self.assertTrue(self.poll(self.default_routes, 6), "advertising again after a reload")
        with self.listener() as listener:
            self.assertEqual(self.router.stop(), 0)
            final = self.next_advert(listener, 1)
        self.assertIsNotNone(final, "no final advertisement at stop")
        self.assertEqual(struct.unpack("!H", final[1][6:8])[0], 0)
        self.assertTrue(self.poll(lambda: not self.default_routes(), 3))

if __name__ == "__main__":
    unittest.main(verbosity=2)
