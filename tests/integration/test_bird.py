#!/usr/bin/python3
# BIRD on the router's kernel side peers over BGP, through the dataplane, with a BIRD on host B.
# The prefixes B announces reach the router's kernel, are mirrored into vrouterd's FIB and
# forward host A's traffic; a withdrawal at B takes them out again.
import atexit
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_knet import MIRROR_CONFIG, knet_topology  # noqa: E402
from topology import Router, sh  # noqa: E402

BIRD = "/usr/sbin/bird"
BIRDC = "/usr/sbin/birdc"

# Short timers, so that the session comes up in a second or two rather than after BIRD's
# default 5 s connect delay, and a lost peer is noticed quickly.
TIMERS = """
  hold time 6;
  keepalive time 2;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
"""

ROUTER_BIRD = """
log "@DIR@/bird.log" all;
router id 198.18.2.1;
protocol device {}
# Learn nothing from the kernel; install what BGP learns (as `proto bird`).
protocol kernel {
  ipv4 { import none; export all; };
}
protocol bgp b {
  local 198.18.2.1 as 65001;
  neighbor 198.18.2.2 as 65002;
@TIMERS@
  ipv4 { import all; export none; };
}
"""

PEER_BIRD = """
log "@DIR@/bird.log" all;
router id 198.18.2.2;
protocol device {}
# The prefixes live on B's loopback (one address each); BIRD only announces them.
protocol static announced {
  ipv4;
@ROUTES@
}
protocol bgp r {
  local 198.18.2.2 as 65002;
  neighbor 198.18.2.1 as 65001;
@TIMERS@
  ipv4 { import none; export where source = RTS_STATIC; };
}
"""

PREFIXES = ["198.18.100.0/24", "198.18.101.0/24", "198.18.102.0/24"]
WITHDRAWN = "198.18.101.0/24"


def host1(prefix):
    """The first address of a /24: B holds it on its loopback."""
    return prefix.split("/")[0].rsplit(".", 1)[0] + ".1"


def wait_for(get, want, timeout):
    """Polls get() until want(value) holds or the timeout passes; returns the last value."""
    deadline = time.time() + timeout
    while True:
        value = get()
        if want(value) or time.time() > deadline:
            return value
        time.sleep(0.1)


