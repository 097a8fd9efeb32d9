// Tests of config/writer.cc (FormatConfig) and of what it relies on: Config equality that ignores
// where values came from, and the control.group key. A saved config must load back to the same
// state, so most tests are round trips: load, format, load again, compare.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "config/config.h"

namespace vr::config {
namespace {

std::string FirstLine(const absl::Status& s) {
  std::string m(s.message());
  return m.substr(0, m.find('\n'));
}

uint32_t Ip(std::string_view s) { return *ParseIp4(s); }

// Every key of every section set away from its default: a mac on one port and not on another, a
// port without addresses, each route type, neighbours with and without an explicit port, ports in
// a named group, in an unnamed one and down. (group_file needs a file: GroupFile tests below.)
constexpr std::string_view kEveryKey = R"(
dataplane: {workers: 4, nbufs: 65535}
control:
  socket: /tmp/vr.sock
  group: vrouter
arp: {hold_packets: 8, reachable_seconds: 60, retries: 5, retry_ms: 250, gc_seconds: 600}
icmp: {rate_per_second: 50, burst: 10}
groups:
  - {id: 7, name: web}
  - {id: 3, name: "null"}
neighbours:
  - ip: 198.18.2.2
    mac: 02:00:00:00:00:BB
  - ip: 10.0.0.1
    mac: 02:00:00:00:00:cc
    port: uplink
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    mac: 02:00:00:00:00:01
    mtu: 9000
    addresses: [198.18.1.1/24, 198.18.3.1/31]
    group: web
  - name: b
    device: net_af_packet1,iface=vr-b
    addresses:
      - 198.18.2.1/24
    group: "null"
  - name: uplink
    device: 0000:03:00.0
    mtu: 576
    addresses: [10.0.0.2/30]
    group: 0x10
  - name: spare
    device: net_tap0
    state: down
routes:
  - prefix: 0.0.0.0/0
    via: 10.0.0.1
  - prefix: 198.19.0.0/16
    via: 198.18.2.2
    type: forward
  - prefix: 198.19.255.0/24
    type: blackhole
  - prefix: 198.18.128.0/20
    type: unreachable
  - prefix: 198.20.0.0/16
    via: 198.18.3.0
)";

constexpr std::string_view kMinimal = "ports:\n  - name: a\n    device: 0000:03:00.0\n";

// Sub-interfaces and group settings: every impairment mode, vlan and qinq templates with and
// without addresses and MACs, a group with settings and no name, vifs with every key and none,
// a vif in its parent's group, in another, and in group 0 under a parent that is not.
constexpr std::string_view kSubinterfaces = R"(
groups:
  - {id: 7, name: web, mtu: 1400, state: down, impairment: {mode: pass}}
  - id: 8
    state: up
    impairment: {mode: drop, percent: 25, seed: 18446744073709551615}
    templates:
      - {parent: a, vlan: 100-163, address: 198.18.64.0/31, mac: 02:00:00:00:10:00}
      - {parent: a, vlan: 200}
      - parent: b
        outer: 10-13
        inner: 1-100
        address: 198.18.96.1/30
        address_step: 8
        mac: 02:00:00:00:20:00
        mac_step: 4
  - {id: 9, name: lab, impairment: {mode: flap, on_ms: 250, off_ms: 750}}
  - {id: 10, name: empty}
ports:
  - {name: a, device: net_tap0, addresses: [198.18.1.1/24], group: web}
  - {name: b, device: net_tap1, mtu: 9000}
vifs:
  - {parent: a, vlan: 5}
  - name: lab7
    parent: b
    outer: 7
    inner: 1
    mac: 02:00:00:00:00:07
    mtu: 9000
    addresses: [198.18.7.1/24, 198.18.8.1/30]
    group: lab
    state: down
    impairment: {mode: drop, percent: 5}
  - {parent: a, vlan: 6, group: default, state: up, impairment: {mode: flap, on_ms: 1, off_ms: 1}}
  - {parent: a, vlan: 7, group: 12345}
routes:
  - {prefix: 198.19.0.0/16, via: 198.18.64.3}
  - {prefix: 198.20.0.0/16, via: 198.18.7.2}
neighbours:
  - {ip: 198.18.96.10, mac: 02:00:00:00:00:bb}
  - {ip: 198.18.8.2, mac: 02:00:00:00:00:cc, port: lab7}
)";

// Dual stack, every IPv6 key: mixed address lists (IPv6 given first on port a), link_local on a
// port and a vif and not on the others, each route type, a default route, a link-local next hop on
// a port and on a vif, a next hop ending in "::" (YAML needs it quoted), neighbours with the port
// found and given, and one link-local address as a neighbour on two links.
constexpr std::string_view kDualStack = R"(
ports:
  - name: a
    device: net_tap0
    addresses: [2001:db8:1::1/64, 198.18.1.1/24, fd00:1::1/127]
    link_local: fe80::1
  - name: b
    device: net_tap1
    addresses: [198.18.2.1/24, 2001:db8:2::1/64]
  - name: c
    device: net_tap2
vifs:
  - {parent: a, vlan: 7, addresses: [2001:db8:7::1/64], link_local: fe80::7:1}
  - {parent: b, vlan: 8, addresses: [198.18.8.1/24]}
