// Tests of router advertisement settings in the config: the loader's defaults and checks (with
// the first line of every error), the derived values (config/router_adverts.cc), and the writer's
// round trip.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "config/config.h"

namespace vr::config {
namespace {

std::string FirstLine(const absl::Status& s) {
  std::string m(s.message());
  return m.substr(0, m.find('\n'));
}

Ip6Prefix Net6(std::string_view s) { return *ParseIp6Prefix(s); }

// Port a (line 2) dual stack with two IPv6 subnets, port b (line 7) IPv4 only; `ra` is port a's
// router_advertisements value, on line 6, column 28.
std::string PortA(std::string_view ra) {
  return std::string(
             "ports:\n"
             "  - name: a\n"
             "    device: net_af_packet0,iface=vr-a\n"
             "    mtu: 1500\n"
             "    addresses: [198.18.1.1/24, 2001:db8:1::1/64, 2001:db8:5::1/56]\n"
             "    router_advertisements: ") +
         std::string(ra) +
         "\n"
         "  - name: b\n"
         "    device: net_af_packet1,iface=vr-b\n"
         "    addresses: [198.18.2.1/24]\n";
}

Config Load(const std::string& text) {
  absl::StatusOr<Config> c = ParseConfig(text, "t.yaml");
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : Config{};
}

TEST(RouterAdverts, OffUnlessAsked) {
  Config c = Load(PortA("false"));
  EXPECT_FALSE(c.ports[0].router_advertisements.has_value());
  EXPECT_FALSE(c.ports[1].router_advertisements.has_value());
}

TEST(RouterAdverts, TrueGivesRfcDefaults) {
  for (std::string_view on : {"true", "{}", ""}) {
    Config c = Load(PortA(on));
    ASSERT_TRUE(c.ports[0].router_advertisements.has_value()) << on;
    const RouterAdvertConfig& ra = *c.ports[0].router_advertisements;
    EXPECT_EQ(ra.interval, 600u);            // MaxRtrAdvInterval
    EXPECT_EQ(ra.MinIntervalMs(), 198000u);  // 0.33 x 600 s
    EXPECT_EQ(ra.Lifetime(), 1800u);         // 3 x interval
    EXPECT_TRUE(ra.advertise_mtu);
    EXPECT_FALSE(ra.mtu.has_value());
    EXPECT_FALSE(ra.managed);
    EXPECT_FALSE(ra.other);
    EXPECT_EQ(ra.hop_limit, 64u);
    EXPECT_EQ(ra.reachable_time, 0u);
    EXPECT_EQ(ra.retrans_timer, 0u);
    EXPECT_TRUE(ra.auto_prefixes);
    EXPECT_TRUE(ra.prefixes.empty());
    EXPECT_EQ(ra.loc.line, 6);
  }
}

TEST(RouterAdverts, DerivedIntervalsAndLifetimes) {
  RouterAdvertConfig ra;
  ra.interval = 4;
  EXPECT_EQ(ra.MinIntervalMs(), 4000u) << "below 9 s the minimum is the maximum (§6.2.1)";
  EXPECT_EQ(ra.Lifetime(), 12u);
  ra.interval = 9;
  EXPECT_EQ(ra.MinIntervalMs(), 2970u);
  ra.interval = 1800;
  EXPECT_EQ(ra.Lifetime(), 5400u);
  ra.interval = 4000;  // beyond the loader's range: the lifetime still stops at 9000
  EXPECT_EQ(ra.Lifetime(), 9000u);
  ra.min_interval = 5;
  ra.lifetime = 0;
  EXPECT_EQ(ra.MinIntervalMs(), 5000u);
  EXPECT_EQ(ra.Lifetime(), 0u);
}

TEST(RouterAdverts, EveryKey) {
  Config c = Load(PortA(
      "{interval: 200, min_interval: 100, lifetime: 0, mtu: 1400, managed: true, other: true, "
      "hop_limit: 0, reachable_time: 30000, retrans_timer: 1000, prefixes: [{prefix: "
      "2001:db8:1::/64, on_link: false, autonomous: false, valid_lifetime: infinity, "
      "preferred_lifetime: 3600}]}"));
  const RouterAdvertConfig& ra = *c.ports[0].router_advertisements;
  EXPECT_EQ(ra.interval, 200u);
  EXPECT_EQ(ra.min_interval, 100u);
  EXPECT_EQ(ra.lifetime, 0u);
  EXPECT_TRUE(ra.advertise_mtu);
  EXPECT_EQ(ra.mtu, 1400u);
  EXPECT_TRUE(ra.managed);
  EXPECT_TRUE(ra.other);
  EXPECT_EQ(ra.hop_limit, 0u);
  EXPECT_EQ(ra.reachable_time, 30000u);
  EXPECT_EQ(ra.retrans_timer, 1000u);
  EXPECT_FALSE(ra.auto_prefixes);
  ASSERT_EQ(ra.prefixes.size(), 1u);
  EXPECT_EQ(ra.prefixes[0].prefix, Net6("2001:db8:1::/64"));
  EXPECT_FALSE(ra.prefixes[0].on_link);
  EXPECT_FALSE(ra.prefixes[0].autonomous);
  EXPECT_EQ(ra.prefixes[0].valid_lifetime, kInfiniteLifetime);
  EXPECT_EQ(ra.prefixes[0].preferred_lifetime, 3600u);
  EXPECT_EQ(AdvertisedPrefixes(ra, c.ports[0].addresses6).size(), 1u) << "no auto: listed only";
}

TEST(RouterAdverts, MtuFalseLeavesTheOptionOut) {
  const RouterAdvertConfig& ra = *Load(PortA("{mtu: false}")).ports[0].router_advertisements;
  EXPECT_FALSE(ra.advertise_mtu);
  EXPECT_FALSE(ra.mtu.has_value());
}

// The default advertises every subnet of the interface's IPv6 addresses, autonomous only for a
// /64; a listed prefix replaces the default entry of its subnet, auto adds the others.
TEST(RouterAdverts, AutoPrefixes) {
  Config c =
      Load(PortA("{prefixes: [auto, {prefix: 2001:db8:5::/56, valid_lifetime: 7200, "
                 "preferred_lifetime: 600}]}"));
  const RouterAdvertConfig& ra = *c.ports[0].router_advertisements;
  EXPECT_TRUE(ra.auto_prefixes);
  std::vector<RaPrefixConfig> p = AdvertisedPrefixes(ra, c.ports[0].addresses6);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].prefix, Net6("2001:db8:5::/56"));
  EXPECT_EQ(p[0].valid_lifetime, 7200u);
  EXPECT_FALSE(p[0].autonomous) << "a /56 is on-link only";
  EXPECT_EQ(p[1].prefix, Net6("2001:db8:1::/64")) << "host bits cleared";
  EXPECT_TRUE(p[1].on_link);
  EXPECT_TRUE(p[1].autonomous);
  EXPECT_EQ(p[1].valid_lifetime, 2592000u);
  EXPECT_EQ(p[1].preferred_lifetime, 604800u);

