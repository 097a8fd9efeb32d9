#!/usr/bin/python3
# Sub-interfaces with real tagged frames: a template group of 64 VLAN vifs and a QinQ vif on port
# a, traffic in both directions with the right tags, and group-wide changes (down, MTU,
# impairment) applied with one request and seen in the counters.
import json
import os
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import packets as P  # noqa: E402
from topology import RouterTestCase, socket_in  # noqa: E402

ROUTER_A = "02:00:00:00:00:01"
HOST_MAC = "02:00:00:00:aa:01"  # the customer hosts behind port a (static neighbours)

CONFIG = f"""
dataplane:
  workers: 1
  nbufs: 8191
control:
  socket: @SOCKET@
groups:
  - id: 10
    name: customers
    templates:
      - parent: a
        vlan: 100-163
        address: 198.18.64.0/31
vifs:
  - parent: a
    outer: 5
    inner: 6
    addresses: [198.18.65.1/30]
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    mac: {ROUTER_A}
    addresses: [198.18.1.1/24]
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: 02:00:00:00:00:02
    addresses: [198.18.2.1/24]
neighbours:
  - {{ip: 198.18.64.3, mac: {HOST_MAC}, port: a.101}}
  - {{ip: 198.18.65.2, mac: {HOST_MAC}, port: a.5.6}}
"""

SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10


def tag(tpid, vid):
    return struct.pack("!HH", tpid, vid)


def tagged(tags, ip_packet, src=HOST_MAC, dst=ROUTER_A):
    return P.mac_bytes(dst) + P.mac_bytes(src) + b"".join(tags) + struct.pack("!H", 0x0800) + \
        ip_packet