routes:
  - {prefix: "::/0", via: 2001:db8:2::2}
  - {prefix: 198.19.0.0/16, via: 198.18.2.2}
  - {prefix: 2001:db8:100::/40, via: fe80::2, port: a.7}
  - {prefix: 2001:db8:200::/48, type: blackhole}
  - {prefix: 2001:db8:300::/48, type: unreachable}
  - {prefix: 2001:db8:400::/48, via: "fd00:1::"}
  - {prefix: 2001:db8:500::/48, via: FE80::1:2, port: c}
neighbours:
  - {ip: 2001:db8:2::2, mac: 02:00:00:00:00:bb}
  - {ip: 198.18.1.2, mac: 02:00:00:00:00:aa}
  - {ip: 2001:db8:7::2, mac: 02:00:00:00:00:cc, port: a.7}
  - {ip: fe80::2, mac: 02:00:00:00:00:dd, port: a}
  - {ip: fe80::2, mac: 02:00:00:00:00:ee, port: b.8}
)";

Config Load(std::string_view text, std::string_view file = "t.yaml") {
  absl::StatusOr<Config> c = ParseConfig(text, file);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : Config{};
}

// Formats c, loads the text back under another file name and expects an equal config.
void ExpectRoundTrip(const Config& c) {
  std::string text = FormatConfig(c);
  SCOPED_TRACE(text);
  absl::StatusOr<Config> back = ParseConfig(text, "written.yaml");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == c);
  // Spelled out too, so that a failure says which part differs.
  EXPECT_TRUE(back->dataplane == c.dataplane);
  EXPECT_TRUE(back->control == c.control);
  EXPECT_TRUE(back->arp == c.arp);
  EXPECT_TRUE(back->icmp == c.icmp);
  EXPECT_TRUE(back->knet == c.knet);
  EXPECT_TRUE(back->ports == c.ports);
  EXPECT_TRUE(back->vifs == c.vifs);
  EXPECT_TRUE(back->routes == c.routes);
  EXPECT_TRUE(back->neighbours == c.neighbours);
  EXPECT_TRUE(back->routes6 == c.routes6);
  EXPECT_TRUE(back->neighbours6 == c.neighbours6);
  EXPECT_TRUE(back->group_file == c.group_file);
  EXPECT_TRUE(back->groups == c.groups);
}

