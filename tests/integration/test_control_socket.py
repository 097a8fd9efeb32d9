#!/usr/bin/python3
# The control socket under abuse: garbage, oversized and half requests, clients that vanish in the
# middle of a request or a reply, many clients at once, users who may not use it, and a socket file
# that is stale or still served. Through all of it the router keeps forwarding A <-> B and answering
# everyone else. Frames are 4-byte big-endian length + payload; a reply starts with its status byte.
import grp
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from topology import VROUTERCTL, VROUTERD, Router, Topology, sh  # noqa: E402

MAX_FRAME = 1 << 20        # control/control_socket.h kMaxFrame
MAX_CLIENTS = 64           # ControlSocket::kMaxClients
CLIENT_TIMEOUT = 5.0       # ControlSocket::kClientTimeoutMs
ROUTES = 8000              # makes `-j route show` far larger than a socket buffer

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
routes:
""" + "".join(f"  - prefix: 10.{i // 256}.{i % 256}.0/24\n    via: 198.18.2.2\n"
              for i in range(ROUTES))

# A router with no namespaces at all, for the tests about the socket file itself.
NULL_CONFIG = """
dataplane:
  workers: 1
  nbufs: 4095
control:
  socket: @SOCKET@
ports:
  - name: n
    device: net_null0
    addresses: [198.18.9.1/24]
