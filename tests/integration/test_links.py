#!/usr/bin/python3
# Ports as operators handle them: admin up/down with the drops counted, groups shown and changed
# as a whole with one request, and every change visible in `config show`.
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from topology import RouterTestCase, sh  # noqa: E402

CONFIG = """
dataplane:
  workers: 1
  nbufs: 8191
control:
  socket: @SOCKET@
groups:
  - id: 10
    name: customers
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    mac: 02:00:00:00:00:01
    addresses: [198.18.1.1/24]
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: 02:00:00:00:00:02
    group: customers
    addresses: [198.18.2.1/24]
"""


class LinksTest(RouterTestCase):
    CONFIG = CONFIG

    def ping(self, dst="198.18.2.2", count=1):
        return sh("ping", "-c", str(count), "-i", "0.2", "-W", "1", dst, ns=self.topo.a,
                  check=False).returncode == 0

    def test_groups_are_shown_with_members(self):
        groups = {g["name"]: g for g in json.loads(self.ok("-j", "group", "show"))}
        self.assertEqual(groups["default"]["id"], 0)
        self.assertEqual(groups["customers"]["id"], 10)
        self.assertEqual(groups["customers"]["ports"], 1)
        self.assertIn("10 customers (1 interfaces, 1 ports)", self.ok("group", "show"))
        links = json.loads(self.ok("-j", "link", "show", "group", "customers"))
        self.assertEqual([l["name"] for l in links], ["b"])
        self.assertEqual(json.loads(self.ok("-j", "link", "show", "group", "10"))[0]["name"], "b")
        self.assertIn("group customers", self.ok("link", "show", "dev", "b"))
        r = self.ctl("link", "show", "group", "nosuch")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no group nosuch", r.stderr)

    def test_admin_down_drops_and_counts(self):
        self.assertTrue(self.ping())
        self.ok("link", "set", "dev", "b", "down")
        self.addCleanup(self.ctl, "link", "set", "dev", "b", "up")
        self.assertIn("<DOWN>", self.ok("link", "show", "dev", "b"))
        self.assertIn("state: down", self.ok("config", "show"))
        before = self.router.flat()
        self.assertFalse(self.ping(count=3), "nothing crosses a port that is down")
        after = self.router.flat()
        self.assertEqual(after["port_down"] - before["port_down"], 3,
                         "each echo request routed to b is dropped as port_down")
        # They were counted as forwarded first: output_dropped says so, so that received
        # packets still add up to their outcomes (tests/soak/).
        self.assertEqual(after["ip4_forwarded"] - before["ip4_forwarded"], 3)
        self.assertEqual(after["output_dropped"] - before["output_dropped"], 3)
        self.ok("link", "set", "dev", "b", "up")
        self.assertNotIn("state: down", self.ok("config", "show"))
        self.assertTrue(self.ping(count=2))

    def test_group_change_is_one_request(self):
        out = self.ok("link", "set", "group", "customers", "mtu", "1400")
        self.addCleanup(self.ctl, "link", "set", "group", "customers", "mtu", "1500")
        self.assertIn("1 interfaces", out)
        self.assertEqual(json.loads(self.ok("-j", "link", "show", "dev", "b"))[0]["mtu"], 1400)
        self.assertEqual(json.loads(self.ok("-j", "link", "show", "dev", "a"))[0]["mtu"], 1500)
        self.ok("link", "set", "dev", "a", "group", "customers")
        self.addCleanup(self.ctl, "link", "set", "dev", "a", "group", "default")
        self.assertIn("2 interfaces", self.ok("link", "set", "group", "customers", "down"))
        self.assertFalse(self.ping("198.18.1.1"), "a is down too: not even the router answers")
        self.assertIn("2 interfaces", self.ok("link", "set", "group", "customers", "up"))
        deadline = time.time() + 3
        while not self.ping("198.18.1.1") and time.time() < deadline:
            pass
        self.assertTrue(self.ping())

    def test_bad_link_requests(self):
        for args, code, words in [
            (("link", "set", "group", "nosuch", "mtu", "1400"), 1, "no group nosuch"),
            (("link", "set", "dev", "zz", "up"), 1, "no interface zz"),
            (("link", "set", "dev", "b", "sideways"), 2, "unexpected 'sideways'"),
            (("link", "set", "dev", "b", "mtu"), 2, "usage"),
            (("link", "set", "dev", "b", "mtu", "40"), 1, "mtu"),
            (("link", "set", "dev", "b", "group", "nosuch"), 1, "no group nosuch"),
        ]:
            self.fails(code, words, *args)
        self.assertTrue(self.ping())


if __name__ == "__main__":
    unittest.main(verbosity=2)