TEST(FormatConfig, DemoRoundTrips) {
  absl::StatusOr<Config> c = LoadConfigFile(VR_SOURCE_DIR "/config/examples/demo.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectRoundTrip(*c);
}

TEST(FormatConfig, EveryKeyRoundTrips) {
  Config c = Load(kEveryKey);
  // The config really is away from the defaults everywhere, or the round trip proves little.
  Config defaults;
  EXPECT_FALSE(c.dataplane == defaults.dataplane);
  EXPECT_FALSE(c.control == defaults.control);
  EXPECT_FALSE(c.arp == defaults.arp);
  EXPECT_FALSE(c.icmp == defaults.icmp);
  ASSERT_EQ(c.ports.size(), 4u);
  ASSERT_EQ(c.routes.size(), 5u);
  ASSERT_EQ(c.neighbours.size(), 2u);
  ASSERT_EQ(c.groups.size(), 3u);
  EXPECT_EQ(c.ports[0].group, 7u);
  EXPECT_EQ(c.ports[1].group, 3u);
  EXPECT_EQ(c.ports[2].group, 16u);
  EXPECT_FALSE(c.ports[3].up);
  ExpectRoundTrip(c);
}

TEST(FormatConfig, MinimalRoundTrips) { ExpectRoundTrip(Load(kMinimal)); }

TEST(FormatConfig, KnetRoundTrips) {
  Config c = Load(std::string(kMinimal) +
                  "knet:\n  name: k1\n  mtu: 9000\n  rate: 7\n  burst: 3\n  offload: false\n"
                  "  mirror:\n    table: 100\n    protocols: [bird, 186, 77]\n");
  EXPECT_TRUE(c.knet.enabled);
  ExpectRoundTrip(c);
  c = Load(std::string(kMinimal) + "knet:\n  mirror: off\n");
  EXPECT_FALSE(c.knet.mirror);
  ExpectRoundTrip(c);
  c = Load(std::string(kMinimal) + "knet: {}\n");
  EXPECT_TRUE(c.knet.enabled);
  ExpectRoundTrip(c);
}

TEST(FormatConfig, SubinterfacesRoundTrip) {
  Config c = Load(kSubinterfaces);
  ASSERT_EQ(c.groups.size(), 5u);
  EXPECT_EQ(c.groups[2].name, "");
  ASSERT_EQ(c.groups[2].templates.size(), 3u);
  ASSERT_EQ(c.vifs.size(), 4u);
  EXPECT_EQ(c.vifs[0].group, 7u);  // the parent's
  EXPECT_EQ(c.vifs[2].group, 0u);
  EXPECT_EQ(c.neighbours[0].port, "b.10.2");
  ExpectRoundTrip(c);
}

TEST(FormatConfig, EveryExampleRoundTrips) {
  for (const auto& entry : std::filesystem::directory_iterator(VR_SOURCE_DIR "/config/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    absl::StatusOr<Config> c = LoadConfigFile(entry.path().string());
    ASSERT_TRUE(c.ok()) << c.status();
    ExpectRoundTrip(*c);
    std::string once = FormatConfig(*c);
    EXPECT_EQ(FormatConfig(Load(once, "once.yaml")), once);
  }
}

// The groups and vifs sections: settings after the name, templates as block maps, a nameless
// group by its id alone, vifs with their name always and their group when it is not the parent's.
TEST(FormatConfig, WritesGroupSettingsTemplatesAndVifs) {
  Config c = Load(kSubinterfaces);
  std::string text = FormatConfig(c);
  std::string groups =
      "\ngroups:\n"
      "  - id: 7\n"
      "    name: web\n"
      "    mtu: 1400\n"
      "    state: down\n"
      "    impairment: {mode: pass}\n"
      "  - id: 8\n"
      "    state: up\n"
      "    impairment: {mode: drop, percent: 25, seed: 18446744073709551615}\n"
      "    templates:\n"
      "      - parent: a\n"
      "        vlan: 100-163\n"
      "        address: 198.18.64.0/31\n"
      "        address_step: 2\n"
      "        mac: 02:00:00:00:10:00\n"
      "        mac_step: 1\n"
      "      - parent: a\n"
      "        vlan: 200\n"
      "      - parent: b\n"
      "        outer: 10-13\n"
      "        inner: 1-100\n"
      "        address: 198.18.96.1/30\n"
      "        address_step: 8\n"
      "        mac: 02:00:00:00:20:00\n"
      "        mac_step: 4\n"
      "  - id: 9\n"
      "    name: lab\n"
      "    impairment: {mode: flap, on_ms: 250, off_ms: 750}\n"
      "  - id: 10\n"
      "    name: empty\n"
      "\nports:\n";
  EXPECT_NE(text.find(groups), std::string::npos) << text;
  std::string vifs =
      "\nvifs:\n"
      "  - name: a.5\n"
      "    parent: a\n"
      "    vlan: 5\n"
      "    addresses: []\n"
      "  - name: lab7\n"
      "    parent: b\n"
      "    outer: 7\n"
      "    inner: 1\n"
      "    mac: 02:00:00:00:00:07\n"
      "    mtu: 9000\n"
      "    addresses: [198.18.7.1/24, 198.18.8.1/30]\n"
      "    group: lab\n"
      "    state: down\n"
      "    impairment: {mode: drop, percent: 5, seed: 1}\n"
      "  - name: a.6\n"
      "    parent: a\n"
      "    vlan: 6\n"
      "    addresses: []\n"
      "    group: default\n"
      "    state: up\n"
      "    impairment: {mode: flap, on_ms: 1, off_ms: 1}\n"
      "  - name: a.7\n"
      "    parent: a\n"
      "    vlan: 7\n"
      "    addresses: []\n"
      "    group: 12345\n"
      "\nroutes:\n";
  EXPECT_NE(text.find(vifs), std::string::npos) << text;
  EXPECT_EQ(FormatConfig(Load(kMinimal)).find("vifs"), std::string::npos);
}

TEST(FormatConfig, DualStackRoundTrips) {
  Config c = Load(kDualStack);
  ASSERT_EQ(c.ports.size(), 3u);
  EXPECT_EQ(c.ports[0].addresses6.size(), 2u);
  EXPECT_TRUE(c.ports[0].link_local.has_value());
  EXPECT_TRUE(c.vifs[0].link_local.has_value());
  EXPECT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes6.size(), 6u);
  EXPECT_EQ(c.neighbours.size(), 1u);
  EXPECT_EQ(c.neighbours6.size(), 4u);
  ExpectRoundTrip(c);
}

// IPv6 items come after the IPv4 ones in each list, in canonical text (RFC 5952); link_local after
// addresses, when set; a route's port only with a link-local via; text YAML would misread quoted.
TEST(FormatConfig, WritesIpv6AfterIpv4) {
  std::string text = FormatConfig(Load(kDualStack));
  std::string ports =
      "\nports:\n"
      "  - name: a\n"
      "    device: net_tap0\n"
      "    mtu: 1500\n"
      "    addresses: [198.18.1.1/24, 2001:db8:1::1/64, fd00:1::1/127]\n"
      "    link_local: fe80::1\n"
      "  - name: b\n"
      "    device: net_tap1\n"
      "    mtu: 1500\n"
      "    addresses: [198.18.2.1/24, 2001:db8:2::1/64]\n"
      "  - name: c\n"
      "    device: net_tap2\n"
      "    mtu: 1500\n"
      "    addresses: []\n"
      "\nvifs:\n"
      "  - name: a.7\n"
      "    parent: a\n"
      "    vlan: 7\n"
      "    addresses: [2001:db8:7::1/64]\n"
      "    link_local: fe80::7:1\n"
      "  - name: b.8\n"
      "    parent: b\n"
      "    vlan: 8\n"
      "    addresses: [198.18.8.1/24]\n"
      "\nroutes:\n"
      "  - prefix: 198.19.0.0/16\n"
      "    via: 198.18.2.2\n"
      "  - prefix: \"::/0\"\n"
      "    via: 2001:db8:2::2\n"
      "  - prefix: 2001:db8:100::/40\n"
      "    via: fe80::2\n"
      "    port: a.7\n"
      "  - prefix: 2001:db8:200::/48\n"
      "    type: blackhole\n"
      "  - prefix: 2001:db8:300::/48\n"
      "    type: unreachable\n"
      "  - prefix: 2001:db8:400::/48\n"
      "    via: \"fd00:1::\"\n"
      "  - prefix: 2001:db8:500::/48\n"
      "    via: fe80::1:2\n"
      "    port: c\n"
      "\nneighbours:\n"
      "  - ip: 198.18.1.2\n"
      "    mac: 02:00:00:00:00:aa\n"
      "    port: a\n"
      "  - ip: 2001:db8:2::2\n"
      "    mac: 02:00:00:00:00:bb\n"
      "    port: b\n"
      "  - ip: 2001:db8:7::2\n"
      "    mac: 02:00:00:00:00:cc\n"
      "    port: a.7\n"
      "  - ip: fe80::2\n"
      "    mac: 02:00:00:00:00:dd\n"
      "    port: a\n"
      "  - ip: fe80::2\n"
      "    mac: 02:00:00:00:00:ee\n"
      "    port: b.8\n";
  ASSERT_GE(text.size(), ports.size());
  EXPECT_EQ(text.substr(text.size() - ports.size()), ports) << text;
}

// Only IPv6 routes or neighbours: the lists are not written empty.
TEST(FormatConfig, Ipv6OnlyListsAreWritten) {
  Config c = Load(
      "ports: [{name: a, device: x, addresses: [2001:db8:1::1/64]}]\n"
      "routes: [{prefix: 2001:db8:5::/48, type: blackhole}]\n"
      "neighbours: [{ip: 2001:db8:1::2, mac: 02:00:00:00:00:bb}]\n");
  std::string text = FormatConfig(c);
  EXPECT_EQ(text.find("[]\n\nroutes"), std::string::npos) << text;
  EXPECT_NE(text.find("\nroutes:\n  - prefix: 2001:db8:5::/48\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nneighbours:\n  - ip: 2001:db8:1::2\n"), std::string::npos) << text;
  ExpectRoundTrip(c);
}

// A Config built by hand may leave a global IPv6 neighbour's port out, as an IPv4 one's.
TEST(FormatConfig, Ipv6NeighbourWithoutPortIsResolvedOnLoad) {
  Config c = Load("ports:\n  - {name: a, device: x, addresses: [2001:db8:1::1/64]}\n");
  c.neighbours6.push_back({*ParseIp6("2001:db8:1::7"), Mac{2, 0, 0, 0, 0, 7}, "", {}});
  std::string text = FormatConfig(c);
  EXPECT_EQ(text.find("port:"), std::string::npos) << text;
  Config back = Load(text);
  ASSERT_EQ(back.neighbours6.size(), 1u);
  EXPECT_EQ(back.neighbours6[0].port, "a");
}

TEST(FormatConfig, OutputIsStable) {
  for (std::string_view text : {kEveryKey, kMinimal, kSubinterfaces, kDualStack}) {
    std::string once = FormatConfig(Load(text));
    EXPECT_EQ(FormatConfig(Load(once, "once.yaml")), once);
  }
  absl::StatusOr<Config> demo = LoadConfigFile(VR_SOURCE_DIR "/config/examples/demo.yaml");
  ASSERT_TRUE(demo.ok()) << demo.status();
  std::string once = FormatConfig(*demo);
  EXPECT_EQ(FormatConfig(Load(once, "once.yaml")), once);
}

// The whole text for a small config: the shape docs/config.md documents, every default written.
TEST(FormatConfig, WritesEveryKeyInAFixedOrder) {
  Config c = Load(
      "ports:\n"
      "  - name: a\n"
      "    device: net_tap0\n"
      "    addresses: [198.18.1.1/24, 198.18.9.1/32]\n"
      "  - name: b\n"
      "    device: net_tap1\n"
      "    mac: 02:00:00:00:00:0B\n"
      "    addresses: [198.18.2.1/24]\n"
      "    mtu: 9000\n"
      "routes:\n"
      "  - {prefix: 198.19.255.0/24, type: blackhole}\n"
      "  - {prefix: 0.0.0.0/0, via: 198.18.2.2, type: forward}\n"
      "  - {prefix: 198.18.128.0/20, type: unreachable}\n"
      "neighbours:\n"
      "  - {ip: 198.18.2.2, mac: 02:00:00:00:00:bb}\n");
  EXPECT_EQ(FormatConfig(c),
            "# Written by vrouterd: its running configuration, every key given (docs/config.md).\n"
            "# Check an edited copy with `vrouterd --config FILE --check`.\n"
            "\n"
            "dataplane:\n"
            "  workers: 1\n"
            "  nbufs: 16383\n"
            "\n"
            "control:\n"
            "  socket: /run/vrouter/control.sock\n"
            "\n"
            "metrics:\n"
            "  listen: 127.0.0.1:9420\n"
            "  interfaces: 0\n"
            "\n"
            "arp:\n"
            "  hold_packets: 16\n"
            "  reachable_seconds: 30\n"
            "  retries: 3\n"
            "  retry_ms: 1000\n"
            "  gc_seconds: 120\n"
            "\n"
            "icmp:\n"
            "  rate_per_second: 1000\n"
            "  burst: 100\n"
            "\n"
            "ports:\n"
            "  - name: a\n"
            "    device: net_tap0\n"
            "    mtu: 1500\n"
            "    addresses: [198.18.1.1/24, 198.18.9.1/32]\n"
            "  - name: b\n"
            "    device: net_tap1\n"
            "    mac: 02:00:00:00:00:0b\n"
            "    mtu: 9000\n"
            "    addresses: [198.18.2.1/24]\n"
            "\n"
            "routes:\n"
            "  - prefix: 198.19.255.0/24\n"
            "    type: blackhole\n"
            "  - prefix: 0.0.0.0/0\n"
            "    via: 198.18.2.2\n"
            "  - prefix: 198.18.128.0/20\n"
            "    type: unreachable\n"
            "\n"
            "neighbours:\n"
            "  - ip: 198.18.2.2\n"
            "    mac: 02:00:00:00:00:bb\n"
            "    port: b\n");
}

TEST(FormatConfig, EmptyListsAreWrittenEmpty) {
  std::string text = FormatConfig(Load(kMinimal));
  EXPECT_NE(text.find("\n    addresses: []\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nroutes: []\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nneighbours: []\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("mac:"), std::string::npos) << text;
  EXPECT_EQ(text.find("group"), std::string::npos) << text;  // nor group_file, groups, group
  EXPECT_EQ(text.find("state:"), std::string::npos) << text;
}

// Strings YAML would misread if written plain: a name yaml-cpp reads as null, devargs starting with
// YAML indicators or ending in ':', a socket path with spaces, quotes, '#', a tab and a backslash.
TEST(FormatConfig, QuotesWhatYamlWouldMisread) {
  Config c = Load(
      "control:\n"
      "  socket: \"/tmp/my dir/it's \\\"vr\\\" #1\\t\\\\.sock\"\n"
      "  group: 1000\n"
      "ports:\n"
      "  - name: 'null'\n"
      "    device: '*dev'\n"
      "    addresses: [198.18.1.1/24]\n"
      "  - name: 'true'\n"
      "    device: 'x:'\n"
      "  - name: '-'\n"
      "    device: '#tap'\n"
      "  - name: '123'\n"
      "    device: \"net_pcap0,rx_pcap=/tmp/a'b\"\n"
      "neighbours:\n"
      "  - {ip: 198.18.1.2, mac: 02:00:00:00:00:bb, port: 'null'}\n");
  ASSERT_EQ(c.ports.size(), 4u);
  EXPECT_EQ(c.control.socket, "/tmp/my dir/it's \"vr\" #1\t\\.sock");
  EXPECT_EQ(c.ports[0].name, "null");
  std::string text = FormatConfig(c);
  EXPECT_NE(text.find("  - name: \"null\"\n    device: \"*dev\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  - name: \"true\"\n    device: \"x:\"\n"), std::string::npos) << text;
  ExpectRoundTrip(c);
}

TEST(FormatConfig, ControlCharactersAreEscaped) {
  Config c = Load(kMinimal);
  c.control.socket = std::string("/tmp/a\nb\x01\x7f", 10);
  ExpectRoundTrip(c);
}

// A config built by hand may leave a neighbour's port out; the loader finds it again.
TEST(FormatConfig, NeighbourWithoutPortIsResolvedOnLoad) {
  Config c = Load("ports:\n  - {name: a, device: x, addresses: [198.18.1.1/24]}\n");
  c.neighbours.push_back({Ip("198.18.1.7"), Mac{2, 0, 0, 0, 0, 7}, "", {}});
  std::string text = FormatConfig(c);
  EXPECT_EQ(text.find("port:"), std::string::npos) << text;
  Config back = Load(text);
  ASSERT_EQ(back.neighbours.size(), 1u);
  EXPECT_EQ(back.neighbours[0].port, "a");
}

TEST(ConfigEquality, IgnoresLocation) {
  // The same config laid out differently: every loc differs, nothing else does.
  Config block = Load(kEveryKey, "block.yaml");
  Config flow = Load(R"(
ports: [{name: a, device: "net_af_packet0,iface=vr-a", mac: 02:00:00:00:00:01, mtu: 9000,
         addresses: [198.18.1.1/24, 198.18.3.1/31], group: 7},
        {name: b, device: "net_af_packet1,iface=vr-b", addresses: [198.18.2.1/24], group: 3},
        {name: uplink, device: "0000:03:00.0", mtu: 576, addresses: [10.0.0.2/30], group: 16},
        {name: spare, device: net_tap0, state: down}]
groups: [{id: 0x3, name: "null"}, {id: 7, name: web}, {id: 0, name: default}]
routes: [{prefix: 0.0.0.0/0, via: 10.0.0.1}, {prefix: 198.19.0.0/16, via: 198.18.2.2},
         {prefix: 198.19.255.0/24, type: blackhole}, {prefix: 198.18.128.0/20, type: unreachable},
         {prefix: 198.20.0.0/16, via: 198.18.3.0}]
neighbours: [{ip: 198.18.2.2, mac: 02:00:00:00:00:bb, port: b},
             {ip: 10.0.0.1, mac: 02:00:00:00:00:cc}]
icmp: {rate_per_second: 50, burst: 10}
arp: {hold_packets: 8, reachable_seconds: 60, retries: 5, retry_ms: 250, gc_seconds: 600}
control: {socket: /tmp/vr.sock, group: vrouter}
dataplane: {workers: 4, nbufs: 65535}
)",
                     "flow.yaml");
  EXPECT_NE(block.ports[1].loc.line, flow.ports[1].loc.line);
  EXPECT_TRUE(block == flow);
  EXPECT_FALSE(block != flow);
}

TEST(ConfigEquality, SeesEveryField) {
  const Config base = Load(kEveryKey);
  auto differs = [&](void (*change)(Config&)) {
    Config c = base;
    change(c);
    return !(c == base);
  };
  EXPECT_TRUE(differs([](Config& c) { c.dataplane.workers++; }));
  EXPECT_TRUE(differs([](Config& c) { c.dataplane.nbufs++; }));
  EXPECT_TRUE(differs([](Config& c) { c.control.socket += "x"; }));
  EXPECT_TRUE(differs([](Config& c) { c.control.group.clear(); }));
  EXPECT_TRUE(differs([](Config& c) { c.arp.hold_packets++; }));
  EXPECT_TRUE(differs([](Config& c) { c.arp.reachable_seconds++; }));
  EXPECT_TRUE(differs([](Config& c) { c.arp.retries++; }));
  EXPECT_TRUE(differs([](Config& c) { c.arp.retry_ms++; }));
  EXPECT_TRUE(differs([](Config& c) { c.arp.gc_seconds++; }));
  EXPECT_TRUE(differs([](Config& c) { c.icmp.rate_per_second++; }));
  EXPECT_TRUE(differs([](Config& c) { c.icmp.burst++; }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[0].name = "z"; }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[0].device = "z"; }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[0].mac.reset(); }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[1].mac = Mac{2, 0, 0, 0, 0, 2}; }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[0].mtu++; }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[0].addresses[1].len--; }));
  EXPECT_TRUE(differs([](Config& c) { c.ports.pop_back(); }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[0].group = 0; }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[3].up = true; }));
  EXPECT_TRUE(differs([](Config& c) { c.group_file = "/etc/vrouter/group"; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[1].id = 4; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[1].name = "nil"; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups.pop_back(); }));
  EXPECT_TRUE(differs([](Config& c) { c.routes[0].prefix.len++; }));
  EXPECT_TRUE(differs([](Config& c) { c.routes[0].type = RouteType::kBlackhole; }));
  EXPECT_TRUE(differs([](Config& c) { c.routes[0].via++; }));
  EXPECT_TRUE(differs([](Config& c) { std::swap(c.routes[0], c.routes[1]); }));
  EXPECT_TRUE(differs([](Config& c) { c.neighbours[0].ip++; }));
  EXPECT_TRUE(differs([](Config& c) { c.neighbours[0].mac[5]++; }));
  EXPECT_TRUE(differs([](Config& c) { c.neighbours[0].port = "a"; }));
  EXPECT_FALSE(differs([](Config& c) {
    c.ports[0].loc = {"elsewhere.yaml", 99, 9};
    c.routes[0].loc = {};
    c.neighbours[0].loc.line = 1;
    c.groups[1].loc = {};
    c.groups[1].source = GroupSource::kFile;  // where a name was defined is not what it means
  }));
}

