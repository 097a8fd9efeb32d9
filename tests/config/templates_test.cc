// Tests of sub-interfaces in the config: TemplateMember and SubinterfaceName (config/templates.cc),
// and the loader's `vifs`, group settings, `templates` and `impairment` keys with their cross
// checks (config/loader.cc). Error messages are part of the contract, as in loader_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace vr::config {
namespace {

namespace fs = std::filesystem;

uint32_t Ip(std::string_view s) { return *ParseIp4(s); }

std::string FirstLine(const absl::Status& s) {
  std::string m(s.message());
  return m.substr(0, m.find('\n'));
}

// Two ports; what follows starts on line 8. Port b has the larger mtu.
constexpr std::string_view kPorts =
    "ports:\n"
    "  - name: a\n"
    "    device: net_af_packet0,iface=vr-a\n"
    "    addresses: [198.18.1.1/24]\n"
    "  - name: b\n"
    "    device: net_af_packet1,iface=vr-b\n"
    "    mtu: 9000\n";

std::string WithPorts(std::string_view rest) { return std::string(kPorts) + std::string(rest); }

Config Load(std::string_view text) {
  absl::StatusOr<Config> c = ParseConfig(text, "t.yaml");
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : Config{};
}

// --- TemplateMember and SubinterfaceName --------------------------------------------------------

TEST(TemplateMember, VlanMembersTakeConsecutiveIds) {
  TemplateConfig t{.parent = "a", .outer = {100, 163}};
  EXPECT_EQ(t.size(), 64u);
  TemplateMemberInfo m = TemplateMember(t, 0);
  EXPECT_EQ(m.outer, 100);
  EXPECT_EQ(m.inner, 0);
  EXPECT_FALSE(m.address.has_value());
  EXPECT_FALSE(m.mac.has_value());
  EXPECT_EQ(TemplateMember(t, 63).outer, 163);
  EXPECT_EQ(TemplateMember(t, 17).outer, 117);
}

TEST(TemplateMember, QinqMembersAreOuterMajor) {
  TemplateConfig t{.parent = "b", .outer = {10, 13}, .inner = TagRange{1, 100}};
  EXPECT_EQ(t.size(), 400u);
  auto tags = [&](uint32_t i) {
    TemplateMemberInfo m = TemplateMember(t, i);
    return std::pair<int, int>(m.outer, m.inner);
  };
  EXPECT_EQ(tags(0), std::pair(10, 1));
  EXPECT_EQ(tags(99), std::pair(10, 100));
  EXPECT_EQ(tags(100), std::pair(11, 1));
  EXPECT_EQ(tags(250), std::pair(12, 51));
  EXPECT_EQ(tags(399), std::pair(13, 100));
  TemplateConfig wide{.parent = "b", .outer = {1, 4094}, .inner = TagRange{1, 4094}};
  EXPECT_EQ(wide.size(), 4094u * 4094u);
  EXPECT_EQ(TemplateMember(wide, 4094u * 4094u - 1).outer, 4094);
  EXPECT_EQ(TemplateMember(wide, 4094u * 4094u - 1).inner, 4094);
}

TEST(TemplateMember, AddressesStepFromMemberZero) {
  TemplateConfig t{.parent = "a",
                   .outer = {100, 163},
                   .address = Ip4Prefix{Ip("198.18.64.0"), 31},
                   .address_step = 2};
  EXPECT_EQ(TemplateMember(t, 0).address, (Ip4Prefix{Ip("198.18.64.0"), 31}));
  EXPECT_EQ(TemplateMember(t, 1).address, (Ip4Prefix{Ip("198.18.64.2"), 31}));
  EXPECT_EQ(TemplateMember(t, 63).address, (Ip4Prefix{Ip("198.18.64.126"), 31}));
  // The host part stays where member 0 has it; steps carry across octets.
  t.address = Ip4Prefix{Ip("10.0.255.1"), 24};
  t.address_step = 256;
  EXPECT_EQ(TemplateMember(t, 1).address, (Ip4Prefix{Ip("10.1.0.1"), 24}));
  t.address = Ip4Prefix{Ip("198.18.96.1"), 30};
  t.address_step = 8;
  EXPECT_EQ(TemplateMember(t, 40).address, (Ip4Prefix{Ip("198.18.97.65"), 30}));
}

TEST(TemplateMember, MacsStepAsA48BitNumber) {
  TemplateConfig t{.parent = "a", .outer = {1, 4094}, .mac = Mac{2, 0, 0, 0, 0xff, 0xfe}};
  EXPECT_EQ(TemplateMember(t, 0).mac, (Mac{2, 0, 0, 0, 0xff, 0xfe}));
  EXPECT_EQ(TemplateMember(t, 1).mac, (Mac{2, 0, 0, 0, 0xff, 0xff}));
  EXPECT_EQ(TemplateMember(t, 2).mac, (Mac{2, 0, 0, 1, 0, 0}));  // carries into the next octet
  // Through all of them (arithmetic only: the loader refuses a template with a multicast member).
  t.mac = Mac{2, 0xff, 0xff, 0xff, 0xff, 0};
  t.mac_step = 0x100;
  EXPECT_EQ(TemplateMember(t, 1).mac, (Mac{3, 0, 0, 0, 0, 0}));
  t.mac = Mac{2, 0, 0, 0, 0, 0};
  t.mac_step = 4000000000u;  // 4000 * 4e9 = 0x0e8d4a510000
  EXPECT_EQ(TemplateMember(t, 4000).mac, (Mac{0x10, 0x8d, 0x4a, 0x51, 0, 0}));
}

Ip6Addr A6(std::string_view s) { return *ParseIp6(s); }
Ip6Prefix P6(std::string_view s) { return *ParseIp6Prefix(s); }

TEST(TemplateMember, Ipv6AddressesStepAs128BitNumbers) {
  TemplateConfig t{.parent = "a",
                   .outer = {100, 163},
                   .address6 = P6("2001:db8:100::1/64"),
                   .address6_step = absl::uint128(1) << 64};
  EXPECT_EQ(TemplateMember(t, 0).address6, P6("2001:db8:100::1/64"));
  EXPECT_EQ(TemplateMember(t, 1).address6, P6("2001:db8:100:1::1/64"));
  EXPECT_EQ(TemplateMember(t, 63).address6, P6("2001:db8:100:3f::1/64"));
  EXPECT_FALSE(TemplateMember(t, 0).address.has_value());
  EXPECT_EQ(TemplateMemberFor6(t, A6("2001:db8:100:3f::abcd")), 63u);
  EXPECT_EQ(TemplateMemberFor6(t, A6("2001:db8:100:40::1")), std::nullopt) << "past the last";
  EXPECT_EQ(TemplateMemberFor6(t, A6("2001:db8:ff:ffff::1")), std::nullopt) << "below the first";
  // /127s two apart carry across the 64-bit halves; a step of 4 leaves a gap after each.
  TemplateConfig p2p{.parent = "a",
                     .outer = {1, 4},
                     .address6 = P6("2001:db8:0:ffff:ffff:ffff:ffff:fffc/127"),
                     .address6_step = 4};
  EXPECT_EQ(TemplateMember(p2p, 1).address6, P6("2001:db8:1::/127"));
  EXPECT_EQ(TemplateMember(p2p, 3).address6, P6("2001:db8:1::8/127"));
  EXPECT_EQ(TemplateMemberFor6(p2p, A6("2001:db8:1::1")), 1u);
  EXPECT_EQ(TemplateMemberFor6(p2p, A6("2001:db8:1::2")), std::nullopt) << "in a gap";
  EXPECT_EQ(TemplateMemberFor6(p2p, A6("2001:db8:1::5")), 2u);
}

TEST(TemplateMember, Ipv6StepsReadAsNumbersOrAddresses) {
  EXPECT_EQ(*ParseIp6Step("2"), absl::uint128(2));
  EXPECT_EQ(*ParseIp6Step("18446744073709551616"), absl::uint128(1) << 64);
  EXPECT_EQ(*ParseIp6Step("0:0:0:1::"), absl::uint128(1) << 64);
  EXPECT_EQ(*ParseIp6Step("::2"), absl::uint128(2));
  EXPECT_FALSE(ParseIp6Step("02").ok());
  EXPECT_FALSE(ParseIp6Step("340282366920938463463374607431768211456").ok()) << "2^128";
  EXPECT_EQ(ParseIp6Step("two").status().message(),
            "expected a number like 2, or an IPv6 address like 0:0:0:1:: read as a 128-bit "
            "number, got 'two'");
  EXPECT_EQ(FormatIp6Step(2), "2");
  EXPECT_EQ(FormatIp6Step(4294967295u), "4294967295");
  EXPECT_EQ(FormatIp6Step(absl::uint128(1) << 64), "0:0:0:1::");
  EXPECT_EQ(FormatIp6Step(absl::uint128(1) << 72), "0:0:0:100::");
}

TEST(SubinterfaceName, VlanAndQinq) {
  EXPECT_EQ(SubinterfaceName("a", 100, 0), "a.100");
  EXPECT_EQ(SubinterfaceName("a", 100, 7), "a.100.7");
  EXPECT_EQ(SubinterfaceName("uplink.x", 4094, 4094), "uplink.x.4094.4094");
}

// --- The loader ---------------------------------------------------------------------------------

TEST(Vifs, ReadWithDefaults) {
  Config c = Load(WithPorts(R"(groups: [{id: 7, name: web}]
vifs:
  - parent: a
    vlan: 5
  - name: q
    parent: b
    outer: 10
    inner: 20
    mac: 02:00:00:00:00:0a
    mtu: 9000
    addresses: [198.18.5.1/24, 198.18.6.1/31]
    group: web
    state: down
    impairment: {mode: flap, on_ms: 100, off_ms: 900}
)"));
  ASSERT_EQ(c.vifs.size(), 2u);
  const VifConfig& v = c.vifs[0];
  EXPECT_EQ(v.name, "a.5");
  EXPECT_EQ(v.parent, "a");
  EXPECT_EQ(v.outer, 5);
  EXPECT_EQ(v.inner, 0);
  EXPECT_FALSE(v.mac.has_value());
  EXPECT_FALSE(v.mtu.has_value());
  EXPECT_TRUE(v.addresses.empty());
  EXPECT_EQ(v.group, 0u);
  EXPECT_FALSE(v.up.has_value());
  EXPECT_FALSE(v.impairment.has_value());
  EXPECT_EQ(v.loc.line, 10);
  const VifConfig& q = c.vifs[1];
  EXPECT_EQ(q.name, "q");
  EXPECT_EQ(q.outer, 10);
  EXPECT_EQ(q.inner, 20);
  EXPECT_EQ(q.mac, (Mac{2, 0, 0, 0, 0, 0x0a}));
  EXPECT_EQ(q.mtu, 9000u);
  EXPECT_EQ(q.addresses,
            (std::vector<Ip4Prefix>{{Ip("198.18.5.1"), 24}, {Ip("198.18.6.1"), 31}}));
  EXPECT_EQ(q.group, 7u);
  EXPECT_EQ(q.up, false);
  EXPECT_EQ(q.impairment, (ImpairmentConfig{.mode = ImpairMode::kFlap, .on_ms = 100, .off_ms = 900}));
}

TEST(Vifs, InheritTheParentsGroup) {
  Config c = Load(
      "groups: [{id: 7, name: web}]\n"
      "ports: [{name: a, device: x, group: web}]\n"
      "vifs:\n"
      "  - {parent: a, vlan: 1}\n"
      "  - {parent: a, vlan: 2, group: default}\n"
      "  - {parent: a, vlan: 3, group: 12}\n");
  ASSERT_EQ(c.vifs.size(), 3u);
  EXPECT_EQ(c.vifs[0].group, 7u);
  EXPECT_EQ(c.vifs[1].group, 0u);
  EXPECT_EQ(c.vifs[2].group, 12u);
}

TEST(GroupSettings, ReadEveryKeyAndImpairmentMode) {
  Config c = Load(WithPorts(R"(groups:
  - {id: 1, name: p, impairment: {mode: pass}}
  - {id: 2, name: d, mtu: 1400, state: down, impairment: {mode: drop, percent: 100}}
  - {id: 3, name: s, state: up, impairment: {mode: drop, percent: 1, seed: 18446744073709551615}}
  - {id: 4, impairment: {mode: flap, on_ms: 3600000, off_ms: 1}}
  - {id: 5, name: plain}
)"));
  ASSERT_EQ(c.groups.size(), 6u);
  EXPECT_EQ(c.groups[1].impairment, ImpairmentConfig{});
  EXPECT_FALSE(c.groups[1].mtu.has_value());
  EXPECT_FALSE(c.groups[1].up.has_value());
  EXPECT_EQ(c.groups[2].mtu, 1400u);
  EXPECT_EQ(c.groups[2].up, false);
  EXPECT_EQ(c.groups[2].impairment,
            (ImpairmentConfig{.mode = ImpairMode::kDrop, .drop_percent = 100, .seed = 1}));
  EXPECT_EQ(c.groups[3].up, true);
  EXPECT_EQ(c.groups[3].impairment->seed, 18446744073709551615u);
  EXPECT_EQ(c.groups[4].name, "");  // a group may exist for its settings only
  EXPECT_EQ(c.groups[4].impairment,
            (ImpairmentConfig{.mode = ImpairMode::kFlap, .on_ms = 3600000, .off_ms = 1}));
  EXPECT_EQ(GroupName(c, 4), "4");
  EXPECT_EQ(GroupId(c, ""), std::nullopt);
  EXPECT_FALSE(c.groups[5].impairment.has_value());
}

TEST(Templates, ReadWithDefaults) {
  Config c = Load(WithPorts(R"(groups:
  - id: 10
    name: customers
    templates:
      - parent: a
        vlan: 100-163
        address: 198.18.64.0/31
        mac: 02:00:00:00:10:00
      - {parent: b, vlan: 7}
      - {parent: b, outer: 1-2, inner: 5-9, address: 198.18.96.1/30, address_step: 8,
         mac: 02:00:00:00:20:00, mac_step: 16}
)"));
  ASSERT_EQ(c.groups.size(), 2u);
  const std::vector<TemplateConfig>& t = c.groups[1].templates;
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].parent, "a");
  EXPECT_EQ(t[0].outer, (TagRange{100, 163}));
  EXPECT_FALSE(t[0].inner.has_value());
  EXPECT_EQ(t[0].address, (Ip4Prefix{Ip("198.18.64.0"), 31}));
  EXPECT_EQ(t[0].address_step, 2u);  // one /31 per member
  EXPECT_EQ(t[0].mac, (Mac{2, 0, 0, 0, 0x10, 0}));
  EXPECT_EQ(t[0].mac_step, 1u);
  EXPECT_EQ(t[0].loc.line, 12);
  EXPECT_EQ(t[1].outer, (TagRange{7, 7}));
  EXPECT_FALSE(t[1].address.has_value());
  EXPECT_FALSE(t[1].mac.has_value());
  EXPECT_EQ(t[2].outer, (TagRange{1, 2}));
  EXPECT_EQ(t[2].inner, (TagRange{5, 9}));
  EXPECT_EQ(t[2].size(), 10u);
  EXPECT_EQ(t[2].address_step, 8u);
  EXPECT_EQ(t[2].mac_step, 16u);
  EXPECT_EQ(TemplateMember(t[2], 9).address, (Ip4Prefix{Ip("198.18.96.73"), 30}));
}

// Dual stack: an IPv4 and an IPv6 address per member, each with its own step; an IPv6-only
// template may give its address as `address`, with address_step as its step.
TEST(Templates, ReadIpv6AddressesWithDefaults) {
  Config c = Load(WithPorts(R"(groups:
  - id: 10
    templates:
      - parent: a
        vlan: 100-163
        address: 198.18.64.0/31
        address6: 2001:db8:100::1/64
      - {parent: b, vlan: 1-1000, address: 2001:db8:200::/127, address_step: 2}
      - {parent: b, vlan: 2000-2009, address6: 2001:db8:300::1/64, address6_step: "0:0:0:100::"}
)"));
  const std::vector<TemplateConfig>& t = c.groups[1].templates;
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].address, (Ip4Prefix{Ip("198.18.64.0"), 31}));
  EXPECT_EQ(t[0].address6, P6("2001:db8:100::1/64"));
  EXPECT_EQ(t[0].address6_step, absl::uint128(1) << 64) << "one /64 per member";
  EXPECT_EQ(TemplateMember(t[0], 63).address6, P6("2001:db8:100:3f::1/64"));
  EXPECT_FALSE(t[1].address.has_value());
  EXPECT_EQ(t[1].address6, P6("2001:db8:200::/127"));
  EXPECT_EQ(t[1].address6_step, absl::uint128(2));
  EXPECT_EQ(TemplateMember(t[1], 999).address6, P6("2001:db8:200::7ce/127"));
  EXPECT_EQ(t[2].address6_step, absl::uint128(1) << 72) << "one /56 per member";
  EXPECT_EQ(TemplateMember(t[2], 9).address6, P6("2001:db8:300:900::1/64"));
  // Written back and read again: the same templates (address6 and address6_step are written).
  std::string text = FormatConfig(c);
  EXPECT_NE(text.find("address6: 2001:db8:200::/127"), std::string::npos) << text;
  EXPECT_NE(text.find("address6_step: \"0:0:0:100::\""), std::string::npos) << text;
  EXPECT_EQ(Load(text), c);
}

// Steps near the size of the address space: the checks' arithmetic never wraps (a step of
// 0x7000:: from 2001:db8::1 once looked like member 0 reaching ff00::/8).
TEST(Templates, HugeIpv6StepsAreCheckedWithoutWrapping) {
  Config c = Load(WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 1-2, address6: "
                            "2001:db8::1/64, address6_step: \"7000::\"}]}]\n"));
  EXPECT_EQ(TemplateMember(c.groups[1].templates[0], 1).address6, P6("9001:db8::1/64"));
  absl::StatusOr<Config> bad = ParseConfig(
      WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 1-3, address6: "
                "2001:db8::1/64, address6_step: \"6f80::\"}]}]\n"),
      "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(FirstLine(bad.status()),
            "t.yaml:8:64: address6 2001:db8::1/64: member 2 (a.3) would get ff01:db8::1/64, which "
            "is a multicast address (ff00::/8)");
}

