#!/usr/bin/python3
# Operating a running router: every vrouterctl command with good and bad input, config show/save
# round trips, a bad file that changes nothing, and 100 reloads under traffic without a loss.
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from topology import VROUTERD, Router, RouterTestCase, Topology, sh, socket_in  # noqa: E402

BASE = """
dataplane:
  workers: 1
  nbufs: 8191
control:
  socket: @SOCKET@
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    mac: 02:00:00:00:00:01
    addresses: [198.18.1.1/24]
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: 02:00:00:00:00:02
    addresses: [198.18.2.1/24]
routes:
  - prefix: 198.19.0.0/16
    via: 198.18.2.2
"""


class CommandsTest(RouterTestCase):
    CONFIG = BASE

    def test_route_add_get_del(self):
        self.ok("route", "add", "198.20.0.0/16", "via", "198.18.2.2")
        self.addCleanup(self.ctl, "route", "del", "198.20.0.0/16")
        self.assertIn("198.20.0.0/16 via 198.18.2.2 dev b", self.ok("route", "show"))
        self.assertIn("198.20.9.9 via 198.18.2.2 dev b", self.ok("route", "get", "198.20.9.9"))
        got = json.loads(self.ok("-j", "route", "get", "198.20.9.9"))
        self.assertEqual((got["prefix"], got["via"], got["port"]), ("198.20.0.0/16", "198.18.2.2", "b"))
        # Packets follow it at once: B answers from an address only the new route reaches.
        sh("ip", "-n", self.topo.b, "addr", "add", "198.20.0.1/32", "dev", "lo")
        sh("ping", "-c", "1", "-W", "2", "198.20.0.1", ns=self.topo.a)
        self.fails(1, "exists", "route", "add", "198.20.0.0/16", "via", "198.18.2.2")
        self.ok("route", "del", "198.20.0.0/16")
        self.assertNotIn("198.20.0.0/16", self.ok("route", "show"))
        r = sh("ping", "-c", "1", "-W", "1", "198.20.0.1", ns=self.topo.a, check=False)
        self.assertIn("Unreachable", r.stdout, "no route now: net unreachable from the router")
        self.fails(1, "no route 198.20.0.0/16", "route", "del", "198.20.0.0/16")

    def test_route_add_blackhole_and_unreachable(self):
        self.ok("route", "add", "blackhole", "198.21.0.0/24")
        self.ok("route", "add", "unreachable", "198.21.1.0/24")
        self.addCleanup(self.ctl, "route", "del", "198.21.0.0/24")
        self.addCleanup(self.ctl, "route", "del", "198.21.1.0/24")
        text = self.ok("route", "show")
        self.assertIn("blackhole 198.21.0.0/24", text)
        self.assertIn("unreachable 198.21.1.0/24", text)

    def test_route_bad_input(self):
        self.fails(1, "not inside any port's subnet", "route", "add", "198.20.0.0/16", "via",
                   "198.18.9.9")
        self.fails(1, "198.20.0.1/16", "route", "add", "198.20.0.1/16", "via", "198.18.2.2")
        self.fails(1, "300.1.1.1", "route", "add", "300.1.1.1/32", "via", "198.18.2.2")
        self.fails(2, "usage", "route", "add", "198.20.0.0/16")
        self.fails(2, "usage", "route", "frobnicate")
        self.fails(1, "no route to 198.30.0.1", "route", "get", "198.30.0.1")
        self.fails(1, "connected routes go with their address", "route", "del", "198.18.1.0/24")

    def test_addr_add_del(self):
        self.ok("addr", "add", "198.18.3.1/24", "dev", "b")
        self.assertIn("b inet 198.18.3.1/24", self.ok("addr", "show", "dev", "b"))
        sh("ping", "-c", "1", "-W", "2", "198.18.3.1", ns=self.topo.a)
        self.fails(1, "already on b", "addr", "add", "198.18.3.1/24", "dev", "b")
        self.fails(1, "overlap", "addr", "add", "198.18.3.9/24", "dev", "a")
        self.ok("addr", "del", "198.18.3.1/24", "dev", "b")
        self.assertNotIn("198.18.3.1", self.ok("addr", "show"))
        self.assertNotIn("198.18.3.0/24", self.ok("route", "show"))
        self.fails(1, "not on b", "addr", "del", "198.18.3.1/24", "dev", "b")
        self.fails(1, "no interface zz", "addr", "add", "198.18.4.1/24", "dev", "zz")
        self.fails(2, "usage", "addr", "add", "198.18.4.1/24")

    def test_link_show_and_mtu(self):
        links = json.loads(self.ok("-j", "link", "show"))
        self.assertEqual([l["name"] for l in links], ["a", "b"])
        self.ok("link", "set", "dev", "b", "mtu", "1400")
        self.addCleanup(self.ctl, "link", "set", "dev", "b", "mtu", "1500")
        self.assertIn("mtu 1400", self.ok("link", "show", "dev", "b"))
        # The new MTU is what the dataplane enforces: a 1450-byte DF packet gets frag-needed.
        r = sh("ping", "-c", "1", "-W", "1", "-M", "do", "-s", "1422", "198.18.2.2",
               ns=self.topo.a, check=False)
        self.assertIn("mtu = 1400", r.stdout + r.stderr)
        self.fails(1, "mtu", "link", "set", "dev", "b", "mtu", "9001")
        self.fails(1, "mtu", "link", "set", "dev", "b", "mtu", "big")
        self.fails(1, "no interface zz", "link", "set", "dev", "zz", "mtu", "1500")
        self.fails(2, "usage", "link", "set", "dev", "b", "sideways")

    def test_neigh_add_del(self):
        self.ok("neigh", "add", "198.18.2.77", "lladdr", "02:00:00:00:00:77")
        self.assertIn("198.18.2.77 dev b lladdr 02:00:00:00:00:77 PERMANENT",
                      self.ok("neigh", "show"))
        self.assertIn("198.18.2.77", self.ok("config", "show"))
        self.ok("neigh", "del", "198.18.2.77")
        self.assertNotIn("198.18.2.77", self.ok("neigh", "show"))
        self.fails(1, "no static neighbour", "neigh", "del", "198.18.2.77")
        self.fails(1, "not inside any port's subnet", "neigh", "add", "198.30.0.1", "lladdr",
                   "02:00:00:00:00:77")
        self.fails(1, "01:00:00:00:00:77", "neigh", "add", "198.18.2.78", "lladdr",
                   "01:00:00:00:00:77")

    def test_unknown_commands_are_usage_errors(self):
        self.fails(2, "unknown command", "frobnicate")
        self.fails(2, "usage", "config", "explode")
        self.fails(2, "unknown command", "stats", "-x")
        self.fails(2, "usage", "group", "show", "extra")
        self.fails(2, "usage", "reload", "now")
        self.assertIn("ip4_forwarded", self.ok("stats", "-s"))
        r = sh(VROUTERD.replace("vrouterd", "vrouterctl"), check=False)
        self.assertEqual(r.returncode, 2)

    def test_config_show_and_save_round_trip(self):
        self.ok("route", "add", "198.23.0.0/16", "via", "198.18.2.2")
        self.addCleanup(self.ctl, "route", "del", "198.23.0.0/16")
        shown = self.ok("config", "show")
        self.assertIn("198.23.0.0/16", shown)
        path = os.path.join(self.router.dir, "saved.yaml")
        self.ok("config", "save", path)
        with open(path) as f:
            self.assertEqual(f.read(), shown)
        r = subprocess.run([VROUTERD, "--config", path, "--check"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Loaded back, the saved file is the same state: reloading it changes nothing at all.
        os.replace(path, self.router.config)
        self.ok("reload")
        self.assertEqual(self.ok("config", "show"), shown)
        self.assertIn("configuration applied: 0 changes", self.router.log())
        self.fails(1, "cannot write", "config", "save", "/nonexistent/dir/x.yaml")

    def test_batch_names_the_failing_line(self):
        path = os.path.join(self.router.dir, "batch.txt")
        with open(path, "w") as f:
            f.write("# two routes, then a mistake\nroute add 198.24.0.0/16 via 198.18.2.2\n\n"
                    "route add 198.25.0.0/16 via 198.18.2.2\nroute add 198.26.0.0/16 via 1.2.3.4\n"
                    "route add 198.27.0.0/16 via 198.18.2.2\n")
        self.addCleanup(self.ctl, "route", "del", "198.24.0.0/16")
        self.addCleanup(self.ctl, "route", "del", "198.25.0.0/16")
        r = self.ctl("-batch", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{path}:5: ", r.stderr)
        routes = self.ok("route", "show")
        self.assertIn("198.25.0.0/16", routes)
        self.assertNotIn("198.27.0.0/16", routes, "stops at the first error")


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.topo = Topology()
        self.addCleanup(self.topo.close)
        self.router = Router(self.topo, BASE)
        self.addCleanup(self.router.stop)

    def write(self, text):
        with open(self.router.config + ".new", "w") as f:
            f.write(text.replace("@SOCKET@", self.router.sock))
        os.replace(self.router.config + ".new", self.router.config)

    def test_bad_file_changes_nothing(self):
        before = self.router.ctl("config", "show").stdout
        self.write(BASE + "  - prefix: 198.30.0.0/16\n    via: 198.18.2.2\n  - prefix: bogus\n")
        r = self.router.ctl("reload", check=False)
        self.assertEqual(r.returncode, 1)
        lines = (BASE + "  - prefix: 198.30.0.0/16\n    via: 198.18.2.2\n  - prefix: bogus\n")
        line = lines.splitlines().index("  - prefix: bogus") + 1
        self.assertIn(f"{self.router.config}:{line}:13: ", r.stderr)
        self.assertEqual(self.router.ctl("config", "show").stdout, before)
        # A change that needs a restart is refused whole, naming what.
        self.write(BASE.replace("workers: 1", "workers: 2") + "  - prefix: 198.30.0.0/16\n"
                   "    via: 198.18.2.2\n")
        r = self.router.ctl("reload", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("dataplane (workers, nbufs) changes only with a restart", r.stderr)
        self.assertEqual(self.router.ctl("config", "show").stdout, before)

    def test_port_that_cannot_attach_changes_nothing(self):
        before = self.router.ctl("config", "show").stdout
        self.write(BASE.replace("routes:\n", "  - name: c\n    device: net_af_packet2,iface=vrt-nosuch\n"
                                "    addresses: [198.18.4.1/24]\nroutes:\n") +
                   "  - prefix: 198.30.0.0/16\n    via: 198.18.2.2\n")
        r = self.router.ctl("reload", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("port c: cannot attach device net_af_packet2,iface=vrt-nosuch", r.stderr)
        self.assertEqual(self.router.ctl("config", "show").stdout, before)
        self.assertNotIn("198.30.0.0/16", self.router.ctl("route", "show").stdout)
        sh("ping", "-c", "1", "-W", "2", "198.18.2.2", ns=self.topo.a)
        # The failed attempt left nothing behind: once the interface exists, the same device
        # name attaches.
        sh("ip", "link", "add", "vrt-nosuch", "netns", self.topo.r, "type", "veth", "peer",
           "name", "eth1", "netns", self.topo.b)
        self.assertEqual(self.router.ctl("reload", check=False).returncode, 0,
                         self.router.log())
        self.assertIn("c: ", self.router.ctl("link", "show", "dev", "c").stdout)

    def test_sighup_reloads(self):
        self.write(BASE + "  - prefix: 198.31.0.0/16\n    via: 198.18.2.2\n")
        self.router.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        while "198.31.0.0/16" not in self.router.ctl("route", "show").stdout:
            self.assertLess(time.time(), deadline, self.router.log())
            time.sleep(0.1)
        self.assertIn("SIGHUP: reloaded", self.router.log())

    def test_hundred_reloads_under_traffic_lose_nothing(self):
        # Traffic A -> B on the unchanged connected route and the unchanged static route, while
        # reloads add and remove other routes, a static neighbour, an address and a whole port
        # (c, on a third veth pair into host B's namespace).
        sh("ip", "link", "add", "vr-c", "netns", self.topo.r, "type", "veth", "peer", "name",
           "eth1", "netns", self.topo.b)
        for ns, dev in ((self.topo.r, "vr-c"), (self.topo.b, "eth1")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off", ns=ns)
        sh("ip", "-n", self.topo.b, "addr", "add", "198.18.4.2/24", "dev", "eth1")
        port_c = ("  - name: c\n    device: net_af_packet2,iface=vr-c\n"
                  "    addresses: [198.18.4.1/24]\n")
        extra = BASE.replace(
            "    addresses: [198.18.2.1/24]",
            "    addresses: [198.18.2.1/24, 198.18.3.1/24]\n" + port_c.rstrip("\n")) + "".join(
            f"  - prefix: 198.{32 + i // 256}.{i % 256}.0/24\n    via: 198.18.2.2\n"
            for i in range(50)) + "  - prefix: 198.18.200.0/24\n    type: blackhole\n" + \
            "neighbours:\n  - ip: 198.18.3.9\n    mac: 02:00:00:00:03:09\n"
        sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.2.2", ns=self.topo.a)
        # As on an appliance, everything but the worker stays off the worker's core (CPU 0 here;
        # CPU 1, where vrouterd runs lcore 1): the test's threads, vrouterctl and the hosts' kernel
        # work. Otherwise the polling worker is preempted and its RX ring overflows in the kernel,
        # which says nothing about reloads.
        cpus = os.sched_getaffinity(0)
        if len(cpus) > 1:
            os.sched_setaffinity(0, {min(cpus)})
            self.addCleanup(os.sched_setaffinity, 0, cpus)
        rx = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_DGRAM)
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        rx.bind(("0.0.0.0", 9999))
        rx.settimeout(0.5)
        tx = socket_in(self.topo.a, socket.AF_INET, socket.SOCK_DGRAM)
        received = [0]
        stop = threading.Event()

        def receive():
            while True:
                try:
                    rx.recv(2048)
                    received[0] += 1
                except socket.timeout:
                    if stop.is_set():
                        return

        sent = [0]

        def send():
            # Two destinations: one on the connected subnet, one behind the static route.
            dsts = [("198.18.2.2", 9999), ("198.19.0.1", 9999)]
            while not stop.is_set():
                for _ in range(20):
                    tx.sendto(b"x" * 64, dsts[sent[0] % 2])
                    sent[0] += 1
                time.sleep(0.002)

        sh("ip", "-n", self.topo.b, "addr", "add", "198.19.0.1/32", "dev", "lo", check=False)
        t_rx = threading.Thread(target=receive)
        t_tx = threading.Thread(target=send)
        t_rx.start()
        t_tx.start()
        before = self.router.flat()
        reloads = 0
        try:
            for i in range(100):
                self.write(extra if i % 2 == 0 else BASE)
                r = self.router.ctl("reload", check=False)
                self.assertEqual(r.returncode, 0, r.stderr)
                reloads += 1
        finally:
            stop.set()
            t_tx.join()
            time.sleep(0.5)  # the last packets in flight
            t_rx.join()
        after = self.router.flat()
        d = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        drops = {k: v for k, v in d.items() if k in self.router.stats()["drops"]}
        print(f"\nreload under traffic: {reloads} reloads, {sent[0]} packets sent, "
              f"{received[0]} received, {sent[0] - received[0]} lost; router drops {drops}; "
              f"port a rx {d.get('a.rx_packets')}, port b tx {d.get('b.tx_packets')}",
              file=sys.stderr)
        self.assertEqual(reloads, 100)
        self.assertEqual(self.router.log().count("port c (net_af_packet2,iface=vr-c): added"), 50)
        self.assertEqual(self.router.log().count("port c (net_af_packet2,iface=vr-c): removed"), 50)
        self.assertGreater(sent[0], 1000)
        self.assertEqual(received[0], sent[0], f"lost {sent[0] - received[0]}; drops {drops}")
        # Frames addressed to another MAC (l2_other_host) are not the test's traffic, which is
        # all accounted for above; any other drop would be the router losing a packet.
        self.assertEqual({k: v for k, v in drops.items() if k != "l2_other_host"}, {})
        rx.close()
        tx.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