TEST(ConfigEquality, SeesEverySubinterfaceField) {
  const Config base = Load(kSubinterfaces);
  auto differs = [&](void (*change)(Config&)) {
    Config c = base;
    change(c);
    return !(c == base);
  };
  // Group settings and templates (groups[1] is web, groups[2] the nameless 8).
  EXPECT_TRUE(differs([](Config& c) { c.groups[1].mtu.reset(); }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[1].up = true; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[1].impairment.reset(); }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[2].impairment->drop_percent++; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[2].impairment->seed--; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[3].impairment->on_ms++; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[3].impairment->off_ms++; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[3].impairment->mode = ImpairMode::kPass; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[2].templates.pop_back(); }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[2].templates[0].parent = "b"; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[2].templates[0].outer.last--; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[2].templates[2].inner->first++; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[2].templates[0].address->addr += 2; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[2].templates[0].address_step = 4; }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[2].templates[0].mac.reset(); }));
  EXPECT_TRUE(differs([](Config& c) { c.groups[2].templates[0].mac_step = 2; }));
  // Vifs.
  EXPECT_TRUE(differs([](Config& c) { c.vifs[1].name = "x"; }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs[1].parent = "a"; }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs[1].outer++; }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs[1].inner++; }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs[1].mac.reset(); }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs[1].mtu.reset(); }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs[1].addresses.pop_back(); }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs[1].group = 0; }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs[1].up.reset(); }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs[1].impairment.reset(); }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs.pop_back(); }));
  EXPECT_FALSE(differs([](Config& c) {
    c.vifs[1].loc = {};
    c.groups[2].templates[0].loc = {"elsewhere.yaml", 1, 1};
  }));
}

