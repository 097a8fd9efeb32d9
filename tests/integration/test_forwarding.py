#!/usr/bin/python3
# Real packets through a real vrouterd: hosts A and B in namespaces, the router on af_packet ports.
# Each test asserts what a user sees on the wire and how much the router's counters moved.
import hashlib
import json
import os
import select
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import packets as P  # noqa: E402
from topology import VROUTERCTL, Router, Topology, delta, sh, socket_in  # noqa: E402

IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0  # <linux/in.h>; Python's socket module lacks them
ROUTER_A_MAC = "02:00:00:00:00:01"
ROUTER_B_MAC = "02:00:00:00:00:02"

CONFIG = f"""
dataplane:
  workers: 1
  nbufs: 8191
control:
  socket: @SOCKET@
icmp:
  rate_per_second: 100000
  burst: 100000
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    mac: {ROUTER_A_MAC}
    addresses: [198.18.1.1/24]
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: {ROUTER_B_MAC}
    mtu: 1400
    addresses: [198.18.2.1/24]
routes:
  - prefix: 198.19.0.0/16
    via: 198.18.2.2
  - prefix: 198.19.255.0/24
    type: blackhole
  - prefix: 198.18.128.0/20
    type: unreachable
"""


class ForwardingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.topo = Topology()
        cls.router = Router(cls.topo, CONFIG)
        cls.a_mac = cls.topo.mac(cls.topo.a, "eth0")
        cls.b_mac = cls.topo.mac(cls.topo.b, "eth0")
        # Resolve both hosts once so single-packet tests do not wait on ARP.
        for ns, dst in ((cls.topo.a, "198.18.2.2"), (cls.topo.b, "198.18.1.2")):
            sh("ping", "-c", "2", "-i", "0.2", "-W", "2", dst, ns=ns)

    @classmethod
    def tearDownClass(cls):
        rc = cls.router.stop()
        cls.topo.close()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"

    # --- helpers -------------------------------------------------------------------------------

    def send_from_a(self, ip_packets):
        s = P.packet_socket(socket_in, self.topo.a, "eth0")
        with s:
            for pkt in ip_packets:
                s.send(P.ether(ROUTER_A_MAC, self.a_mac, pkt))

    def icmp_socket_a(self):
        s = socket_in(self.topo.a, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.setblocking(False)
        return s

    def wait_icmp(self, s, want, timeout=3.0):
        """The first ICMP message for which `want(ip, icmp)` holds, or None on timeout."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            r, _, _ = select.select([s], [], [], deadline - time.time())
            if not r:
                break
            data = s.recv(65535)
            ip = P.Ip4(data)
            icmp = P.Icmp(ip.payload)
            if want(ip, icmp):
                return ip, icmp
        return None

    def capture_b(self):
        s = P.packet_socket(socket_in, self.topo.b, "eth0")
        s.setblocking(False)
        return s

    def frames(self, s, want, count, timeout=3.0):
        got = []
        deadline = time.time() + timeout
        while len(got) < count and time.time() < deadline:
            r, _, _ = select.select([s], [], [], deadline - time.time())
            if not r:
                break
            data, addr = s.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            f = P.parse_frame(data)
            if f is not None and want(*f):
                got.append(f)
        return got

    def settle(self, stop_when, timeout=3.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            after = self.router.flat()
            if stop_when(after):
                return after
            time.sleep(0.05)
        return self.router.flat()

    def icmp_error(self, dst, ttl=64, size=100, df=False):
        """Sends one UDP probe from A and returns (ip, icmp) of the error quoting it, or None."""
        probe = P.ip4_udp("198.18.1.2", dst, b"x" * size, ttl=ttl, df=df, ident=0x4242,
                          dport=33434)
        with self.icmp_socket_a() as s:
            self.send_from_a([probe])
            return self.wait_icmp(
                s, lambda ip, icmp: icmp.type in (3, 11) and len(icmp.quote) >= 28 and
                P.Ip4(icmp.quote).ident == 0x4242 and P.Ip4(icmp.quote).dst == dst)

    # --- forwarding ----------------------------------------------------------------------------

    def test_ping_a_to_b_and_back(self):
        before = self.router.flat()
        sh("ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.2.2", ns=self.topo.a)
        sh("ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.1.2", ns=self.topo.b)
        # The static route 198.19.0.0/16 via 198.18.2.2 reaches B's loopback address.
        sh("ping", "-c", "3", "-i", "0.2", "-W", "2", "198.19.0.1", ns=self.topo.a)
        d = delta(before, self.router.flat())
        self.assertGreaterEqual(d.get("ip4_forwarded", 0), 18)

    def test_ttl_decremented_by_exactly_one(self):
        with self.capture_b() as cap:
            pkt = P.ip4_udp("198.18.1.2", "198.18.2.2", b"ttl-test", ttl=17, ident=0x1717)
            self.send_from_a([pkt])
            # Asking for two and getting one also proves the router did not duplicate it.
            got = self.frames(cap, lambda d, s, ip: ip.ident == 0x1717, 2, timeout=1.5)
        self.assertEqual(len(got), 1, "packet did not reach B exactly once")
        dst, src, ip = got[0]
        self.assertEqual(ip.ttl, 16)
        self.assertTrue(ip.checksum_ok, "header checksum wrong after the TTL update")
        self.assertEqual(src, ROUTER_B_MAC)
        self.assertEqual(dst, self.b_mac)
        self.assertEqual(ip.payload[8:], b"ttl-test")

    def test_ttl_1_gets_time_exceeded_from_router(self):
        before = self.router.flat()
        got = self.icmp_error("198.18.2.2", ttl=1)
        self.assertIsNotNone(got, "no ICMP time exceeded")
        ip, icmp = got
        self.assertEqual((icmp.type, icmp.code), (11, 0))
        self.assertEqual(ip.src, "198.18.1.1")
        self.assertTrue(icmp.checksum_ok)
        quoted = P.Ip4(icmp.quote)
        self.assertEqual(quoted.ttl, 1, "the quote carries the header as it arrived")
        self.assertGreaterEqual(len(icmp.quote), 28, "RFC 792: header plus 8 bytes")
        d = delta(before, self.settle(lambda a: a["ip4_ttl_exceeded"] > before["ip4_ttl_exceeded"]))
        self.assertEqual(d.get("ip4_ttl_exceeded"), 1)
        self.assertEqual(d.get("icmp_errors_sent"), 1)

    def test_no_route_gets_net_unreachable(self):
        before = self.router.flat()
        got = self.icmp_error("198.18.64.1")
        self.assertIsNotNone(got, "no ICMP destination unreachable")
        ip, icmp = got
        self.assertEqual((icmp.type, icmp.code), (3, 0))
        self.assertEqual(ip.src, "198.18.1.1")
        d = delta(before, self.settle(lambda a: a["ip4_no_route"] > before["ip4_no_route"]))
        self.assertEqual(d.get("ip4_no_route"), 1)

    def test_unreachable_route_gets_host_unreachable(self):
        before = self.router.flat()
        got = self.icmp_error("198.18.129.1")
        self.assertIsNotNone(got, "no ICMP destination unreachable")
        self.assertEqual((got[1].type, got[1].code), (3, 1))
        d = delta(before, self.settle(
            lambda a: a["ip4_unreachable_route"] > before["ip4_unreachable_route"]))
        self.assertEqual(d.get("ip4_unreachable_route"), 1)

    def test_blackhole_drops_silently(self):
        before = self.router.flat()
        got = self.icmp_error("198.19.255.9", size=50)
        self.assertIsNone(got, "a blackhole route must not answer")
        d = delta(before, self.router.flat())
        self.assertEqual(d.get("ip4_blackhole"), 1)
        self.assertIsNone(d.get("icmp_errors_sent"))

    def test_df_over_mtu_gets_frag_needed_with_mtu(self):
        before = self.router.flat()
        got = self.icmp_error("198.18.2.2", size=1450, df=True)
        self.assertIsNotNone(got, "no fragmentation needed")
        ip, icmp = got
        self.assertEqual((icmp.type, icmp.code), (3, 4))
        self.assertEqual(icmp.mtu, 1400, "RFC 1191: the next-hop MTU of port b")
        self.assertEqual(ip.src, "198.18.1.1")
        d = delta(before, self.settle(lambda a: a["ip4_frag_needed"] > before["ip4_frag_needed"]))
        self.assertEqual(d.get("ip4_frag_needed"), 1)

    def test_large_packet_without_df_is_fragmented_and_reassembles(self):
        # 1450 bytes of UDP payload: a 1478-byte IP packet, over port b's MTU of 1400 but under
        # host A's 1500, so only the router can have split it.
        big = os.urandom(1450)
        rx = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("198.18.2.2", 9999))
        rx.settimeout(3)
        with rx, self.capture_b() as cap:
            before = self.router.flat()
            tx = socket_in(self.topo.a, socket.AF_INET, socket.SOCK_DGRAM)
            with tx:
                # IP_PMTUDISC_DONT: Linux would otherwise set DF on UDP.
                tx.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
                tx.sendto(big, ("198.18.2.2", 9999))
            frags = self.frames(cap, lambda d, s, ip: ip.src == "198.18.1.2" and ip.proto == 17 and
                                (ip.mf or ip.offset > 0), 2)
            data, _ = rx.recvfrom(65535)
        self.assertEqual(data, big, "B reassembled something else")
        self.assertEqual(len(frags), 2)
        for _, _, ip in frags:
            self.assertLessEqual(ip.total_length, 1400)
            self.assertTrue(ip.checksum_ok)
        self.assertEqual(sorted(ip.offset for _, _, ip in frags)[0], 0)
        self.assertEqual(sum(len(ip.payload) for _, _, ip in frags), 8 + len(big))
        d = delta(before, self.settle(lambda a: a["fragments_sent"] >= before["fragments_sent"] + 2))
        self.assertEqual(d.get("fragments_sent"), 2)

    def test_tcp_transfer(self):
        blob = os.urandom(4 << 20)
        received = hashlib.sha256()
        srv = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_STREAM)
        srv.bind(("198.19.0.1", 5001))
        srv.listen(1)
        srv.settimeout(20)
        count = [0]

        def serve():
            conn, _ = srv.accept()
            conn.settimeout(20)
            with conn:
                while chunk := conn.recv(65536):
                    received.update(chunk)
                    count[0] += len(chunk)

        t = threading.Thread(target=serve)
        t.start()
        cli = socket_in(self.topo.a, socket.AF_INET, socket.SOCK_STREAM)
        cli.settimeout(20)
        with cli:
            cli.connect(("198.19.0.1", 5001))
            cli.sendall(blob)
        t.join(30)
        srv.close()
        self.assertEqual(count[0], len(blob))
        self.assertEqual(received.hexdigest(), hashlib.sha256(blob).hexdigest())

    def test_ping_router_addresses(self):
        before = self.router.flat()
        sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.1.1", ns=self.topo.a)
        sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.2.1", ns=self.topo.a)
        d = delta(before, self.router.flat())
        self.assertEqual(d.get("icmp_echo_replies"), 4)

    def test_udp_to_router_is_dropped_and_counted(self):
        before = self.router.flat()
        self.send_from_a([P.ip4_udp("198.18.1.2", "198.18.1.1", b"hello", dport=53)])
        after = self.settle(lambda a: a["ip4_local_unsupported"] > before["ip4_local_unsupported"])
        self.assertEqual(after["ip4_local_unsupported"] - before["ip4_local_unsupported"], 1)

    # --- malformed input -----------------------------------------------------------------------

    def test_malformed_frames_dropped_by_reason(self):
        n = 7
        src, dst = "198.18.1.2", "198.18.2.2"
        good = P.ip4_udp(src, dst, b"y" * 40)
        bad = {
            "ip4_bad_checksum": P.ip4_udp(src, dst, b"y" * 40, bad_checksum=True),
            "ip4_bad_ihl": P.ip4_header(src, dst, 48, ihl=4) + b"y" * 48,
            "ip4_bad_total_length": P.ip4_header(src, dst, 48, total_length=1000) + b"y" * 48,
            "ip4_truncated": good[:12],
            "ip4_bad_version": bytes([0x65]) + good[1:],
        }
        before = self.router.flat()
        for reason, pkt in bad.items():
            self.send_from_a([pkt] * n)
        after = self.settle(lambda a: all(a[r] - before[r] >= n for r in bad))
        for reason in bad:
            self.assertEqual(after[reason] - before[reason], n, reason)
        self.assertEqual(after["ip4_forwarded"], before["ip4_forwarded"])
        # ... and the router goes on forwarding.
        sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.2.2", ns=self.topo.a)

    def test_frame_for_another_mac_is_dropped(self):
        before = self.router.flat()
        s = P.packet_socket(socket_in, self.topo.a, "eth0")
        with s:
            for _ in range(3):
                s.send(P.ether("02:00:00:00:99:99", self.a_mac,
                               P.ip4_udp("198.18.1.2", "198.18.2.2", b"z")))
        after = self.settle(lambda a: a["l2_other_host"] >= before["l2_other_host"] + 3)
        self.assertEqual(after["l2_other_host"] - before["l2_other_host"], 3)

    # --- what vrouterctl shows -----------------------------------------------------------------

    def test_route_show(self):
        text = self.router.ctl("route", "show").stdout
        self.assertIn("198.19.0.0/16 via 198.18.2.2", text)
        self.assertIn("198.18.128.0/20", text)
        routes = {r["prefix"]: r for r in json.loads(
            self.router.ctl("-j", "route", "show").stdout)}
        self.assertEqual(routes["198.19.0.0/16"]["via"], "198.18.2.2")
        self.assertEqual(routes["198.19.255.0/24"]["type"], "blackhole")
        self.assertEqual(routes["198.18.128.0/20"]["type"], "unreachable")
        self.assertEqual(routes["198.18.2.0/24"]["port"], "b")

    def test_neigh_show(self):
        sh("ping", "-c", "1", "-W", "2", "198.18.2.2", ns=self.topo.a)
        neigh = {n["ip"]: n for n in json.loads(
            self.router.ctl("-j", "neigh", "show").stdout)}
        self.assertEqual(neigh["198.18.2.2"]["mac"].lower(), self.b_mac)
        self.assertEqual(neigh["198.18.2.2"]["port"], "b")
        self.assertIn("198.18.1.2", self.router.ctl("neigh", "show").stdout)

    def test_stats_shows_ports_and_pool(self):
        s = self.router.stats()
        self.assertEqual([p["name"] for p in s["ports"]], ["a", "b"])
        self.assertTrue(all(p["link_up"] for p in s["ports"]))
        self.assertEqual(s["ports"][1]["mtu"], 1400)
        self.assertEqual(s["pool"]["size"], 8191)
        self.assertEqual(len(s["workers"]), 1)
        self.assertIn("ip4_bad_checksum", self.router.ctl("stats").stdout)

    def test_bad_command(self):
        r = self.router.ctl("frobnicate", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command", r.stderr)
        r = sh(VROUTERCTL, "-s", self.router.sock + ".missing", "stats", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(".missing", r.stderr)
        r = self.router.ctl(check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)


class IcmpRateLimitTest(unittest.TestCase):
    """ICMP errors come out of a token bucket: a burst of them, then one per 1/rate seconds."""

    def test_errors_beyond_the_bucket_are_counted_not_sent(self):
        topo = Topology()
        self.addCleanup(topo.close)
        config = CONFIG.replace("rate_per_second: 100000", "rate_per_second: 1") \
                       .replace("burst: 100000", "burst: 5")
        router = Router(topo, config)
        self.addCleanup(router.stop)
        a_mac = topo.mac(topo.a, "eth0")
        n = 40
        probe = P.ip4_udp("198.18.1.2", "198.18.64.1", b"p")  # no route: 3/0 each
        before = router.flat()
        s = P.packet_socket(socket_in, topo.a, "eth0")
        with s:
            for _ in range(n):
                s.send(P.ether(ROUTER_A_MAC, a_mac, probe))
        deadline = time.time() + 3
        while router.flat()["ip4_no_route"] - before["ip4_no_route"] < n and time.time() < deadline:
            time.sleep(0.05)
        d = delta(before, router.flat())
        self.assertEqual(d.get("ip4_no_route"), n)
        sent, limited = d.get("icmp_errors_sent", 0), d.get("icmp_errors_ratelimited", 0)
        self.assertEqual(sent + limited, n)
        self.assertGreaterEqual(sent, 5, "the whole burst goes out")
        self.assertLessEqual(sent, 5 + 4, "then one per second at most")
        self.assertEqual(router.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
