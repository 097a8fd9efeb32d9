#!/usr/bin/python3
# Two workers on ports with two queue pairs each: the device spreads flows over the workers
# (RSS; for af_packet, the kernel's fanout by flow hash), every flow stays on one worker and in order.
import os
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from topology import Router, Topology, sh, socket_in  # noqa: E402

CONFIG = """
dataplane:
  workers: 2
  nbufs: 8191
control:
  socket: @SOCKET@
ports:
  - name: a
    device: net_af_packet0,iface=vr-a,qpairs=2
    mac: 02:00:00:00:00:01
    addresses: [198.18.1.1/24]
  - name: b
    device: net_af_packet1,iface=vr-b,qpairs=2
    mac: 02:00:00:00:00:02
    addresses: [198.18.2.1/24]
routes:
  - prefix: 198.19.0.0/16
    via: 198.18.2.2
"""

FLOWS = 64
PER_FLOW = 20


class WorkersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.topo = Topology()
        cls.router = Router(cls.topo, CONFIG)
        for ns, dst in ((cls.topo.a, "198.18.2.2"), (cls.topo.b, "198.18.1.2")):
            sh("ping", "-c", "2", "-i", "0.2", "-W", "2", dst, ns=ns)

    @classmethod
    def tearDownClass(cls):
        rc = cls.router.stop()
        cls.topo.close()
        assert rc == 0, f"vrouterd exited {rc}:\n{cls.router.log()}"

    def workers(self):
        return {w["lcore"]: w for w in self.router.stats()["workers"]}

    def test_two_workers_start_each_on_its_queue(self):
        ws = self.workers()
        self.assertEqual(sorted(ws), [1, 2])
        # More lcores than this machine's CPUs start anyway, with a warning that says so.
        if os.cpu_count() < 3:
            self.assertIn("lcores share CPUs", self.router.log())

    def test_flows_spread_over_workers_and_stay_in_order(self):
        rx = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_DGRAM)
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        rx.bind(("198.18.2.2", 9999))
        rx.settimeout(3)
        senders = []
        for f in range(FLOWS):
            s = socket_in(self.topo.a, socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("198.18.1.2", 20000 + f))
            senders.append(s)
        before = self.workers()
        port_before = {p["name"]: p["rx_packets"] for p in self.router.stats()["ports"]}
        # Round by round, one packet per flow, paced so the af_packet rings never overflow.
        for seq in range(PER_FLOW):
            for f, s in enumerate(senders):
                s.sendto(struct.pack("!HH", f, seq), ("198.18.2.2", 9999))
            time.sleep(0.01)
        got = {f: [] for f in range(FLOWS)}
        with rx:
            for _ in range(FLOWS * PER_FLOW):
                data, (src, sport) = rx.recvfrom(64)
                f, seq = struct.unpack("!HH", data)
                self.assertEqual(sport, 20000 + f)
                got[f].append(seq)
        for s in senders:
            s.close()
        for f in range(FLOWS):
            self.assertEqual(got[f], list(range(PER_FLOW)), f"flow {f} lost or reordered")
        after = self.workers()
        moved = {l: after[l]["rx_packets"] - before[l]["rx_packets"] for l in after}
        total = sum(moved.values())
        self.assertGreaterEqual(total, FLOWS * PER_FLOW)
        # 64 flows hashed over 2 queues: each worker gets a real share (fewer than 8 of 64 flows
        # on one side has a probability below 1e-10).
        for lcore, n in moved.items():
            self.assertGreaterEqual(n, FLOWS * PER_FLOW // 8,
                                    f"worker {lcore} received {n} of {total}: flows not spread")
        ports = {p["name"]: p["rx_packets"] for p in self.router.stats()["ports"]}
        self.assertEqual(sum(ports.values()) - sum(port_before.values()), total,
                         "per-worker receive counts do not add up to the ports'")

    def test_router_answers_and_forwards_from_either_worker(self):
        # Separate pings are separate flows (their ICMP ids differ): whichever worker gets
        # them, the echo is answered and the neighbour is known.
        for i in range(6):
            r = sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.1.1", ns=self.topo.a,
                   check=False)
            self.assertEqual(r.returncode, 0, r.stdout)
            r = sh("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.19.0.1", ns=self.topo.a,
                   check=False)
            self.assertEqual(r.returncode, 0, r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