TEST(ConfigEquality, SeesEveryIpv6Field) {
  const Config base = Load(kDualStack);
  auto differs = [&](void (*change)(Config&)) {
    Config c = base;
    change(c);
    return !(c == base);
  };
  EXPECT_TRUE(differs([](Config& c) { c.ports[0].addresses6.pop_back(); }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[0].addresses6[0].len--; }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[0].addresses6[0].addr.bytes[15]++; }));
  EXPECT_TRUE(differs([](Config& c) {
    std::swap(c.ports[0].addresses6[0], c.ports[0].addresses6[1]);
  }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[0].link_local.reset(); }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[1].link_local = c.ports[0].link_local; }));
  EXPECT_TRUE(differs([](Config& c) { c.ports[0].link_local->bytes[15]++; }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs[0].addresses6.clear(); }));
  EXPECT_TRUE(differs([](Config& c) { c.vifs[0].link_local.reset(); }));
  EXPECT_TRUE(differs([](Config& c) { c.routes6[0].prefix.len++; }));
  EXPECT_TRUE(differs([](Config& c) { c.routes6[0].type = RouteType::kBlackhole; }));
  EXPECT_TRUE(differs([](Config& c) { c.routes6[0].via.bytes[15]++; }));
  EXPECT_TRUE(differs([](Config& c) { c.routes6[1].port = "a"; }));
  EXPECT_TRUE(differs([](Config& c) { std::swap(c.routes6[0], c.routes6[1]); }));
  EXPECT_TRUE(differs([](Config& c) { c.routes6.pop_back(); }));
  EXPECT_TRUE(differs([](Config& c) { c.neighbours6[0].ip.bytes[15]++; }));
  EXPECT_TRUE(differs([](Config& c) { c.neighbours6[0].mac[5]++; }));
  EXPECT_TRUE(differs([](Config& c) { c.neighbours6[0].port = "a"; }));
  EXPECT_TRUE(differs([](Config& c) { c.neighbours6.pop_back(); }));
  EXPECT_FALSE(differs([](Config& c) {
    c.routes6[0].loc = {"elsewhere.yaml", 99, 9};
    c.neighbours6[0].loc = {};
  }));
}

