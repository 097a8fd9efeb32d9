// Tests of config/loader.cc: every section and default, and the first line of every error class.
// An operator fixes a config from the message alone, so the messages are part of the contract.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "absl/strings/str_format.h"
#include "config/config.h"

namespace vr::config {
namespace {

// Two ports used by the route and neighbour cases; what follows it starts on line 8.
constexpr std::string_view kTwoPorts =
    "ports:\n"
    "  - name: a\n"
    "    device: net_af_packet0,iface=vr-a\n"
    "    addresses: [198.18.1.1/24]\n"
    "  - name: b\n"
    "    device: net_af_packet1,iface=vr-b\n"
    "    addresses: [198.18.2.1/24]\n";

std::string WithPorts(std::string_view rest) { return std::string(kTwoPorts) + std::string(rest); }

// The same two ports dual stack, port a with a link-local address of its own; what follows it
// starts on line 9.
constexpr std::string_view kDualPorts =
    "ports:\n"
    "  - name: a\n"
    "    device: net_af_packet0,iface=vr-a\n"
    "    addresses: [198.18.1.1/24, 2001:db8:1::1/64]\n"
    "    link_local: fe80::1\n"
    "  - name: b\n"
    "    device: net_af_packet1,iface=vr-b\n"
    "    addresses: [198.18.2.1/24, 2001:db8:2::1/64]\n";

std::string WithDualPorts(std::string_view rest) {
  return std::string(kDualPorts) + std::string(rest);
}

std::string FirstLine(const absl::Status& s) {
  std::string m(s.message());
  return m.substr(0, m.find('\n'));
}

uint32_t Ip(std::string_view s) { return *ParseIp4(s); }
Ip6Addr Ip6(std::string_view s) { return *ParseIp6(s); }
Ip6Prefix Net6(std::string_view s) { return *ParseIp6Prefix(s); }

TEST(ParseConfig, MinimalConfigGetsDefaults) {
  absl::StatusOr<Config> c =
      ParseConfig("ports:\n  - name: a\n    device: 0000:03:00.0\n", "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dataplane.workers, 1u);
  EXPECT_EQ(c->dataplane.nbufs, 16383u);
  EXPECT_EQ(c->control.socket, "/run/vrouter/control.sock");
  EXPECT_EQ(c->arp.hold_packets, 16u);
  EXPECT_EQ(c->arp.reachable_seconds, 30u);
  EXPECT_EQ(c->arp.retries, 3u);
  EXPECT_EQ(c->arp.retry_ms, 1000u);
  EXPECT_EQ(c->arp.gc_seconds, 120u);
  EXPECT_EQ(c->icmp.rate_per_second, 1000u);
  EXPECT_EQ(c->icmp.burst, 100u);
  ASSERT_EQ(c->ports.size(), 1u);
  const PortConfig& p = c->ports[0];
  EXPECT_EQ(p.name, "a");
  EXPECT_EQ(p.device, "0000:03:00.0");
  EXPECT_FALSE(p.mac.has_value());
  EXPECT_EQ(p.mtu, 1500u);
  EXPECT_TRUE(p.addresses.empty());
  EXPECT_EQ(p.group, 0u);
  EXPECT_TRUE(p.up);
  EXPECT_EQ(p.loc.file, "t.yaml");
  EXPECT_EQ(p.loc.line, 2);
  EXPECT_EQ(p.loc.column, 5);
  EXPECT_TRUE(c->routes.empty());
  EXPECT_TRUE(c->neighbours.empty());
  EXPECT_EQ(c->group_file, "");
  EXPECT_EQ(c->groups, (std::vector<GroupConfig>{{0, "default"}}));
}

TEST(ParseConfig, ReadsEverySection) {
  absl::StatusOr<Config> c = ParseConfig(R"(
dataplane: {workers: 4, nbufs: 65535}
control:
  socket: /tmp/vr.sock
arp: {hold_packets: 8, reachable_seconds: 60, retries: 5, retry_ms: 250, gc_seconds: 600}
icmp: {rate_per_second: 50, burst: 10}
neighbours:                  # before ports on purpose: the loader reads ports first
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
  - name: b
    device: net_af_packet1,iface=vr-b
    addresses:
      - 198.18.2.1/24
  - name: uplink
    device: 0000:03:00.0
    addresses: [10.0.0.2/30]
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
)",
                                         "full.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dataplane.workers, 4u);
  EXPECT_EQ(c->dataplane.nbufs, 65535u);
  EXPECT_EQ(c->control.socket, "/tmp/vr.sock");
  EXPECT_EQ(c->arp.hold_packets, 8u);
  EXPECT_EQ(c->arp.reachable_seconds, 60u);
  EXPECT_EQ(c->arp.retries, 5u);
  EXPECT_EQ(c->arp.retry_ms, 250u);
  EXPECT_EQ(c->arp.gc_seconds, 600u);
  EXPECT_EQ(c->icmp.rate_per_second, 50u);
  EXPECT_EQ(c->icmp.burst, 10u);

  ASSERT_EQ(c->ports.size(), 3u);
  EXPECT_EQ(c->ports[0].mac, (Mac{2, 0, 0, 0, 0, 1}));
  EXPECT_EQ(c->ports[0].mtu, 9000u);
  EXPECT_EQ(c->ports[0].addresses,
            (std::vector<Ip4Prefix>{{Ip("198.18.1.1"), 24}, {Ip("198.18.3.1"), 31}}));
  EXPECT_EQ(c->ports[1].addresses, (std::vector<Ip4Prefix>{{Ip("198.18.2.1"), 24}}));
  EXPECT_EQ(c->ports[2].device, "0000:03:00.0");

  ASSERT_EQ(c->routes.size(), 5u);
  EXPECT_EQ(c->routes[0].prefix, (Ip4Prefix{0, 0}));
  EXPECT_EQ(c->routes[0].via, Ip("10.0.0.1"));
  EXPECT_EQ(c->routes[1].type, RouteType::kForward);
  EXPECT_EQ(c->routes[1].via, Ip("198.18.2.2"));
  EXPECT_EQ(c->routes[2].type, RouteType::kBlackhole);
  EXPECT_EQ(c->routes[2].prefix, (Ip4Prefix{Ip("198.19.255.0"), 24}));
  EXPECT_EQ(c->routes[2].via, 0u);
  EXPECT_EQ(c->routes[3].type, RouteType::kUnreachable);
  EXPECT_EQ(c->routes[4].via, Ip("198.18.3.0"));  // a /31 has no network address (RFC 3021)
  EXPECT_EQ(c->routes[1].loc.file, "full.yaml");
  EXPECT_EQ(c->routes[1].loc.line, 29);
  EXPECT_EQ(c->routes[1].loc.column, 5);

  ASSERT_EQ(c->neighbours.size(), 2u);
  EXPECT_EQ(c->neighbours[0].ip, Ip("198.18.2.2"));
  EXPECT_EQ(c->neighbours[0].mac, (Mac{2, 0, 0, 0, 0, 0xbb}));
  EXPECT_EQ(c->neighbours[0].port, "b");  // found from the connected subnet
  EXPECT_EQ(c->neighbours[1].port, "uplink");
  EXPECT_EQ(c->neighbours[0].loc.line, 8);
}

// One `addresses`, `routes` and `neighbours` list for both families: the loader sorts each entry
// into the IPv4 or the IPv6 field by its address, and keeps the order within each family.
TEST(ParseConfig, ReadsDualStack) {
  absl::StatusOr<Config> c = ParseConfig(R"(
ports:
  - name: a
    device: net_af_packet0,iface=vr-a
    addresses: [2001:db8:1::1/64, 198.18.1.1/24, 2001:DB8:0003:0:0:0:0:0001/48, 198.18.3.1/31,
                fd00:1::1/127]
    link_local: FE80::1
  - name: b
    device: net_af_packet1,iface=vr-b
    addresses:
      - 2001:db8:2::1/64
vifs:
  - {parent: a, vlan: 7, addresses: [2001:db8:7::1/64, 198.18.7.1/24], link_local: fe80::7}
  - {parent: b, vlan: 8, addresses: [2001:db8:8::1/128]}
routes:
  - prefix: ::/0
    via: 2001:db8:2::2
  - prefix: 198.19.0.0/16
    via: 198.18.1.2
  - prefix: 2001:db8:100::/40
    via: fe80::2
    port: a.7
  - prefix: 2001:db8:200::/48
    type: blackhole
  - {prefix: 2001:db8:300::/48, type: unreachable}
  - {prefix: 2001:db8:400::/48, via: "fd00:1::", type: forward}
neighbours:
  - ip: 2001:db8:2::2
    mac: 02:00:00:00:00:bb
  - ip: 198.18.1.2
    mac: 02:00:00:00:00:cc
  - {ip: 2001:db8:7::2, mac: 02:00:00:00:00:dd, port: a.7}
  - {ip: fe80::2, mac: 02:00:00:00:00:ee, port: a}
  - {ip: fe80::2, mac: 02:00:00:00:00:ff, port: b}
)",
                                         "dual.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->ports.size(), 2u);
  EXPECT_EQ(c->ports[0].addresses,
            (std::vector<Ip4Prefix>{{Ip("198.18.1.1"), 24}, {Ip("198.18.3.1"), 31}}));
  EXPECT_EQ(c->ports[0].addresses6,
            (std::vector<Ip6Prefix>{Net6("2001:db8:1::1/64"), Net6("2001:db8:3::1/48"),
                                    Net6("fd00:1::1/127")}))
      << "IPv6 in the order given";
  EXPECT_EQ(c->ports[0].link_local, Ip6("fe80::1"));
  EXPECT_TRUE(c->ports[1].addresses.empty());
  EXPECT_EQ(c->ports[1].addresses6, (std::vector<Ip6Prefix>{Net6("2001:db8:2::1/64")}));
  EXPECT_FALSE(c->ports[1].link_local.has_value()) << "control derives it from the MAC";
  ASSERT_EQ(c->vifs.size(), 2u);
  EXPECT_EQ(c->vifs[0].addresses, (std::vector<Ip4Prefix>{{Ip("198.18.7.1"), 24}}));
  EXPECT_EQ(c->vifs[0].addresses6, (std::vector<Ip6Prefix>{Net6("2001:db8:7::1/64")}));
  EXPECT_EQ(c->vifs[0].link_local, Ip6("fe80::7"));
  EXPECT_EQ(c->vifs[1].addresses6, (std::vector<Ip6Prefix>{Net6("2001:db8:8::1/128")}));

  ASSERT_EQ(c->routes.size(), 1u);
  EXPECT_EQ(c->routes[0].via, Ip("198.18.1.2"));
  ASSERT_EQ(c->routes6.size(), 5u);
  EXPECT_EQ(c->routes6[0].prefix, (Ip6Prefix{Ip6Addr{}, 0}));
  EXPECT_EQ(c->routes6[0].type, RouteType::kForward);
  EXPECT_EQ(c->routes6[0].via, Ip6("2001:db8:2::2"));
  EXPECT_EQ(c->routes6[0].port, "") << "a global next hop's interface is its subnet's";
  EXPECT_EQ(c->routes6[0].loc.file, "dual.yaml");
  EXPECT_EQ(c->routes6[0].loc.line, 16);
  EXPECT_EQ(c->routes6[0].loc.column, 5);
  EXPECT_EQ(c->routes6[1].prefix, Net6("2001:db8:100::/40"));
  EXPECT_EQ(c->routes6[1].via, Ip6("fe80::2"));
  EXPECT_EQ(c->routes6[1].port, "a.7");
  EXPECT_EQ(c->routes6[2].type, RouteType::kBlackhole);
  EXPECT_EQ(c->routes6[2].via, Ip6Addr{});
  EXPECT_EQ(c->routes6[3].type, RouteType::kUnreachable);
  EXPECT_EQ(c->routes6[4].via, Ip6("fd00:1::"))  // a /127 has no Subnet-Router anycast (RFC 6164)
      << FormatIp6(c->routes6[4].via);

  ASSERT_EQ(c->neighbours.size(), 1u);
  EXPECT_EQ(c->neighbours[0].port, "a");
  ASSERT_EQ(c->neighbours6.size(), 4u);
  EXPECT_EQ(c->neighbours6[0].ip, Ip6("2001:db8:2::2"));
  EXPECT_EQ(c->neighbours6[0].mac, (Mac{2, 0, 0, 0, 0, 0xbb}));
  EXPECT_EQ(c->neighbours6[0].port, "b");  // found from the connected subnet
  EXPECT_EQ(c->neighbours6[0].loc.line, 28);
  EXPECT_EQ(c->neighbours6[1].port, "a.7");
  EXPECT_EQ(c->neighbours6[2].ip, Ip6("fe80::2"));
  EXPECT_EQ(c->neighbours6[2].port, "a");
  EXPECT_EQ(c->neighbours6[3].ip, Ip6("fe80::2"));  // the same link-local address on another link
  EXPECT_EQ(c->neighbours6[3].port, "b");
}

TEST(ParseConfig, Ipv4OnlyConfigHasNoIpv6) {
  absl::StatusOr<Config> c = ParseConfig(WithPorts(""), "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  for (const PortConfig& p : c->ports) {
    EXPECT_TRUE(p.addresses6.empty());
    EXPECT_FALSE(p.link_local.has_value());
  }
  EXPECT_TRUE(c->routes6.empty());
  EXPECT_TRUE(c->neighbours6.empty());
}

TEST(ParseConfig, MetricsListen) {
  auto c = ParseConfig(WithPorts(""), "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metrics.listen, "127.0.0.1:9420") << "loopback by default";
  c = ParseConfig(WithPorts("metrics:\n  listen: 0.0.0.0:9100\n"), "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metrics.listen, "0.0.0.0:9100");
  EXPECT_EQ(c->metrics.interfaces, 0u) << "no per-vif series unless asked";
  c = ParseConfig(WithPorts("metrics:\n  listen: off\n  interfaces: 500\n"), "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metrics.listen, "");
  EXPECT_EQ(c->metrics.interfaces, 500u);
  c = ParseConfig(WithPorts("metrics:\n  interfaces: 2000000\n"), "t.yaml");
  ASSERT_FALSE(c.ok());
  std::string first_line(c.status().message().substr(0, c.status().message().find('\n')));
  EXPECT_EQ(first_line,
            "t.yaml:9:15: interfaces: expected an integer between 0 and 1048576, got '2000000'");
}

TEST(ParseConfig, Knet) {
  auto c = ParseConfig(WithPorts(""), "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->knet.enabled) << "no kernel interface unless the config has a knet section";
  c = ParseConfig(WithPorts("knet:\n"), "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->knet.enabled);
  EXPECT_EQ(c->knet.name, "knet0");
  EXPECT_EQ(c->knet.mtu, 1500u);
  EXPECT_TRUE(c->knet.mirror);
  EXPECT_EQ(c->knet.table, 254u);
  EXPECT_TRUE(c->knet.protocols.empty());
  EXPECT_TRUE(c->knet.offload);
  c = ParseConfig(WithPorts("knet:\n  name: k1\n  mtu: 9000\n  rate: 1000\n  burst: 10\n"
                            "  offload: false\n"
                            "  mirror:\n    table: 100\n    protocols: [bird, 186, static]\n"),
                  "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->knet.name, "k1");
  EXPECT_EQ(c->knet.mtu, 9000u);
  EXPECT_EQ(c->knet.rate, 1000u);
  EXPECT_EQ(c->knet.burst, 10u);
  EXPECT_FALSE(c->knet.offload);
  EXPECT_EQ(c->knet.table, 100u);
  EXPECT_EQ(c->knet.protocols, (std::vector<uint8_t>{12, 186, 4}));
  c = ParseConfig(WithPorts("knet:\n  mirror: off\n"), "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->knet.mirror);
  c = ParseConfig(WithPorts("knet:\n  mirror: {table: main}\n"), "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->knet.table, 254u);

  auto error = [](std::string_view knet) {
    return FirstLine(ParseConfig(WithPorts(knet), "t.yaml").status());
  };
  EXPECT_EQ(error("knet:\n  name: a-name-far-too-long\n"),
            "t.yaml:9:9: name: expected an interface name of 1 to 15 characters from A-Z a-z "
            "0-9 _ . -, got 'a-name-far-too-long'");
  EXPECT_EQ(error("knet:\n  mtu: 20000\n"),
            "t.yaml:9:8: mtu: expected an integer between 68 and 9000, got '20000'");
  EXPECT_EQ(error("knet:\n  offload: yes\n"),
            "t.yaml:9:12: offload: expected true or false, got 'yes'");
  EXPECT_EQ(error("knet:\n  mirror:\n    table: 255\n"),
            "t.yaml:10:12: table: expected main, or a table number from 1 to 4294967294 other "
            "than 255, got '255'");
  EXPECT_EQ(error("knet:\n  mirror:\n    protocols: [bird, kernel]\n"),
            "t.yaml:10:23: protocols: expected a route protocol name from /etc/iproute2/rt_protos "
            "(boot, static, zebra, bird, bgp, ospf, ...) or a number 0-255, other than kernel and "
            "vrouter, got 'kernel'");
  EXPECT_EQ(error("knet:\n  mirror:\n    protocols: [bird, bird]\n"),
            "t.yaml:10:23: protocols: bird is listed twice");
  EXPECT_EQ(error("knet:\n  mirror:\n    protocols: [quagga]\n"),
            "t.yaml:10:17: protocols: expected a route protocol name from /etc/iproute2/rt_protos "
            "(boot, static, zebra, bird, bgp, ospf, ...) or a number 0-255, other than kernel and "
            "vrouter, got 'quagga'");
  EXPECT_EQ(error("knet:\n  mirror:\n    tabel: 5\n"),
            "t.yaml:10:5: unknown key 'tabel' in mirror; expected one of: table, protocols");
  EXPECT_EQ(error("knet:\n  mirror: yes\n"),
            "t.yaml:9:11: mirror: expected off, or a map with keys table, protocols, got 'yes'");
}

TEST(ParseConfig, EmptySectionsAndListsAreAllowed) {
  absl::StatusOr<Config> c =
      ParseConfig(WithPorts("dataplane:\narp: {}\nroutes: []\nneighbours:\n"), "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dataplane.workers, 1u);
  EXPECT_TRUE(c->routes.empty());
}

TEST(ParseConfig, ErrorShowsTheLineAndACaret) {
  absl::StatusOr<Config> c = ParseConfig(
      "ports:\n  - name: a\n    device: net_tap0\n    mtu: 9001\n", "/etc/vrouter/x.yaml");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "/etc/vrouter/x.yaml:4:10: mtu: expected an integer between 68 and 9000, got '9001'\n"
            "    mtu: 9001\n"
            "         ^");
}

TEST(ParseConfig, CaretFollowsTabs) {
  absl::StatusOr<Config> c =
      ParseConfig("ports:\n  - name: a\n    device: net_tap0\n    mtu:\t9001\n", "t.yaml");
  EXPECT_EQ(c.status().message(),
            "t.yaml:4:10: mtu: expected an integer between 68 and 9000, got '9001'\n"
            "    mtu:\t9001\n"
            "        \t^");
}

TEST(ParseConfig, SyntaxErrorsAreConvertedNotThrown) {
  absl::StatusOr<Config> c =
      ParseConfig("ports:\n  - name: a\n    device: x\n  mtu: 5\n", "t.yaml");
  EXPECT_EQ(c.status().message(), "t.yaml:4:3: end of map not found\n  mtu: 5\n  ^");
  std::string deep = std::string(5000, '[') + std::string(5000, ']');
  EXPECT_EQ(ParseConfig(deep, "t.yaml").status().code(), absl::StatusCode::kInvalidArgument);
}

struct ErrorCase {
  const char* name;
  std::string yaml;
  const char* first_line;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class ConfigError : public testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigError, FirstLineNamesPlaceAndProblem) {
  absl::StatusOr<Config> c = ParseConfig(GetParam().yaml, "t.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FirstLine(c.status()), GetParam().first_line) << c.status().message();
}

const ErrorCase kErrors[] = {
    // Whole file.
    {"Empty", "", "t.yaml:1:1: the config is empty; expected a map with at least a 'ports' list"},
    {"OnlyComments", "# nothing\n",
     "t.yaml:1:1: the config is empty; expected a map with at least a 'ports' list"},
    {"TopLevelList", "- a\n- b\n",
     "t.yaml:1:1: config: expected a map with keys dataplane, control, metrics, knet, arp, icmp, "
     "group_file, groups, ports, vifs, routes, neighbours, got a list"},
    {"TwoDocuments", WithPorts("---\nports: []\n"),
     "t.yaml:9:1: expected a single YAML document, found a second one"},
    // yaml-cpp 0.7's LoadAll never returned on this (found by fuzzing): a stray ',' after a
    // document. The loader reads one document and looks at one more, so this ends.
    {"StrayCommaAfterTheDocument", "{a: 1},",
     "t.yaml:1:2: unknown key 'a' in config; expected one of: dataplane, control, metrics, knet, "
     "arp, icmp, group_file, groups, ports, vifs, routes, neighbours"},
    {"UnclosedFlow", "ports: [a, b\n", "t.yaml:2:1: end of sequence flow not found"},
    {"TabIndent", "ports:\n  - name: a\n\tdevice: x\n",
     "t.yaml:3:1: illegal tab when looking for indentation"},
    {"UndefinedAlias", "ports: *p\n", "t.yaml:1:8: the referenced anchor is not defined"},
    // Keys.
    {"DuplicateTopKey", WithPorts("ports: []\n"),
     "t.yaml:8:1: duplicate key 'ports' in config (first given on line 1)"},
    {"DuplicatePortKey", "ports:\n  - name: a\n    device: x\n    mtu: 1500\n    mtu: 9000\n",
     "t.yaml:5:5: duplicate key 'mtu' in port (first given on line 4)"},
    {"UnknownTopKey", WithPorts("neighbors: []\n"),
     "t.yaml:8:1: unknown key 'neighbors' in config; expected one of: dataplane, control, metrics, "
     "knet, arp, icmp, group_file, groups, ports, vifs, routes, neighbours"},
    {"UnknownPortKey", "ports:\n  - name: a\n    device: x\n    speed: 10\n",
     "t.yaml:4:5: unknown key 'speed' in port; expected one of: name, device, mac, mtu, addresses, "
     "link_local, group, state, router_advertisements"},
    {"MissingPorts", "dataplane:\n  workers: 1\n", "t.yaml:1:1: missing key 'ports' in config"},
    {"MissingDevice", "ports:\n  - name: a\n    mtu: 1500\n",
     "t.yaml:2:5: missing key 'device' in port"},
    {"MissingName", "ports:\n  - device: x\n", "t.yaml:2:5: missing key 'name' in port"},
    {"EmptyPortItem", "ports:\n  - name: a\n    device: x\n  -\n  - name: b\n    device: y\n",
     "t.yaml:1:1: ports: item 2 is empty"},
    // Types and ranges.
    {"PortsEmptyList", "ports: []\n",
     "t.yaml:1:8: ports: expected a list of at least one port, got an empty list"},
    {"PortsNothing", "ports:\n",
     "t.yaml:1:1: ports: expected a list of at least one port, got nothing"},
    {"PortsMap", "ports:\n  name: a\n",
     "t.yaml:2:3: ports: expected a list of at least one port, got a map"},
    {"PortNotMap", "ports:\n  - a\n",
     "t.yaml:2:5: port: expected a map with keys name, device, mac, mtu, addresses, link_local, "
     "group, state, router_advertisements, got 'a'"},
    {"WorkersWord", WithPorts("dataplane:\n  workers: two\n"),
     "t.yaml:9:12: workers: expected an integer between 1 and 64, got 'two'"},
    {"WorkersZero", WithPorts("dataplane:\n  workers: 0\n"),
     "t.yaml:9:12: workers: expected an integer between 1 and 64, got '0'"},
    {"WorkersNegative", WithPorts("dataplane:\n  workers: -1\n"),
     "t.yaml:9:12: workers: expected an integer between 1 and 64, got '-1'"},
    {"NbufsTooMany", WithPorts("dataplane:\n  nbufs: 16777216\n"),
     "t.yaml:9:10: nbufs: expected an integer between 1023 and 16777215, got '16777216'"},
    {"NbufsHuge", WithPorts("dataplane:\n  nbufs: 99999999999999999999999\n"),
     "t.yaml:9:10: nbufs: expected an integer between 1023 and 16777215, "
     "got '99999999999999999999999'"},
    {"HoldPacketsEmpty", WithPorts("arp:\n  hold_packets:\n"),
     "t.yaml:9:3: hold_packets: expected an integer between 1 and 1024, got nothing"},
    {"BurstList", WithPorts("icmp: {burst: [1]}\n"),
     "t.yaml:8:15: burst: expected an integer between 1 and 1000000, got a list"},
    {"ArpNotMap", WithPorts("arp: 5\n"),
     "t.yaml:8:6: arp: expected a map with keys hold_packets, reachable_seconds, retries, "
     "retry_ms, gc_seconds, got '5'"},
    {"SocketRelative", WithPorts("control:\n  socket: vr.sock\n"),
     "t.yaml:9:11: socket: expected an absolute path of at most 107 bytes, got 'vr.sock'"},
    {"MtuTooSmall", "ports:\n  - name: a\n    device: x\n    mtu: 67\n",
     "t.yaml:4:10: mtu: expected an integer between 68 and 9000, got '67'"},
    // Ports.
    {"PortNameTooLong", "ports:\n  - name: this-name-is-long\n    device: x\n",
     "t.yaml:2:11: name: expected a port name of 1 to 15 characters from A-Z a-z 0-9 _ . -, got "
     "'this-name-is-long'"},
    {"PortNameSpace", "ports:\n  - name: eth 0\n    device: x\n",
     "t.yaml:2:11: name: expected a port name of 1 to 15 characters from A-Z a-z 0-9 _ . -, got "
     "'eth 0'"},
    {"DuplicatePortName", "ports:\n  - name: a\n    device: d0\n  - name: a\n    device: d1\n",
     "t.yaml:4:11: duplicate port name 'a' (first defined on line 2)"},
    {"DuplicateDevice",
     "ports:\n  - name: a\n    device: net_tap0,iface=x\n  - name: b\n    device: net_tap0\n",
     "t.yaml:5:13: device 'net_tap0' is already used by port 'a' (line 2)"},
    {"DuplicatePciDevice",
     "ports:\n  - name: a\n    device: 0000:03:00.0\n  - name: b\n    device: 03:00.0\n",
     "t.yaml:5:13: device '0000:03:00.0' is already used by port 'a' (line 2)"},
    {"DeviceEmpty", "ports:\n  - name: a\n    device: ''\n",
     "t.yaml:3:13: device: expected DPDK devargs such as 0000:03:00.0 or "
     "net_af_packet0,iface=eth0, "
     "got ''"},
    {"BadMac", "ports:\n  - name: a\n    device: x\n    mac: 02:00:00:00:00\n",
     "t.yaml:4:10: mac: expected a MAC address like 02:00:00:00:00:01, got '02:00:00:00:00'"},
    {"MulticastMac", "ports:\n  - name: a\n    device: x\n    mac: 01:00:5e:00:00:01\n",
     "t.yaml:4:10: mac: 01:00:5e:00:00:01 is not a unicast MAC address"},
    {"AddressWithoutLength", "ports:\n  - name: a\n    device: x\n    addresses: [198.18.1.1]\n",
     "t.yaml:4:17: address: expected an IPv4 prefix like 198.18.1.1/24, got '198.18.1.1'"},
    {"AddressesNotList", "ports:\n  - name: a\n    device: x\n    addresses: 198.18.1.1/24\n",
     "t.yaml:4:16: addresses: expected a list of addresses like [198.18.1.1/24], got "
     "'198.18.1.1/24'"},
    {"NetworkAddress", "ports:\n  - name: a\n    device: x\n    addresses: [198.18.1.0/24]\n",
     "t.yaml:4:17: address 198.18.1.0/24 is the network address of 198.18.1.0/24; give the port a "
     "host address"},
    {"BroadcastAddress",
     "ports:\n  - name: a\n    device: x\n    addresses:\n      - 198.18.1.255/24\n",
     "t.yaml:5:9: address 198.18.1.255/24 is the broadcast address of 198.18.1.0/24; give the port "
     "a host address"},
    {"LoopbackAddress", "ports:\n  - name: a\n    device: x\n    addresses: [127.0.0.1/8]\n",
     "t.yaml:4:17: address 127.0.0.1/8: expected a unicast address with a prefix length of 1 to "
     "32"},
    {"OverlapOtherPort",
     WithPorts("  - name: c\n    device: net_tap0\n    addresses: [198.18.1.129/25]\n"),
     "t.yaml:10:17: address 198.18.1.129/25 overlaps 198.18.1.1/24 of port 'a'"},
    {"OverlapSamePort",
     "ports:\n  - name: a\n    device: x\n    addresses: [198.18.1.1/24, 198.18.1.2/24]\n",
     "t.yaml:4:32: address 198.18.1.2/24 overlaps 198.18.1.1/24 of port 'a'"},
    // Routes.
    {"RouteHostBits", WithPorts("routes:\n  - prefix: 198.19.0.1/16\n    via: 198.18.2.2\n"),
     "t.yaml:9:13: prefix 198.19.0.1/16 has host bits set; did you mean 198.19.0.0/16?"},
    {"RouteBadPrefix", WithPorts("routes:\n  - prefix: 198.19.0.0\n    via: 198.18.2.2\n"),
     "t.yaml:9:13: prefix: expected an IPv4 prefix like 198.18.1.1/24, got '198.19.0.0'"},
    {"DuplicateRoute",
     WithPorts("routes:\n  - prefix: 198.19.0.0/16\n    via: 198.18.2.2\n"
               "  - prefix: 198.19.0.0/16\n    type: blackhole\n"),
     "t.yaml:11:13: duplicate route 198.19.0.0/16 (first defined on line 9)"},
    {"RouteIsConnected", WithPorts("routes:\n  - prefix: 198.18.1.0/24\n    via: 198.18.2.2\n"),
     "t.yaml:9:13: prefix 198.18.1.0/24 is the connected subnet of port 'a'"},
    {"MissingPrefix", WithPorts("routes:\n  - via: 198.18.2.2\n"),
     "t.yaml:9:5: missing key 'prefix' in route"},
    {"MissingVia", WithPorts("routes:\n  - prefix: 198.19.0.0/16\n"),
     "t.yaml:9:5: missing key 'via' in route (a forward route needs a next hop; use type: "
     "blackhole or unreachable for a route without one)"},
    {"ViaOutside", WithPorts("routes:\n  - prefix: 198.19.0.0/16\n    via: 198.20.0.1\n"),
     "t.yaml:10:10: via 198.20.0.1 is not inside any port's subnet (a: 198.18.1.0/24, b: "
     "198.18.2.0/24)"},
    {"ViaOwnAddress", WithPorts("routes:\n  - prefix: 198.19.0.0/16\n    via: 198.18.2.1\n"),
     "t.yaml:10:10: via 198.18.2.1 is the router's own address on port 'b'"},
    {"ViaBroadcast", WithPorts("routes:\n  - prefix: 198.19.0.0/16\n    via: 198.18.2.255\n"),
     "t.yaml:10:10: via 198.18.2.255 is the network or broadcast address of 198.18.2.0/24"},
    {"ViaNotAnAddress", WithPorts("routes:\n  - prefix: 198.19.0.0/16\n    via: b\n"),
     "t.yaml:10:10: via: expected an IPv4 address like 198.18.1.1, got 'b'"},
    {"BlackholeWithVia",
     WithPorts("routes:\n  - prefix: 198.19.0.0/16\n    type: blackhole\n    via: 198.18.2.2\n"),
     "t.yaml:11:5: a blackhole route takes no 'via'"},
    {"MetricsListenNoPort", WithPorts("metrics:\n  listen: 127.0.0.1\n"),
     "t.yaml:9:11: listen: expected HOST:PORT (e.g. 127.0.0.1:9420), or off, got '127.0.0.1'"},
    {"MetricsListenBadPort", WithPorts("metrics:\n  listen: 127.0.0.1:70000\n"),
     "t.yaml:9:11: listen: expected HOST:PORT (e.g. 127.0.0.1:9420), or off, got "
     "'127.0.0.1:70000'"},
    {"BadRouteType", WithPorts("routes:\n  - prefix: 198.19.0.0/16\n    type: drop\n"),
     "t.yaml:10:11: type: expected one of forward, blackhole, unreachable, got 'drop'"},
    // Neighbours.
    {"NeighbourUnknownPort",
     WithPorts("neighbours:\n  - ip: 198.18.2.2\n    mac: 02:00:00:00:00:bb\n    port: c\n"),
     "t.yaml:11:11: port: expected the name of a port (a, b), got 'c'"},
    {"NeighbourOutsidePort",
     WithPorts("neighbours:\n  - ip: 198.18.1.5\n    mac: 02:00:00:00:00:bb\n    port: b\n"),
     "t.yaml:9:9: ip 198.18.1.5 is not inside a subnet of port 'b' (b: 198.18.2.0/24)"},
    {"NeighbourOutside", WithPorts("neighbours:\n  - ip: 198.20.0.1\n    mac: 02:00:00:00:00:bb\n"),
     "t.yaml:9:9: ip 198.20.0.1 is not inside any port's subnet (a: 198.18.1.0/24, b: "
     "198.18.2.0/24)"},
    {"NeighbourIsRouter",
     WithPorts("neighbours:\n  - ip: 198.18.1.1\n    mac: 02:00:00:00:00:bb\n"),
     "t.yaml:9:9: ip 198.18.1.1 is the router's own address on port 'a'"},
    {"DuplicateNeighbour",
     WithPorts("neighbours:\n  - ip: 198.18.2.2\n    mac: 02:00:00:00:00:bb\n"
               "  - ip: 198.18.2.2\n    mac: 02:00:00:00:00:cc\n"),
     "t.yaml:11:9: duplicate neighbour 198.18.2.2 (first defined on line 9)"},
    {"NeighbourMissingMac", WithPorts("neighbours:\n  - ip: 198.18.2.2\n"),
     "t.yaml:9:5: missing key 'mac' in neighbour"},
    {"NeighbourBroadcastMac",
     WithPorts("neighbours:\n  - ip: 198.18.2.2\n    mac: ff:ff:ff:ff:ff:ff\n"),
     "t.yaml:10:10: mac: ff:ff:ff:ff:ff:ff is not a unicast MAC address"},
    {"UnknownRouteKey", WithPorts("routes:\n  - {prefix: 198.19.0.0/16, dev: a}\n"),
     "t.yaml:9:29: unknown key 'dev' in route; expected one of: prefix, via, type, port"},
    {"UnreachableWithVia",
     WithPorts("routes:\n  - prefix: 198.19.0.0/16\n    type: unreachable\n    via: 198.18.2.2\n"),
     "t.yaml:11:5: an unreachable route takes no 'via'"},
    {"RoutePortOnIpv4",
     WithPorts("routes:\n  - prefix: 198.19.0.0/16\n    via: 198.18.2.2\n    port: b\n"),
     "t.yaml:11:5: port is only for an IPv6 route whose via is link-local (fe80::/10); an IPv4 "
     "next hop's port is the one whose subnet holds it"},
    {"RouteIpv4PrefixIpv6Via",
     WithDualPorts("routes:\n  - prefix: 198.19.0.0/16\n    via: 2001:db8:2::2\n"),
     "t.yaml:11:10: via: 2001:db8:2::2 is an IPv6 address, but the prefix 198.19.0.0/16 is IPv4; "
     "a next hop is of its prefix's family"},
    // IPv6 addresses (in `addresses`, with the IPv4 ones).
    {"Address6Syntax", "ports:\n  - name: a\n    device: x\n    addresses: [2001:db8::1::2/64]\n",
     "t.yaml:4:17: address: expected an IPv6 prefix like 2001:db8::1/64, got '2001:db8::1::2/64'"},
    {"Address6WithoutLength", "ports:\n  - name: a\n    device: x\n    addresses: [2001:db8::1]\n",
     "t.yaml:4:17: address: expected an IPv6 prefix like 2001:db8::1/64, got '2001:db8::1'"},
    {"Address6Zone", "ports:\n  - name: a\n    device: x\n    addresses: [fe80::1%eth0/64]\n",
     "t.yaml:4:17: address: expected an IPv6 prefix like 2001:db8::1/64, got 'fe80::1%eth0/64'"},
    {"Address6LengthTooLong",
     "ports:\n  - name: a\n    device: x\n    addresses: [2001:db8::1/129]\n",
     "t.yaml:4:17: address: expected a prefix length between 0 and 128 after '/', got "
     "'2001:db8::1/129'"},
    {"Address6LengthZero", "ports:\n  - name: a\n    device: x\n    addresses: [2001:db8::1/0]\n",
     "t.yaml:4:17: address 2001:db8::1/0: expected a prefix length of 1 to 128"},
    {"Address6Multicast", "ports:\n  - name: a\n    device: x\n    addresses: [ff02::1/64]\n",
     "t.yaml:4:17: address ff02::1/64 is a multicast address (ff00::/8); expected a unicast "
     "address"},
    {"Address6Unspecified", "ports:\n  - name: a\n    device: x\n    addresses: [\"::/64\"]\n",
     "t.yaml:4:17: address ::/64 is the unspecified address; expected a unicast address"},
    {"Address6Loopback", "ports:\n  - name: a\n    device: x\n    addresses: [::1/128]\n",
     "t.yaml:4:17: address ::1/128 is the loopback address; expected a unicast address"},
    {"Address6Ipv4Mapped",
     "ports:\n  - name: a\n    device: x\n    addresses: [::ffff:198.18.1.1/120]\n",
     "t.yaml:4:17: address ::ffff:198.18.1.1/120 is an IPv4-mapped address (::ffff:0:0/96); write "
     "an IPv4 address as such, like 198.18.1.1/24"},
    {"Address6LinkLocal", "ports:\n  - name: a\n    device: x\n    addresses: [FE80::1/64]\n",
     "t.yaml:4:17: address fe80::1/64 is a link-local address (fe80::/10); give it as link_local: "
     "fe80::1, without a length"},
    {"Address6SubnetRouterAnycast",
     "ports:\n  - name: a\n    device: x\n    addresses: [2001:db8:1::/64]\n",
     "t.yaml:4:17: address 2001:db8:1::/64 is the Subnet-Router anycast address of "
     "2001:db8:1::/64; give the port a host address"},
    {"Address6OverlapOtherPort",
     WithDualPorts("  - name: c\n    device: net_tap0\n    addresses: [2001:db8:1:0:8000::1/65]\n"),
     "t.yaml:11:17: address 2001:db8:1:0:8000::1/65 overlaps 2001:db8:1::1/64 of port 'a'"},
    {"Address6OverlapSamePort",
     "ports:\n  - name: a\n    device: x\n    addresses: [2001:db8:1::1/64, 198.18.1.1/24, "
     "2001:db8::1/32]\n",
     "t.yaml:4:50: address 2001:db8::1/32 overlaps 2001:db8:1::1/64 of port 'a'"},
    {"Address6Duplicate",
     WithDualPorts("  - name: c\n    device: net_tap0\n    addresses: [2001:DB8:1:0::1/64]\n"),
     "t.yaml:11:17: duplicate address 2001:db8:1::1/64 (already on port 'a')"},
    {"Address6DuplicateOtherLength",
     "ports:\n  - name: a\n    device: x\n    addresses: [2001:db8:1::1/64, 2001:db8:1::1/128]\n",
     "t.yaml:4:35: duplicate address 2001:db8:1::1/128 (already on port 'a')"},
    {"Address6OverlapVifPort",
     WithDualPorts("vifs: [{parent: b, vlan: 1, addresses: [2001:db8:1::9/128]}]\n"),
     "t.yaml:9:41: address 2001:db8:1::9/128 overlaps 2001:db8:1::1/64 of port 'a'"},
    {"Address6DuplicateVifPort",
     WithDualPorts("vifs: [{parent: b, vlan: 1, addresses: [2001:db8:2::1/64]}]\n"),
     "t.yaml:9:41: duplicate address 2001:db8:2::1/64 (already on port 'b')"},
    {"Address6OverlapVifItself",
     WithDualPorts(
         "vifs: [{parent: b, vlan: 1, addresses: [2001:db8:7::1/64, 2001:db8:7::2/56]}]\n"),
     "t.yaml:9:59: address 2001:db8:7::2/56 overlaps 2001:db8:7::1/64 of vif 'b.1'"},
    {"Address6OverlapVifVif",
     WithDualPorts("vifs:\n  - {parent: a, vlan: 1, addresses: [2001:db8:7::1/64]}\n"
                   "  - {parent: a, vlan: 2, addresses: [2001:db8::1/32]}\n"),
     "t.yaml:11:38: address 2001:db8::1/32 overlaps 2001:db8:7::1/64 of vif 'a.1'"},
    {"Address6VifSubnetRouterAnycast",
     WithDualPorts("vifs: [{parent: b, vlan: 1, addresses: [2001:db8:7::/64]}]\n"),
     "t.yaml:9:41: address 2001:db8:7::/64 is the Subnet-Router anycast address of "
     "2001:db8:7::/64; give the vif a host address"},
    // link_local, on ports and vifs.
    {"LinkLocalNotLinkLocal", "ports:\n  - name: a\n    device: x\n    link_local: 2001:db8::1\n",
     "t.yaml:4:17: link_local: 2001:db8::1 is not a link-local address; expected one in fe80::/10, "
     "like fe80::1"},
    {"LinkLocalWithLength", "ports:\n  - name: a\n    device: x\n    link_local: fe80::1/64\n",
     "t.yaml:4:17: link_local: expected an IPv6 address like 2001:db8::1, got 'fe80::1/64'"},
    {"LinkLocalZeroInterfaceId", "ports:\n  - name: a\n    device: x\n    link_local: 'fe80::'\n",
     "t.yaml:4:17: link_local: fe80:: has an interface id of all zeros (the Subnet-Router anycast "
     "address); expected a host address like fe80::1"},
    {"LinkLocalList", "ports:\n  - name: a\n    device: x\n    link_local: [fe80::1]\n",
     "t.yaml:4:17: link_local: expected a link-local address like fe80::1, got a list"},
    {"LinkLocalIpv4", "ports:\n  - name: a\n    device: x\n    link_local: 169.254.0.1\n",
     "t.yaml:4:17: link_local: expected an IPv6 address like 2001:db8::1, got '169.254.0.1'"},
    {"VifLinkLocalNotLinkLocal",
     WithDualPorts("vifs: [{parent: b, vlan: 1, link_local: fec0::1}]\n"),
     "t.yaml:9:41: link_local: fec0::1 is not a link-local address; expected one in fe80::/10, "
     "like fe80::1"},
    // IPv6 routes.
    {"Route6HostBits",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::1/48\n    via: 2001:db8:2::2\n"),
     "t.yaml:10:13: prefix 2001:db8:5::1/48 has host bits set; did you mean 2001:db8:5::/48?"},
    {"Route6BadLength",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/129\n    via: 2001:db8:2::2\n"),
     "t.yaml:10:13: prefix: expected a prefix length between 0 and 128 after '/', got "
     "'2001:db8:5::/129'"},
    {"Route6BadPrefix",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5:/48\n    via: 2001:db8:2::2\n"),
     "t.yaml:10:13: prefix: expected an IPv6 prefix like 2001:db8::1/64, got '2001:db8:5:/48'"},
    {"Route6Duplicate",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: 2001:db8:2::2\n"
                   "  - prefix: 2001:DB8:5:0::/48\n    type: blackhole\n"),
     "t.yaml:12:13: duplicate route 2001:db8:5::/48 (first defined on line 10)"},
    {"Route6IsConnected",
     WithDualPorts("routes:\n  - prefix: 2001:db8:1::/64\n    via: 2001:db8:2::2\n"),
     "t.yaml:10:13: prefix 2001:db8:1::/64 is the connected subnet of port 'a'"},
    {"Route6MissingVia", WithDualPorts("routes:\n  - prefix: ::/0\n"),
     "t.yaml:10:5: missing key 'via' in route (a forward route needs a next hop; use type: "
     "blackhole or unreachable for a route without one)"},
    {"Route6ViaOutside",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: 2001:db8:9::1\n"),
     "t.yaml:11:10: via 2001:db8:9::1 is not inside any port's IPv6 subnet (a: 2001:db8:1::/64, "
     "b: 2001:db8:2::/64)"},
    {"Route6ViaOutsideListsVifs",
     WithDualPorts("vifs: [{parent: a, vlan: 5, addresses: [2001:db8:5::1/64]}]\n"
                   "routes: [{prefix: 2001:db8:f::/48, via: 2001:db8:9::1}]\n"),
     "t.yaml:10:41: via 2001:db8:9::1 is not inside any interface's IPv6 subnet (a: "
     "2001:db8:1::/64, b: 2001:db8:2::/64, a.5: 2001:db8:5::/64)"},
    {"Route6ViaWithoutIpv6",
     WithPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: 2001:db8:2::2\n"),
     "t.yaml:10:10: via 2001:db8:2::2 is not inside any port's IPv6 subnet (no IPv6 address is "
     "configured)"},
    {"Route6ViaOwnAddress",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: 2001:db8:2::1\n"),
     "t.yaml:11:10: via 2001:db8:2::1 is the router's own address on port 'b'"},
    {"Route6ViaSubnetRouterAnycast",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: '2001:db8:2::'\n"),
     "t.yaml:11:10: via 2001:db8:2:: is the Subnet-Router anycast address of 2001:db8:2::/64"},
    {"Route6ViaMulticast",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: ff02::2\n"),
     "t.yaml:11:10: via ff02::2 is a multicast address (ff00::/8); expected a unicast address"},
    {"Route6ViaIpv4", WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: 198.18.2.2\n"),
     "t.yaml:11:10: via: 198.18.2.2 is an IPv4 address, but the prefix 2001:db8:5::/48 is IPv6; a "
     "next hop is of its prefix's family"},
    {"Route6ViaNotAnAddress", WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: b\n"),
     "t.yaml:11:10: via: expected an IPv6 address like 2001:db8::1, got 'b'"},
    {"Route6LinkLocalViaWithoutPort",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: fe80::2\n"),
     "t.yaml:11:10: via fe80::2 is a link-local address; say which port or vif it is on with "
     "'port'"},
    {"Route6LinkLocalViaUnknownPort",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: fe80::2\n    port: c\n"),
     "t.yaml:12:11: port: expected the name of a port (a, b), got 'c'"},
    {"Route6LinkLocalViaIsOwn",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: fe80::1\n    port: a\n"),
     "t.yaml:11:10: via fe80::1 is the router's own link-local address on port 'a'"},
    {"Route6PortWithGlobalVia",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    via: 2001:db8:2::2\n    port: b\n"),
     "t.yaml:12:5: port is only for a link-local via (fe80::/10); 2001:db8:2::2 is on b, the "
     "interface whose subnet holds it"},
    {"Route6BlackholeWithVia",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    type: blackhole\n"
                   "    via: 2001:db8:2::2\n"),
     "t.yaml:12:5: a blackhole route takes no 'via'"},
    {"Route6UnreachableWithPort",
     WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    type: unreachable\n    port: a\n"),
     "t.yaml:12:5: an unreachable route takes no 'port'"},
    {"Route6BadType", WithDualPorts("routes:\n  - prefix: 2001:db8:5::/48\n    type: drop\n"),
     "t.yaml:11:11: type: expected one of forward, blackhole, unreachable, got 'drop'"},
    // IPv6 neighbours.
    {"Neighbour6Outside",
     WithDualPorts("neighbours:\n  - ip: 2001:db8:9::2\n    mac: 02:00:00:00:00:bb\n"),
     "t.yaml:10:9: ip 2001:db8:9::2 is not inside any port's IPv6 subnet (a: 2001:db8:1::/64, b: "
     "2001:db8:2::/64)"},
    {"Neighbour6OutsidePort",
     WithDualPorts("neighbours:\n  - ip: 2001:db8:1::5\n    mac: 02:00:00:00:00:bb\n    port: b\n"),
     "t.yaml:10:9: ip 2001:db8:1::5 is not inside an IPv6 subnet of port 'b' (b: 2001:db8:2::/64)"},
    {"Neighbour6IsRouter",
     WithDualPorts("neighbours:\n  - ip: 2001:db8:1::1\n    mac: 02:00:00:00:00:bb\n"),
     "t.yaml:10:9: ip 2001:db8:1::1 is the router's own address on port 'a'"},
    {"Neighbour6SubnetRouterAnycast",
     WithDualPorts("neighbours:\n  - ip: '2001:db8:1::'\n    mac: 02:00:00:00:00:bb\n"),
     "t.yaml:10:9: ip 2001:db8:1:: is the Subnet-Router anycast address of 2001:db8:1::/64"},
    {"Neighbour6Multicast",
     WithDualPorts("neighbours:\n  - ip: ff02::1\n    mac: 02:00:00:00:00:bb\n    port: a\n"),
     "t.yaml:10:9: ip ff02::1 is a multicast address (ff00::/8); expected a unicast address"},
    {"Neighbour6Ipv4Mapped",
     WithDualPorts("neighbours:\n  - ip: ::ffff:198.18.1.2\n    mac: 02:00:00:00:00:bb\n"),
     "t.yaml:10:9: ip ::ffff:198.18.1.2 is an IPv4-mapped address (::ffff:0:0/96); expected a "
     "unicast address"},
    {"Neighbour6BadIp",
     WithDualPorts("neighbours:\n  - ip: 2001:db8:2::2::3\n    mac: 02:00:00:00:00:bb\n"),
     "t.yaml:10:9: ip: expected an IPv6 address like 2001:db8::1, got '2001:db8:2::2::3'"},
    {"Neighbour6Duplicate",
     WithDualPorts("neighbours:\n  - ip: 2001:db8:2::2\n    mac: 02:00:00:00:00:bb\n"
                   "  - ip: 2001:db8:2:0::2\n    mac: 02:00:00:00:00:cc\n    port: b\n"),
     "t.yaml:12:9: duplicate neighbour 2001:db8:2::2 (first defined on line 10)"},
    {"Neighbour6LinkLocalWithoutPort",
     WithDualPorts("neighbours:\n  - ip: fe80::2\n    mac: 02:00:00:00:00:bb\n"),
     "t.yaml:10:9: ip fe80::2 is a link-local address; say which port or vif it is on with "
     "'port'"},
    {"Neighbour6LinkLocalIsOwn",
     WithDualPorts("neighbours:\n  - ip: fe80::1\n    mac: 02:00:00:00:00:bb\n    port: a\n"),
     "t.yaml:10:9: ip fe80::1 is the router's own link-local address on port 'a'"},
    {"Neighbour6LinkLocalDuplicate",
     WithDualPorts("neighbours:\n  - {ip: fe80::2, mac: 02:00:00:00:00:bb, port: a}\n"
                   "  - {ip: fe80::2, mac: 02:00:00:00:00:cc, port: b}\n"
                   "  - {ip: fe80::2, mac: 02:00:00:00:00:dd, port: a}\n"),
     "t.yaml:12:10: duplicate neighbour fe80::2 on 'a' (first defined on line 10)"},
    {"Neighbour6UnknownPort",
     WithDualPorts("neighbours:\n  - ip: 2001:db8:2::2\n    mac: 02:00:00:00:00:bb\n    port: c\n"),
     "t.yaml:12:11: port: expected the name of a port (a, b), got 'c'"},
    {"Neighbour6UnknownInterfaceListsVifs",
     WithDualPorts("vifs: [{parent: b, vlan: 5}]\n"
                   "neighbours: [{ip: fe80::2, mac: 02:00:00:00:00:01, port: b.6}]\n"),
     "t.yaml:10:58: port: expected the name of a port or vif (a, b, b.5), got 'b.6'"},
    {"Neighbour6MulticastMac",
     WithDualPorts("neighbours:\n  - ip: 2001:db8:2::2\n    mac: 33:33:00:00:00:01\n"),
     "t.yaml:11:10: mac: 33:33:00:00:00:01 is not a unicast MAC address"},
    {"Neighbour6MissingMac", WithDualPorts("neighbours:\n  - ip: 2001:db8:2::2\n"),
     "t.yaml:10:5: missing key 'mac' in neighbour"},
};

INSTANTIATE_TEST_SUITE_P(All, ConfigError, testing::ValuesIn(kErrors),
                         [](const testing::TestParamInfo<ErrorCase>& info) {
                           return std::string(info.param.name);
                         });

// The IPv6 FIB's size is a limit of the file: one route more is refused where it stands, so
// `--check` and a reload say so before anything is touched. Duplicates among that many routes are
// found by lookup (a scan per route made a million routes take hours).
TEST(ParseConfig, Ipv6RoutesUpToTheFibSize) {
  std::string routes = "routes:\n";
  for (uint32_t i = 0; i < kMaxRoutes6; ++i) {
    routes += absl::StrFormat("  - {prefix: \"2001:db8:%x:%x::/64\", via: 2001:db8:2::2}\n",
                              0x100 + (i >> 16), i & 0xffff);
  }
  absl::StatusOr<Config> c = ParseConfig(WithDualPorts(routes), "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->routes6.size(), kMaxRoutes6);
  std::string one_more = routes + "  - {prefix: \"2001:db8:ffff::/64\", via: 2001:db8:2::2}\n";
  c = ParseConfig(WithDualPorts(one_more), "t.yaml");
  EXPECT_EQ(FirstLine(c.status()),
            absl::StrFormat("t.yaml:%u:14: route 2001:db8:ffff::/64 is IPv6 route number %u; the "
                            "IPv6 FIB holds at most %u routes",
                            9 + 1 + kMaxRoutes6, kMaxRoutes6 + 1, kMaxRoutes6));
  std::string dup = routes + "  - {prefix: \"2001:db8:100:7::/64\", via: 2001:db8:2::2}\n";
  c = ParseConfig(WithDualPorts(dup), "t.yaml");
  EXPECT_EQ(FirstLine(c.status()),
            absl::StrFormat("t.yaml:%u:14: duplicate route 2001:db8:100:7::/64 (first defined on "
                            "line %u)",
                            9 + 1 + kMaxRoutes6, 9 + 1 + 7));
}

TEST(LoadConfigFile, LoadsTheDemo) {
  std::string path = VR_SOURCE_DIR "/config/examples/demo.yaml";
  absl::StatusOr<Config> c = LoadConfigFile(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dataplane.workers, 1u);
  EXPECT_EQ(c->dataplane.nbufs, 16383u);
  EXPECT_EQ(c->control.socket, "/run/vrouter/control.sock");
  ASSERT_EQ(c->ports.size(), 2u);
  EXPECT_EQ(c->ports[0].name, "a");
  EXPECT_EQ(c->ports[0].device, "net_af_packet0,iface=vr-a");
  EXPECT_EQ(c->ports[0].mac, (Mac{2, 0, 0, 0, 0, 1}));
  EXPECT_EQ(c->ports[0].addresses, (std::vector<Ip4Prefix>{{Ip("198.18.1.1"), 24}}));
  EXPECT_EQ(c->ports[1].name, "b");
  EXPECT_EQ(c->ports[1].device, "net_af_packet1,iface=vr-b");
  EXPECT_EQ(c->ports[1].mac, (Mac{2, 0, 0, 0, 0, 2}));
  EXPECT_EQ(c->ports[1].addresses, (std::vector<Ip4Prefix>{{Ip("198.18.2.1"), 24}}));
  ASSERT_EQ(c->routes.size(), 3u);
  EXPECT_EQ(c->routes[0].prefix, (Ip4Prefix{Ip("198.19.0.0"), 16}));
  EXPECT_EQ(c->routes[0].via, Ip("198.18.2.2"));
  EXPECT_EQ(c->routes[1].prefix, (Ip4Prefix{Ip("198.19.255.0"), 24}));
  EXPECT_EQ(c->routes[1].type, RouteType::kBlackhole);
  EXPECT_EQ(c->routes[2].prefix, (Ip4Prefix{Ip("198.18.128.0"), 20}));
  EXPECT_EQ(c->routes[2].type, RouteType::kUnreachable);
  EXPECT_EQ(c->routes[0].loc.file, path);
}

// The sub-interface example: the addresses docs/config.md promises for its members.
TEST(LoadConfigFile, LoadsTheVifsExample) {
  absl::StatusOr<Config> c = LoadConfigFile(VR_SOURCE_DIR "/config/examples/vifs.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->ports.size(), 2u);
  ASSERT_EQ(c->groups.size(), 4u);
  const GroupConfig& customers = c->groups[1];
  EXPECT_EQ(customers.id, 10u);
  EXPECT_EQ(customers.name, "customers");
  EXPECT_EQ(customers.mtu, 1400u);
  ASSERT_EQ(customers.templates.size(), 1u);
  const TemplateConfig& t = customers.templates[0];
  EXPECT_EQ(t.parent, "a");
  EXPECT_EQ(t.outer, (TagRange{100, 163}));
  EXPECT_FALSE(t.inner.has_value());
  for (uint32_t i : {0u, 1u, 63u}) {
    TemplateMemberInfo m = TemplateMember(t, i);
    EXPECT_EQ(m.outer, 100 + i);
    EXPECT_EQ(m.address, (Ip4Prefix{Ip("198.18.64.0") + 2 * i, 31}));  // 198.18.64.(2i)/31
  }
  EXPECT_EQ(TemplateMember(t, 1).address6, *ParseIp6Prefix("2001:db8:100:1::1/64"));
  EXPECT_EQ(TemplateMember(t, 63).address6, *ParseIp6Prefix("2001:db8:100:3f::1/64"));
  const GroupConfig& wholesale = c->groups[2];
  ASSERT_EQ(wholesale.templates.size(), 1u);
  EXPECT_EQ(wholesale.templates[0].size(), 400u);
  EXPECT_EQ(TemplateMember(wholesale.templates[0], 399).address,
            (Ip4Prefix{Ip("198.18.102.61"), 30}));
  EXPECT_EQ(TemplateMember(wholesale.templates[0], 399).address6,
            *ParseIp6Prefix("2001:db8:200::31e/127"));
  ASSERT_EQ(c->vifs.size(), 2u);
  EXPECT_EQ(c->vifs[0].name, "lab7");
  EXPECT_EQ(c->vifs[0].group, 30u);
  EXPECT_EQ(c->vifs[0].impairment->mode, ImpairMode::kDrop);
  EXPECT_EQ(c->vifs[1].name, "b.99.1");
  EXPECT_EQ(c->vifs[1].impairment->mode, ImpairMode::kFlap);
  ASSERT_EQ(c->neighbours.size(), 2u);
  EXPECT_EQ(c->neighbours[0].port, "a.100");
}

// The dual-stack example: what docs/config.md and the example's comments promise.
TEST(LoadConfigFile, LoadsTheDualStackExample) {
  absl::StatusOr<Config> c = LoadConfigFile(VR_SOURCE_DIR "/config/examples/dual-stack.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->ports.size(), 2u);
  EXPECT_EQ(c->ports[0].addresses, (std::vector<Ip4Prefix>{{Ip("198.18.1.1"), 24}}));
  EXPECT_EQ(c->ports[0].addresses6, (std::vector<Ip6Prefix>{Net6("2001:db8:1::1/64")}));
  EXPECT_EQ(c->ports[0].link_local, Ip6("fe80::1"));
  EXPECT_EQ(c->ports[1].addresses, (std::vector<Ip4Prefix>{{Ip("198.18.2.1"), 24}}));
  EXPECT_EQ(c->ports[1].addresses6, (std::vector<Ip6Prefix>{Net6("2001:db8:2::1/64")}));
  EXPECT_FALSE(c->ports[1].link_local.has_value());
  ASSERT_EQ(c->routes.size(), 1u);
  ASSERT_EQ(c->routes6.size(), 2u);
  EXPECT_EQ(c->routes6[0].prefix, Net6("2001:db8:100::/48"));
  EXPECT_EQ(c->routes6[0].via, Ip6("2001:db8:2::2"));
  EXPECT_EQ(c->routes6[1].type, RouteType::kUnreachable);
  ASSERT_EQ(c->neighbours6.size(), 1u);
  EXPECT_EQ(c->neighbours6[0].ip, Ip6("2001:db8:2::2"));
  EXPECT_EQ(c->neighbours6[0].port, "b");
}

// Every shipped example must load, so that none rots when the schema changes.
TEST(LoadConfigFile, LoadsEveryExample) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(VR_SOURCE_DIR "/config/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    absl::StatusOr<Config> c = LoadConfigFile(entry.path().string());
    EXPECT_TRUE(c.ok()) << c.status();
    ++n;
  }
  EXPECT_GT(n, 0);
}

TEST(LoadConfigFile, MissingFileSaysSo) {
  absl::StatusOr<Config> c = LoadConfigFile("/nonexistent/vrouter.yaml");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(c.status().message(),
            "/nonexistent/vrouter.yaml: cannot open: No such file or directory");
}

TEST(LoadConfigFile, DirectoryIsAnError) {
  absl::StatusOr<Config> c = LoadConfigFile(VR_SOURCE_DIR "/config/examples");
  EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace vr::config
