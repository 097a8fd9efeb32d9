#!/usr/bin/python3
# vrouterd's life as an operator sees it: a bad config is refused before any port is touched,
# SIGTERM and SIGINT stop it cleanly with nothing left in hugetlbfs, and two instances coexist.
import glob
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from topology import SRC, VROUTERD, Router, Topology, sh  # noqa: E402

CONFIG = """
dataplane:
  workers: 1
  nbufs: 4095
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
"""


def hugepage_files():
    return set(glob.glob("/dev/hugepages/*"))


class ConfigErrorTest(unittest.TestCase):
    def run_config(self, text):
        d = tempfile.mkdtemp(prefix="vrt-cfg-")
        path = os.path.join(d, "bad.yaml")
        with open(path, "w") as f:
            f.write(text.replace("@SOCKET@", os.path.join(d, "control.sock")))
        r = subprocess.run([VROUTERD, "--config", path], capture_output=True, text=True,
                           timeout=30)
        return path, d, r

    def test_bad_value_names_file_line_column_and_touches_nothing(self):
        text = CONFIG.replace("    addresses: [198.18.2.1/24]",
                              "    mtu: 9001\n    addresses: [198.18.2.1/24]")
        path, d, r = self.run_config(text)
        self.assertNotEqual(r.returncode, 0)
        line = text.splitlines().index("    mtu: 9001") + 1
        self.assertIn(f"{path}:{line}:10: mtu: expected an integer between 68 and 9000, got '9001'",
                      r.stderr)
        self.assertNotIn("forwarding", r.stdout + r.stderr)
        self.assertNotIn("EAL", r.stdout + r.stderr, "DPDK must not start on a bad config")
        self.assertFalse(os.path.exists(os.path.join(d, "control.sock")))

    def test_yaml_syntax_error(self):
        path, _, r = self.run_config(CONFIG.replace("  workers: 1", "  workers: [1"))
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, rf"{path}:\d+:\d+: ")

    def test_unknown_key(self):
        path, _, r = self.run_config(CONFIG.replace("  workers: 1", "  wrokers: 1"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"{path}:3:3:", r.stderr)
        self.assertIn("wrokers", r.stderr)

    def test_missing_file(self):
        r = subprocess.run([VROUTERD, "--config", "/nonexistent/vrouter.yaml"],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/nonexistent/vrouter.yaml", r.stderr)

    def test_check_accepts_the_demo_config(self):
        demo = os.path.join(SRC, "config/examples/demo.yaml")
        r = subprocess.run([VROUTERD, "--config", demo, "--check"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ok", r.stdout)


class StartStopTest(unittest.TestCase):
    def setUp(self):
        self.topo = Topology()
        self.addCleanup(self.topo.close)

    def start(self, topo=None, config=CONFIG):
        router = Router(topo or self.topo, config)
        self.addCleanup(router.stop)
        return router

    def check_clean_stop(self, sig):
        files_before = hugepage_files()
        router = self.start()
        sh("ping", "-c", "1", "-W", "2", "198.18.1.1", ns=self.topo.a)
        self.assertEqual(hugepage_files(), files_before, "--in-memory leaves no files")
        rc = router.stop(sig)
        self.assertEqual(rc, 0, router.log())
        self.assertEqual(hugepage_files(), files_before)
        self.assertFalse(os.path.exists(router.sock), "the control socket is removed")
        # The veths are the kernel's again: nothing of the router is left on them.
        r = sh("ping", "-c", "1", "-W", "1", "198.18.1.1", ns=self.topo.a, check=False)
        self.assertNotEqual(r.returncode, 0)

    def test_sigterm_stops_cleanly(self):
        self.check_clean_stop(signal.SIGTERM)

    def test_sigint_stops_cleanly(self):
        self.check_clean_stop(signal.SIGINT)

    def test_no_free_hugepages_falls_back_to_no_huge(self):
        # A private mount namespace where sysfs says no 2 MB page is free: the machine's real
        # hugepages stay untouched, and vrouterd must run anyway, warning why it is slower.
        zero = os.path.join(tempfile.mkdtemp(prefix="vrt-huge-"), "free_hugepages")
        with open(zero, "w") as f:
            f.write("0\n")
        free = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
        wrapper = ["unshare", "-m", "sh", "-c", f'mount --bind {zero} {free} && exec "$0" "$@"']
        router = Router(self.topo, CONFIG, wrapper=wrapper)
        self.addCleanup(router.stop)
        self.assertIn("only 0 free 2 MB hugepages", router.log())
        self.assertIn("running with --no-huge", router.log())
        self.assertIn("(no hugepages)", router.log())
        sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.1.1", ns=self.topo.a)
        runtime = f"/var/run/dpdk/vrouterd-{router.proc.pid}"
        self.assertTrue(os.path.isdir(runtime), "EAL's per-process runtime directory")
        self.assertEqual(router.stop(), 0, router.log())
        self.assertFalse(os.path.exists(runtime), "removed at stop")

    def test_link_state_follows_the_device(self):
        # af_packet in DPDK 22.11 reports its link up for ever; a TAP port reports the truth.
        router = self.start(config=CONFIG + """  - name: c
    device: net_tap0,iface=vrt-c
    addresses: [198.18.3.1/24]
""")

        def link_c():
            return next(p["link_up"] for p in router.stats()["ports"] if p["name"] == "c")

        def wait_link(want):
            deadline = time.time() + 5
            while link_c() != want and time.time() < deadline:
                time.sleep(0.1)
            return link_c()

        self.assertTrue(wait_link(True))
        sh("ip", "-n", self.topo.r, "link", "set", "vrt-c", "down")
        self.assertFalse(wait_link(False))
        self.assertIn("port c (net_tap0,iface=vrt-c): Link down", router.log())
        sh("ip", "-n", self.topo.r, "link", "set", "vrt-c", "up")
        self.assertTrue(wait_link(True))

    def test_two_instances_do_not_collide(self):
        other = Topology()
        self.addCleanup(other.close)
        first = self.start()
        second = self.start(other)
        for topo in (self.topo, other):
            sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.1.1", ns=topo.a)
        self.assertEqual(first.stats()["counters"]["icmp_echo_replies"], 2)
        self.assertEqual(second.stats()["counters"]["icmp_echo_replies"], 2)
        self.assertEqual(first.stop(), 0, first.log())
        # The second keeps running when the first has gone.
        sh("ping", "-c", "1", "-W", "2", "198.18.1.1", ns=other.a)
        self.assertEqual(second.stop(), 0, second.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