class Bird:
    """A BIRD daemon in the foreground inside namespace `ns`, with its own config, control
    socket, pid file and log in a temporary directory."""

    def __init__(self, ns, config):
        self.ns = ns
        self.dir = tempfile.mkdtemp(prefix="vrt-bird-")
        self.conf = os.path.join(self.dir, "bird.conf")
        self.sock = os.path.join(self.dir, "bird.ctl")
        self.write_config(config)
        self._out = open(os.path.join(self.dir, "bird.out"), "w")
        # `ip netns exec` execs bird in place: the Popen's pid is BIRD's own.
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, BIRD, "-f", "-c", self.conf, "-s", self.sock,
             "-P", os.path.join(self.dir, "bird.pid")],
            stdout=self._out, stderr=subprocess.STDOUT)
        atexit.register(self.stop)
        deadline = time.time() + 10
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"bird did not start in {ns}:\n{self.log()}")
            time.sleep(0.05)

    def write_config(self, config):
        with open(self.conf, "w") as f:
            f.write(config.replace("@DIR@", self.dir).replace("@TIMERS@", TIMERS))

    def ctl(self, *args):
        r = subprocess.run([BIRDC, "-s", self.sock, *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"birdc {' '.join(args)}: {r.stdout} {r.stderr}")
        return r.stdout

    def log(self):
        text = ""
        for name in ("bird.out", "bird.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path) as f:
                    text += f"--- {path}\n" + f.read()
        return text

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._out.close()


def peer_config(prefixes):
    routes = "\n".join(f'  route {p} via "lo";' for p in prefixes)
    return PEER_BIRD.replace("@ROUTES@", routes)


class BirdBgpTest(unittest.TestCase):
    """One story, told in order: session up, routes learned and used, one withdrawn, and the
    kernel and the FIB agreeing at the end."""

    @classmethod
    def setUpClass(cls):
        cls.topo = knet_topology()
        cls.birds = []
        cls.router = None
        try:
            for p in PREFIXES:
                sh("ip", "-n", cls.topo.b, "addr", "add", host1(p) + "/32", "dev", "lo")
            cls.router = Router(cls.topo, MIRROR_CONFIG)
            cls.start = cls.router.stats()
            cls.peer = Bird(cls.topo.b, peer_config(PREFIXES))
            cls.birds.append(cls.peer)
            cls.rbird = Bird(cls.topo.r, ROUTER_BIRD)
            cls.birds.append(cls.rbird)
        except Exception:
            cls._teardown()
            raise

    @classmethod
    def _teardown(cls):
        # BIRDs first: the router-side one removes its kernel routes on the way out.
        for b in reversed(cls.birds):
            b.stop()
        rc = cls.router.stop() if cls.router else 0
        cls.topo.close()
        return rc

    @classmethod
    def tearDownClass(cls):
        rc = cls._teardown()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"

    # --- what a user looks at ---------------------------------------------------------

    def logs(self):
        return "\n".join([self.router.log()] + [b.log() for b in self.birds])

    def session_state(self, bird, name):
        out = bird.ctl("show", "protocols", "all", name)
        m = re.search(r"BGP state:\s+(\w+)", out)
        return m.group(1) if m else out

    def wait_established(self, timeout=30):
        states = wait_for(
            lambda: (self.session_state(self.rbird, "b"), self.session_state(self.peer, "r")),
            lambda s: s == ("Established", "Established"), timeout)
        self.assertEqual(states, ("Established", "Established"),
                         f"BGP session not up:\n{self.rbird.ctl('show', 'protocols', 'all', 'b')}"
                         f"\n{self.logs()}")

    def kernel_bird_routes(self):
        """The router kernel's `proto bird` routes: {prefix: (gateway, dev)}."""
        out = sh("ip", "-j", "-n", self.topo.r, "route", "show", "proto", "bird").stdout
        return {r["dst"]: (r.get("gateway"), r.get("dev")) for r in json.loads(out)}

    def fib_kernel_routes(self):
        """The routes vrouterctl shows as learned from the kernel: {prefix: route}."""
        routes = json.loads(self.router.ctl("-j", "route", "show").stdout)
        return {r["prefix"]: r for r in routes if r["origin"] == "kernel"}

    def ping_from_a(self, dst, count=3):
        return sh("ping", "-c", str(count), "-i", "0.2", "-W", "2", dst, ns=self.topo.a,
                  check=False)

    # --- the story ----------------------------------------------------------------------

    def test_1_session_is_established_through_the_dataplane(self):
        self.wait_established()
        after = self.router.stats()
        # BGP's TCP to 198.18.2.1 went up through knet, and the kernel's segments came down.
        self.assertGreater(after["counters"]["knet_punted"], self.start["counters"]["knet_punted"])
        self.assertGreater(after["knet"]["from_kernel_packets"],
                           self.start["knet"]["from_kernel_packets"])
        self.assertEqual(after["knet"]["to_kernel_errors"], 0)

    def test_2_announced_prefixes_are_mirrored_and_forward(self):
        self.wait_established()
        want = {p: ("198.18.2.2", "knet0") for p in PREFIXES}
        kernel = wait_for(self.kernel_bird_routes, lambda k: k == want, 10)
        self.assertEqual(kernel, want, f"router-side BIRD:\n{self.rbird.ctl('show', 'route')}")
        fib = wait_for(self.fib_kernel_routes, lambda f: set(PREFIXES) <= set(f), 5)
        for p in PREFIXES:
            self.assertIn(p, fib, self.router.log())
            r = fib[p]
            self.assertEqual((r["type"], r["via"], r["port"], r["protocol"], r["installed"]),
                             ("forward", "198.18.2.2", "b", "bird", True), r)
        before = self.router.stats()["counters"]["ip4_forwarded"]
        for p in PREFIXES:
            r = self.ping_from_a(host1(p))
            self.assertEqual(r.returncode, 0, f"ping {host1(p)}: {r.stdout}{r.stderr}")
        # Three echo requests and three replies per prefix crossed the dataplane.
        forwarded = self.router.stats()["counters"]["ip4_forwarded"] - before
        self.assertGreaterEqual(forwarded, 6 * len(PREFIXES))

    def test_3_a_withdrawal_at_the_neighbour_removes_the_route(self):
        self.wait_established()
        wait_for(self.fib_kernel_routes, lambda f: set(PREFIXES) <= set(f), 10)
        kept = [p for p in PREFIXES if p != WITHDRAWN]
        self.peer.write_config(peer_config(kept))
        out = self.peer.ctl("configure")
        self.assertIn("Reconfigured", out)
        kernel = wait_for(self.kernel_bird_routes, lambda k: WITHDRAWN not in k, 10)
        self.assertNotIn(WITHDRAWN, kernel)
        fib = wait_for(self.fib_kernel_routes, lambda f: WITHDRAWN not in f, 5)
        self.assertNotIn(WITHDRAWN, fib)
        # No route left for it: the router answers A with net unreachable.
        r = self.ping_from_a(host1(WITHDRAWN), count=1)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("From 198.18.1.1", r.stdout)
        self.assertIn("Destination Net Unreachable", r.stdout)
        for p in kept:
            r = self.ping_from_a(host1(p), count=2)
            self.assertEqual(r.returncode, 0, f"ping {host1(p)}: {r.stdout}{r.stderr}")

    def test_4_kernel_and_fib_agree(self):
        def agree():
            kernel = {(p, gw) for p, (gw, _) in self.kernel_bird_routes().items()}
            fib = {(p, r["via"]) for p, r in self.fib_kernel_routes().items()
                   if r["installed"]}
            return kernel, fib
        kernel, fib = wait_for(agree, lambda kf: kf[0] == kf[1], 5)
        self.assertEqual(kernel, fib)
        self.assertEqual({p for p, _ in kernel}, {p for p in PREFIXES if p != WITHDRAWN})


if __name__ == "__main__":
    unittest.main(verbosity=2)