TEST(ControlGroup, IsReadWrittenAndOptional) {
  Config c = Load(std::string(kMinimal) + "control:\n  group: vrouter\n");
  EXPECT_EQ(c.control.group, "vrouter");
  EXPECT_EQ(c.control.socket, "/run/vrouter/control.sock");
  std::string text = FormatConfig(c);
  EXPECT_NE(text.find("\ncontrol:\n  socket: /run/vrouter/control.sock\n  group: vrouter\n"),
            std::string::npos)
      << text;
  ExpectRoundTrip(c);

  EXPECT_EQ(Load(kMinimal).control.group, "");
  EXPECT_EQ(Load(std::string(kMinimal) + "control: {socket: /tmp/s}\n").control.group, "");
  for (std::string good :
       {"a", "wheel", "_x", "vr.ctl-1", "0", "A234567890123456789012345678901Z"}) {
    SCOPED_TRACE(good);
    std::string yaml(kMinimal);
    yaml.append("control:\n  group: ").append(good).append("\n");
    EXPECT_EQ(Load(yaml).control.group, good);
  }
}

TEST(ControlGroup, BadNameSaysWhereAndWhat) {
  absl::StatusOr<Config> c =
      ParseConfig(std::string(kMinimal) + "control:\n  group: vr ctl\n", "/etc/vrouter/x.yaml");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "/etc/vrouter/x.yaml:5:10: group: expected a group name of 1 to 32 characters from "
            "A-Z a-z 0-9 _ . -, not starting with -, got 'vr ctl'\n"
            "  group: vr ctl\n"
            "         ^");
}