  std::vector<RaPrefixConfig> d = AdvertisedPrefixes(
      RouterAdvertConfig{},
      {Net6("2001:db8:1::1/64"), Net6("2001:db8:5::1/56"), Net6("2001:db8:1::2/64")});
  ASSERT_EQ(d.size(), 2u) << "one entry per subnet";
  EXPECT_TRUE(d[0].autonomous);
  EXPECT_FALSE(d[1].autonomous);
  EXPECT_TRUE(Load(PortA("{prefixes: []}")).ports[0].router_advertisements->prefixes.empty());
}

TEST(RouterAdverts, OnAVifAndALinkLocalOnlyPort) {
  Config c = Load(
      "ports:\n"
      "  - {name: a, device: x, mtu: 1400, link_local: fe80::1, router_advertisements: true}\n"
      "groups: [{id: 5, mtu: 1300}]\n"
      "vifs:\n"
      "  - {parent: a, vlan: 7, addresses: [2001:db8:7::1/64], group: 5,\n"
      "     router_advertisements: {interval: 4, mtu: 1300}}\n");
  EXPECT_TRUE(c.ports[0].router_advertisements.has_value());
  ASSERT_TRUE(c.vifs[0].router_advertisements.has_value());
  EXPECT_EQ(c.vifs[0].router_advertisements->mtu, 1300u);
  EXPECT_EQ(c.vifs[0].router_advertisements->Lifetime(), 12u);
}