// Routes and neighbours find members' IPv6 subnets by arithmetic; a member's link-local
// address is on its own link, so a link-local next hop or neighbour may name the member.
TEST(Templates, Ipv6RoutesAndNeighboursReachMembers) {
  Config c = Load(WithPorts(R"(groups:
  - id: 10
    templates:
      - {parent: a, vlan: 100-163, address6: 2001:db8:100::1/64}
routes:
  - {prefix: 2001:db8:ff00::/40, via: 2001:db8:100:5::2}
  - {prefix: 2001:db8:fe00::/40, via: fe80::2, port: a.163}
  - {prefix: 2001:db8:100::/48, type: blackhole}
neighbours:
  - {ip: 2001:db8:100:5::2, mac: 02:00:00:00:00:05}
  - {ip: fe80::2, mac: 02:00:00:00:00:06, port: a.100}
  - {ip: fe80::2, mac: 02:00:00:00:00:07, port: a.101}
)"));
  ASSERT_EQ(c.routes6.size(), 3u);
  EXPECT_EQ(c.routes6[1].port, "a.163");
  ASSERT_EQ(c.neighbours6.size(), 3u);
  EXPECT_EQ(c.neighbours6[0].port, "a.105") << "found from the member's subnet";
  EXPECT_EQ(c.neighbours6[1].port, "a.100");
}

// A YAML group without a name adds settings to the id the group file names, and neither side
// conflicts; the table keeps the file's name.
TEST(Templates, NamelessGroupJoinsTheFilesName) {
  fs::path dir = fs::path(testing::TempDir()) / "vr_templates_test";
  fs::create_directories(dir);
  std::ofstream(dir / "group") << "10 customers\n";
  absl::StatusOr<Config> c = ParseConfig(
      "group_file: group\n"
      "groups:\n"
      "  - {id: 10, mtu: 1400, templates: [{parent: a, vlan: 100-101}]}\n"
      "ports: [{name: a, device: x}]\n"
      "vifs: [{parent: a, vlan: 5, group: customers}]\n",
      (dir / "x.yaml").string());
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->groups.size(), 2u);
  EXPECT_EQ(c->groups[1].name, "customers");
  EXPECT_EQ(c->groups[1].source, GroupSource::kFile);
  EXPECT_EQ(c->groups[1].mtu, 1400u);
  EXPECT_EQ(c->groups[1].templates.size(), 1u);
  EXPECT_EQ(c->vifs[0].group, 10u);
}