TEST(ControlGroup, RefusesWhatIsNotAName) {
  const std::string expected =
      "group: expected a group name of 1 to 32 characters from A-Z a-z 0-9 _ . -, not starting "
      "with -, got ";
  struct Case {
    std::string yaml;
    std::string first_line;
  };
  const Case cases[] = {
      {"control:\n  group: -vr\n", "t.yaml:5:10: " + expected + "'-vr'"},
      {"control:\n  group: A2345678901234567890123456789012X\n",
       "t.yaml:5:10: " + expected + "'A2345678901234567890123456789012X'"},
      {"control:\n  group: vr$\n", "t.yaml:5:10: " + expected + "'vr$'"},
      {"control:\n  group: ''\n", "t.yaml:5:10: " + expected + "''"},
      {"control:\n  group: 'vr/ctl'\n", "t.yaml:5:10: " + expected + "'vr/ctl'"},
      {"control:\n  group:\n", "t.yaml:5:3: " + expected + "nothing"},
      {"control:\n  group: [vr]\n", "t.yaml:5:10: " + expected + "a list"},
      {"control: {group: {name: vr}}\n", "t.yaml:4:18: " + expected + "a map"},
      {"control:\n  group: vr\n  group: ctl\n",
       "t.yaml:6:3: duplicate key 'group' in control (first given on line 5)"},
      {"control:\n  owner: vr\n",
       "t.yaml:5:3: unknown key 'owner' in control; expected one of: socket, group"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.yaml);
    absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + k.yaml, "t.yaml");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(FirstLine(c.status()), k.first_line);
  }
}