TEST(RouterAdverts, RoundTrips) {
  for (std::string_view ra :
       {"true", "{mtu: false, prefixes: []}",
        "{interval: 30, min_interval: 10, lifetime: 0, mtu: 1280, managed: true, other: true, "
        "hop_limit: 255, reachable_time: 3600000, retrans_timer: 4294967295}",
        "{prefixes: [{prefix: 2001:db8:1::/64, valid_lifetime: infinity, preferred_lifetime: "
        "infinity}, auto, {prefix: 2001:db8:5::/56, on_link: false}]}"}) {
    Config c = Load(PortA(ra));
    std::string text = FormatConfig(c);
    absl::StatusOr<Config> again = ParseConfig(text, "again.yaml");
    ASSERT_TRUE(again.ok()) << again.status() << "\n" << text;
    EXPECT_EQ(*again, c) << text;
    EXPECT_EQ(FormatConfig(*again), text);
  }
  Config c = Load(PortA("{interval: 30, mtu: 1280, prefixes: [auto]}"));
  std::string text = FormatConfig(c);
  EXPECT_NE(text.find("    router_advertisements:\n"
                      "      interval: 30\n"
                      "      mtu: 1280\n"
                      "      managed: false\n"
                      "      other: false\n"
                      "      hop_limit: 64\n"
                      "      reachable_time: 0\n"
                      "      retrans_timer: 0\n"
                      "      prefixes: [auto]\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(FormatConfig(Load(PortA("false"))).find("router_advertisements"), std::string::npos);
}

TEST(RouterAdverts, EqualitySeesEveryField) {
  const Config base = Load(PortA("{prefixes: [auto, {prefix: 2001:db8:1::/64}]}"));
  auto differs = [&](void (*change)(RouterAdvertConfig&)) {
    Config c = base;
    change(*c.ports[0].router_advertisements);
    return !(c == base);
  };
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.interval++; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.min_interval = 3; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.lifetime = 0; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.advertise_mtu = false; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.mtu = 1280; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.managed = true; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.other = true; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.hop_limit = 1; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.reachable_time = 1; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.retrans_timer = 1; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.auto_prefixes = false; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.prefixes[0].on_link = false; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.prefixes[0].autonomous = false; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.prefixes[0].valid_lifetime = 1; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.prefixes[0].preferred_lifetime = 1; }));
  EXPECT_TRUE(differs([](RouterAdvertConfig& r) { r.prefixes[0].prefix.len = 48; }));
  EXPECT_FALSE(differs([](RouterAdvertConfig& r) {
    r.loc = {};
    r.prefixes[0].loc = {};
  }));
  Config off = base;
  off.ports[0].router_advertisements.reset();
  EXPECT_FALSE(off == base);
}

