#!/usr/bin/python3
# knet: the router's own kernel reached through the dataplane. Host A talks TCP and UDP to a
# kernel socket on the router; a kernel process on the router reaches host B; rate limits count.
import hashlib
import json
import os
import select
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import packets as P  # noqa: E402
from topology import Router, Topology, sh, socket_in  # noqa: E402

ROUTER_A_MAC = "02:00:00:00:00:01"

BASE = f"""
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
    addresses: [198.18.1.1/24]
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: 02:00:00:00:00:02
    addresses: [198.18.2.1/24]
routes:
  - prefix: 198.19.0.0/16
    via: 198.18.2.2
"""

CONFIG = BASE + """
knet:
  name: knet0
  mtu: 1500
  mirror: "off"
"""


def knet_topology():
    topo = Topology()
    # The ports' veths stay visible to the router namespace's kernel, which would answer ARP
    # for knet0's addresses on them; a NIC bound to DPDK would be invisible to it.
    for dev in ("vr-a", "vr-b"):
        sh("ip", "-n", topo.r, "link", "set", dev, "arp", "off")
    return topo


def serve_sha(sock, done):
    """Accepts one connection, reads to EOF, answers with the SHA-256 of what came."""
    conn, _ = sock.accept()
    with conn:
        h = hashlib.sha256()
        while True:
            data = conn.recv(65536)
            if not data:
                break
            h.update(data)
        conn.sendall(h.hexdigest().encode())
    done.set()


