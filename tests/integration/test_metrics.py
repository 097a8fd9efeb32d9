#!/usr/bin/python3
# The Prometheus exporter as operators use it: a real Prometheus server (Debian's `prometheus`)
# scrapes a real vrouterd in the router's namespace. Counters move by exactly the traffic sent,
# group series are the sums of their ports, `promtool check metrics` accepts the exposition, and
# every query of the shipped Grafana dashboard (grafana/vrouter-dashboard.json) returns data.
import atexit
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

import yaml

sys.path.insert(0, os.path.dirname(__file__))
import packets as P  # noqa: E402
from topology import SRC, RouterTestCase, sh, socket_in  # noqa: E402

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
GRAFANA = os.path.join(SRC, "grafana")
DASHBOARD = os.path.join(GRAFANA, "vrouter-dashboard.json")
EXPORTER = ("127.0.0.1", 9420)    # inside the router namespace, so it never collides
PROM = ("127.0.0.1", 9090)        # the Prometheus server, in the same namespace
SCRAPE_SECONDS = 1
# vrouterd refreshes the snapshot behind /metrics every 500 ms: a scrape that starts this long
# after the last packet sees it.
SNAPSHOT_LAG = 1.2

ROUTER_A_MAC = "02:00:00:00:00:01"
CONFIG = f"""
dataplane:
  workers: 1
  nbufs: 8191
control:
  socket: @SOCKET@
metrics:
  listen: {EXPORTER[0]}:{EXPORTER[1]}
  interfaces: 1
groups:
  - id: 10
    name: customers
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    mac: {ROUTER_A_MAC}
    addresses: [198.18.1.1/24]
  - name: b
    device: net_af_packet1,iface=vr-b
    mac: 02:00:00:00:00:02
    group: customers
    mtu: 1400
    addresses: [198.18.2.1/24]
routes:
  - prefix: 198.19.0.0/16
    via: 198.18.2.2
"""

# The exporter's contract: family -> (type, label names). Every family must be exported, with
# these labels exactly (Prometheus adds job and instance on its side).
PORT_LABELS = {"port", "group"}
FAMILIES = {
    "vrouter_build_info": ("gauge", {"version"}),
    **{f"vrouter_port_{n}_total": ("counter", PORT_LABELS) for n in (
        "receive_packets", "receive_bytes", "transmit_packets", "transmit_bytes",
        "receive_errors", "transmit_errors", "receive_missed", "receive_nobuf")},
    "vrouter_port_up": ("gauge", PORT_LABELS),
    "vrouter_port_admin_up": ("gauge", PORT_LABELS),
    "vrouter_port_mtu_bytes": ("gauge", PORT_LABELS),
    **{f"vrouter_group_{n}_total": ("counter", {"group"}) for n in (
        "receive_packets", "receive_bytes", "transmit_packets", "transmit_bytes",
        "drop_packets", "impairment_drop_packets")},
    "vrouter_group_interfaces": ("gauge", {"group"}),
    **{f"vrouter_worker_{n}_total": ("counter", {"worker"}) for n in (
        "busy_polls", "idle_polls", "busy_seconds", "receive_packets", "transmit_packets")},
    "vrouter_nbuf_pool_size": ("gauge", set()),
    "vrouter_nbuf_pool_in_use": ("gauge", set()),
    "vrouter_ring_depth": ("gauge", {"ring", "worker"}),
    "vrouter_ring_overflows_total": ("counter", {"ring", "worker"}),
    "vrouter_drop_packets_total": ("counter", {"reason"}),
    "vrouter_events_total": ("counter", {"event"}),
    "vrouter_fib_routes": ("gauge", {"family", "origin"}),
    "vrouter_neighbours": ("gauge", {"family", "state"}),
    "vrouter_config_reloads_total": ("counter", {"result"}),
    # knet and its route mirror: served with zeros when the config has no knet.
    "vrouter_knet_packets_total": ("counter", {"direction"}),
    "vrouter_knet_bytes_total": ("counter", {"direction"}),
    "vrouter_knet_drop_packets_total": ("counter", {"reason"}),
    "vrouter_netlink_events_total": ("counter", set()),
    "vrouter_netlink_resyncs_total": ("counter", set()),
    "vrouter_netlink_overflows_total": ("counter", set()),
    "vrouter_netlink_routes": ("gauge", {"state"}),
}