struct ErrorCase {
  std::string name;
  std::string text;
  std::string first_line;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class RouterAdvertError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(RouterAdvertError, FirstLineNamesPlaceAndProblem) {
  absl::StatusOr<Config> c = ParseConfig(GetParam().text, "t.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(FirstLine(c.status()), GetParam().first_line) << c.status();
}

INSTANTIATE_TEST_SUITE_P(
    All, RouterAdvertError,
    ::testing::Values(
        ErrorCase{"NotAMap", PortA("yes"),
                  "t.yaml:6:28: router_advertisements: expected true, false or a map with keys "
                  "interval, min_interval, lifetime, mtu, managed, other, hop_limit, "
                  "reachable_time, retrans_timer, prefixes, got 'yes'"},
        ErrorCase{"UnknownKey", PortA("{intervall: 5}"),
                  "t.yaml:6:29: unknown key 'intervall' in router_advertisements; expected one "
                  "of: interval, min_interval, lifetime, mtu, managed, other, hop_limit, "
                  "reachable_time, retrans_timer, prefixes"},
        ErrorCase{"IntervalTooShort", PortA("{interval: 3}"),
                  "t.yaml:6:39: interval: expected an integer between 4 and 1800, got '3'"},
        ErrorCase{"IntervalTooLong", PortA("{interval: 1801}"),
                  "t.yaml:6:39: interval: expected an integer between 4 and 1800, got '1801'"},
        ErrorCase{"MinIntervalAboveThreeQuarters", PortA("{interval: 100, min_interval: 76}"),
                  "t.yaml:6:58: min_interval: expected an integer between 3 and 75 (0.75 x "
                  "interval 100), got '76'"},
        ErrorCase{"MinIntervalBelowThree", PortA("{min_interval: 2}"),
                  "t.yaml:6:43: min_interval: expected an integer between 3 and 450 (0.75 x "
                  "interval 600), got '2'"},
        ErrorCase{"LifetimeBelowInterval", PortA("{interval: 100, lifetime: 99}"),
                  "t.yaml:6:54: lifetime: expected 0 (not a default router) or an integer "
                  "between 100 (the interval) and 9000, got '99'"},
        ErrorCase{"LifetimeTooLong", PortA("{lifetime: 9001}"),
                  "t.yaml:6:39: lifetime: expected 0 (not a default router) or an integer "
                  "between 600 (the interval) and 9000, got '9001'"},
        ErrorCase{"MtuAboveThePorts", PortA("{mtu: 1501}"),
                  "t.yaml:6:34: mtu: expected true, false or an integer between 1280 (IPv6's "
                  "minimum) and 1500 (the mtu of port 'a'), got '1501'"},
        ErrorCase{"MtuBelowIpv6Minimum", PortA("{mtu: 1279}"),
                  "t.yaml:6:34: mtu: expected true, false or an integer between 1280 (IPv6's "
                  "minimum) and 1500 (the mtu of port 'a'), got '1279'"},
        ErrorCase{"PortMtuBelowIpv6Minimum",
                  "ports:\n  - {name: a, device: x, mtu: 1200, addresses: [2001:db8:1::1/64],\n"
                  "     router_advertisements: true}\n",
                  "t.yaml:3:6: router_advertisements: port 'a' has mtu 1200, below IPv6's "
                  "minimum of 1280, which the MTU option cannot carry; give mtu: false"},
        ErrorCase{"Flag", PortA("{managed: yes}"),
                  "t.yaml:6:38: managed: expected true or false, got 'yes'"},
        ErrorCase{"HopLimit", PortA("{hop_limit: 256}"),
                  "t.yaml:6:40: hop_limit: expected an integer between 0 and 255, got '256'"},
        ErrorCase{"ReachableTime", PortA("{reachable_time: 3600001}"),
                  "t.yaml:6:45: reachable_time: expected an integer between 0 and 3600000, got "
                  "'3600001'"},
        ErrorCase{"NoIpv6",
                  "ports:\n  - {name: a, device: x, addresses: [198.18.1.1/24], "
                  "router_advertisements: true}\n",
                  "t.yaml:2:54: router_advertisements on port 'a', which has no IPv6 address: "
                  "add one to its addresses (hosts configure themselves from its prefix), or "
                  "give it a link_local to advertise a default router alone"},
        ErrorCase{"NoIpv6OnAVif",
                  "ports:\n  - {name: a, device: x}\n"
                  "vifs:\n  - {parent: a, vlan: 7, router_advertisements: {interval: 4}}\n",
                  "t.yaml:4:26: router_advertisements on vif 'a.7', which has no IPv6 address: "
                  "add one to its addresses (hosts configure themselves from its prefix), or "
                  "give it a link_local to advertise a default router alone"},
        ErrorCase{"PrefixNotOnTheInterface", PortA("{prefixes: [{prefix: 2001:db8:9::/64}]}"),
                  "t.yaml:6:49: prefix 2001:db8:9::/64 is not a subnet of port 'a' (its IPv6 "
                  "subnets: 2001:db8:1::/64, 2001:db8:5::/56); a router advertises the prefixes "
                  "of its own addresses on the link"},
        ErrorCase{"PrefixOtherLength", PortA("{prefixes: [{prefix: 2001:db8:1::/48}]}"),
                  "t.yaml:6:49: prefix 2001:db8:1::/48 is not a subnet of port 'a' (its IPv6 "
                  "subnets: 2001:db8:1::/64, 2001:db8:5::/56); a router advertises the prefixes "
                  "of its own addresses on the link"},
        ErrorCase{"PrefixHostBits", PortA("{prefixes: [{prefix: 2001:db8:1::1/64}]}"),
                  "t.yaml:6:49: prefix 2001:db8:1::1/64 has host bits set; the subnet is "
                  "2001:db8:1::/64"},
        ErrorCase{"PrefixMissing", PortA("{prefixes: [{on_link: true}]}"),
                  "t.yaml:6:40: missing key 'prefix' in prefix"},
        ErrorCase{"PrefixTwice",
                  PortA("{prefixes: [{prefix: 2001:db8:1::/64}, {prefix: 2001:db8:1::/64}]}"),
                  "t.yaml:6:67: prefix 2001:db8:1::/64 is listed twice (first on line 6)"},
        ErrorCase{"AutoTwice", PortA("{prefixes: [auto, auto]}"),
                  "t.yaml:6:46: prefixes: auto is listed twice"},
        ErrorCase{"PrefixItemWord", PortA("{prefixes: [all]}"),
                  "t.yaml:6:40: prefixes: expected auto or a map with keys prefix, on_link, "
                  "autonomous, valid_lifetime, preferred_lifetime, got 'all'"},
        ErrorCase{"AutonomousNot64",
                  PortA("{prefixes: [{prefix: 2001:db8:5::/56, autonomous: true}]}"),
                  "t.yaml:6:78: autonomous: hosts form addresses only from a /64 (a 64-bit "
                  "interface identifier, RFC 4862 §5.5.3), and 2001:db8:5::/56 is a /56"},
        ErrorCase{"PreferredAboveValid",
                  PortA("{prefixes: [{prefix: 2001:db8:1::/64, valid_lifetime: 600, "
                        "preferred_lifetime: 601}]}"),
                  "t.yaml:6:107: preferred_lifetime 601 is above valid_lifetime 600: an "
                  "address stops being preferred before it stops being valid"},
        ErrorCase{"DefaultPreferredAboveValid",
                  PortA("{prefixes: [{prefix: 2001:db8:1::/64, valid_lifetime: 600}]}"),
                  "t.yaml:6:82: preferred_lifetime 604800 (the default) is above "
                  "valid_lifetime 600: an address stops being preferred before it stops being "
                  "valid"},
        ErrorCase{"LifetimeWord",
                  PortA("{prefixes: [{prefix: 2001:db8:1::/64, valid_lifetime: forever}]}"),
                  "t.yaml:6:82: valid_lifetime: expected a number of seconds between 0 and "
                  "4294967295, or infinity, got 'forever'"},
        ErrorCase{"Template",
                  "ports:\n  - {name: a, device: x}\n"
                  "groups: [{id: 5, templates: [{parent: a, vlan: 1-9, router_advertisements: "
                  "true}]}]\n",
                  "t.yaml:3:53: router_advertisements: not supported in group templates; list "
                  "the sub-interfaces that should send them under vifs"},
        ErrorCase{"TemplateMember",
                  "ports:\n  - {name: a, device: x}\n"
                  "groups: [{id: 5, templates: [{parent: a, vlan: 1-9, members: [{vlan: 2, "
                  "router_advertisements: true}]}]}]\n",
                  "t.yaml:3:73: router_advertisements: not supported in template members; list "
                  "the sub-interfaces that should send them under vifs"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

}  // namespace
}  // namespace vr::config