// Vlan ids and qinq outer ids are one space, but qinq vifs may share an outer id.
TEST(Templates, MembersKeepTheirOwnSettingsInMemberOrder) {
  absl::StatusOr<Config> c = ParseConfig(WithPorts(R"(groups:
  - id: 10
    templates:
      - parent: a
        outer: 1-4
        inner: 10-19
        members:
          - {outer: 3, inner: 12, state: down}
          - {outer: 1, inner: 19, mtu: 1400, impairment: {mode: drop, percent: 10, seed: 1}}
)"),
                                         "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  const TemplateConfig& t = c->groups.back().templates.at(0);
  ASSERT_EQ(t.members.size(), 2u);
  EXPECT_EQ(t.members[0].outer, 1) << "sorted by member index, not as listed";
  EXPECT_EQ(t.members[0].inner, 19);
  EXPECT_EQ(t.members[0].mtu, 1400u);
  ASSERT_TRUE(t.members[0].impairment.has_value());
  EXPECT_EQ(t.members[1].outer, 3);
  EXPECT_EQ(t.members[1].up, false);
  EXPECT_EQ(TemplateMemberIndex(t, 3, 12), 22u);
  EXPECT_EQ(TemplateMemberIndex(t, 5, 12), std::nullopt);
  TemplateConfig same = t;
  same.members.clear();
  EXPECT_TRUE(same.SameBlock(t)) << "members' settings are not the block's identity";
  EXPECT_FALSE(same == t);
}

TEST(Templates, TagsMayTouchButNotOverlap) {
  Config c = Load(WithPorts(R"(groups:
  - id: 10
    templates:
      - {parent: a, vlan: 100-199}
      - {parent: a, vlan: 200}
      - {parent: a, outer: 300-301, inner: 1-100}
      - {parent: a, outer: 300-301, inner: 101-200}
      - {parent: b, vlan: 100-199}
vifs:
  - {parent: a, vlan: 99}
  - {parent: a, outer: 300, inner: 201}
  - {parent: a, outer: 300, inner: 202}
  - {parent: a, outer: 302, inner: 1}
  - {parent: b, vlan: 200}
)"));
  EXPECT_EQ(c.groups[1].templates.size(), 5u);
  EXPECT_EQ(c.vifs.size(), 5u);
}

// Routes and neighbours find vifs and template members by their subnets, members by arithmetic.
TEST(Templates, RoutesAndNeighboursReachSubinterfaces) {
  Config c = Load(WithPorts(R"(groups:
  - id: 10
    templates:
      - {parent: a, vlan: 100-163, address: 198.18.64.0/31, address_step: 4}
vifs:
  - {name: x, parent: b, vlan: 5, addresses: [198.18.5.1/24]}
routes:
  - {prefix: 198.19.1.0/24, via: 198.18.64.9}
  - {prefix: 198.19.2.0/24, via: 198.18.5.2}
  - {prefix: 198.18.64.6/31, type: blackhole}
neighbours:
  - {ip: 198.18.64.253, mac: 02:00:00:00:00:01}
  - {ip: 198.18.5.3, mac: 02:00:00:00:00:02}
  - {ip: 198.18.64.1, mac: 02:00:00:00:00:03, port: a.100}
  - {ip: 198.18.5.4, mac: 02:00:00:00:00:04, port: x}
)"));
  ASSERT_EQ(c.routes.size(), 3u);
  EXPECT_EQ(c.routes[0].via, Ip("198.18.64.9"));
  ASSERT_EQ(c.neighbours.size(), 4u);
  EXPECT_EQ(c.neighbours[0].port, "a.163");
  EXPECT_EQ(c.neighbours[1].port, "x");
  EXPECT_EQ(c.neighbours[2].port, "a.100");
  EXPECT_EQ(c.neighbours[3].port, "x");
}

// A million members cost what one costs: nothing is expanded member by member.
TEST(Templates, AMillionMembersLoad) {
  Config c = Load(WithPorts(R"(groups:
  - id: 10
    name: big
    templates:
      - parent: b
        outer: 1-256
        inner: 1-4094
        address: 10.0.0.1/30
        mac: 02:00:00:00:00:00
      - parent: a
        outer: 1-2
        inner: 1-300
        address: 100.64.0.1/32
vifs:
  - {parent: a, vlan: 5, addresses: [10.255.0.1/24]}
routes:
  - {prefix: 198.19.0.0/16, via: 10.63.247.254}
  - {prefix: 198.20.0.0/16, via: 10.0.0.2}
neighbours:
  - {ip: 10.63.247.254, mac: 02:00:00:00:00:01, port: b.256.4094}
  - {ip: 10.0.0.6, mac: 02:00:00:00:00:01}
)"));
  ASSERT_EQ(c.groups.size(), 2u);
  ASSERT_EQ(c.groups[1].templates.size(), 2u);
  const TemplateConfig& t = c.groups[1].templates[0];
  EXPECT_EQ(t.size() + c.groups[1].templates[1].size(), 1048664u);  // 256 * 4094 + 2 * 300
  EXPECT_EQ(TemplateMember(t, t.size() - 1).address, (Ip4Prefix{Ip("10.63.247.253"), 30}));
  EXPECT_EQ(TemplateMember(t, t.size() - 1).mac, (Mac{2, 0, 0, 0x0f, 0xfd, 0xff}));
  ASSERT_EQ(c.neighbours.size(), 2u);
  EXPECT_EQ(c.neighbours[0].port, "b.256.4094");
  EXPECT_EQ(c.neighbours[1].port, "b.1.2");
}

// The largest tag space there is, twice over: 2 x 16,760,836 members, and the ids run out.
TEST(Templates, VifIdsRunOut) {
  std::string one = WithPorts(
      "groups:\n"
      "  - id: 10\n"
      "    templates:\n"
      "      - {parent: a, outer: 1-4094, inner: 1-4094}\n");
  Config c = Load(one);
  EXPECT_EQ(c.groups[1].templates[0].size(), 16760836u);
  absl::StatusOr<Config> two =
      ParseConfig(one + "      - {parent: b, outer: 1-4094, inner: 1-4094}\n", "t.yaml");
  EXPECT_EQ(FirstLine(two.status()),
            "t.yaml:12:9: too many vifs: this template's 16760836 members bring the ports and "
            "sub-interfaces to 33521674; at most 16777216 fit the 24 bits of a vif id");
}

// --- Errors -------------------------------------------------------------------------------------

struct ErrorCase {
  const char* name;
  std::string yaml;
  const char* first_line;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class SubinterfaceError : public testing::TestWithParam<ErrorCase> {};

TEST_P(SubinterfaceError, FirstLineNamesPlaceAndProblem) {
  absl::StatusOr<Config> c = ParseConfig(GetParam().yaml, "t.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FirstLine(c.status()), GetParam().first_line) << c.status().message();
}

// One template on line 8 ("groups: [...]" on one line) with `t` as its map's contents.
std::string Template(std::string_view t) {
  return WithPorts("groups: [{id: 10, templates: [{" + std::string(t) + "}]}]\n");
}

// One vif on line 8 with `v` as its map's contents.
std::string Vif(std::string_view v) { return WithPorts("vifs: [{" + std::string(v) + "}]\n"); }

std::string Impairment(std::string_view i) {
  return WithPorts("groups: [{id: 10, impairment: " + std::string(i) + "}]\n");
}

const ErrorCase kErrors[] = {
    // Group settings.
    {"GroupIdTwiceWithSettings", WithPorts("groups: [{id: 10, name: c}, {id: 10, mtu: 1400}]\n"),
     "t.yaml:8:34: group 10 is already listed on line 8; give a group's name, settings and "
     "templates in one entry"},
    {"GroupSamePairWithSettings",
     WithPorts("groups: [{id: 10, name: c, mtu: 1400}, {id: 10, name: c}]\n"),
     "t.yaml:8:45: group 10 is already listed on line 8; give a group's name, settings and "
     "templates in one entry"},
    {"GroupMtuTooBig", WithPorts("groups: [{id: 10, mtu: 9001}]\n"),
     "t.yaml:8:24: mtu: expected an integer between 68 and 9000, got '9001'"},
    {"GroupStateBad", WithPorts("groups: [{id: 10, state: off}]\n"),
     "t.yaml:8:26: state: expected up or down, got 'off'"},
    {"GroupTemplatesNotList", WithPorts("groups: [{id: 10, templates: {parent: a}}]\n"),
     "t.yaml:8:30: templates: expected a list of templates like {parent: a, vlan: 100-199}, got "
     "a map"},
    {"GroupMtuAboveTemplateParent",
     WithPorts("groups:\n  - {id: 10, name: c, mtu: 1501, templates: [{parent: a, vlan: 1}]}\n"),
     "t.yaml:9:55: group 'c' has mtu 1501 (line 9), above the mtu 1500 of port 'a', the parent of "
     "this template's members"},
    {"GroupMtuAboveVifParent",
     WithPorts("groups: [{id: 10, mtu: 1501}]\nvifs:\n  - {parent: a, vlan: 1, group: 10}\n"),
     "t.yaml:10:33: group 10 has mtu 1501 (line 8), above the mtu 1500 of port 'a', the parent "
     "of this vif; give the vif an mtu of its own"},
    {"GroupMtuAboveVifParentFromPort",
     "groups: [{id: 10, mtu: 1501}]\nports: [{name: a, device: x, group: 10}]\n"
     "vifs: [{parent: a, vlan: 1}]\n",
     "t.yaml:3:17: group 10 has mtu 1501 (line 1), above the mtu 1500 of port 'a', the parent of "
     "this vif; give the vif an mtu of its own"},
    // Impairment.
    {"ImpairmentNotMap", Impairment("drop"),
     "t.yaml:8:31: impairment: expected a map with keys mode, percent, seed, on_ms, off_ms, got "
     "'drop'"},
    {"ImpairmentNoMode", Impairment("{percent: 5}"), "t.yaml:8:31: missing key 'mode' in impairment"},
    {"ImpairmentBadMode", Impairment("{mode: insane}"),
     "t.yaml:8:38: mode: expected one of pass, drop, flap, got 'insane'"},
    {"ImpairmentUnknownKey", Impairment("{mode: pass, rate: 5}"),
     "t.yaml:8:44: unknown key 'rate' in impairment; expected one of: mode, percent, seed, on_ms, "
     "off_ms"},
    {"DropWithoutPercent", Impairment("{mode: drop}"),
     "t.yaml:8:31: missing key 'percent' in impairment (mode drop needs it)"},
    {"DropPercentZero", Impairment("{mode: drop, percent: 0}"),
     "t.yaml:8:53: percent: expected an integer between 1 and 100, got '0'"},
    {"DropPercentTooBig", Impairment("{mode: drop, percent: 101}"),
     "t.yaml:8:53: percent: expected an integer between 1 and 100, got '101'"},
    {"DropSeedNegative", Impairment("{mode: drop, percent: 5, seed: -1}"),
     "t.yaml:8:62: seed: expected an integer between 0 and 18446744073709551615, got '-1'"},
    {"DropSeedTooBig", Impairment("{mode: drop, percent: 5, seed: 18446744073709551616}"),
     "t.yaml:8:62: seed: expected an integer between 0 and 18446744073709551615, got "
     "'18446744073709551616'"},
    {"DropWithOnMs", Impairment("{mode: drop, percent: 5, on_ms: 5}"),
     "t.yaml:8:56: on_ms is only for mode flap"},
    {"FlapWithPercent", Impairment("{mode: flap, on_ms: 5, off_ms: 5, percent: 5}"),
     "t.yaml:8:65: percent is only for mode drop"},
    {"FlapWithSeed", Impairment("{mode: flap, on_ms: 5, off_ms: 5, seed: 5}"),
     "t.yaml:8:65: seed is only for mode drop"},
    {"PassWithPercent", Impairment("{mode: pass, percent: 5}"),
     "t.yaml:8:44: percent is only for mode drop"},
    {"FlapWithoutOffMs", Impairment("{mode: flap, on_ms: 5}"),
     "t.yaml:8:31: missing key 'off_ms' in impairment (mode flap needs it)"},
    {"FlapOnMsTooBig", Impairment("{mode: flap, on_ms: 3600001, off_ms: 5}"),
     "t.yaml:8:51: on_ms: expected an integer between 1 and 3600000, got '3600001'"},
    {"FlapOffMsZero", Impairment("{mode: flap, on_ms: 5, off_ms: 0}"),
     "t.yaml:8:62: off_ms: expected an integer between 1 and 3600000, got '0'"},
    // Templates: keys, parent and tags.
    {"TemplateUnknownKey", Template("parent: a, vlan: 1, step: 2"),
     "t.yaml:8:52: unknown key 'step' in template; expected one of: parent, vlan, outer, inner, "
     "address, address_step, address6, address6_step, mac, mac_step, members"},
    {"TemplateNoParent", Template("vlan: 1"), "t.yaml:8:31: missing key 'parent' in template"},
    {"MemberOutsideTheTemplate", Template("parent: a, vlan: 5-9, members: [{vlan: 10, mtu: 1400}]"),
     "t.yaml:8:71: vlan 10 is not a member of this template"},
    {"MemberTwice", Template("parent: a, vlan: 5-9, members: [{vlan: 6}, {vlan: 6, mtu: 1400}]"),
     "t.yaml:8:75: member a.6 is listed twice"},
    {"MemberQinqInVlanTemplate",
     Template("parent: a, vlan: 5-9, members: [{outer: 6, inner: 1, mtu: 1400}]"),
     "t.yaml:8:72: this template is vlan: give its members vlan"},
    {"MemberMtuAboveParent", Template("parent: a, vlan: 5-9, members: [{vlan: 6, mtu: 9000}]"),
     "t.yaml:8:79: mtu 9000 is above the mtu 1500 of port 'a', the parent of this member"},
    {"MemberUnknownKey", Template("parent: a, vlan: 5-9, members: [{vlan: 6, group: 3}]"),
     "t.yaml:8:74: unknown key 'group' in member; expected one of: vlan, outer, inner, mtu, state, "
     "impairment"},
    {"TemplateUnknownParent", Template("parent: c, vlan: 1"),
     "t.yaml:8:40: parent: expected the name of a port (a, b), got 'c'"},
    {"TemplateNoTags", Template("parent: a"),
     "t.yaml:8:31: missing key 'vlan' in template (or outer and inner, for qinq)"},
    {"TemplateVlanAndOuter", Template("parent: a, vlan: 1-5, outer: 7, inner: 1-5"),
     "t.yaml:8:54: a template takes either vlan (802.1Q) or outer and inner (802.1ad qinq), not "
     "both"},
    {"TemplateInnerThenVlan", Template("parent: a, inner: 1-5, vlan: 7"),
     "t.yaml:8:55: a template takes either vlan (802.1Q) or outer and inner (802.1ad qinq), not "
     "both"},
    {"TemplateOuterWithoutInner", Template("parent: a, outer: 1-5"),
     "t.yaml:8:31: missing key 'inner' in template (qinq takes outer and inner)"},
    {"TemplateRangeZero", Template("parent: a, vlan: 0-5"),
     "t.yaml:8:49: vlan: expected an id 1 to 4094 or a range FIRST-LAST like 100-199, got '0-5'"},
    {"TemplateRangeTooHigh", Template("parent: a, outer: 1, inner: 4000-4095"),
     "t.yaml:8:60: inner: expected an id 1 to 4094 or a range FIRST-LAST like 100-199, got "
     "'4000-4095'"},
    {"TemplateRangeLeadingZero", Template("parent: a, vlan: 010-20"),
     "t.yaml:8:49: vlan: expected an id 1 to 4094 or a range FIRST-LAST like 100-199, got "
     "'010-20'"},
    {"TemplateRangeSpaces", Template("parent: a, vlan: 10 - 20"),
     "t.yaml:8:49: vlan: expected an id 1 to 4094 or a range FIRST-LAST like 100-199, got "
     "'10 - 20'"},
    {"TemplateRangeBackwards", Template("parent: a, vlan: 200-100"),
     "t.yaml:8:49: vlan: range 200-100 runs backwards; expected FIRST-LAST with FIRST not above "
     "LAST"},
    {"TemplateRangeList", Template("parent: a, vlan: [1, 5]"),
     "t.yaml:8:49: vlan: expected an id 1 to 4094 or a range FIRST-LAST like 100-199, got a list"},
    {"TemplateRangesOverlap",
     WithPorts("groups:\n  - id: 10\n    templates:\n      - {parent: a, vlan: 100-199}\n"
               "  - id: 11\n    templates:\n      - {parent: a, vlan: 199-250}\n"),
     "t.yaml:14:27: vlan 199-250 clashes with the template with vlan 100-199 on port 'a' (line "
     "11)"},
    {"TemplateQinqOverlap",
     Template("parent: a, outer: 1-10, inner: 1-10}, {parent: a, outer: 10-20, inner: 10-20"),
     "t.yaml:8:89: outer 10-20 inner 10-20 clashes with the template with outer 1-10 inner 1-10 "
     "on port 'a' (line 8)"},
    {"TemplateOuterClashesWithVlan", Template("parent: a, vlan: 1-10}, {parent: a, outer: 10, inner: 1"),
     "t.yaml:8:75: outer 10 inner 1 clashes with the template with vlan 1-10 on port 'a' (line "
     "8); a port's vlan ids and qinq outer ids are one id space"},
    {"TemplateMemberNamedLikeAPort",
     "ports: [{name: a, device: x0}, {name: a.5, device: x1}]\n"
     "groups: [{id: 10, templates: [{parent: a, vlan: 1-9}]}]\n",
     "t.yaml:2:49: member 'a.5' of this template has the name of port 'a.5' (line 1)"},
    {"TemplateMemberNamedLikeAnotherTemplatesMember",
     "ports: [{name: a, device: x0}, {name: a.1, device: x1}]\n"
     "groups: [{id: 10, templates: [{parent: a.1, vlan: 1-20}, {parent: a, outer: 1, inner: 5-9}]}]"
     "\n",
     "t.yaml:2:77: member 'a.1.5' of this template has the name of a member of the template with "
     "vlan 1-20 on port 'a.1' (line 2)"},
    // Templates: addresses and MACs.
    {"TemplateAddressNoLength", Template("parent: a, vlan: 1, address: 198.18.64.0"),
     "t.yaml:8:61: address: expected an IPv4 prefix like 198.18.1.1/24, got '198.18.64.0'"},
    {"TemplateAddressNetwork", Template("parent: a, vlan: 1, address: 198.18.64.0/30"),
     "t.yaml:8:61: address 198.18.64.0/30 is the network address of 198.18.64.0/30; give member "
     "0 a host address"},
    {"TemplateAddressStepTooSmall",
     Template("parent: a, vlan: 1-9, address: 198.18.64.1/30, address_step: 2"),
     "t.yaml:8:93: address_step: expected a multiple of 4, the size of a /30 subnet, so that "
     "members' subnets do not overlap, got '2'"},
    {"TemplateAddressStepNotAMultiple",
     Template("parent: a, vlan: 1-9, address: 198.18.64.1/30, address_step: 6"),
     "t.yaml:8:93: address_step: expected a multiple of 4, the size of a /30 subnet, so that "
     "members' subnets do not overlap, got '6'"},
    {"TemplateAddressStepZero",
     Template("parent: a, vlan: 1-9, address: 198.18.64.1/30, address_step: 0"),
     "t.yaml:8:93: address_step: expected an integer between 1 and 4294967295, got '0'"},
    {"TemplateAddressStepWithoutAddress", Template("parent: a, vlan: 1-9, address_step: 4"),
     "t.yaml:8:54: address_step is only for a template with an address"},
    {"TemplateAddressesWrap", Template("parent: a, vlan: 1-2, address: 200.0.0.1/1"),
     "t.yaml:8:63: address 200.0.0.1/1: 2 members at a step of 2147483648 run past "
     "255.255.255.255"},
    {"TemplateAddressesReachMulticast",
     Template("parent: a, vlan: 1-2, address: 223.255.255.1/24"),
     "t.yaml:8:63: address 223.255.255.1/24: member 1 (a.2) would get 224.0.0.1/24, which is not "
     "a unicast address"},
    {"TemplateAddressesReachLoopback",
     Template("parent: a, outer: 1-4094, inner: 1-4094, address: 126.0.0.1/30"),
     "t.yaml:8:82: address 126.0.0.1/30: member 4194304 (a.1025.2049) would get 127.0.0.1/30, "
     "which is not a unicast address"},
    {"TemplateAddressOverlapsAPort", Template("parent: b, vlan: 1-200, address: 198.18.0.0/31"),
     "t.yaml:8:65: address 198.18.0.0/31: the members' subnets 198.18.0.0/31 to 198.18.1.142/31 "
     "overlap 198.18.1.1/24 of port 'a'"},
    {"TemplateAddressOverlapsATemplate",
     Template("parent: a, vlan: 1-64, address: 198.18.64.0/31}, {parent: b, vlan: 1-10, "
              "address: 198.18.64.126/31"),
     "t.yaml:8:114: address 198.18.64.126/31: the members' subnets 198.18.64.126/31 to "
     "198.18.64.144/31 overlap the members' subnets 198.18.64.0/31 to 198.18.64.126/31 of the "
     "template with vlan 1-64 on port 'a' (line 8)"},
    {"TemplateMacMulticast", Template("parent: a, vlan: 1-9, mac: 01:00:00:00:00:01"),
     "t.yaml:8:59: mac: 01:00:00:00:00:01 is not a unicast MAC address"},
    {"TemplateMacsReachMulticast", Template("parent: a, vlan: 1-100, mac: 02:ff:ff:ff:ff:f0"),
     "t.yaml:8:61: mac 02:ff:ff:ff:ff:f0: member 16 (a.17) would get 03:00:00:00:00:00, a "
     "multicast address"},
    {"TemplateMacsWrap",
     Template("parent: a, vlan: 1-4094, mac: fe:00:00:00:00:00, mac_step: 4294967295"),
     "t.yaml:8:62: mac fe:00:00:00:00:00: 4094 members at a step of 4294967295 run past "
     "ff:ff:ff:ff:ff:ff"},
    {"TemplateMacsCrossMulticast",
     Template("parent: a, vlan: 1-2, mac: fe:ff:ff:ff:ff:ff, mac_step: 2"),
     "t.yaml:8:59: mac fe:ff:ff:ff:ff:ff: member 1 (a.2) would get ff:00:00:00:00:01, a "
     "multicast address"},
    {"TemplateMacStepWithoutMac", Template("parent: a, vlan: 1-9, mac_step: 4"),
     "t.yaml:8:54: mac_step is only for a template with a mac"},
    // Vifs.
    {"VifsNotList", WithPorts("vifs: {parent: a}\n"),
     "t.yaml:8:7: vifs: expected a list of vifs like {parent: a, vlan: 100}, got a map"},
    {"VifUnknownKey", Vif("parent: a, vlan: 1, speed: 5"),
     "t.yaml:8:29: unknown key 'speed' in vif; expected one of: name, parent, vlan, outer, inner, "
     "mac, mtu, addresses, link_local, group, state, impairment, router_advertisements"},
    {"VifNoParent", Vif("vlan: 1"), "t.yaml:8:8: missing key 'parent' in vif"},
    {"VifParentIsAVif", WithPorts("vifs:\n  - {parent: a, vlan: 1}\n  - {parent: a.1, vlan: 2}\n"),
     "t.yaml:10:14: parent: expected the name of a port (a, b), got 'a.1'"},
    {"VifNoTags", Vif("parent: a"), "t.yaml:8:8: missing key 'vlan' in vif (or outer and inner, for qinq)"},
    {"VifVlanAndOuter", Vif("parent: a, vlan: 1, outer: 2, inner: 3"),
     "t.yaml:8:29: a vif takes either vlan (802.1Q) or outer and inner (802.1ad qinq), not both"},
    {"VifInnerWithoutOuter", Vif("parent: a, inner: 3"),
     "t.yaml:8:8: missing key 'outer' in vif (qinq takes outer and inner)"},
    {"VifVlanRange", Vif("parent: a, vlan: 1-5"),
     "t.yaml:8:26: vlan: expected an integer between 1 and 4094, got '1-5'"},
    {"VifVlanTooHigh", Vif("parent: a, vlan: 4095"),
     "t.yaml:8:26: vlan: expected an integer between 1 and 4094, got '4095'"},
    {"VifInnerZero", Vif("parent: a, outer: 1, inner: 0"),
     "t.yaml:8:37: inner: expected an integer between 1 and 4094, got '0'"},
    {"VifNameBad", Vif("name: a b, parent: a, vlan: 1"),
     "t.yaml:8:15: name: expected a vif name of 1 to 31 characters from A-Z a-z 0-9 _ . -, got "
     "'a b'"},
    {"VifNameTooLong", Vif("name: abcdefghijklmnopqrstuvwxyz012345, parent: a, vlan: 1"),
     "t.yaml:8:15: name: expected a vif name of 1 to 31 characters from A-Z a-z 0-9 _ . -, got "
     "'abcdefghijklmnopqrstuvwxyz012345'"},
    {"VifNameIsAPort", Vif("name: b, parent: a, vlan: 1"),
     "t.yaml:8:15: name 'b' is already used by port 'b' (line 5)"},
    {"VifNameTwice", WithPorts("vifs:\n  - {name: x, parent: a, vlan: 1}\n"
                               "  - {name: x, parent: b, vlan: 1}\n"),
     "t.yaml:10:12: name 'x' is already used by vif 'x' with vlan 1 on port 'a' (line 9)"},
    {"VifDefaultNameTaken", WithPorts("vifs:\n  - {name: b.7, parent: a, vlan: 1}\n"
                                      "  - {parent: b, vlan: 7}\n"),
     "t.yaml:10:5: name 'b.7' is already used by vif 'b.7' with vlan 1 on port 'a' (line 9)"},
    {"VifNameIsATemplateMember",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163}]}]\n"
               "vifs: [{name: a.150, parent: b, vlan: 3}]\n"),
     "t.yaml:9:15: name 'a.150' is already used by a member of the template with vlan 100-163 on "
     "port 'a' (line 8)"},
    {"VifNameIsAQinqMember",
     WithPorts("groups: [{id: 10, templates: [{parent: a, outer: 5, inner: 1-9}]}]\n"
               "vifs: [{name: a.5.9, parent: b, vlan: 3}]\n"),
     "t.yaml:9:15: name 'a.5.9' is already used by a member of the template with outer 5 inner "
     "1-9 on port 'a' (line 8)"},
    {"VifTagTwice", WithPorts("vifs:\n  - {parent: a, vlan: 5}\n  - {name: y, parent: a, vlan: 5}\n"),
     "t.yaml:10:32: vlan 5 clashes with vif 'a.5' with vlan 5 on port 'a' (line 9)"},
    {"VifQinqTwice",
     WithPorts("vifs:\n  - {parent: a, outer: 5, inner: 6}\n"
               "  - {name: y, parent: a, outer: 5, inner: 6}\n"),
     "t.yaml:10:33: outer 5 inner 6 clashes with vif 'a.5.6' with outer 5 inner 6 on port 'a' "
     "(line 9)"},
    {"VifVlanClashesWithQinqOuter",
     WithPorts("vifs:\n  - {parent: a, outer: 5, inner: 6}\n  - {parent: a, vlan: 5}\n"),
     "t.yaml:10:23: vlan 5 clashes with vif 'a.5.6' with outer 5 inner 6 on port 'a' (line 9); a "
     "port's vlan ids and qinq outer ids are one id space"},
    {"VifQinqOuterClashesWithVlan",
     WithPorts("vifs:\n  - {parent: a, vlan: 5}\n  - {parent: a, outer: 5, inner: 6}\n"),
     "t.yaml:10:24: outer 5 inner 6 clashes with vif 'a.5' with vlan 5 on port 'a' (line 9); a "
     "port's vlan ids and qinq outer ids are one id space"},
    {"VifInATemplatesRange",
     WithPorts("groups: [{id: 10, templates: [{parent: a, outer: 1-9, inner: 100-199}]}]\n"
               "vifs: [{parent: a, outer: 9, inner: 100}]\n"),
     "t.yaml:9:27: outer 9 inner 100 clashes with the template with outer 1-9 inner 100-199 on "
     "port 'a' (line 8)"},
    {"VifMtuAboveParent", Vif("parent: a, vlan: 1, mtu: 1501"),
     "t.yaml:8:34: mtu 1501 is above the mtu 1500 of port 'a', the parent of this vif"},
    {"VifGroupUnknown", Vif("parent: a, vlan: 1, group: web"),
     "t.yaml:8:36: group: unknown group 'web'; known: default"},
    {"VifStateBad", Vif("parent: a, vlan: 1, state: on"),
     "t.yaml:8:36: state: expected up or down, got 'on'"},
    {"VifImpairmentDropWithoutPercent", Vif("parent: a, vlan: 1, impairment: {mode: drop}"),
     "t.yaml:8:41: missing key 'percent' in impairment (mode drop needs it)"},
    {"VifMacMulticast", Vif("parent: a, vlan: 1, mac: ff:ff:ff:ff:ff:ff"),
     "t.yaml:8:34: mac: ff:ff:ff:ff:ff:ff is not a unicast MAC address"},
    {"VifAddressNetwork", Vif("parent: a, vlan: 1, addresses: [198.18.7.0/24]"),
     "t.yaml:8:41: address 198.18.7.0/24 is the network address of 198.18.7.0/24; give the vif a "
     "host address"},
    {"VifAddressOverlapsAPort", Vif("parent: b, vlan: 1, addresses: [198.18.1.9/32]"),
     "t.yaml:8:41: address 198.18.1.9/32 overlaps 198.18.1.1/24 of port 'a'"},
    {"VifAddressOverlapsItself", Vif("parent: b, vlan: 1, addresses: [198.18.7.1/24, 198.18.7.2/25]"),
     "t.yaml:8:56: address 198.18.7.2/25 overlaps 198.18.7.1/24 of vif 'b.1'"},
    {"VifAddressOverlapsAVif",
     WithPorts("vifs:\n  - {parent: a, vlan: 1, addresses: [198.18.7.1/24]}\n"
               "  - {parent: a, vlan: 2, addresses: [198.18.0.1/16]}\n"),
     "t.yaml:10:38: address 198.18.0.1/16 overlaps 198.18.7.1/24 of vif 'a.1'"},
    {"VifAddressOverlapsATemplate",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163, address: 198.18.64.0/31}]}]"
               "\nvifs: [{parent: a, vlan: 5, addresses: [198.18.64.99/25]}]\n"),
     "t.yaml:9:41: address 198.18.64.99/25 overlaps the members' subnets 198.18.64.0/31 to "
     "198.18.64.126/31 of the template with vlan 100-163 on port 'a' (line 8)"},
    {"PortAddressInsideATemplatesSpan",
     "ports:\n  - {name: a, device: x0, addresses: [198.18.64.3/32]}\n"
     "groups: [{id: 10, templates: [{parent: a, vlan: 1-4, address: 198.18.64.0/31, address_step: "
     "4}]}]\n",
     "t.yaml:3:63: address 198.18.64.0/31: the members' subnets 198.18.64.0/31 to 198.18.64.12/31 "
     "overlap 198.18.64.3/32 of port 'a'"},
    {"TooManyVifs",
     WithPorts("groups: [{id: 10, templates: [{parent: a, outer: 1-4094, inner: 1-4094}, "
               "{parent: b, outer: 1-4, inner: 1-4094}]}]\n"
               "vifs:\n  - {parent: b, vlan: 100}\n  - {parent: b, vlan: 101}\n"
               "  - {parent: b, vlan: 102}\n"),
     "t.yaml:12:5: too many vifs: this vif brings the ports and sub-interfaces to 16777217; at "
     "most 16777216 fit the 24 bits of a vif id"},
    // Routes and neighbours.
    {"ViaInATemplatesGap",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163, address: 198.18.64.0/31, "
               "address_step: 4}]}]\nroutes: [{prefix: 10.0.0.0/8, via: 198.18.64.2}]\n"),
     "t.yaml:9:36: via 198.18.64.2 is not inside any interface's subnet (a: 198.18.1.0/24, a.100 "
     "to a.163: 198.18.64.0/31 to 198.18.64.252/31)"},
    {"ViaIsAMembersOwnAddress",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163, address: 198.18.64.0/31, "
               "address_step: 4}]}]\nroutes: [{prefix: 10.0.0.0/8, via: 198.18.64.4}]\n"),
     "t.yaml:9:36: via 198.18.64.4 is the router's own address on vif 'a.101'"},
    {"ViaIsAVifsOwnAddress",
     WithPorts("vifs: [{parent: a, vlan: 5, addresses: [198.18.7.1/24]}]\n"
               "routes: [{prefix: 10.0.0.0/8, via: 198.18.7.1}]\n"),
     "t.yaml:9:36: via 198.18.7.1 is the router's own address on vif 'a.5'"},
    {"ViaOutsideListsVifs",
     WithPorts("vifs: [{parent: a, vlan: 5, addresses: [198.18.7.1/24]}]\n"
               "routes: [{prefix: 10.0.0.0/8, via: 9.9.9.9}]\n"),
     "t.yaml:9:36: via 9.9.9.9 is not inside any interface's subnet (a: 198.18.1.0/24, a.5: "
     "198.18.7.0/24)"},
    {"RouteIsAMembersSubnet",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163, address: 198.18.64.0/31, "
               "address_step: 4}]}]\nroutes: [{prefix: 198.18.64.4/31, type: blackhole}]\n"),
     "t.yaml:9:19: prefix 198.18.64.4/31 is the connected subnet of vif 'a.101'"},
    {"RouteIsAVifsSubnet",
     WithPorts("vifs: [{parent: a, vlan: 5, addresses: [198.18.7.1/24]}]\n"
               "routes: [{prefix: 198.18.7.0/24, type: blackhole}]\n"),
     "t.yaml:9:19: prefix 198.18.7.0/24 is the connected subnet of vif 'a.5'"},
    {"NeighbourOutsideTheNamedMember",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163, address: 198.18.64.0/31, "
               "address_step: 4}]}]\n"
               "neighbours: [{ip: 198.18.64.5, mac: 02:00:00:00:00:01, port: a.100}]\n"),
     "t.yaml:9:19: ip 198.18.64.5 is not inside a subnet of vif 'a.100' (a.100: 198.18.64.0/31)"},
    {"NeighbourUnknownInterface",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163}]}]\n"
               "vifs: [{parent: b, vlan: 5}]\n"
               "neighbours: [{ip: 198.18.1.5, mac: 02:00:00:00:00:01, port: a.200}]\n"),
     "t.yaml:10:61: port: expected the name of a port or vif (a, b, b.5, template members such as "
     "a.100), got 'a.200'"},
    // IPv6 template addresses.
    {"TemplateAddress6Ipv4", Template("parent: a, vlan: 1, address6: 198.18.64.0/31"),
     "t.yaml:8:62: address6: 198.18.64.0/31 is an IPv4 prefix; give it as address"},
    {"TemplateAddress6NoLength", Template("parent: a, vlan: 1, address6: 2001:db8:64::1"),
     "t.yaml:8:62: address6: expected an IPv6 prefix like 2001:db8::1/64, got '2001:db8:64::1'"},
    {"TemplateAddress6LinkLocal", Template("parent: a, vlan: 1-9, address6: fe80::1/64"),
     "t.yaml:8:64: address6 fe80::1/64 is a link-local address (fe80::/10); members' link-local "
     "addresses come from their MACs, give a global one"},
    {"TemplateAddress6Multicast", Template("parent: a, vlan: 1-9, address6: ff02::1/64"),
     "t.yaml:8:64: address ff02::1/64 is a multicast address (ff00::/8); expected a unicast "
     "address"},
    {"TemplateAddress6Anycast", Template("parent: a, vlan: 1-9, address6: 2001:db8:64::/64"),
     "t.yaml:8:64: address 2001:db8:64::/64 is the Subnet-Router anycast address of "
     "2001:db8:64::/64; give member 0 a host address"},
    {"TemplateAddress6LengthZero", Template("parent: a, vlan: 1-9, address6: 2001:db8::1/0"),
     "t.yaml:8:64: address 2001:db8::1/0: expected a prefix length of 1 to 128"},
    {"TemplateAddress6StepNotAMultiple",
     Template("parent: a, vlan: 1-9, address6: 2001:db8:200::/127, address6_step: 3"),
     "t.yaml:8:99: address6_step: expected a multiple of 2, the size of a /127 subnet, so that "
     "members' subnets do not overlap, got '3'"},
    {"TemplateAddress6StepBelowTheSubnet",
     Template("parent: a, vlan: 1-9, address6: 2001:db8:200::1/64, address6_step: 2"),
     "t.yaml:8:99: address6_step: expected a multiple of 2^64, the size of a /64 subnet, so that "
     "members' subnets do not overlap, got '2'"},
    {"TemplateAddress6StepAsAddressBelowTheSubnet",
     Template("parent: a, vlan: 1-9, address: 2001:db8:200::1/56, address_step: \"0:0:0:1::\""),
     "t.yaml:8:97: address_step: expected a multiple of 2^72, the size of a /56 subnet, so that "
     "members' subnets do not overlap, got '0:0:0:1::'"},
    {"TemplateAddress6StepZero",
     Template("parent: a, vlan: 1-9, address6: 2001:db8:200::/127, address6_step: 0"),
     "t.yaml:8:99: address6_step: expected a step of at least 1, got '0'"},
    {"TemplateAddress6StepBad",
     Template("parent: a, vlan: 1-9, address6: 2001:db8:200::/127, address6_step: two"),
     "t.yaml:8:99: address6_step: expected a number like 2, or an IPv6 address like 0:0:0:1:: "
     "read as a 128-bit number, got 'two'"},
    {"TemplateAddress6StepWithoutAddress6", Template("parent: a, vlan: 1-9, address6_step: 2"),
     "t.yaml:8:54: address6_step is only for a template with an address6"},
    {"TemplateTwoIpv6Addresses",
     Template("parent: a, vlan: 1-9, address: 2001:db8:1::1/64, address6: 2001:db8:2::1/64"),
     "t.yaml:8:81: address6: this template's IPv6 address is given as address already (line 8); "
     "a template has one IPv6 address"},
    {"TemplateIpv6AddressWithAddress6Step",
     Template("parent: a, vlan: 1-9, address: 2001:db8:1::1/64, address6_step: 2"),
     "t.yaml:8:81: address6_step is for address6; the step of an IPv6 address given as address "
     "is address_step"},
    {"TemplateAddresses6Wrap",
     Template("parent: a, vlan: 1-3, address6: 2001:db8::1/64, address6_step: \"8000::\""),
     "t.yaml:8:64: address6 2001:db8::1/64: 3 members at a step of 2^127 run past "
     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"TemplateAddresses6ReachLinkLocal",
     Template("parent: a, vlan: 1-2, address6: fe7f:ffff:ffff:ffff::1/64"),
     "t.yaml:8:64: address6 fe7f:ffff:ffff:ffff::1/64: member 1 (a.2) would get fe80::1/64, which "
     "is a link-local address (fe80::/10)"},
    {"TemplateAddresses6ReachMulticast",
     Template("parent: a, vlan: 1-300, address: feff:ffff:ffff:ff00::1/64"),
     "t.yaml:8:65: address feff:ffff:ffff:ff00::1/64: member 256 (a.257) would get ff00::1/64, "
     "which is a multicast address (ff00::/8)"},
    {"TemplateAddress6OverlapsAPort",
     "ports:\n  - {name: a, device: x0, addresses: [2001:db8:1::1/64]}\n"
     "groups: [{id: 10, templates: [{parent: a, vlan: 1-2, address6: 2001:db8:0:ffff::1/64}]}]\n",
     "t.yaml:3:64: address6 2001:db8:0:ffff::1/64: the members' subnets 2001:db8:0:ffff::/64 to "
     "2001:db8:1::/64 overlap 2001:db8:1::1/64 of port 'a'"},
    {"TemplateAddress6OverlapsATemplate",
     Template("parent: a, vlan: 1-64, address6: 2001:db8:100::1/64}, {parent: b, vlan: 1-10, "
              "address6: 2001:db8:100:3f::1/64"),
     "t.yaml:8:120: address6 2001:db8:100:3f::1/64: the members' subnets 2001:db8:100:3f::/64 to "
     "2001:db8:100:48::/64 overlap the members' subnets 2001:db8:100::/64 to 2001:db8:100:3f::/64 "
     "of the template with vlan 1-64 on port 'a' (line 8)"},
    {"VifAddress6InATemplatesGap",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163, address6: "
               "2001:db8:200::/127, address6_step: 4}]}]\n"
               "vifs: [{parent: a, vlan: 5, addresses: [2001:db8:200::3/128]}]\n"),
     "t.yaml:9:41: address 2001:db8:200::3/128 overlaps the members' subnets 2001:db8:200::/127 "
     "to 2001:db8:200::fc/127 of the template with vlan 100-163 on port 'a' (line 8)"},
    {"Route6IsAMembersSubnet",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163, address6: "
               "2001:db8:100::1/64}]}]\n"
               "routes: [{prefix: \"2001:db8:100:5::/64\", type: blackhole}]\n"),
     "t.yaml:9:19: prefix 2001:db8:100:5::/64 is the connected subnet of vif 'a.105'"},
    {"Route6HoldsAMembersOwnAddress",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163, address6: "
               "2001:db8:100::1/64}]}]\n"
               "routes: [{prefix: \"2001:db8:100:5::/96\", type: blackhole}]\n"),
     "t.yaml:9:19: prefix 2001:db8:100:5::/96 holds 2001:db8:100:5::1, the router's own address "
     "on vif 'a.105'; a route inside a template member's subnet may not take it"},
    {"Via6IsAMembersOwnAddress",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163, address6: "
               "2001:db8:100::1/64}]}]\n"
               "routes: [{prefix: 2001:db8:ff00::/40, via: 2001:db8:100:5::1}]\n"),
     "t.yaml:9:44: via 2001:db8:100:5::1 is the router's own address on vif 'a.105'"},
    {"Via6InATemplatesGap",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-101, address6: "
               "2001:db8:200::/127, address6_step: 4}]}]\n"
               "routes: [{prefix: 2001:db8:ff00::/40, via: 2001:db8:200::2}]\n"),
     "t.yaml:9:44: via 2001:db8:200::2 is not inside any interface's IPv6 subnet (a.100 to a.101: "
     "2001:db8:200::/127 to 2001:db8:200::4/127)"},
    {"Neighbour6OutsideTheNamedMember",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163, address6: "
               "2001:db8:100::1/64}]}]\n"
               "neighbours: [{ip: 2001:db8:100:5::2, mac: 02:00:00:00:00:01, port: a.100}]\n"),
     "t.yaml:9:19: ip 2001:db8:100:5::2 is not inside an IPv6 subnet of vif 'a.100' (a.100: "
     "2001:db8:100::/64)"},
    {"Neighbour6OnAMemberWithoutAddress6",
     WithPorts("groups: [{id: 10, templates: [{parent: a, vlan: 100-163}]}]\n"
               "neighbours: [{ip: 2001:db8:100:5::2, mac: 02:00:00:00:00:01, port: a.100}]\n"),
     "t.yaml:9:19: ip 2001:db8:100:5::2 is not inside an IPv6 subnet of vif 'a.100' (no IPv6 "
     "address is configured)"},
};

INSTANTIATE_TEST_SUITE_P(All, SubinterfaceError, testing::ValuesIn(kErrors),
                         [](const testing::TestParamInfo<ErrorCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace vr::config