// Groups and state: what is written, and what is left to the group file.
TEST(FormatConfig, WritesGroupsAndState) {
  Config c = Load(
      "groups: [{id: 9, name: web}, {id: 0x20, name: db}]\n"
      "ports:\n"
      "  - {name: a, device: net_tap0, group: db}\n"
      "  - {name: b, device: net_tap1, group: 12, state: down}\n"
      "  - {name: c, device: net_tap2, group: default, state: up}\n");
  std::string text = FormatConfig(c);
  std::string expected_tail =
      "\n"
      "groups:\n"
      "  - id: 9\n"
      "    name: web\n"
      "  - id: 32\n"
      "    name: db\n"
      "\n"
      "ports:\n"
      "  - name: a\n"
      "    device: net_tap0\n"
      "    mtu: 1500\n"
      "    addresses: []\n"
      "    group: db\n"
      "  - name: b\n"
      "    device: net_tap1\n"
      "    mtu: 1500\n"
      "    addresses: []\n"
      "    group: 12\n"
      "    state: down\n"
      "  - name: c\n"
      "    device: net_tap2\n"
      "    mtu: 1500\n"
      "    addresses: []\n"
      "\n"
      "routes: []\n"
      "\n"
      "neighbours: []\n";
  ASSERT_GE(text.size(), expected_tail.size());
  EXPECT_EQ(text.substr(text.find("\n  burst: 100\n") + 14), expected_tail);
  EXPECT_EQ(text.find("group_file"), std::string::npos) << text;
  ExpectRoundTrip(c);
}

// A group added to a Config by hand (say by a future `vrouterctl group add`) is written like one
// from the YAML; the built-in default never is.
TEST(FormatConfig, HandAddedGroupIsWritten) {
  Config c = Load(kMinimal);
  c.groups.push_back({5, "five", {}});
  c.ports[0].group = 5;
  c.ports[0].up = false;
  std::string text = FormatConfig(c);
  EXPECT_NE(text.find("\ngroups:\n  - id: 5\n    name: five\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n    group: five\n    state: down\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("default"), std::string::npos) << text;
  ExpectRoundTrip(c);
}

namespace fs = std::filesystem;

fs::path TestDir() {
  const testing::TestInfo* t = testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir =
      fs::path(testing::TempDir()) / "vr_writer_test" / (std::string(t->name()) + ".d");
  fs::remove_all(dir);
  fs::create_directories(dir);
  return fs::canonical(dir);
}

// group_file is written absolute, so the text loads the same file from anywhere: here it is loaded
// back as "written.yaml" in the current directory, not next to the group file.
TEST(GroupFile, RoundTripsFromAnotherDirectory) {
  fs::path dir = TestDir();
  std::ofstream(dir / "group") << "0 default\n10 uplinks  # from the file\n11 spare\n";
  std::string yaml =
      "group_file: group\n"
      "groups: [{id: 10, name: uplinks}, {id: 20, name: local}]\n"
      "ports:\n"
      "  - {name: a, device: net_tap0, group: uplinks}\n"
      "  - {name: b, device: net_tap1, group: local, state: down}\n"
      "  - {name: c, device: net_tap2, group: 30}\n";
  Config c = Load(yaml, (dir / "vrouter.yaml").string());
  EXPECT_EQ(c.group_file, (dir / "group").string());
  ASSERT_EQ(c.groups.size(), 4u);
  std::string text = FormatConfig(c);
  // The file's names stay in the file: only the YAML's own "local" is written.
  EXPECT_NE(text.find("\ngroup_file: " + (dir / "group").string() + "\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\ngroups:\n  - id: 20\n    name: local\n\nports:\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("id: 10"), std::string::npos) << text;
  EXPECT_EQ(text.find("id: 11"), std::string::npos) << text;
  ExpectRoundTrip(c);
  EXPECT_EQ(FormatConfig(Load(text, "once.yaml")), text);
}

TEST(GroupFile, PathWithSpacesIsQuoted) {
  fs::path dir = TestDir() / "my groups";
  fs::create_directories(dir);
  std::ofstream(dir / "group") << "4 four\n";
  Config c = Load(std::string(kMinimal) + "    group: four\ngroup_file: \"" +
                      (dir / "group").string() + "\"\n");
  std::string text = FormatConfig(c);
  EXPECT_NE(text.find("\ngroup_file: \"" + (dir / "group").string() + "\"\n"), std::string::npos)
      << text;
  ExpectRoundTrip(c);
}

// A group named by the group file keeps its name there: the YAML gets its id and settings.
TEST(GroupFile, SettingsOfAFileGroupAreWrittenWithoutItsName) {
  fs::path dir = TestDir();
  std::ofstream(dir / "group") << "10 customers\n";
  std::string yaml =
      "group_file: group\n"
      "groups: [{id: 10, mtu: 1400, templates: [{parent: a, vlan: 100-109}]}]\n"
      "ports: [{name: a, device: net_tap0}]\n";
  Config c = Load(yaml, (dir / "vrouter.yaml").string());
  std::string text = FormatConfig(c);
  EXPECT_NE(text.find("\ngroups:\n  - id: 10\n    mtu: 1400\n    templates:\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("customers"), std::string::npos) << text;
  ExpectRoundTrip(c);
}

}  // namespace
}  // namespace vr::config