# Grafana's own variables, as the dashboard test renders them (a 1 s scrape interval).
GRAFANA_VARS = {"__rate_interval": "5s", "__interval": "1s", "__range": "1m"}


class NsHTTPConnection(http.client.HTTPConnection):
    """HTTP over a TCP socket created in network namespace `ns`."""

    def __init__(self, ns, host, port, timeout=5):
        super().__init__(host, port, timeout=timeout)
        self.ns = ns

    def connect(self):
        s = socket_in(self.ns, socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect((self.host, self.port))
        except OSError:
            s.close()
            raise
        self.sock = s


def http_get(ns, addr, path):
    c = NsHTTPConnection(ns, *addr)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        c.close()


def parse_exposition(text):
    """({family: type}, [(name, {label: value}, value)]) from the Prometheus text format."""
    types, samples = {}, []
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            m = sample.match(line)
            if m is None:
                raise ValueError(f"not a sample line: {line!r}")
            labels = dict(label.findall(m.group(2) or ""))
            samples.append((m.group(1), labels, float(m.group(3))))
    return types, samples


class Prometheus:
    """A Prometheus server in namespace `ns`, scraping the exporter every second."""

    def __init__(self, ns):
        self.ns = ns
        self.dir = tempfile.mkdtemp(prefix="vrt-prom-")
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            yaml.safe_dump({
                "global": {"scrape_interval": f"{SCRAPE_SECONDS}s",
                           "scrape_timeout": f"{SCRAPE_SECONDS}s",
                           "evaluation_interval": f"{SCRAPE_SECONDS}s"},
                "scrape_configs": [{"job_name": "vrouter", "static_configs": [
                    {"targets": [f"{EXPORTER[0]}:{EXPORTER[1]}"]}]}],
            }, f)
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self._log = open(self.log_path, "w")
        # `ip netns exec` execs the command itself, so this PID is Prometheus's own.
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, PROMETHEUS, f"--config.file={self.config}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address={PROM[0]}:{PROM[1]}", "--web.enable-lifecycle",
             "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT)
        atexit.register(self.stop)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def get(self, path, **params):
        if params:
            path += "?" + urllib.parse.urlencode(params, doseq=True)
        return http_get(self.ns, PROM, path)

    def api(self, path, **params):
        status, _, body = self.get(path, **params)
        reply = json.loads(body)
        if status != 200 or reply.get("status") != "success":
            raise AssertionError(f"{path} {params}: HTTP {status}: {body}")
        return reply["data"]

    def query(self, expr):
        """The instant vector `expr` evaluates to now: [(labels, value)]."""
        data = self.api("/api/v1/query", query=expr)
        if data["resultType"] != "vector":
            raise AssertionError(f"{expr}: a {data['resultType']}, not an instant vector")
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def value(self, expr):
        """The value of an expression that must give exactly one series."""
        result = self.query(expr)
        if len(result) != 1:
            raise AssertionError(f"{expr}: {len(result)} series, expected one: {result}")
        return result[0][1]

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited {self.proc.returncode}:\n{self.log()}")
            try:
                if self.get("/-/ready")[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("prometheus never became ready:\n" + self.log())
            time.sleep(0.2)
        # Ready is not scraped: wait for a successful scrape of the exporter.
        while True:
            try:
                if self.query('up{job="vrouter"} == 1'):
                    return
            except (OSError, AssertionError):
                pass
            if time.time() > deadline:
                raise RuntimeError("prometheus never scraped vrouterd successfully: "
                                   f"{self.target_errors()}")
            time.sleep(0.2)

    def target_errors(self):
        return [(t["scrapeUrl"], t["health"], t["lastError"])
                for t in self.api("/api/v1/targets")["activeTargets"]]

    def wait_scrape_after(self, t, timeout=15):
        """Waits until Prometheus holds a scrape of vrouterd that started at or after time t."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            # timestamp() of a bare selector is the scrape's time; of anything computed (such as
            # `up == 1`) it would be the evaluation time, so `up` is checked on its own.
            r = self.query('timestamp(up{job="vrouter"})')
            if r and r[0][1] >= t:
                if self.value('up{job="vrouter"}') != 1:
                    raise AssertionError(f"the scrape of vrouterd failed: {self.target_errors()}")
                return
            time.sleep(0.2)
        raise AssertionError(f"no scrape of vrouterd after {t} within {timeout} s")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()   # by PID: Prometheus shuts down cleanly on SIGTERM
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def dashboard_exprs(dash):
    """(panel title, expr) for every query target of every panel, rows included."""
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((p.get("title", ""), t["expr"]))
            walk(p.get("panels", []))

    walk(dash.get("panels", []))
    return out


def render(expr, values):
    """Substitutes Grafana's $name and ${name} forms; any variable left over is an error."""
    def sub(m):
        name = m.group(1) or m.group(2)
        if name not in values:
            raise KeyError(f"unknown variable ${name} in {expr}")
        return values[name]
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, expr)


class MetricsTest(RouterTestCase):
    CONFIG = CONFIG

    @classmethod
    def setUpClass(cls):
        for tool in (PROMETHEUS, PROMTOOL):
            if not os.access(tool, os.X_OK):
                raise RuntimeError(f"{tool} missing: scripts/deps.sh installs it (prometheus)")
        super().setUpClass()
        cls.prom = None
        try:
            cls.a_mac = cls.topo.mac(cls.topo.a, "eth0")
            # Both hosts resolved once, so counted traffic does not wait on (or add) ARP.
            for ns, dst in ((cls.topo.a, "198.18.2.2"), (cls.topo.b, "198.18.1.2")):
                sh("ping", "-c", "2", "-i", "0.2", "-W", "2", dst, ns=ns)
            cls.prom = Prometheus(cls.topo.r)
            cls.prom.wait_ready()
        except BaseException:
            if cls.prom is not None:
                cls.prom.stop()
            cls.router.stop()
            cls.topo.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.prom.stop()
        super().tearDownClass()

    # --- helpers -------------------------------------------------------------------------------

    def scrape(self):
        status, headers, body = http_get(self.topo.r, EXPORTER, "/metrics")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers.get("content-type", "").startswith("text/plain"), headers)
        return body

    def settled(self):
        """Waits for a scrape that sees everything done so far."""
        self.prom.wait_scrape_after(time.time() + SNAPSHOT_LAG)

    def values(self, exprs):
        """The current value of each expression (one series each), after settling."""
        self.settled()
        return {e: self.prom.value(e) for e in exprs}

    def send_udp_a_to_b(self, count, size=100, port=5009):
        """`count` UDP datagrams from A to a socket listening on B, paced so none is lost;
        returns how many B received."""
        rx = socket_in(self.topo.b, socket.AF_INET, socket.SOCK_DGRAM)
        tx = socket_in(self.topo.a, socket.AF_INET, socket.SOCK_DGRAM)
        with rx, tx:
            rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            rx.bind(("198.18.2.2", port))
            rx.settimeout(2.0)
            received = 0
            for start in range(0, count, 50):
                n = min(50, count - start)
                for _ in range(n):
                    tx.sendto(b"m" * size, ("198.18.2.2", port))
                # Each batch arrives before the next leaves: the af_packet rings never fill.
                try:
                    while received < start + n:
                        rx.recv(2048)
                        received += 1
                except socket.timeout:
                    break
        return received

    # --- the scrape itself ---------------------------------------------------------------------

    def test_prometheus_scrapes_vrouterd(self):
        self.assertEqual(self.prom.value('up{job="vrouter"}'), 1)
        self.assertGreater(self.prom.value('scrape_samples_scraped{job="vrouter"}'), 50)

    def test_exposition_passes_promtool(self):
        text = self.scrape()
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                           text=True)
        # promtool exits 1 on a format error and 3 on lint problems (a counter without _total,
        # a missing HELP, a non-base unit...): the exporter must have neither.
        self.assertEqual(r.returncode, 0, f"promtool check metrics:\n{r.stdout}{r.stderr}")

    def test_every_documented_family_is_exported(self):
        types, samples = parse_exposition(self.scrape())
        seen = {}
        for name, labels, _ in samples:
            seen.setdefault(name, set()).add(frozenset(labels))
        for family, (kind, labels) in FAMILIES.items():
            with self.subTest(family=family):
                self.assertIn(family, seen, f"{family} is not exported")
                self.assertEqual(types.get(family), kind, f"# TYPE of {family}")
                for got in seen[family]:
                    self.assertEqual(set(got), labels, f"labels of {family}")
        stray = {n for n in seen if n.startswith("vrouter_") and n not in FAMILIES}
        self.assertEqual(stray, set(), "exported but not in the documented contract")

    def test_label_values_match_the_router(self):
        _, samples = parse_exposition(self.scrape())
        stats = self.router.stats()

        def values_of(family, label):
            return {l[label] for n, l, _ in samples if n == family}

        self.assertEqual(
            {(l["port"], l["group"]) for n, l, _ in samples if n == "vrouter_port_up"},
            {("a", "default"), ("b", "customers")})
        self.assertEqual(values_of("vrouter_group_receive_packets_total", "group"),
                         {"default", "customers"})
        self.assertEqual(values_of("vrouter_worker_busy_polls_total", "worker"), {"0"})
        self.assertEqual({(l["ring"], l["worker"]) for n, l, _ in samples
                          if n == "vrouter_ring_depth"}, {("inq", "0"), ("outq", "0")})
        self.assertEqual({(l["ring"], l["worker"]) for n, l, _ in samples
                          if n == "vrouter_ring_overflows_total"}, {("inq", "0"), ("outq", "0")})
        self.assertEqual(values_of("vrouter_drop_packets_total", "reason"), set(stats["drops"]),
                         "one series per drop reason, named as vrouterctl stats names them")
        self.assertEqual(values_of("vrouter_events_total", "event"), set(stats["counters"]),
                         "one series per event, named as vrouterctl stats names them")
        self.assertEqual(values_of("vrouter_config_reloads_total", "result"),
                         {"success", "failure"})
        self.assertEqual(values_of("vrouter_fib_routes", "family"), {"ipv4", "ipv6"})
        self.assertLessEqual({"connected", "local", "broadcast", "static"},
                             values_of("vrouter_fib_routes", "origin"))

    def test_gauges_match_the_router(self):
        stats = self.router.stats()
        v = self.values([
            'vrouter_port_mtu_bytes{port="a"}', 'vrouter_port_mtu_bytes{port="b"}',
            'vrouter_port_up{port="a"}', 'vrouter_port_admin_up{port="b"}',
            "vrouter_nbuf_pool_size", "vrouter_nbuf_pool_in_use",
            'vrouter_fib_routes{family="ipv4",origin="connected"}',
            'vrouter_fib_routes{family="ipv4",origin="local"}',
            'vrouter_fib_routes{family="ipv4",origin="broadcast"}',
            'vrouter_fib_routes{family="ipv4",origin="static"}',
            "sum(vrouter_neighbours)", "count(vrouter_build_info == 1)",
        ])
        self.assertEqual(v['vrouter_port_mtu_bytes{port="a"}'], 1500)
        self.assertEqual(v['vrouter_port_mtu_bytes{port="b"}'], 1400)
        self.assertEqual(v['vrouter_port_up{port="a"}'], 1, "net_af_packet is always up")
        self.assertEqual(v['vrouter_port_admin_up{port="b"}'], 1)
        self.assertEqual(v["vrouter_nbuf_pool_size"], stats["pool"]["size"])
        self.assertLess(v["vrouter_nbuf_pool_in_use"], v["vrouter_nbuf_pool_size"])
        # Two addresses, each with its connected subnet, local /32 and broadcast /32.
        self.assertEqual(v['vrouter_fib_routes{family="ipv4",origin="connected"}'], 2)
        self.assertEqual(v['vrouter_fib_routes{family="ipv4",origin="local"}'], 2)
        self.assertEqual(v['vrouter_fib_routes{family="ipv4",origin="broadcast"}'], 2)
        self.assertEqual(v['vrouter_fib_routes{family="ipv4",origin="static"}'], 1)
        self.assertGreaterEqual(v["sum(vrouter_neighbours)"], 2, "A and B answered ARP")
        self.assertEqual(v["count(vrouter_build_info == 1)"], 1)

    def test_admin_state_shows(self):
        self.router.ctl("link", "set", "dev", "b", "down")
        self.addCleanup(self.router.ctl, "link", "set", "dev", "b", "up")
        self.assertEqual(self.values(['vrouter_port_admin_up{port="b"}'])
                         ['vrouter_port_admin_up{port="b"}'], 0)
        self.router.ctl("link", "set", "dev", "b", "up")
        self.assertEqual(self.values(['vrouter_port_admin_up{port="b"}'])
                         ['vrouter_port_admin_up{port="b"}'], 1)

    def interfaces(self):
        """/metrics/interfaces as text and as {series: value}; its counters are read at scrape
        time, so no snapshot lag applies."""
        status, _, body = http_get(self.topo.r, EXPORTER, "/metrics/interfaces")
        self.assertEqual(status, 200, body)
        values = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                series, value = line.rsplit(" ", 1)
                values[series] = float(value)
        return body, values

    def test_per_interface_series_are_capped_and_count_the_traffic(self):
        # CONFIG caps /metrics/interfaces at one interface: port a (vif 0) is reported, port b
        # is left out and counted as left out.
        text, before = self.interfaces()
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, f"promtool check metrics:\n{r.stdout}{r.stderr}")
        self.assertEqual(before["vrouter_interfaces_exported"], 1)
        self.assertEqual(before["vrouter_interfaces_omitted"], 1)
        rx = 'vrouter_interface_receive_packets_total{interface="a",group="default"}'
        rx_bytes = 'vrouter_interface_receive_bytes_total{interface="a",group="default"}'
        self.assertIn(rx, before)
        self.assertEqual([k for k in before if 'interface="b"' in k], [])
        self.assertNotIn("vrouter_interface_", self.scrape(), "per-vif series stay off /metrics")
        n, size = 40, 100
        self.assertEqual(self.send_udp_a_to_b(n, size), n)
        _, after = self.interfaces()
        # At least the datagrams; a stray ARP refresh may add one or two frames, no more.
        self.assertGreaterEqual(after[rx] - before[rx], n)
        self.assertLess(after[rx] - before[rx], n + 5)
        self.assertGreaterEqual(after[rx_bytes] - before[rx_bytes], n * (14 + 20 + 8 + size))

    # --- counters move by exactly the traffic --------------------------------------------------

    def test_forwarded_traffic_is_counted(self):
        n, size = 500, 100
        frame = 14 + 20 + 8 + size
        exprs = [
            'vrouter_events_total{event="ip4_forwarded"}',
            'vrouter_port_receive_packets_total{port="a"}',
            'vrouter_port_receive_bytes_total{port="a"}',
            'vrouter_port_transmit_packets_total{port="b"}',
            'vrouter_port_transmit_bytes_total{port="b"}',
            'vrouter_group_receive_packets_total{group="default"}',
            'vrouter_group_transmit_packets_total{group="customers"}',
            'vrouter_worker_receive_packets_total{worker="0"}',
            'vrouter_worker_transmit_packets_total{worker="0"}',
            'vrouter_worker_busy_polls_total{worker="0"}',
            'vrouter_worker_busy_seconds_total{worker="0"}',
        ]
        before = self.values(exprs)
        stats_before = self.router.flat()
        received = self.send_udp_a_to_b(n, size)
        self.assertEqual(received, n, "B did not receive every datagram")
        after = self.values(exprs)
        d = {e: after[e] - before[e] for e in exprs}
        self.assertEqual(d['vrouter_events_total{event="ip4_forwarded"}'], n,
                         "nothing else crossed the router")
        self.assertEqual(self.router.flat()["ip4_forwarded"] - stats_before["ip4_forwarded"], n)
        self.assertGreaterEqual(d['vrouter_port_receive_packets_total{port="a"}'], n)
        self.assertGreaterEqual(d['vrouter_port_receive_bytes_total{port="a"}'], n * frame)
        self.assertGreaterEqual(d['vrouter_port_transmit_packets_total{port="b"}'], n)
        self.assertGreaterEqual(d['vrouter_port_transmit_bytes_total{port="b"}'], n * frame)
        self.assertGreaterEqual(d['vrouter_group_receive_packets_total{group="default"}'], n)
        self.assertGreaterEqual(d['vrouter_group_transmit_packets_total{group="customers"}'], n)
        self.assertGreaterEqual(d['vrouter_worker_receive_packets_total{worker="0"}'], n)
        self.assertGreaterEqual(d['vrouter_worker_transmit_packets_total{worker="0"}'], n)
        self.assertGreater(d['vrouter_worker_busy_polls_total{worker="0"}'], 0)
        self.assertGreater(d['vrouter_worker_busy_seconds_total{worker="0"}'], 0)
        self.assertLess(d['vrouter_worker_busy_seconds_total{worker="0"}'],
                        60, "busy seconds are seconds, not TSC cycles")

    def test_bad_checksums_are_counted_by_reason(self):
        n = 7
        reason = 'vrouter_drop_packets_total{reason="ip4_bad_checksum"}'
        forwarded = 'vrouter_events_total{event="ip4_forwarded"}'
        before = self.values([reason, forwarded])
        s = P.packet_socket(socket_in, self.topo.a, "eth0")
        with s:
            for i in range(n):
                pkt = P.ip4_udp("198.18.1.2", "198.18.2.2", b"bad" * 10, ident=0x0BAD + i,
                                bad_checksum=True)
                s.send(P.ether(ROUTER_A_MAC, self.a_mac, pkt))
        time.sleep(0.2)
        after = self.values([reason, forwarded])
        self.assertEqual(after[reason] - before[reason], n)
        self.assertEqual(after[forwarded], before[forwarded], "a bad checksum is never forwarded")

    def test_groups_are_the_sum_of_their_ports(self):
        # Traffic first, so the sums are not all zeros.
        self.assertGreater(self.send_udp_a_to_b(50), 0)
        self.settled()
        checks = {
            f"vrouter_group_{d}_{u}_total": f"vrouter_port_{d}_{u}_total"
            for d in ("receive", "transmit") for u in ("packets", "bytes")
        }
        for group_family, port_expr in checks.items():
            with self.subTest(family=group_family):
                # One query, so both sides come from the same scrape.
                diff = self.prom.query(f"{group_family} - on(group) "
                                       f"sum by (group) ({port_expr})")
                self.assertEqual({l["group"] for l, _ in diff}, {"default", "customers"})
                for labels, value in diff:
                    self.assertEqual(value, 0, f"{group_family}{{group={labels['group']}}}")
        self.assertGreater(self.prom.value(
            'vrouter_group_receive_packets_total{group="default"}'), 0)
        # A group's drops are its interfaces' share of the router's drops (every one is also
        # counted under a reason, or as an impairment drop), so they can never exceed them.
        excess = self.prom.query(
            'sum(vrouter_group_drop_packets_total) - sum(vrouter_drop_packets_total) '
            '- sum(vrouter_events_total{event="impairment_dropped"})')
        self.assertEqual(len(excess), 1)
        self.assertLessEqual(excess[0][1], 0)
        self.assertEqual(self.prom.value('vrouter_group_interfaces{group="customers"}'), 1)

    def test_moved_port_leaves_its_counts_with_its_old_group(self):
        # A group counts what its interfaces did while they were its members: when port b moves
        # to a new group, customers keeps its count (never reset, never decreasing), the new
        # group counts only what came after, and back in customers b adds to what it had.
        cust = 'vrouter_group_transmit_packets_total{group="customers"}'
        transit = 'vrouter_group_transmit_packets_total{group="transit"}'
        self.assertGreater(self.send_udp_a_to_b(20), 0)
        before = self.values([cust])
        self.assertGreater(before[cust], 0)
        with open(self.router.config) as f:
            good = f.read()
        moved = good.replace("    group: customers\n", "    group: transit\n").replace(
            "groups:\n", "groups:\n  - id: 11\n    name: transit\n")
        self.assertNotEqual(moved, good)
        try:
            with open(self.router.config, "w") as f:
                f.write(moved)
            self.assertEqual(self.router.ctl("reload", check=False).returncode, 0)
            self.assertEqual(self.send_udp_a_to_b(100), 100)
            during = self.values([cust, transit])
            self.assertEqual(during[cust], before[cust])
            self.assertGreaterEqual(during[transit], 100)
            self.assertLess(during[transit], 105, "only what b sent while in transit")
        finally:
            with open(self.router.config, "w") as f:
                f.write(good)
            self.assertEqual(self.router.ctl("reload", check=False).returncode, 0)
        self.assertEqual(self.send_udp_a_to_b(50), 50)
        after = self.values([cust])
        self.assertGreaterEqual(after[cust] - during[cust], 50)
        self.assertLess(after[cust] - during[cust], 55)

    def test_reloads_are_counted_by_result(self):
        ok = 'vrouter_config_reloads_total{result="success"}'
        bad = 'vrouter_config_reloads_total{result="failure"}'
        before = self.values([ok, bad])
        self.assertEqual(self.router.ctl("reload", check=False).returncode, 0)
        with open(self.router.config) as f:
            good = f.read()
        try:
            with open(self.router.config, "w") as f:
                f.write(good + "nosuchkey: 1\n")
            self.assertEqual(self.router.ctl("reload", check=False).returncode, 1)
        finally:
            with open(self.router.config, "w") as f:
                f.write(good)
        after = self.values([ok, bad])
        self.assertEqual(after[ok] - before[ok], 1)
        self.assertEqual(after[bad] - before[bad], 1)

    def test_prometheus_agrees_with_vrouterctl(self):
        # Counters that did not move between two vrouterctl readings around a settled scrape
        # must read the same through Prometheus.
        first = self.router.stats()
        self.settled()
        second = self.router.stats()
        scraped = {}
        for labels, value in self.prom.query('{__name__=~"vrouter_(drop_packets|events)_total"}'):
            if "event" in labels:
                scraped[("counters", labels["event"])] = value
            else:
                scraped[("drops", labels["reason"])] = value
        compared = 0
        for section in ("counters", "drops"):
            for k, v in second[section].items():
                if first[section][k] == v:
                    with self.subTest(counter=k):
                        self.assertEqual(scraped.get((section, k)), v)
                    compared += 1
        self.assertGreater(compared, 20)

    # --- the Grafana dashboard -----------------------------------------------------------------

    def test_dashboard_is_well_formed(self):
        with open(DASHBOARD) as f:
            dash = json.load(f)
        self.assertGreaterEqual(dash["schemaVersion"], 36)
        self.assertTrue(dash["uid"])
        variables = {v["name"]: v for v in dash["templating"]["list"]}
        self.assertEqual(variables["datasource"]["type"], "datasource")
        self.assertEqual(variables["datasource"]["query"], "prometheus")
        self.assertEqual(variables["port"]["definition"],
                         "label_values(vrouter_port_receive_packets_total, port)")
        self.assertTrue(variables["port"]["multi"] and variables["port"]["includeAll"])
        self.assertEqual(variables["group"]["definition"],
                         "label_values(vrouter_group_receive_packets_total, group)")
        ids, cells = set(), set()
        for p in dash["panels"]:
            with self.subTest(panel=p.get("title")):
                self.assertNotIn(p["id"], ids, "panel ids are unique")
                ids.add(p["id"])
                g = p["gridPos"]
                self.assertLessEqual(g["x"] + g["w"], 24)
                mine = {(g["x"] + dx, g["y"] + dy) for dx in range(g["w"]) for dy in range(g["h"])}
                self.assertFalse(mine & cells, "panels overlap")
                cells |= mine
                if p["type"] == "row":
                    continue
                self.assertEqual(p["datasource"], {"type": "prometheus", "uid": "${datasource}"})
                self.assertTrue(p["targets"])
                refs = [t["refId"] for t in p["targets"]]
                self.assertEqual(len(refs), len(set(refs)))
        # Every documented family has a panel.
        exprs = " ".join(e for _, e in dashboard_exprs(dash))
        for family in FAMILIES:
            with self.subTest(family=family):
                self.assertRegex(exprs, rf"\b{family}\b")

    def test_provisioning_examples(self):
        with open(os.path.join(GRAFANA, "provisioning/datasources/vrouter.yaml")) as f:
            ds = yaml.safe_load(f)
        self.assertEqual(ds["apiVersion"], 1)
        self.assertEqual(ds["datasources"][0]["type"], "prometheus")
        with open(os.path.join(GRAFANA, "provisioning/dashboards/vrouter.yaml")) as f:
            prov = yaml.safe_load(f)
        self.assertEqual(prov["apiVersion"], 1)
        self.assertEqual(prov["providers"][0]["type"], "file")
        self.assertTrue(prov["providers"][0]["options"]["path"].startswith("/"))

    def test_dashboard_variables_have_values(self):
        with open(DASHBOARD) as f:
            dash = json.load(f)
        for v in dash["templating"]["list"]:
            if v["type"] != "query":
                continue
            m = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", v["definition"])
            self.assertIsNotNone(m, v["definition"])
            metric, label = m.groups()
            values = self.prom.api(f"/api/v1/label/{label}/values", **{"match[]": metric})
            with self.subTest(variable=v["name"]):
                self.assertTrue(values, f"${v['name']} would offer nothing")

    def test_every_dashboard_query_returns_data(self):
        with open(DASHBOARD) as f:
            dash = json.load(f)
        exprs = dashboard_exprs(dash)
        self.assertGreater(len(exprs), 20)
        # Some traffic and a drop within the last rate interval, so rates have two samples.
        self.send_udp_a_to_b(50)
        self.settled()
        time.sleep(2 * SCRAPE_SECONDS)
        selections = [{"port": ".*", "group": ".*"},
                      {"port": "a", "group": "customers"},
                      {"port": "(a|b)", "group": "(default|customers)"}]
        for selection in selections:
            for title, expr in exprs:
                q = render(expr, {**GRAFANA_VARS, **selection})
                with self.subTest(panel=title, query=q):
                    self.assertTrue(self.prom.query(q), "no series")


if __name__ == "__main__":
    unittest.main(verbosity=2)
