#!/usr/bin/python3
# After start-up vrouterd keeps only CAP_NET_ADMIN and CAP_NET_RAW, on every thread (EAL's,
# the worker's, the metrics server's), with the bounding set to match and no_new_privs set; and
# that is enough for what it still does: a port added by reload, knet0's addresses and routes
# changed by vrouterctl, kernel routes mirrored, metrics served, a clean stop.
import glob
import grp
import json
import os
import pwd
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from topology import Router, Topology, sh  # noqa: E402

CAP_NET_ADMIN, CAP_NET_RAW = 12, 13
KEPT = (1 << CAP_NET_ADMIN) | (1 << CAP_NET_RAW)

CONFIG = """
dataplane:
  workers: 1
  nbufs: 4095
control:
  socket: @SOCKET@
metrics:
  listen: 127.0.0.1:9420
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    mac: 02:00:00:00:00:01
    addresses: [198.18.1.1/24]
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: 02:00:00:00:00:02
    addresses: [198.18.2.1/24]
knet:
  name: knet0
"""

PORT_C = """  - name: c
    device: net_af_packet2,iface=vr-c
    mac: 02:00:00:00:00:03
    addresses: [198.18.3.1/24]
  - name: d
    device: net_tap0,iface=vrt-tap0
    addresses: [198.18.4.1/24]
"""


def threads(pid):
    """{tid: (name, {status field: value})} of every thread of `pid`."""
    out = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(task + "/comm") as f:
                name = f.read().strip()
            with open(task + "/status") as f:
                fields = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except FileNotFoundError:
            continue  # gone meanwhile
        out[int(os.path.basename(task))] = (name, {k: v.strip() for k, v in fields.items()})
    return out


class PrivilegesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.topo = Topology()
        # The ports' veths stay visible to the router namespace's kernel, which would answer
        # ARP for knet0's addresses on them (as in test_knet.py).
        for dev in ("vr-a", "vr-b"):
            sh("ip", "-n", cls.topo.r, "link", "set", dev, "arp", "off")
        # A third port for reload to add: vr-c in the router's namespace, eth1 in host B's.
        sh("ip", "link", "add", "vr-c", "netns", cls.topo.r, "type", "veth", "peer", "name",
           "eth1", "netns", cls.topo.b)
        for ns, dev in ((cls.topo.r, "vr-c"), (cls.topo.b, "eth1")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off", ns=ns)
        sh("ip", "-n", cls.topo.r, "link", "set", "vr-c", "arp", "off")
        sh("ip", "-n", cls.topo.b, "addr", "add", "198.18.3.2/24", "dev", "eth1")
        cls.router = Router(cls.topo, CONFIG)

    @classmethod
    def tearDownClass(cls):
        rc = cls.router.stop()
        cls.topo.close()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"

    def ok(self, *args):
        r = self.router.ctl(*args, check=False)
        self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
        return r.stdout

    def reload(self, text):
        with open(self.router.config, "w") as f:
            f.write(text.replace("@SOCKET@", self.router.sock))
        self.ok("reload")

    def knet0(self, *what):
        return json.loads(sh("ip", "-j", "-n", self.topo.r, *what).stdout)

    def test_every_thread_keeps_only_net_admin_and_net_raw(self):
        ts = threads(self.router.proc.pid)
        names = sorted(name for name, _ in ts.values())
        # Control (vrouterd), EAL's interrupt thread, the worker lcore, the metrics server.
        for want in ("vrouterd", "eal-intr-thread", "rte-worker-1", "civetweb-master"):
            self.assertIn(want, names)
        for tid, (name, st) in ts.items():
            where = f"thread {tid} ({name})"
            for field in ("CapEff", "CapPrm", "CapBnd"):
                self.assertEqual(int(st[field], 16), KEPT, f"{where} {field} {st[field]}")
            self.assertEqual(int(st["CapInh"], 16), 0, where)
            self.assertEqual(int(st["CapAmb"], 16), 0, where)
            self.assertEqual(st["NoNewPrivs"], "1", where)
        self.assertIn("capabilities: kept CAP_NET_ADMIN,CAP_NET_RAW", self.router.log())
        # Every thread still does its job after the signal that reduced it.
        self.assertIn("vrouter_", sh("curl", "-sf", "http://127.0.0.1:9420/metrics",
                                     ns=self.topo.r).stdout)
        sh("ping", "-c", "1", "-W", "2", "198.18.2.2", ns=self.topo.a)

    def test_reload_adds_and_removes_an_af_packet_port(self):
        # An af_packet socket (CAP_NET_RAW) in promiscuous mode (CAP_NET_ADMIN), a TAP device
        # made by net_tap, and the ports' addresses on knet0 (CAP_NET_ADMIN, netlink).
        self.reload(CONFIG.replace("knet:", PORT_C + "knet:"))
        self.assertIn("port c (net_af_packet2,iface=vr-c): added", self.router.log())
        self.assertIn("port d (net_tap0,iface=vrt-tap0): added", self.router.log())
        self.assertEqual({"a", "b", "c", "d"}, {p["name"] for p in self.router.stats()["ports"]})
        # net_tap made its TAP device in the router's kernel (CAP_NET_ADMIN).
        sh("ip", "-n", self.topo.r, "link", "show", "vrt-tap0")
        sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.3.1", ns=self.topo.b)
        addrs = [a["local"] for a in self.knet0("addr", "show", "knet0")[0]["addr_info"]]
        self.assertIn("198.18.3.1", addrs)
        self.reload(CONFIG)
        self.assertIn("port c (net_af_packet2,iface=vr-c): removed", self.router.log())
        self.assertIn("port d (net_tap0,iface=vrt-tap0): removed", self.router.log())
        addrs = [a["local"] for a in self.knet0("addr", "show", "knet0")[0]["addr_info"]]
        self.assertNotIn("198.18.3.1", addrs)

    def test_vrouterctl_changes_knet0(self):
        # A route (proto 250) and an IPv6 address given to knet0 by netlink, IPv6 enabled on it
        # through its sysctl; both taken back.
        self.ok("route", "add", "198.20.0.0/16", "via", "198.18.2.2")
        self.ok("addr", "add", "2001:db8:5::1/64", "dev", "a")
        routes = [r["dst"] for r in self.knet0("route", "show", "proto", "250")]
        self.assertIn("198.20.0.0/16", routes)
        addrs = [a["local"] for a in self.knet0("-6", "addr", "show", "knet0")[0]["addr_info"]]
        self.assertIn("2001:db8:5::1", addrs)
        self.ok("route", "del", "198.20.0.0/16")
        self.ok("addr", "del", "2001:db8:5::1/64", "dev", "a")
        routes = [r["dst"] for r in self.knet0("route", "show", "proto", "250")]
        self.assertNotIn("198.20.0.0/16", routes)

    def test_a_config_only_another_user_may_read_is_refused(self):
        # CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH are gone: root reads what root may read.
        os.chown(self.router.config, 65534, 65534)
        os.chmod(self.router.config, 0o600)
        try:
            r = self.router.ctl("reload", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(f"{self.router.config}: cannot open", r.stderr)
            self.assertIn("ermission denied", r.stderr)
        finally:
            os.chown(self.router.config, 0, 0)
        self.ok("reload")

    def test_kernel_routes_are_mirrored(self):
        sh("ip", "-n", self.topo.r, "route", "add", "198.21.0.0/16", "via", "198.18.2.2",
           "proto", "bird")
        try:
            deadline = time.time() + 3
            while True:
                routes = {r["prefix"]: r for r in json.loads(self.ok("-j", "route", "show"))}
                if "198.21.0.0/16" in routes or time.time() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(routes["198.21.0.0/16"]["origin"], "kernel")
            self.assertTrue(routes["198.21.0.0/16"]["installed"])
        finally:
            sh("ip", "-n", self.topo.r, "route", "del", "198.21.0.0/16", "proto", "bird")


SMALL = CONFIG.replace("knet:\n  name: knet0\n", "").replace("127.0.0.1:9420", '"off"')


class OtherModesTest(unittest.TestCase):
    """Without hugepages (EAL adds its multi-process thread), not root, and --keep_capabilities."""

    def setUp(self):
        self.topo = Topology()
        self.addCleanup(self.topo.close)

    def start(self, *args, **kw):
        router = Router(self.topo, SMALL, extra_args=args, **kw)
        self.addCleanup(lambda: self.assertEqual(router.stop(), 0, router.log()))
        return router

    def test_no_huge_reduces_the_multi_process_thread_too(self):
        router = self.start("--no_huge")
        ts = threads(router.proc.pid)
        self.assertIn("rte_mp_handle", [name for name, _ in ts.values()])
        for tid, (name, st) in ts.items():
            for field in ("CapEff", "CapPrm", "CapBnd"):
                self.assertEqual(int(st[field], 16), KEPT, f"{tid} ({name}) {field}")
        sh("ping", "-c", "1", "-W", "2", "198.18.2.2", ns=self.topo.a)
        router.ctl("stats")  # the control socket still answers

    def test_not_root_there_is_nothing_to_drop(self):
        # As user nobody given only the two capabilities it keeps (ambient, so they survive
        # the exec): nothing to drop is no error, and the ambient set is still emptied.
        nogroup = "nogroup" if "nogroup" in {g.gr_name for g in grp.getgrall()} else "nobody"
        nobody = pwd.getpwnam("nobody").pw_uid
        run_dir = tempfile.mkdtemp(prefix="vrt-run-")  # EAL's runtime directory, as non-root
        self.addCleanup(shutil.rmtree, run_dir, True)
        os.chown(run_dir, nobody, -1)
        wrapper = ("setpriv", "--reuid=nobody", f"--regid={nogroup}", "--clear-groups",
                   "--inh-caps=+net_admin,+net_raw", "--ambient-caps=+net_admin,+net_raw",
                   "env", f"XDG_RUNTIME_DIR={run_dir}")
        router = self.start("--no_huge", wrapper=wrapper, owner=nobody)
        for tid, (name, st) in threads(router.proc.pid).items():
            self.assertEqual(st["Uid"].split()[0], str(nobody))
            self.assertEqual(int(st["CapEff"], 16), KEPT, f"{tid} ({name})")
            self.assertEqual(int(st["CapAmb"], 16), 0, f"{tid} ({name})")
            self.assertEqual(st["NoNewPrivs"], "1", f"{tid} ({name})")
        self.assertIn("capabilities: none to drop (not running as root)", router.log())
        sh("ping", "-c", "1", "-W", "2", "198.18.2.2", ns=self.topo.a)

    def test_keep_capabilities_keeps_everything(self):
        router = self.start("--keep_capabilities")
        with open("/proc/self/status") as f:
            mine = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        for tid, (name, st) in threads(router.proc.pid).items():
            self.assertEqual(st["CapEff"], mine["CapEff"].strip(), f"{tid} ({name})")
            self.assertEqual(st["NoNewPrivs"], "0", f"{tid} ({name})")
        self.assertIn("capabilities: all kept (--keep_capabilities)", router.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