"""


# --- raw client ---------------------------------------------------------------------------------

def frame(payload):
    return struct.pack("!I", len(payload)) + payload


def request(*words):
    return frame(b"\0".join(w.encode() for w in words))


def connect(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return buf
        buf += chunk
    return buf


def recv_reply(s):
    """(status, text) of one reply frame; None when the server closed before a whole frame."""
    head = recv_exact(s, 4)
    if len(head) < 4:
        return None
    (n,) = struct.unpack("!I", head)
    body = recv_exact(s, n)
    if len(body) < n or n == 0:
        return None
    return chr(body[0]), body[1:].decode(errors="replace")


def recv_until_eof(s):
    """Everything left on the connection, until the server closes it (or the timeout raises)."""
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return buf
        buf += chunk


def ask(path, *words):
    with connect(path) as s:
        try:
            s.sendall(request(*words))
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused at once: the reason is already waiting to be read
        return recv_reply(s)


class ControlSocketTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.topo = Topology()
        cls.addClassCleanup(cls.topo.close)
        cls.router = Router(cls.topo, CONFIG)
        cls.addClassCleanup(cls.router.stop)
        # Resolve both hosts once, so traffic checks do not wait on ARP.
        for ns, dst in ((cls.topo.a, "198.18.2.2"), (cls.topo.b, "198.18.1.2")):
            sh("ping", "-c", "2", "-i", "0.2", "-W", "2", dst, ns=ns)

    @classmethod
    def tearDownClass(cls):
        rc = cls.router.stop()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"

    def setUp(self):
        self.assertIsNone(self.router.proc.poll(), "vrouterd is running")
        self.wait_conns(0)
        self.before = self.router.stats()

    def tearDown(self):
        # The router still forwards, still answers, and dropped nothing on the way.
        self.ping_a_to_b(count=3)
        after = self.router.stats()
        drops = {k: v - self.before["drops"].get(k, 0) for k, v in after["drops"].items()
                 if v != self.before["drops"].get(k, 0)}
        self.assertEqual(drops, {}, "no packet dropped while clients misbehaved")
        self.assertGreaterEqual(
            after["counters"]["ip4_forwarded"] - self.before["counters"]["ip4_forwarded"], 6)

    # --- helpers ---------------------------------------------------------------------------------

    @property
    def sock(self):
        return self.router.sock

    def ping_a_to_b(self, count=3, interval="0.2"):
        r = sh("ping", "-c", str(count), "-i", interval, "-W", "2", "198.18.2.2",
               ns=self.topo.a, check=False)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
        self.assertTrue(m, r.stdout + r.stderr)
        self.assertEqual(m.group(1), m.group(2), "no ping lost:\n" + r.stdout)

    def background_ping(self, count, interval="0.05"):
        """Pings A -> B while the test runs; join() it and check its result at the end."""
        out = {}

        def run():
            out["r"] = sh("ping", "-c", str(count), "-i", interval, "-W", "2", "198.18.2.2",
                          ns=self.topo.a, check=False)
        t = threading.Thread(target=run)
        t.start()

        def finish():
            t.join()
            r = out["r"]
            m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
            self.assertTrue(m, r.stdout + r.stderr)
            self.assertEqual(m.group(1), m.group(2), "no ping lost:\n" + r.stdout)
        return finish

    def server_conns(self):
        """Connections vrouterd holds open on its control socket. An accepted socket carries the
        listening socket's path and lives in the network namespace of whoever connected (ours),
        so it is in our /proc/net/unix; state 03 is connected."""
        seen = set()
        for table in ("/proc/self/net/unix", f"/proc/{self.router.proc.pid}/net/unix"):
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if len(fields) >= 8 and fields[7] == self.sock and fields[5] == "03":
                        seen.add(fields[6])
        return len(seen)

    def wait_conns(self, want, timeout=2 * CLIENT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while self.server_conns() != want and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.server_conns(), want, "connections vrouterd holds")

    def assert_stats_ok(self):
        status, text = ask(self.sock, "-j", "stats")
        self.assertEqual(status, "0", text)
        self.assertIn("ports", json.loads(text))

    # --- the socket file -------------------------------------------------------------------------

    def test_socket_is_owner_only(self):
        st = os.lstat(self.sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_uid, 0)

    # --- malformed requests ----------------------------------------------------------------------

    def test_garbage_payload_gets_an_error_and_the_connection_stays_usable(self):
        rnd = random.Random(20240601)
        with connect(self.sock) as s:
            for size in (1, 7, 200, 4096):
                s.sendall(frame(rnd.randbytes(size)))
                reply = recv_reply(s)
                self.assertIsNotNone(reply, "a reply, not a dropped connection")
                self.assertIn(reply[0], "12", reply)
                self.assertTrue(reply[1], "the error says something")
            s.sendall(frame(b""))  # an empty request is no command at all
            self.assertIn(recv_reply(s)[0], "12")
            s.sendall(request("stats"))
            self.assertEqual(recv_reply(s)[0], "0", "the same connection still works")
        self.assert_stats_ok()

    def test_random_bytes_without_framing(self):
        # Whatever arrives, the client gets an error reply or a close; never a hang.
        rnd = random.Random(7)
        for i in range(40):
            with connect(self.sock) as s:
                s.sendall(rnd.randbytes(rnd.randint(1, 300)))
                s.shutdown(socket.SHUT_WR)
                rest = recv_until_eof(s)
                if len(rest) >= 5:
                    (n,) = struct.unpack("!I", rest[:4])
                    self.assertEqual(len(rest), 4 + n, f"round {i}: exactly one frame")
                    self.assertIn(chr(rest[4]), "12", f"round {i}: {rest[4:80]!r}")
                else:
                    self.assertEqual(rest, b"", f"round {i}: a frame or nothing")
        # Something that is not our protocol at all: its first 4 bytes read as a huge length.
        with connect(self.sock) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            status, text = recv_reply(s)
            self.assertEqual(status, "1")
            self.assertIn("request too large", text)
            self.assertEqual(recv_until_eof(s), b"", "then closed")
        self.wait_conns(0)
        self.assert_stats_ok()

    def test_oversized_length_is_refused_and_closed(self):
        for n in (MAX_FRAME + 1, 64 << 20, 0xFFFFFFFF):
            with connect(self.sock) as s:
                s.sendall(struct.pack("!I", n) + b"x" * 65536)
                status, text = recv_reply(s)
                self.assertEqual(status, "1")
                self.assertIn("request too large", text)
                self.assertIn(str(n), text)
                try:
                    self.assertEqual(recv_until_eof(s), b"", "closed after the error")
                except ConnectionResetError:
                    pass  # closed with our unread bytes in its buffer: also closed
        self.wait_conns(0)
        self.assert_stats_ok()

    def test_request_of_exactly_the_limit_is_read_whole(self):
        # 1 MiB arrives over many polls; the router answers it (unknown command) like any other.
        payload = b"stats\0" + b"x" * (MAX_FRAME - 6)
        with connect(self.sock) as s:
            s.sendall(frame(payload))
            status, text = recv_reply(s)
            self.assertIn(status, "12")
            s.sendall(request("stats"))
            self.assertEqual(recv_reply(s)[0], "0")
        self.assert_stats_ok()

    def test_pipelined_requests_are_answered_in_order(self):
        with connect(self.sock) as s:
            s.sendall(request("ping") + request("-j", "stats") + request("nonsense") +
                      request("ping"))
            self.assertEqual(recv_reply(s), ("0", "pong\n"))
            status, text = recv_reply(s)
            self.assertEqual(status, "0")
            json.loads(text)
            self.assertIn(recv_reply(s)[0], "12")
            self.assertEqual(recv_reply(s), ("0", "pong\n"))

    def test_half_request_is_dropped_at_its_deadline_while_others_are_served(self):
        finish_ping = self.background_ping(count=100, interval="0.05")
        half = connect(self.sock)
        self.addCleanup(half.close)
        t0 = time.monotonic()
        half.sendall(struct.pack("!I", 100) + b"0123456789")
        self.wait_conns(1)
        # Meanwhile everyone else is served, promptly.
        while time.monotonic() - t0 < CLIENT_TIMEOUT - 1.5:
            t = time.monotonic()
            r = self.router.ctl("stats")
            self.assertLess(time.monotonic() - t, 1.0, "not held up by the half request")
            self.assertIn("port a", r.stdout)
        # Not dropped early...
        half.setblocking(False)  # a socket with a timeout waits for data even with MSG_DONTWAIT
        try:
            got = half.recv(1)
        except BlockingIOError:
            got = None
        self.assertIsNone(got, f"still open at {time.monotonic() - t0:.1f} s")
        # ...but at the deadline, with a reason.
        half.settimeout(2 * CLIENT_TIMEOUT)
        status, text = recv_reply(half)
        elapsed = time.monotonic() - t0
        self.assertEqual(status, "1")
        self.assertIn("timed out", text)
        self.assertEqual(recv_until_eof(half), b"")
        self.assertGreater(elapsed, CLIENT_TIMEOUT - 0.5)
        self.assertLess(elapsed, CLIENT_TIMEOUT + 2.0)
        self.wait_conns(0)
        finish_ping()

    # --- clients that vanish ---------------------------------------------------------------------

    def spawn_client(self, script):
        """A separate process that talks to the socket, says 'ready' and waits to be killed."""
        code = ("import socket, struct, sys, time\n"
                f"s = socket.socket(socket.AF_UNIX); s.connect({self.sock!r})\n"
                + script +
                "print('ready', flush=True)\n"
                "time.sleep(120)\n")
        p = subprocess.Popen(["/usr/bin/python3", "-c", code], stdout=subprocess.PIPE, text=True)
        self.addCleanup(p.stdout.close)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait()))
        self.assertEqual(p.stdout.readline().strip(), "ready")
        return p

    def kill(self, p):
        os.kill(p.pid, signal.SIGKILL)
        p.wait()

    def test_client_killed_mid_request(self):
        for script in (
            # the length and part of the payload
            "s.sendall(struct.pack('!I', 1000) + b'x' * 100)\n",
            # only part of the length
            "s.sendall(b'\\0\\0')\n",
            # most of a 1 MiB request
            f"s.sendall(struct.pack('!I', {MAX_FRAME}) + b'x' * {MAX_FRAME // 2})\n",
        ):
            p = self.spawn_client(script)
            self.wait_conns(1)
            t = time.monotonic()
            self.kill(p)
            self.wait_conns(0)
            self.assertLess(time.monotonic() - t, 1.5, "dropped at once, not at the deadline")
            self.assert_stats_ok()

    def test_client_killed_before_reading_a_large_reply(self):
        p = self.spawn_client(
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)\n"
            "s.sendall(struct.pack('!I', 13) + b'-j\\0route\\0show')\n"
            "s.recv(100)\n")
        self.wait_conns(1)
        self.kill(p)
        self.wait_conns(0, timeout=1.5)
        self.assert_stats_ok()

    def test_client_disconnects_mid_reply(self):
        finish_ping = self.background_ping(count=60, interval="0.05")
        for i in range(20):
            with connect(self.sock) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(request("-j", "route", "show"))
                (n,) = struct.unpack("!I", recv_exact(s, 4))
                self.assertGreater(n, 400000, "the reply is larger than any socket buffer")
                got = recv_exact(s, 1000 * (i + 1))
                self.assertEqual(got[:1], b"0")
            # closed with most of the reply unsent
        self.wait_conns(0, timeout=2.0)
        # The whole table still comes back to someone who reads it.
        status, text = ask(self.sock, "-j", "route", "show")
        self.assertEqual(status, "0")
        self.assertEqual(len([r for r in json.loads(text) if r["prefix"].startswith("10.")]),
                         ROUTES)
        finish_ping()

    def test_reader_that_stalls_mid_reply_is_dropped_at_its_deadline(self):
        slow = connect(self.sock)
        self.addCleanup(slow.close)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        t0 = time.monotonic()
        slow.sendall(request("-j", "route", "show"))
        (n,) = struct.unpack("!I", recv_exact(slow, 4))
        for _ in range(10):
            self.assert_stats_ok()
        time.sleep(CLIENT_TIMEOUT + 1.0 - (time.monotonic() - t0))
        slow.settimeout(5)
        rest = recv_until_eof(slow)
        self.assertLess(len(rest), n, "dropped before the whole reply was sent")
        self.wait_conns(0)

    def test_slow_but_steady_reader_gets_the_whole_reply(self):
        # A reply that takes longer than the deadline to read is not cut off while it is being
        # read (a route show of a million members is tens of MB over a busy machine).
        s = connect(self.sock)
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(request("-j", "route", "show"))
        (n,) = struct.unpack("!I", recv_exact(s, 4))
        t0 = time.monotonic()
        got, steps = b"", 16
        for i in range(steps):
            got += recv_exact(s, min(n - len(got), n // steps + 1))
            time.sleep((CLIENT_TIMEOUT + 2.0) / steps)
        got += recv_exact(s, n - len(got))
        self.assertGreater(time.monotonic() - t0, CLIENT_TIMEOUT + 1.0)
        self.assertEqual(len(got), n)
        self.assertEqual(got[:1], b"0")
        self.assertEqual(len([r for r in json.loads(got[1:]) if r["prefix"].startswith("10.")]),
                         ROUTES)
        self.assert_stats_ok()

    # --- many clients ----------------------------------------------------------------------------

    def test_concurrent_clients(self):
        finish_ping = self.background_ping(count=60, interval="0.05")
        threads, per_thread = 20, 20
        errors, ok = [], [0]
        lock = threading.Lock()

        def client(k):
            try:
                persistent = connect(self.sock) if k % 2 else None
                for i in range(per_thread):
                    if persistent is not None:  # half reuse one connection...
                        persistent.sendall(request("-j", "stats"))
                        reply = recv_reply(persistent)
                    else:                       # ...half connect per request, like vrouterctl
                        reply = ask(self.sock, "-j", "stats")
                    if reply is None or reply[0] != "0":
                        raise AssertionError(f"client {k} request {i}: {reply!r}")
                    json.loads(reply[1])
                    with lock:
                        ok[0] += 1
                if persistent is not None:
                    persistent.close()
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(f"client {k}: {e!r}")

        ts = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(ok[0], threads * per_thread)
        # vrouterctl itself, many at once.
        procs = [subprocess.Popen([VROUTERCTL, "-s", self.sock, "-j", "stats"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(20)]
        for p in procs:
            out, err = p.communicate(timeout=30)
            self.assertEqual(p.returncode, 0, err)
            json.loads(out)
        finish_ping()

    def test_clients_beyond_the_cap_are_told_so(self):
        idle = []
        try:
            for _ in range(MAX_CLIENTS):
                idle.append(connect(self.sock))
            self.wait_conns(MAX_CLIENTS, timeout=2)
            status, text = ask(self.sock, "stats")
            self.assertEqual(status, "1")
            self.assertIn("too many", text)
            r = self.router.ctl("stats", check=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn("too many control clients", r.stderr)
        finally:
            for s in idle:
                s.close()
        self.wait_conns(0, timeout=2)
        self.assert_stats_ok()

    # --- who may use it --------------------------------------------------------------------------

    def run_as_nobody(self, *args):
        ctl = self.copy_vrouterctl()
        nogroup = "nogroup" if "nogroup" in {g.gr_name for g in grp.getgrall()} else "nobody"
        return subprocess.run(["setpriv", "--reuid=nobody", f"--regid={nogroup}",
                               "--clear-groups", ctl, *args],
                              capture_output=True, text=True, timeout=30)

    def test_non_root_user_is_refused(self):
        # The file itself (0600, in a root-only directory) keeps other users out.
        r = self.run_as_nobody("-s", self.sock, "stats")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("permission denied", r.stderr.lower())
        self.assertIn(self.sock, r.stderr, "the message names the socket")
        self.assertEqual(r.stdout, "")

    def test_peer_credentials_are_checked_even_when_the_file_is_open(self):
        # Loosen the file so connect() succeeds: SO_PEERCRED must refuse on its own.
        d = os.path.dirname(self.sock)
        dmode = stat.S_IMODE(os.stat(d).st_mode)
        os.chmod(d, 0o711)
        self.addCleanup(os.chmod, d, dmode)
        os.chmod(self.sock, 0o666)
        self.addCleanup(os.chmod, self.sock, 0o600)
        r = self.run_as_nobody("-s", self.sock, "stats")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("permission denied", r.stderr)
        self.assertIn(f"uid {pwd.getpwnam('nobody').pw_uid}", r.stderr)
        self.assertEqual(r.stdout, "")
        self.wait_conns(0)
        self.assert_stats_ok()

    # --- the socket file: stale, live, in the way --------------------------------------------------

    def test_configured_group_may_use_the_socket(self):
        # control.group: the socket becomes 0660 of that group; its members get in, others not.
        tag = os.getpid() % 100000
        group, user = f"vrtg{tag}", f"vrtu{tag}"
        subprocess.run(["groupadd", group], check=True)
        self.addCleanup(subprocess.run, ["groupdel", group], check=False)
        nogroup = "nogroup" if "nogroup" in {g.gr_name for g in grp.getgrall()} else "nobody"
        subprocess.run(["useradd", "-M", "-N", "-g", nogroup, "-G", group,
                        "-s", "/usr/sbin/nologin", user], check=True)
        self.addCleanup(subprocess.run, ["userdel", user], check=False)
        d = tempfile.mkdtemp(prefix="vrt-grp-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        sock = os.path.join(d, "control.sock")
        p, output, stop = self.start_null_router(sock, config_extra=f"  group: {group}\n")
        self.assertIn("forwarding:", output())
        st = os.stat(sock)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(grp.getgrgid(st.st_gid).gr_name, group)
        ctl = self.copy_vrouterctl()
        member = subprocess.run(["setpriv", f"--reuid={user}", f"--regid={nogroup}",
                                 "--init-groups", ctl, "-s", sock, "stats"],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(member.returncode, 0, member.stderr)
        self.assertIn("port n", member.stdout)
        outsider = self.run_as_nobody("-s", sock, "stats")
        self.assertEqual(outsider.returncode, 1)
        self.assertIn("permission denied", outsider.stderr.lower())
        stop()

    def copy_vrouterctl(self):
        # Our own copy of vrouterctl, where an unprivileged user can surely run it.
        bindir = tempfile.mkdtemp(prefix="vrt-bin-")
        self.addCleanup(shutil.rmtree, bindir, True)
        os.chmod(bindir, 0o755)
        ctl = os.path.join(bindir, "vrouterctl")
        shutil.copy(VROUTERCTL, ctl)
        os.chmod(ctl, 0o755)
        return ctl

    def start_null_router(self, sock, extra=(), config_extra=""):
        d = tempfile.mkdtemp(prefix="vrt-null-")
        self.addCleanup(shutil.rmtree, d, True)
        cfg = os.path.join(d, "vrouter.yaml")
        with open(cfg, "w") as f:
            f.write(NULL_CONFIG.replace("@SOCKET@", sock).replace(
                "control:\n  socket: " + sock + "\n", "control:\n  socket: " + sock + "\n" + config_extra))
        log = open(os.path.join(d, "log"), "w+")
        self.addCleanup(log.close)
        p = subprocess.Popen([VROUTERD, "--config", cfg, "--no_huge", *extra],
                             stdout=log, stderr=subprocess.STDOUT)

        def stop():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.addCleanup(stop)

        def output():
            log.seek(0)
            return log.read()
        deadline = time.monotonic() + 30
        while p.poll() is None and "forwarding:" not in output() and time.monotonic() < deadline:
            time.sleep(0.1)
        return p, output, stop

    def test_second_instance_does_not_steal_a_live_socket(self):
        p, output, _ = self.start_null_router(self.sock)
        self.assertEqual(p.wait(30), 1, output())
        self.assertIn(f"control socket {self.sock} is served by another process", output())
        self.assertTrue(stat.S_ISSOCK(os.lstat(self.sock).st_mode), "left in place")
        self.assert_stats_ok()

    def test_stale_socket_is_replaced_and_missing_directories_made(self):
        d = tempfile.mkdtemp(prefix="vrt-stale-")
        self.addCleanup(shutil.rmtree, d, True)
        # What a crashed instance leaves: a socket file nobody listens on.
        stale = os.path.join(d, "control.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stale)
        s.close()
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with probe, self.assertRaises(ConnectionRefusedError):
            probe.connect(stale)
        p, output, stop = self.start_null_router(stale)
        self.assertIsNone(p.poll(), output())
        self.assertEqual(ask(stale, "ping"), ("0", "pong\n"))
        stop()
        self.assertEqual(p.returncode, 0, output())
        self.assertFalse(os.path.exists(stale), "removed at stop")

        deep = os.path.join(d, "run", "vrouter", "control.sock")
        old = os.umask(0o077)  # directories are 0755 whatever the umask
        try:
            p, output, stop = self.start_null_router(deep)
        finally:
            os.umask(old)
        self.assertIsNone(p.poll(), output())
        for sub in ("run", "run/vrouter"):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(d, sub)).st_mode), 0o755, sub)
        self.assertEqual(stat.S_IMODE(os.lstat(deep).st_mode), 0o600)
        self.assertEqual(ask(deep, "ping"), ("0", "pong\n"))
        stop()

    def test_a_file_in_the_way_is_not_removed(self):
        d = tempfile.mkdtemp(prefix="vrt-file-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "control.sock")
        with open(path, "w") as f:
            f.write("precious\n")
        p, output, _ = self.start_null_router(path)
        self.assertEqual(p.wait(30), 1, output())
        self.assertIn("exists and is not a socket", output())
        with open(path) as f:
            self.assertEqual(f.read(), "precious\n")


def _interrupted(signum, _frame):
    # meson's timeout sends SIGTERM: unwind like Ctrl-C so that cleanups and atexit remove the
    # namespaces and stop vrouterd.
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupted)
    unittest.main(verbosity=2)
