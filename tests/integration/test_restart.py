#!/usr/bin/python3
# Restart after a crash: vrouterd killed with SIGKILL and started again on the same config comes
# back to the same forwarding state (config and kernel routes) within seconds, nothing in its way.
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from topology import VROUTERD, VROUTERCTL, Topology, sh  # noqa: E402

KERNEL_DST = "198.18.100.1"  # on B, reached by a route only the router's kernel has
CONFIG_DST = "198.19.0.1"    # on B, reached by the config's route

CONFIG = """
dataplane:
  workers: 1
  nbufs: 8191
control:
  socket: {sock}
metrics:
  listen: 127.0.0.1:9421
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
knet:
  name: knet0
"""


def hugepage_files():
    return set(os.listdir("/dev/hugepages")) if os.path.isdir("/dev/hugepages") else set()


class RestartTest(unittest.TestCase):
    def setUp(self):
        self.topo = Topology()
        for dev in ("vr-a", "vr-b"):
            sh("ip", "-n", self.topo.r, "link", "set", dev, "arp", "off")
        sh("ip", "-n", self.topo.b, "addr", "add", f"{KERNEL_DST}/32", "dev", "lo")
        self.dir = tempfile.mkdtemp(prefix="vrt-restart-")
        self.sock = os.path.join(self.dir, "control.sock")
        self.config = os.path.join(self.dir, "vrouter.yaml")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(sock=self.sock))
        self.proc = None
        self.logs = []

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.topo.close()

    def start(self):
        """Starts vrouterd; returns once it is running (not yet waiting for forwarding)."""
        log = open(os.path.join(self.dir, f"vrouterd.{len(self.logs)}.log"), "w")
        self.logs.append(log.name)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.topo.r, VROUTERD, "--config", self.config],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def log(self):
        with open(self.logs[-1]) as f:
            return f.read()

    def reaches(self, dst):
        return sh("ping", "-c", "1", "-W", "0.3", dst, ns=self.topo.a,
                  check=False).returncode == 0

    def wait_forwarding(self, timeout):
        """Seconds until A reaches both destinations; fails after `timeout`."""
        t0 = time.monotonic()
        pending = {KERNEL_DST, CONFIG_DST}
        while pending:
            self.assertIsNone(self.proc.poll(), "vrouterd exited:\n" + self.log())
            self.assertLess(time.monotonic() - t0, timeout,
                            f"{sorted(pending)} unreachable:\n" + self.log())
            pending = {d for d in pending if not self.reaches(d)}
        return time.monotonic() - t0

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def test_sigkill_then_restart_forwards_config_and_kernel_routes_again(self):
        # knet0 made persistent by the operator: it outlives vrouterd, and so do the kernel's
        # routes over it (a routing daemon would otherwise have to put them back).
        sh("ip", "-n", self.topo.r, "tuntap", "add", "knet0", "mode", "tap", "vnet_hdr")
        before = hugepage_files()
        self.start()
        deadline = time.monotonic() + 30
        while "forwarding:" not in self.log():
            self.assertIsNone(self.proc.poll(), self.log())
            self.assertLess(time.monotonic(), deadline, self.log())
            time.sleep(0.05)
        sh("ip", "-n", self.topo.r, "route", "add", "198.18.100.0/24", "via", "198.18.2.2",
           "dev", "knet0", "proto", "static")
        self.wait_forwarding(10)

        self.kill()
        self.assertEqual(hugepage_files(), before, "hugepage files left behind")
        self.assertTrue(os.path.exists(self.sock), "the dead router's socket stays on disk")
        routes = sh("ip", "-n", self.topo.r, "route", "show", "198.18.100.0/24").stdout
        self.assertIn("via 198.18.2.2", routes)
        self.assertFalse(self.reaches(CONFIG_DST), "nothing forwards while vrouterd is down")

        t0 = time.monotonic()
        self.start()
        # From exec to both destinations answering A again: the FIB has the config and the
        # mirrored kernel route, ARP is resolved anew.
        elapsed = time.monotonic() - t0 + self.wait_forwarding(10)
        sys.stderr.write(f"\nrestart: SIGKILL, then exec to forwarding again: {elapsed:.2f} s\n")
        self.assertLess(elapsed, 5.0)
        # The same control socket path and metrics port were free for the new process.
        self.assertIn('"origin":"kernel"', sh(VROUTERCTL, "-s", self.sock, "-j", "route",
                                             "show").stdout.replace(" ", ""))
        metrics = sh("curl", "-sf", "http://127.0.0.1:9421/metrics", ns=self.topo.r).stdout
        self.assertIn("vrouter_build_info", metrics)

        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(20), 0, self.log())
        self.assertEqual(hugepage_files(), before)
        self.assertFalse(os.path.exists(self.sock), "a clean stop removes its socket")

    def test_sigkill_without_a_persistent_knet_comes_back_without_leftovers(self):
        before = hugepage_files()
        self.start()
        self.wait_config_only(30)
        self.kill()
        self.assertNotEqual(sh("ip", "-n", self.topo.r, "link", "show", "knet0",
                               check=False).returncode, 0, "knet0 died with its descriptor")
        t0 = time.monotonic()
        self.start()
        self.wait_config_only(10)
        sys.stderr.write(f"\nrestart without persistent knet0: {time.monotonic() - t0:.2f} s\n")
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertEqual(sh("ip", "-n", self.topo.r, "link", "show", "knet0",
                            check=False).returncode, 0, "knet0 made again")
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(20), 0, self.log())
        self.assertEqual(hugepage_files(), before)

    def wait_config_only(self, timeout):
        t0 = time.monotonic()
        while not self.reaches(CONFIG_DST):
            self.assertIsNone(self.proc.poll(), "vrouterd exited:\n" + self.log())
            self.assertLess(time.monotonic() - t0, timeout, self.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