class VifsTest(RouterTestCase):
    CONFIG = CONFIG

    def setUp(self):
        self.b_rx = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_DGRAM)
        self.b_rx.bind(("198.18.2.2", 9999))
        self.b_rx.settimeout(0.5)
        self.addCleanup(self.b_rx.close)

    def send_a(self, frames):
        s = P.packet_socket(socket_in, self.topo.a, "eth0")
        for f in frames:
            s.send(f)
        s.close()

    def received_b(self, want, timeout=3.0):
        got, deadline = [], time.time() + timeout
        while len(got) < want and time.time() < deadline:
            try:
                got.append(self.b_rx.recvfrom(2048))
            except socket.timeout:
                pass
        return got

    def capture_a(self):
        s = P.packet_socket(socket_in, self.topo.a, "eth0")
        # The kernel takes a frame's outer tag out into metadata before packet sockets see it.
        s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        s.settimeout(0.2)
        return s

    def frames_a(self, s, want, timeout=3.0):
        """{destination: [tag ids of each IPv4 frame to it]} leaving the router on port a."""
        out, deadline = {}, time.time() + timeout
        while sum(len(v) for v in out.values()) < want and time.time() < deadline:
            try:
                data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(32))
            except socket.timeout:
                continue
            vid = None
            for level, kind, blob in anc:
                if level == SOL_PACKET and kind == PACKET_AUXDATA:
                    status, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", blob[:20])
                    if status & TP_STATUS_VLAN_VALID:
                        vid = tci & 0xFFF
            off = 12
            inner = []
            while data[off:off + 2] in (b"\x81\x00", b"\x88\xa8"):
                inner.append(struct.unpack("!H", data[off + 2:off + 4])[0] & 0xFFF)
                off += 4
            if data[off:off + 2] != b"\x08\x00":
                continue
            ip = P.Ip4(data[off + 2:])
            if ip.dst.startswith("198.18.6"):
                out.setdefault(ip.dst, []).append(([vid] if vid is not None else []) + inner)
        return out

    def link(self, name):
        return json.loads(self.ok("-j", "link", "show", "dev", name))[0]

    def udp_from_member(self, tags, src, n=5, size=64):
        ip = P.ip4_udp(src, "198.18.2.2", b"x" * size, dport=9999)
        self.send_a([tagged(tags, ip)] * n)

    def test_template_members_are_listed_with_their_addresses(self):
        links = json.loads(self.ok("-j", "link", "show", "group", "customers"))
        self.assertEqual(len(links), 64)
        self.assertEqual(links[0]["name"], "a.100")
        self.assertEqual(links[63]["name"], "a.163")
        self.assertEqual(links[1]["vlan"], 101)
        self.assertEqual(links[1]["kind"], "vlan")
        addrs = json.loads(self.ok("-j", "addr", "show", "dev", "a.163"))
        self.assertEqual(addrs[0]["addresses"], ["198.18.64.126/31"])
        qinq = self.link("a.5.6")
        self.assertEqual((qinq["kind"], qinq["outer"], qinq["inner"]), ("qinq", 5, 6))
        self.assertIn("10 customers (64 interfaces, 0 ports)", self.ok("group", "show"))
        self.assertIn("198.18.64.2/31 dev a.101", self.ok("route", "show"))

    def test_tagged_frames_are_classified_and_forwarded_untagged(self):
        before = self.link("a.101")["stats"]
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=5)
        self.assertEqual(len(self.received_b(5)), 5)
        after = self.link("a.101")["stats"]
        self.assertEqual(after["rx_packets"] - before["rx_packets"], 5)
        before = self.link("a.5.6")["stats"]
        self.udp_from_member([tag(0x88A8, 5), tag(0x8100, 6)], "198.18.65.2", n=3)
        self.assertEqual(len(self.received_b(3)), 3)
        self.assertEqual(self.link("a.5.6")["stats"]["rx_packets"] - before["rx_packets"], 3)

    def test_unknown_tags_are_dropped_and_counted(self):
        before = self.router.flat()
        self.udp_from_member([tag(0x8100, 99)], "198.18.64.3", n=4)
        self.udp_from_member([tag(0x88A8, 5), tag(0x8100, 7)], "198.18.65.2", n=3)
        self.assertEqual(self.received_b(1, timeout=1.0), [])
        after = self.router.flat()
        self.assertEqual(after["vlan_unknown"] - before["vlan_unknown"], 7)

    def test_tagged_frames_on_a_port_without_subinterfaces_are_unknown_tags(self):
        # Port b has no sub-interfaces, so its bursts skip classification; tags still count.
        before = self.router.flat()
        ip = P.ip4_udp("198.18.2.2", "198.18.1.2", b"x" * 32, dport=9999)
        s = P.packet_socket(socket_in, self.topo.b, "eth0")
        with s:
            for tags in ([tag(0x8100, 7)], [tag(0x88A8, 5), tag(0x8100, 6)]):
                for _ in range(3):
                    s.send(tagged(tags, ip, src=self.topo.mac(self.topo.b, "eth0"),
                                  dst="02:00:00:00:00:02"))
        time.sleep(0.3)
        after = self.router.flat()
        self.assertEqual(after["vlan_unknown"] - before["vlan_unknown"], 6)
        self.assertEqual(after["ip4_forwarded"], before["ip4_forwarded"])

    def test_egress_pushes_the_vifs_tags(self):
        cap = self.capture_a()
        self.addCleanup(cap.close)
        tx = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(tx.close)
        for _ in range(3):
            tx.sendto(b"hello", ("198.18.64.3", 7777))
            tx.sendto(b"hello", ("198.18.65.2", 7777))
        seen = self.frames_a(cap, 6)
        self.assertEqual(seen.get("198.18.64.3"), [[101]] * 3)
        self.assertEqual(seen.get("198.18.65.2"), [[5, 6]] * 3)

    def test_group_down_is_one_request_and_drops_by_reason(self):
        out = self.ok("link", "set", "group", "customers", "down")
        self.addCleanup(self.ctl, "link", "set", "group", "customers", "up")
        self.assertIn("64 interfaces", out)
        self.assertFalse(self.link("a.163")["admin_up"])
        self.assertTrue(self.link("a.5.6")["admin_up"], "not in the group")
        before = self.router.flat()
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=6)
        self.assertEqual(self.received_b(1, timeout=1.0), [])
        self.assertEqual(self.router.flat()["vif_down"] - before["vif_down"], 6)
        self.ok("link", "set", "group", "customers", "up")
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=2)
        self.assertEqual(len(self.received_b(2)), 2)
        self.assertIn("state: up", self.ok("config", "show"))

    def test_group_mtu_applies_to_members(self):
        self.ok("link", "set", "group", "customers", "mtu", "1000")
        self.addCleanup(self.ctl, "link", "set", "group", "customers", "mtu", "1500")
        self.assertEqual(self.link("a.140")["mtu"], 1000)
        self.assertEqual(self.link("a.5.6")["mtu"], 1500)
        # DF set and over the member's MTU: frag-needed back to B, nothing leaves on a.101.
        icmp = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.addCleanup(icmp.close)
        icmp.settimeout(3)
        tx = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(tx.close)
        tx.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO: DF set
        before = self.router.flat()
        try:
            tx.sendto(b"y" * 1200, ("198.18.64.3", 7777))
        except OSError:
            pass
        deadline = time.time() + 3
        seen = None
        while time.time() < deadline and seen is None:
            data = icmp.recv(2048)
            ihl = (data[0] & 0xF) * 4
            if data[ihl] == 3 and data[ihl + 1] == 4:
                seen = struct.unpack("!H", data[ihl + 6:ihl + 8])[0]
        self.assertEqual(seen, 1000, "fragmentation needed with the member's MTU")
        self.assertEqual(self.router.flat()["ip4_frag_needed"] - before["ip4_frag_needed"], 1)

    def test_impairment_drops_are_counted_apart(self):
        self.ok("link", "set", "group", "customers", "impair", "drop", "100")
        self.addCleanup(self.ctl, "link", "set", "group", "customers", "impair", "pass")
        self.assertEqual(self.link("a.101")["impairment"], "drop 100% seed 1")
        before, stats = self.router.flat(), self.link("a.101")["stats"]
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=5)
        self.assertEqual(self.received_b(1, timeout=1.0), [])
        after = self.router.flat()
        self.assertEqual(after["impairment_dropped"] - before["impairment_dropped"], 5)
        self.assertEqual(self.link("a.101")["stats"]["impairment_drops"] -
                         stats["impairment_drops"], 5)
        self.assertEqual(sum(after[k] - before[k] for k in after
                             if k in ("vif_down", "vlan_unknown", "port_down")), 0,
                         "not counted as any other drop")

    def test_template_added_and_removed_at_run_time(self):
        out = self.ok("link", "add", "group", "customers", "template", "parent", "a",
                      "vlan", "200-203", "address", "198.18.66.0/31")
        self.assertIn("4 interfaces added", out)
        self.assertEqual(self.link("a.203")["group"], "customers")
        self.udp_from_member([tag(0x8100, 202)], "198.18.66.5", n=2)
        self.assertEqual(len(self.received_b(2)), 2)
        r = self.ctl("link", "add", "group", "customers", "template", "parent", "a",
                     "vlan", "150-210")
        self.assertEqual(r.returncode, 1)
        self.assertIn("150", r.stderr)
        r = self.ctl("link", "del", "group", "customers", "template")
        self.assertEqual(r.returncode, 1, "a static neighbour still names a.101")
        self.assertIn("a.101", r.stderr)
        self.assertIn("4 interfaces removed",
                      self.ok("link", "del", "group", "customers", "template", "parent", "a",
                              "vlan", "200-203"))
        self.assertEqual(self.ctl("link", "show", "dev", "a.203").returncode, 1)
        self.assertEqual(len(json.loads(self.ok("-j", "link", "show", "group", "customers"))), 64)

    def test_a_member_keeps_its_own_settings_until_the_group_is_set(self):
        self.ok("link", "set", "dev", "a.101", "down")
        self.addCleanup(self.ctl, "link", "set", "group", "customers", "up")
        self.assertFalse(self.link("a.101")["admin_up"])
        self.assertTrue(self.link("a.102")["admin_up"], "the other members keep the group's")
        self.assertIn("members:", self.ok("config", "show"))
        before = self.router.flat()
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=4)
        self.assertEqual(self.received_b(1, timeout=1.0), [])
        self.assertEqual(self.router.flat()["vif_down"] - before["vif_down"], 4)
        # A group request covers every member, this one too, as `ip link set group` would.
        self.ok("link", "set", "group", "customers", "up")
        self.assertTrue(self.link("a.101")["admin_up"])
        self.assertNotIn("members:", self.ok("config", "show"))
        self.udp_from_member([tag(0x8100, 101)], "198.18.64.3", n=2)
        self.assertEqual(len(self.received_b(2)), 2)
        r = self.ctl("link", "set", "dev", "a.120", "group", "default")
        self.assertEqual(r.returncode, 1)
        self.assertIn("a template member is in its template's group", r.stderr)

if __name__ == "__main__":
    unittest.main()