def tcp_round_trip(test, client_ns, server_ns, server_ip, port, size):
    family = socket.AF_INET6 if ":" in server_ip else socket.AF_INET
    srv = socket_in(server_ns, family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((server_ip, port))
    srv.listen(1)
    srv.settimeout(20)
    done = threading.Event()
    t = threading.Thread(target=serve_sha, args=(srv, done), daemon=True)
    t.start()
    payload = os.urandom(size)
    with socket_in(client_ns, family, socket.SOCK_STREAM) as c:
        c.settimeout(20)
        c.connect((server_ip, port))
        c.sendall(payload)
        c.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            data = c.recv(4096)
            if not data:
                break
            answer += data
    t.join(20)
    srv.close()
    test.assertEqual(answer.decode(), hashlib.sha256(payload).hexdigest())


class KnetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.topo = knet_topology()
        cls.router = Router(cls.topo, CONFIG)

    @classmethod
    def tearDownClass(cls):
        rc = cls.router.stop()
        gone = sh("ip", "-n", cls.topo.r, "link", "show", "knet0", check=False).returncode != 0
        cls.topo.close()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"
        assert gone, "knet0 outlived vrouterd"

    def stats(self):
        """Stats once every frame a worker punted has been through the control lcore's write."""
        deadline = time.time() + 3
        while True:
            s = self.router.stats()
            k = s["knet"]
            if (s["counters"]["knet_punted"] == k["to_kernel_packets"] + k["to_kernel_errors"] or
                    time.time() > deadline):
                return s
            time.sleep(0.05)

    def test_link_is_configured_through_netlink(self):
        link = json.loads(sh("ip", "-j", "-n", self.topo.r, "addr", "show", "knet0").stdout)[0]
        self.assertIn("UP", link["flags"])
        self.assertIn("NOARP", link["flags"])
        self.assertEqual(link["mtu"], 1500)
        addrs = sorted(f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"]
                       if a["family"] == "inet")
        self.assertEqual(addrs, ["198.18.1.1/24", "198.18.2.1/24"])
        routes = json.loads(sh("ip", "-j", "-n", self.topo.r, "route", "show", "proto", "250")
                            .stdout)
        self.assertEqual([(r["dst"], r["dev"]) for r in routes], [("198.19.0.0/16", "knet0")])

    def test_cli_changes_reach_the_kernel_side(self):
        def knet_state():
            link = json.loads(sh("ip", "-j", "-n", self.topo.r, "addr", "show", "knet0")
                              .stdout)[0]
            addrs = {f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"]
                     if a["family"] == "inet"}
            routes = {r["dst"] for r in json.loads(
                sh("ip", "-j", "-n", self.topo.r, "route", "show", "proto", "250").stdout)}
            return addrs, routes
        self.router.ctl("addr", "add", "198.18.3.1/24", "dev", "b")
        self.router.ctl("route", "add", "198.18.96.0/20", "via", "198.18.2.2")
        addrs, routes = knet_state()
        self.assertIn("198.18.3.1/24", addrs)
        self.assertIn("198.18.96.0/20", routes)
        self.router.ctl("addr", "del", "198.18.3.1/24", "dev", "b")
        self.router.ctl("route", "del", "198.18.96.0/20")
        addrs, routes = knet_state()
        self.assertEqual(addrs, {"198.18.1.1/24", "198.18.2.1/24"})
        self.assertEqual(routes, {"198.19.0.0/16"})

    def test_tcp_from_host_to_a_kernel_socket_on_the_router(self):
        before = self.stats()
        tcp_round_trip(self, self.topo.a, self.topo.r, "198.18.1.1", 7001, 300_000)
        after = self.stats()
        # Every segment A sent went up through knet, and the kernel's answers came back down.
        self.assertGreater(after["knet"]["to_kernel_packets"], before["knet"]["to_kernel_packets"])
        self.assertGreater(after["knet"]["from_kernel_packets"],
                           before["knet"]["from_kernel_packets"])
        self.assertEqual(after["counters"]["knet_punted"] - before["counters"]["knet_punted"],
                         after["knet"]["to_kernel_packets"] - before["knet"]["to_kernel_packets"])
        self.assertEqual(after["knet"]["to_kernel_errors"], 0)
        self.assertEqual(after["drops"]["knet_rate_limited"], 0)
        # A's segments that came in one burst went up merged (GRO): fewer writes than packets.
        writes = after["knet"]["to_kernel_writes"] - before["knet"]["to_kernel_writes"]
        packets = after["knet"]["to_kernel_packets"] - before["knet"]["to_kernel_packets"]
        self.assertGreater(after["knet"]["to_kernel_gro"], before["knet"]["to_kernel_gro"])
        self.assertLess(writes, packets)

    def test_kernel_process_on_the_router_reaches_host_b(self):
        sh("ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.2.2", ns=self.topo.r)
        # Through the config's static route, which knet gave the kernel as well.
        sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.19.0.1", ns=self.topo.r)
        before = self.stats()["knet"]
        tcp_round_trip(self, self.topo.r, self.topo.b, "198.18.2.2", 7002, 2_000_000)
        after = self.stats()["knet"]
        # The kernel handed its stream over as TSO super-frames, cut into segments here: fewer
        # reads than packets, and the bytes arrived intact (the SHA above) with checksums B's
        # kernel accepted.
        self.assertGreater(after["from_kernel_tso"], before["from_kernel_tso"])
        reads = after["from_kernel_reads"] - before["from_kernel_reads"]
        packets = after["from_kernel_packets"] - before["from_kernel_packets"]
        self.assertGreater(packets, 2_000_000 // 1460)
        self.assertLess(reads, packets / 2)
        self.assertEqual(after["from_kernel_bad_offload"], 0)

    def test_kernel_udp_with_checksum_left_to_knet_arrives_intact(self):
        # With checksum offload on knet the kernel leaves UDP checksums partial; B's kernel
        # drops a datagram whose checksum knet got wrong, so arriving at all is the check.
        rx = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_DGRAM)
        tx = socket_in(self.topo.r, socket.AF_INET, socket.SOCK_DGRAM)
        with rx, tx:
            rx.bind(("198.18.2.2", 7003))
            rx.settimeout(3)
            for size in (1, 100, 1400):
                payload = os.urandom(size)
                tx.sendto(payload, ("198.18.2.2", 7003))
                data, src = rx.recvfrom(2048)
                self.assertEqual((data, src[0]), (payload, "198.18.2.1"))

    def test_udp_to_a_closed_port_gets_the_kernels_port_unreachable(self):
        s = socket_in(self.topo.a, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        with s:
            s.setblocking(False)
            before = self.stats()
            probe = P.ip4_udp("198.18.1.2", "198.18.1.1", b"knet", ident=0x4343, dport=33999)
            a_mac = self.topo.mac(self.topo.a, "eth0")
            with P.packet_socket(socket_in, self.topo.a, "eth0") as ps:
                ps.send(P.ether(ROUTER_A_MAC, a_mac, probe))
            deadline = time.time() + 3
            found = None
            while found is None and time.time() < deadline:
                r, _, _ = select.select([s], [], [], deadline - time.time())
                if not r:
                    break
                ip = P.Ip4(s.recv(65535))
                icmp = P.Icmp(ip.payload)
                if icmp.type == 3 and P.Ip4(icmp.quote).ident == 0x4343:
                    found = (ip, icmp)
            self.assertIsNotNone(found, "no port unreachable from the router's kernel")
            ip, icmp = found
            self.assertEqual(ip.src, "198.18.1.1")
            self.assertEqual(icmp.code, 3)
            after = self.stats()
            self.assertEqual(after["counters"]["knet_punted"] - before["counters"]["knet_punted"], 1)


MIRROR_CONFIG = BASE + """
knet: {}
"""


class KnetMirrorTest(unittest.TestCase):
    """Routes the router's kernel learns (here from `ip route`, as a daemon would install them)
    are mirrored into the FIB, resolved to the dataplane's real next hops."""

    @classmethod
    def setUpClass(cls):
        cls.topo = knet_topology()
        for net in ("198.18.64.1/32", "198.18.65.1/32"):
            sh("ip", "-n", cls.topo.b, "addr", "add", net, "dev", "lo")
        cls.router = Router(cls.topo, MIRROR_CONFIG)
        sh("ping", "-c", "1", "-W", "2", "198.18.2.2", ns=cls.topo.a)

    @classmethod
    def tearDownClass(cls):
        rc = cls.router.stop()
        cls.topo.close()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"

    def kernel_routes(self):
        routes = json.loads(self.router.ctl("-j", "route", "show").stdout)
        return {r["prefix"]: r for r in routes if r["origin"] == "kernel"}

    def wait_routes(self, want, timeout=3.0):
        """Kernel routes as vrouterctl shows them, once `want(routes)` holds (or the last seen)."""
        deadline = time.time() + timeout
        while True:
            routes = self.kernel_routes()
            if want(routes) or time.time() > deadline:
                return routes
            time.sleep(0.05)

    def ip_route(self, *args):
        sh("ip", "-n", self.topo.r, "route", *args)

    def test_a_learned_route_forwards_and_its_withdrawal_stops_it(self):
        self.ip_route("add", "198.18.64.0/24", "via", "198.18.2.2", "proto", "bird")
        routes = self.wait_routes(lambda r: "198.18.64.0/24" in r)
        r = routes["198.18.64.0/24"]
        self.assertEqual((r["type"], r["via"], r["port"], r["protocol"], r["installed"]),
                         ("forward", "198.18.2.2", "b", "bird", True))
        before = self.router.stats()["counters"]["ip4_forwarded"]
        sh("ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.64.1", ns=self.topo.a)
        # Three echo requests out, three replies back (B's default route points at the router).
        self.assertGreaterEqual(self.router.stats()["counters"]["ip4_forwarded"] - before, 6)
        self.ip_route("del", "198.18.64.0/24", "via", "198.18.2.2", "proto", "bird")
        routes = self.wait_routes(lambda r: "198.18.64.0/24" not in r)
        self.assertNotIn("198.18.64.0/24", routes)
        r = sh("ping", "-c", "1", "-W", "1", "198.18.64.1", ns=self.topo.a, check=False)
        self.assertNotEqual(r.returncode, 0)

    def test_a_replace_moves_the_route_to_its_new_gateway(self):
        self.ip_route("add", "198.18.65.0/24", "via", "198.18.1.2", "proto", "zebra")
        self.wait_routes(lambda r: r.get("198.18.65.0/24", {}).get("via") == "198.18.1.2")
        self.ip_route("replace", "198.18.65.0/24", "via", "198.18.2.2", "proto", "zebra")
        routes = self.wait_routes(lambda r: r.get("198.18.65.0/24", {}).get("via") == "198.18.2.2")
        self.assertEqual(routes["198.18.65.0/24"]["port"], "b")
        sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.65.1", ns=self.topo.a)
        self.ip_route("del", "198.18.65.0/24", "proto", "zebra")

    def test_the_config_wins_a_prefix_both_hold(self):
        # 198.19.0.0/16 via 198.18.2.2 is in the config; the kernel's says via A.
        self.ip_route("add", "198.19.0.0/16", "via", "198.18.1.2", "proto", "static", "metric", "5")
        routes = self.wait_routes(lambda r: "198.19.0.0/16" in r)
        r = routes["198.19.0.0/16"]
        self.assertFalse(r["installed"])
        self.assertEqual(r["reason"], "the config holds this prefix")
        sh("ping", "-c", "1", "-W", "2", "198.19.0.1", ns=self.topo.a)  # still via B
        self.ip_route("del", "198.19.0.0/16", "proto", "static", "metric", "5")
        self.wait_routes(lambda r: "198.19.0.0/16" not in r)
        sh("ping", "-c", "1", "-W", "2", "198.19.0.1", ns=self.topo.a)

    def test_unusable_and_special_routes(self):
        before = self.router.stats()["drops"]
        # A gateway on no subnet of the router's: listed, not installed, and said why.
        self.ip_route("add", "198.18.70.0/24", "via", "198.18.9.9", "dev", "knet0", "onlink",
                      "proto", "static")
        self.ip_route("add", "blackhole", "198.18.80.0/24", "proto", "static")
        self.ip_route("add", "unreachable", "198.18.81.0/24", "proto", "static")
        # Not mirrored: the kernel's own connected routes, another table.
        self.ip_route("add", "198.18.82.0/24", "via", "198.18.2.2", "table", "100",
                      "proto", "static")
        routes = self.wait_routes(lambda r: {"198.18.70.0/24", "198.18.80.0/24",
                                             "198.18.81.0/24"} <= set(r))
        self.assertEqual(routes["198.18.70.0/24"]["reason"],
                         "gateway outside every interface's subnet")
        self.assertEqual((routes["198.18.80.0/24"]["type"], routes["198.18.80.0/24"]["installed"]),
                         ("blackhole", True))
        self.assertEqual(routes["198.18.81.0/24"]["type"], "unreachable")
        self.assertNotIn("198.18.82.0/24", routes)
        self.assertNotIn("198.18.1.0/24", routes)
        a_mac = self.topo.mac(self.topo.a, "eth0")
        with P.packet_socket(socket_in, self.topo.a, "eth0") as ps:
            for dst in ("198.18.80.1", "198.18.80.2", "198.18.81.1"):
                ps.send(P.ether(ROUTER_A_MAC, a_mac, P.ip4_udp("198.18.1.2", dst, b"x")))
        deadline = time.time() + 3
        while time.time() < deadline:
            d = self.router.stats()["drops"]
            if (d["ip4_blackhole"] - before["ip4_blackhole"] == 2 and
                    d["ip4_unreachable_route"] - before["ip4_unreachable_route"] == 1):
                break
            time.sleep(0.05)
        self.assertEqual(d["ip4_blackhole"] - before["ip4_blackhole"], 2)
        self.assertEqual(d["ip4_unreachable_route"] - before["ip4_unreachable_route"], 1)
        for args in (("198.18.70.0/24", "proto", "static"),
                     ("blackhole", "198.18.80.0/24", "proto", "static"),
                     ("unreachable", "198.18.81.0/24", "proto", "static"),
                     ("198.18.82.0/24", "table", "100", "proto", "static")):
            self.ip_route("del", *args)
        routes = self.wait_routes(lambda r: not r)
        self.assertEqual(routes, {})

    def test_a_route_out_of_another_kernel_interface_is_not_installed(self):
        sh("ip", "-n", self.topo.r, "link", "add", "mgmt0", "type", "bridge")
        try:
            sh("ip", "-n", self.topo.r, "addr", "add", "198.18.200.1/24", "dev", "mgmt0")
            sh("ip", "-n", self.topo.r, "link", "set", "mgmt0", "up")
            self.ip_route("add", "198.18.201.0/24", "via", "198.18.200.2", "dev", "mgmt0",
                          "onlink", "proto", "static")
            routes = self.wait_routes(lambda r: "198.18.201.0/24" in r)
            r = routes["198.18.201.0/24"]
            self.assertFalse(r["installed"])
            self.assertEqual(r["reason"], "the kernel sends it out of an interface other than knet")
        finally:
            sh("ip", "-n", self.topo.r, "link", "del", "mgmt0")
        # The kernel flushed the route with the link, silently; the mirror notices.
        routes = self.wait_routes(lambda r: "198.18.201.0/24" not in r)
        self.assertNotIn("198.18.201.0/24", routes)

    def test_a_flood_of_changes_ends_with_the_fib_equal_to_the_kernel(self):
        batch = os.path.join(self.router.dir, "flood.batch")
        with open(batch, "w") as f:
            for i in range(4000):
                f.write(f"route add 198.19.{128 + i // 64}.{(i % 64) * 4}/30 via 198.18.2.2 "
                        "proto bird\n")
            for i in range(0, 4000, 3):
                f.write(f"route del 198.19.{128 + i // 64}.{(i % 64) * 4}/30 proto bird\n")
            for i in range(0, 4000, 5):
                f.write(f"route replace 198.19.{128 + i // 64}.{(i % 64) * 4}/30 via 198.18.1.2 "
                        "proto bird\n")
        sh("ip", "-n", self.topo.r, "-batch", batch)

        def kernel():
            out = json.loads(sh("ip", "-j", "-n", self.topo.r, "route", "show", "proto", "bird")
                             .stdout)
            return {r["dst"]: r["gateway"] for r in out}
        want = kernel()
        self.assertGreater(len(want), 2000)
        routes = self.wait_routes(lambda r: {p: x["via"] for p, x in r.items()
                                             if p.startswith("198.19.")} == want, timeout=10)
        self.assertEqual({p: x["via"] for p, x in routes.items() if p.startswith("198.19.")},
                         want)
        self.assertTrue(all(x["installed"] for p, x in routes.items() if p.startswith("198.19.")))
        sh("ip", "-n", self.topo.r, "route", "flush", "proto", "bird")
        self.wait_routes(lambda r: not any(p.startswith("198.19.") for p in r), timeout=10)
        self.assertEqual(self.router.stats()["route_mirror"]["errors"], 0)

    def test_metrics_and_stats_count_the_mirror(self):
        s = self.router.stats()["route_mirror"]
        self.assertGreaterEqual(s["resyncs"], 1)  # the dump at start
        self.assertEqual(s["errors"], 0)


IPV6_CONFIG = """
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
    mac: 02:00:00:00:00:01
    addresses: [198.18.1.1/24, 2001:db8:1::1/64]
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: 02:00:00:00:00:02
    addresses: [198.18.2.1/24, 2001:db8:2::1/64]
routes:
  - prefix: 2001:db8:ffff::/48
    via: 2001:db8:2::2
knet: {}
"""


class KnetIpv6Test(unittest.TestCase):
    """IPv6 for the router's kernel: its addresses on knet0, TCP to it, its packets out."""

    @classmethod
    def setUpClass(cls):
        cls.topo = knet_topology()
        t = cls.topo
        for ns, addr, gw in ((t.a, "2001:db8:1::2/64", "2001:db8:1::1"),
                             (t.b, "2001:db8:2::2/64", "2001:db8:2::1")):
            for conf in ("all", "eth0", "lo"):
                sh("sysctl", "-qw", f"net.ipv6.conf.{conf}.disable_ipv6=0", ns=ns)
            sh("ip", "-n", ns, "addr", "add", addr, "dev", "eth0", "nodad")
            sh("ip", "-n", ns, "-6", "route", "add", "default", "via", gw)
        sh("ip", "-n", t.b, "addr", "add", "2001:db8:ffff::1/128", "dev", "lo")
        sh("ip", "-n", t.b, "addr", "add", "2001:db8:77::1/128", "dev", "lo")
        cls.router = Router(cls.topo, IPV6_CONFIG)

    @classmethod
    def tearDownClass(cls):
        rc = cls.router.stop()
        cls.topo.close()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"

    def test_knet0_carries_the_ipv6_addresses_and_routes(self):
        link = json.loads(sh("ip", "-j", "-n", self.topo.r, "addr", "show", "knet0").stdout)[0]
        addrs = sorted(f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"]
                       if a["family"] == "inet6" and a.get("scope") == "global")
        self.assertEqual(addrs, ["2001:db8:1::1/64", "2001:db8:2::1/64"])
        routes = json.loads(sh("ip", "-j", "-6", "-n", self.topo.r, "route", "show", "proto",
                               "250").stdout)
        self.assertEqual([(r["dst"], r["dev"]) for r in routes], [("2001:db8:ffff::/48", "knet0")])

    def test_tcp_over_ipv6_to_a_kernel_socket_and_out_of_the_kernel(self):
        before = self.router.stats()
        tcp_round_trip(self, self.topo.a, self.topo.r, "2001:db8:1::1", 7005, 300_000)
        tcp_round_trip(self, self.topo.r, self.topo.b, "2001:db8:2::2", 7006, 300_000)
        sh("ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "2001:db8:ffff::1", ns=self.topo.r)
        after = self.router.stats()
        self.assertGreater(after["counters"]["knet_punted"], before["counters"]["knet_punted"])
        self.assertGreater(after["counters"]["knet_routed"], before["counters"]["knet_routed"])
        self.assertEqual(after["knet"]["from_kernel_bad_offload"], 0)

    def kernel_routes(self):
        routes = json.loads(self.router.ctl("-j", "route", "show").stdout)
        return {r["prefix"]: r for r in routes if r["origin"] == "kernel"}

    def wait_routes(self, want, timeout=3.0):
        deadline = time.time() + timeout
        while True:
            routes = self.kernel_routes()
            if want(routes) or time.time() > deadline:
                return routes
            time.sleep(0.05)

    def test_a_learned_ipv6_route_forwards_and_its_withdrawal_stops_it(self):
        route = ("2001:db8:77::/48", "via", "2001:db8:2::2", "proto", "bird")
        sh("ip", "-n", self.topo.r, "-6", "route", "add", *route)
        routes = self.wait_routes(lambda r: "2001:db8:77::/48" in r)
        r = routes["2001:db8:77::/48"]
        self.assertEqual((r["type"], r["via"], r["port"], r["protocol"], r["installed"]),
                         ("forward", "2001:db8:2::2", "b", "bird", True))
        sh("ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "2001:db8:77::1", ns=self.topo.a)
        sh("ip", "-n", self.topo.r, "-6", "route", "del", *route)
        routes = self.wait_routes(lambda r: "2001:db8:77::/48" not in r)
        self.assertNotIn("2001:db8:77::/48", routes)
        r = sh("ping", "-6", "-c", "1", "-W", "1", "2001:db8:77::1", ns=self.topo.a, check=False)
        self.assertNotEqual(r.returncode, 0)

    def test_an_ipv6_route_via_a_link_local_gateway_is_listed_not_installed(self):
        sh("ip", "-n", self.topo.r, "-6", "route", "add", "2001:db8:78::/48", "via", "fe80::2",
           "dev", "knet0", "proto", "bird")
        try:
            routes = self.wait_routes(lambda r: "2001:db8:78::/48" in r)
            r = routes["2001:db8:78::/48"]
            self.assertEqual((r["via"], r["installed"], r["reason"]),
                             ("fe80::2", False,
                              "link-local gateway: the dataplane cannot tell which interface"))
        finally:
            sh("ip", "-n", self.topo.r, "-6", "route", "del", "2001:db8:78::/48")


RATE_CONFIG = BASE + """
knet:
  rate: 1
  burst: 5
  mirror: "off"
"""


class KnetRateLimitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.topo = knet_topology()
        cls.router = Router(cls.topo, RATE_CONFIG)

    @classmethod
    def tearDownClass(cls):
        rc = cls.router.stop()
        cls.topo.close()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"

    def test_a_flood_at_the_router_is_cut_to_the_rate_and_counted(self):
        before = self.router.stats()
        a_mac = self.topo.mac(self.topo.a, "eth0")
        start = time.time()
        with P.packet_socket(socket_in, self.topo.a, "eth0") as ps:
            for i in range(200):
                ps.send(P.ether(ROUTER_A_MAC, a_mac,
                                P.ip4_udp("198.18.1.2", "198.18.1.1", b"flood", dport=40000 + i)))
        elapsed = time.time() - start
        deadline = time.time() + 3
        while time.time() < deadline:
            after = self.router.stats()
            punted = after["counters"]["knet_punted"] - before["counters"]["knet_punted"]
            limited = after["drops"]["knet_rate_limited"] - before["drops"]["knet_rate_limited"]
            if punted + limited == 200:
                break
            time.sleep(0.05)
        self.assertEqual(punted + limited, 200)
        # Five from the burst, then one per second at most.
        self.assertGreaterEqual(punted, 5)
        self.assertLessEqual(punted, 5 + int(elapsed) + 1)
        # Forwarding went on meanwhile.
        sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.2.2", ns=self.topo.a)


class KnetLifecycleTest(unittest.TestCase):
    def setUp(self):
        self.topo = knet_topology()

    def tearDown(self):
        self.topo.close()

    def test_a_crash_leaves_no_device_and_a_restart_recreates_it(self):
        r = Router(self.topo, CONFIG)
        self.assertEqual(sh("ip", "-n", self.topo.r, "link", "show", "knet0",
                            check=False).returncode, 0)
        r.stop(sig=signal.SIGKILL)
        # The device lived as long as vrouterd's file descriptor.
        self.assertNotEqual(sh("ip", "-n", self.topo.r, "link", "show", "knet0",
                               check=False).returncode, 0)
        r = Router(self.topo, CONFIG)
        try:
            sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.1.2", ns=self.topo.r)
        finally:
            self.assertEqual(r.stop(), 0)

    def test_a_persistent_tap_of_that_name_is_reused_and_left_in_place(self):
        sh("ip", "-n", self.topo.r, "tuntap", "add", "knet0", "mode", "tap", "vnet_hdr")
        r = Router(self.topo, CONFIG)
        try:
            sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.2.2", ns=self.topo.r)
        finally:
            self.assertEqual(r.stop(), 0)
        # The operator made it persistent; it is theirs to remove, without our addresses.
        link = json.loads(sh("ip", "-j", "-n", self.topo.r, "addr", "show", "knet0").stdout)[0]
        self.assertEqual([a for a in link["addr_info"] if a["family"] == "inet"], [])

    def test_a_non_tap_interface_of_that_name_is_a_clear_error(self):
        sh("ip", "-n", self.topo.r, "link", "add", "knet0", "type", "bridge")
        with self.assertRaises(RuntimeError) as e:
            Router(self.topo, CONFIG)
        self.assertIn("cannot create TAP device knet0", str(e.exception))
        self.assertIn("is not a TAP device", str(e.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
