# Test harness: network namespaces host A - router - host B joined by veth pairs, and a real
# vrouterd started in the router namespace on net_af_packet ports. Everything is removed on exit.
import atexit
import ctypes
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import unittest
import time

BUILD = os.environ.get("VROUTER_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
SRC = os.environ.get("VROUTER_SRC", os.path.join(os.path.dirname(__file__), "../.."))
VROUTERD = os.path.join(BUILD, "vrouterd")
VROUTERCTL = os.path.join(BUILD, "vrouterctl")

_libc = ctypes.CDLL("libc.so.6", use_errno=True)
_CLONE_NEWNET = 0x40000000


def sh(*args, check=True, ns=None, **kw):
    cmd = list(args)
    if ns is not None:
        cmd = ["ip", "netns", "exec", ns] + cmd
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def _setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


def socket_in(ns, *args):
    """A socket created inside namespace `ns`; it stays there when this thread switches back
    (setns moves only the calling thread, so other threads never see the switch)."""
    home = f"/proc/self/task/{threading.get_native_id()}/ns/net"
    home_fd = os.open(home, os.O_RDONLY)
    try:
        _setns(f"/var/run/netns/{ns}")
        try:
            return socket.socket(*args)
        finally:
            if _libc.setns(home_fd, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(home_fd)


class Topology:
    """A (198.18.1.2/24) -- vr-a [router] vr-b -- B (198.18.2.2/24, 198.19.0.1/32 on lo)."""

    _count = 0

    def __init__(self):
        Topology._count += 1
        tag = f"{os.getpid() % 100000}-{Topology._count}"
        self.a, self.r, self.b = f"vrt-a{tag}", f"vrt-r{tag}", f"vrt-b{tag}"
        self._made = []
        atexit.register(self.close)
        try:
            self._build()
        except Exception:
            self.close()
            raise

    def _build(self):
        for ns in (self.a, self.r, self.b):
            sh("ip", "netns", "add", ns)
            self._made.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", "vr-a", "netns", self.r, "type", "veth", "peer", "name", "eth0",
           "netns", self.a)
        sh("ip", "link", "add", "vr-b", "netns", self.r, "type", "veth", "peer", "name", "eth0",
           "netns", self.b)
        # The router namespace itself must stay silent: no addresses, no IPv6 chatter.
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=self.r)
        sh("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1", ns=self.r)
        for ns in (self.a, self.b):
            sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns)
            sh("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1", ns=ns)
        sh("ip", "-n", self.a, "addr", "add", "198.18.1.2/24", "dev", "eth0")
        sh("ip", "-n", self.b, "addr", "add", "198.18.2.2/24", "dev", "eth0")
        sh("ip", "-n", self.b, "addr", "add", "198.19.0.1/32", "dev", "lo")
        for ns, dev in ((self.a, "eth0"), (self.b, "eth0"), (self.r, "vr-a"), (self.r, "vr-b")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
            # af_packet sees frames as the kernel queued them: without this, TCP segments arrive
            # with partial checksums and as 64 KB GSO super-frames.
            sh("ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off", ns=ns)
        sh("ip", "-n", self.a, "route", "add", "default", "via", "198.18.1.1")
        sh("ip", "-n", self.b, "route", "add", "default", "via", "198.18.2.1")

    def mac(self, ns, dev):
        out = sh("ip", "-j", "-n", ns, "link", "show", dev).stdout
        return json.loads(out)[0]["address"]

    def close(self):
        for ns in reversed(self._made):
            sh("ip", "netns", "del", ns, check=False)
        self._made = []


class Router:
    """vrouterd in the topology's router namespace, on a config written from `yaml_text`."""

    def __init__(self, topo, yaml_text, extra_args=(), wrapper=(), owner=None):
        self.topo = topo
        self.dir = tempfile.mkdtemp(prefix="vrt-")
        if owner is not None:  # a uid the wrapper runs vrouterd as: its socket goes here
            os.chown(self.dir, owner, -1)
        self.sock = os.path.join(self.dir, "control.sock")
        self.config = os.path.join(self.dir, "vrouter.yaml")
        with open(self.config, "w") as f:
            f.write(yaml_text.replace("@SOCKET@", self.sock))
        self.log_path = os.path.join(self.dir, "vrouterd.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", topo.r, *wrapper, VROUTERD, "--config", self.config,
             *extra_args],
            stdout=self._log, stderr=subprocess.STDOUT)
        atexit.register(self.stop)
        deadline = time.time() + 30
        while "forwarding:" not in self.log():
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("vrouterd did not start:\n" + self.log())
            time.sleep(0.1)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def ctl(self, *args, check=True):
        return sh(VROUTERCTL, "-s", self.sock, *args, check=check)

    def stats(self):
        return json.loads(self.ctl("-j", "stats").stdout)

    def stats_json(self, *args):
        """Any show command's JSON, e.g. stats_json("neigh", "show")."""
        return json.loads(self.ctl("-j", *args).stdout)

    def flat(self):
        """Counters and drops in one dict, plus port counters as `<port>.<field>`."""
        s = self.stats()
        out = dict(s["counters"])
        out.update(s["drops"])
        for p in s["ports"]:
            for k in ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes"):
                out[f"{p['name']}.{k}"] = p[k]
        return out

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self._log.close()
        return rc


class RouterTestCase(unittest.TestCase):
    """One topology and one router for a whole class, built from CONFIG, with vrouterctl
    helpers that assert exit codes and messages."""

    CONFIG = None

    @classmethod
    def setUpClass(cls):
        cls.topo = Topology()
        cls.router = Router(cls.topo, cls.CONFIG)

    @classmethod
    def tearDownClass(cls):
        rc = cls.router.stop()
        cls.topo.close()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"

    def ctl(self, *args):
        return self.router.ctl(*args, check=False)

    def ok(self, *args):
        r = self.ctl(*args)
        self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
        return r.stdout

    def fails(self, code, words, *args):
        r = self.ctl(*args)
        self.assertEqual(r.returncode, code, f"{args}: {r.stdout} {r.stderr}")
        self.assertIn(words, r.stderr, args)
        return r


def delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
