// Reads the YAML config into config::Config and validates all of it before anything touches DPDK.
// Every error names file:line:column, then shows the offending line with a caret under the column.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/config.h"
#include "config/diagnostic.h"
#include "config/ip6.h"

namespace vr::config {
namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 12> kTopKeys = {
    "dataplane", "control", "metrics", "knet", "arp",        "icmp",
    "group_file", "groups", "ports",   "vifs", "routes", "neighbours"};
constexpr std::array<std::string_view, 6> kKnetKeys = {"name",  "mtu",     "rate",
                                                       "burst", "offload", "mirror"};
constexpr std::array<std::string_view, 2> kMirrorKeys = {"table", "protocols"};
constexpr std::array<std::string_view, 2> kControlKeys = {"socket", "group"};
constexpr std::array<std::string_view, 2> kMetricsKeys = {"listen", "interfaces"};
constexpr std::array<std::string_view, 6> kGroupKeys = {"id",    "name",       "mtu",
                                                        "state", "impairment", "templates"};
constexpr std::array<std::string_view, 5> kImpairmentKeys = {"mode", "percent", "seed", "on_ms",
                                                             "off_ms"};
constexpr std::array<std::string_view, 11> kTemplateKeys = {
    "parent",        "vlan", "outer",    "inner",  "address", "address_step", "address6",
    "address6_step", "mac",  "mac_step", "members"};
constexpr std::array<std::string_view, 6> kMemberKeys = {"vlan", "outer", "inner",
                                                         "mtu",  "state", "impairment"};
constexpr std::array<std::string_view, 13> kVifKeys = {
    "name", "parent",    "vlan",       "outer", "inner", "mac",
    "mtu",  "addresses", "link_local", "group", "state", "impairment", "router_advertisements"};
constexpr std::array<std::string_view, 9> kPortKeys = {
    "name", "device", "mac", "mtu", "addresses", "link_local", "group", "state",
    "router_advertisements"};
constexpr std::array<std::string_view, 10> kRouterAdvertKeys = {
    "interval",  "min_interval",   "lifetime",      "mtu",     "managed",
    "other",     "hop_limit",      "reachable_time", "retrans_timer", "prefixes"};
constexpr std::array<std::string_view, 5> kRaPrefixKeys = {
    "prefix", "on_link", "autonomous", "valid_lifetime", "preferred_lifetime"};
constexpr std::array<std::string_view, 4> kRouteKeys = {"prefix", "via", "type", "port"};
constexpr std::array<std::string_view, 3> kNeighbourKeys = {"ip", "mac", "port"};

// A map entry keeps its key because an empty value's mark points past it, often at the next line.
struct Entry {
  YAML::Node key;
  YAML::Node value;
  std::string name() const { return key.Scalar(); }
  YAML::Mark where() const { return value.IsNull() ? key.Mark() : value.Mark(); }
};

// The checked entries of one map. Lookups go through here, never through YAML::Node::operator[],
// which throws on a wrong type and has no position for a missing key.
struct Fields {
  std::string_view what;  // "port", for messages
  YAML::Mark mark;        // where the map starts: missing keys are reported there
  std::vector<Entry> entries;

  const Entry* Find(std::string_view key) const {
    for (const Entry& e : entries) {
      if (e.key.Scalar() == key) return &e;
    }
    return nullptr;
  }
};

struct UintKey {
  std::string_view key;
  uint32_t lo, hi;
  uint32_t* out;
};

// The Debian build of Abseil has its own string_view, which StrJoin and StrSplit insist on.
template <typename Range>
std::string Join(const Range& items) {
  std::string out;
  std::string_view separator;
  for (const auto& item : items) {
    out.append(separator).append(item);
    separator = ", ";
  }
  return out;
}

// On /31 and /32 every address is a host (RFC 3021); below that the all-zeros and all-ones host
// parts name the subnet and its broadcast.
bool IsSubnetEdge(const Ip4Prefix& p, uint32_t ip) {
  uint32_t host = ip & ~PrefixMask(p.len);
  return p.len < 31 && (host == 0 || host == ~PrefixMask(p.len));
}

std::string FormatPrefix(const Ip4Prefix& p) { return absl::StrCat(FormatIp4(p.addr), "/", p.len); }

std::string FormatSubnet(const Ip4Prefix& p) { return FormatPrefix({p.addr & PrefixMask(p.len), p.len}); }

const char* TypeName(RouteType t) {
  switch (t) {
    case RouteType::kForward: return "forward";
    case RouteType::kBlackhole: return "blackhole";
    case RouteType::kUnreachable: return "unreachable";
  }
  return "?";
}

// A value of `addresses`, a route's prefix or a neighbour's ip is IPv6 when it holds a ':'; the
// family then decides which list the item joins and which parser reads it.
bool IsIp6Text(const YAML::Node& n) {
  return n.IsScalar() && n.Scalar().find(':') != std::string::npos;
}

// "a blackhole", "an unreachable".
std::string ARoute(RouteType t) {
  return absl::StrCat(t == RouteType::kUnreachable ? "an " : "a ", TypeName(t));
}

std::string Describe(const YAML::Node& n) {
  if (n.IsScalar()) return absl::StrCat("'", n.Scalar(), "'");
  if (n.IsSequence()) return n.size() == 0 ? "an empty list" : "a list";
  if (n.IsMap()) return "a map";
  return "nothing";
}

// 15 is IFNAMSIZ - 1, so that a port name can also name a kernel interface (knet/).
bool IsPortName(std::string_view s) {
  return !s.empty() && s.size() <= 15 && absl::c_all_of(s, [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

// POSIX's portable filename characters, at most 32 of them (the usual limit of groupadd); a leading
// '-' would read as an option to chgrp and friends. (Interface group names are IsGroupName.)
bool IsUnixGroupName(std::string_view s) {
  return !s.empty() && s.size() <= 32 && s[0] != '-' && absl::c_all_of(s, [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

// DPDK probes a device once whatever its arguments, so "net_tap0,iface=x" and "net_tap0" clash, and
// a PCI address may be written with or without its domain.
std::string DeviceName(std::string_view devargs) {
  std::string name = absl::AsciiStrToLower(std::string(devargs.substr(0, devargs.find(','))));
  if (name.size() == 7 && name[2] == ':' && name[5] == '.') name = "0000:" + name;
  return name;
}

// 0/8 is "this network", 127/8 loopback, 224/3 multicast, reserved and the limited broadcast.
bool IsUnicast(uint32_t ip) {
  uint32_t first = ip >> 24;
  return first != 0 && first != 127 && first < 224;
}

absl::Status CheckHostAddress(const Ip4Prefix& a, std::string_view who = "the port") {
  if (a.len == 0 || !IsUnicast(a.addr)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "address %s: expected a unicast address with a prefix length of 1 to 32", FormatPrefix(a)));
  }
  if (IsSubnetEdge(a, a.addr)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "address %s is the %s address of %s; give %s a host address", FormatPrefix(a),
        a.addr == (a.addr & PrefixMask(a.len)) ? "network" : "broadcast", FormatSubnet(a), who));
  }
  return absl::OkStatus();
}

// Connected subnets may not overlap, or a next hop in them would belong to two ports.
absl::Status CheckOverlap(const Ip4Prefix& a, const PortConfig& port) {
  for (const Ip4Prefix& b : port.addresses) {
    if (Contains(a, b.addr) || Contains(b, a.addr)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "address %s overlaps %s of port '%s'", FormatPrefix(a), FormatPrefix(b), port.name));
    }
  }
  return absl::OkStatus();
}

// --- Tags, names and template arithmetic --------------------------------------------------------

bool Overlaps(const TagRange& a, const TagRange& b) {
  return a.first <= b.last && b.first <= a.last;
}

bool InRange(const TagRange& r, uint32_t id) { return r.first <= id && id <= r.last; }

std::string RangeText(const TagRange& r) {
  return r.first == r.last ? std::to_string(r.first) : absl::StrCat(r.first, "-", r.last);
}

// "vlan 100-163", "outer 1-2 inner 5".
std::string TagsText(const TagRange& outer, const std::optional<TagRange>& inner) {
  if (!inner.has_value()) return absl::StrCat("vlan ", RangeText(outer));
  return absl::StrCat("outer ", RangeText(outer), " inner ", RangeText(*inner));
}

// A tag id as SubinterfaceName writes it: 1..4094, decimal without leading zeros.
bool ParseTag(std::string_view s, uint16_t* out) {
  if (s.empty() || s.size() > 4 || s[0] == '0') return false;
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1 || v > 4094) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}

// "FIRST-LAST" or a single id. *backwards is set when both ids are good but FIRST > LAST.
bool ParseTagRange(std::string_view s, TagRange* out, bool* backwards) {
  *backwards = false;
  size_t dash = s.find('-');
  uint16_t first = 0, last = 0;
  if (dash == std::string_view::npos) {
    if (!ParseTag(s, &first)) return false;
    last = first;
  } else if (!ParseTag(s.substr(0, dash), &first) || !ParseTag(s.substr(dash + 1), &last)) {
    return false;
  }
  if (first > last) {
    *backwards = true;
    return false;
  }
  *out = {first, last};
  return true;
}

// Kernel interface names stop at 15 characters; vif names are vrouter's own and may be longer,
// enough for a 15-character port name with two tags (PORT.4094.4094).
bool IsVifName(std::string_view s) {
  return !s.empty() && s.size() <= 31 && absl::c_all_of(s, [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

uint64_t BlockSize(uint8_t len) { return uint64_t{1} << (32 - len); }

// The addresses a template's members' subnets span, from the first member's network to the end
// of the last member's subnet. Gaps between members (a step above the block size) belong to the
// span: no other subnet may use them.
struct AddressSpan {
  uint32_t first = 0;
  uint64_t last = 0;  // may pass 2^32 - 1 before the loader has refused the template
};

AddressSpan SpanOf(const TemplateConfig& t) {
  uint32_t first = NetworkOf(*t.address).addr;
  uint64_t last_net = first + uint64_t{t.size() - 1} * t.address_step;
  return {first, last_net + BlockSize(t.address->len) - 1};
}

uint64_t MacValue(const Mac& mac) {
  uint64_t v = 0;
  for (uint8_t b : mac) v = v << 8 | b;
  return v;
}

Mac MacOf(uint64_t v) {
  Mac mac;
  for (int b = 5; b >= 0; --b, v >>= 8) mac[b] = static_cast<uint8_t>(v & 0xff);
  return mac;
}

// The first index i >= 0 with base + i * step >= bound (base < bound).
uint64_t FirstAtOrAbove(uint64_t base, uint64_t step, uint64_t bound) {
  return (bound - base + step - 1) / step;
}

// "the template with vlan 100-163 on port 'a' (line 7)"
std::string TemplateText(const TemplateConfig& t) {
  return absl::StrFormat("the template with %s on port '%s' (line %d)", TagsText(t.outer, t.inner),
                         t.parent, t.loc.line);
}

// Which member of t is called `name`, read as PARENT.N (vlan) or PARENT.N.M (qinq) with the ids
// written as SubinterfaceName writes them.
std::optional<uint32_t> MemberIndexByName(const TemplateConfig& t, std::string_view name) {
  size_t n = t.parent.size();
  if (name.size() <= n + 1 || name.substr(0, n) != t.parent || name[n] != '.') return std::nullopt;
  std::string_view rest = name.substr(n + 1);
  uint16_t outer = 0, inner = 0;
  if (!t.inner.has_value()) {
    if (!ParseTag(rest, &outer) || !InRange(t.outer, outer)) return std::nullopt;
    return outer - t.outer.first;
  }
  size_t dot = rest.find('.');
  if (dot == std::string_view::npos || !ParseTag(rest.substr(0, dot), &outer) ||
      !ParseTag(rest.substr(dot + 1), &inner) || !InRange(t.outer, outer) ||
      !InRange(*t.inner, inner)) {
    return std::nullopt;
  }
  return (outer - t.outer.first) * t.inner->size() + (inner - t.inner->first);
}

std::string MemberName(const TemplateConfig& t, uint32_t i) {
  TemplateMemberInfo m = TemplateMember(t, i);
  return SubinterfaceName(t.parent, m.outer, m.inner);
}

// "198.18.64.0/31 to 198.18.64.126/31", the first and last members' subnets.
std::string MemberSubnetsText(const TemplateConfig& t) {
  std::string first = FormatSubnet(*t.address);
  if (t.size() == 1) return first;
  return absl::StrCat(first, " to ", FormatSubnet(*TemplateMember(t, t.size() - 1).address));
}

// The IPv6 span of a template, as SpanOf: the first member's network to the end of the last
// member's subnet. The loader refuses a template whose span would run past the address space.
std::pair<Ip6Addr, Ip6Addr> SpanOf6(const TemplateConfig& t) {
  Ip6Prefix first = NetworkOf6(*t.address6);
  Ip6Prefix last = TemplateMemberAddress6(t, t.size() - 1);
  return {first.addr, internal::LastOf6(last)};
}

// A subnet size or a step for messages: decimal up to 2^32, a power of two as 2^N above it.
std::string Size6Text(absl::uint128 v) {
  if (v < (absl::uint128(1) << 32)) return absl::StrCat(absl::Uint128Low64(v));
  for (int bit = 32; bit < 128; ++bit) {
    if (v == absl::uint128(1) << bit) return absl::StrCat("2^", bit);
  }
  return FormatIp6Step(v);
}

// "2001:db8:100::/64 to 2001:db8:100:3f::/64", the first and last members' IPv6 subnets.
std::string MemberSubnetsText6(const TemplateConfig& t) {
  std::string first = internal::FormatSubnet6(*t.address6);
  if (t.size() == 1) return first;
  return absl::StrCat(first, " to ",
                      internal::FormatSubnet6(TemplateMemberAddress6(t, t.size() - 1)));
}

std::string VifText(const VifConfig& v) {
  std::optional<TagRange> inner;
  if (v.inner != 0) inner = TagRange{v.inner, v.inner};
  return absl::StrFormat("vif '%s' with %s on port '%s' (line %d)", v.name,
                         TagsText({v.outer, v.outer}, inner), v.parent, v.loc.line);
}

const char* ModeName(ImpairMode m) {
  switch (m) {
    case ImpairMode::kPass: return "pass";
    case ImpairMode::kDrop: return "drop";
    case ImpairMode::kFlap: return "flap";
  }
  return "?";
}

class Loader {
 public:
  Loader(std::string_view text, std::string_view file)
      : file_(file), lines_(internal::SplitLines(text)) {}

  absl::StatusOr<Config> Load(std::string_view text);
  absl::Status Error(const YAML::Mark& mark, std::string_view message) const;

 private:
  // Who owns a connected subnet or a name.
  enum class Kind { kPort, kVif, kMember };
  // One connected subnet, or a template's span (kMember), in subnets_.
  struct Span {
    uint64_t last = 0;
    Kind kind = Kind::kPort;
    size_t index = 0;  // into Config::ports, Config::vifs or templates_
    Ip4Prefix prefix;  // kPort, kVif: the router's address there
  };
  struct Subnet {
    Ip4Prefix prefix;  // the router's address and the length
    Kind kind = Kind::kPort;
    std::string name;  // the port's or vif's
  };
  // A `groups` entry of the YAML, for what is read after the ports.
  struct GroupYaml {
    uint32_t id = 0;
    std::string name;  // empty: none given
    int line = 0;
    bool settings = false;  // mtu, state, impairment or templates given
    std::vector<YAML::Node> templates;
  };
  // The tags in use on one port. Vlan ids and qinq outer ids are one space: a frame's first tag
  // chooses between them.
  struct PortTags {
    std::unordered_map<uint16_t, size_t> vlan;   // vlan vifs by id
    std::unordered_map<uint16_t, size_t> outer;  // the first qinq vif of each outer id
    std::unordered_map<uint32_t, size_t> qinq;   // qinq vifs by outer << 16 | inner
    std::vector<size_t> templates;               // into templates_
  };
  struct NameUse {
    Kind kind = Kind::kPort;
    size_t index = 0;
  };
  struct MemberRef {
    size_t tmpl = 0;  // into templates_
    uint32_t index = 0;
  };
  // One IPv6 connected subnet of a port or vif, or a template's span (kMember), in subnets6_.
  struct Span6 {
    Ip6Addr last;
    Kind kind = Kind::kPort;
    size_t index = 0;   // into Config::ports, Config::vifs or templates_
    Ip6Prefix prefix;   // kPort, kVif: the router's address there
  };
  struct Subnet6 {
    Ip6Prefix prefix;
    Kind kind = Kind::kPort;
    std::string name;
  };

  Location Loc(const YAML::Mark& mark) const;
  absl::Status Expected(std::string_view label, const YAML::Node& value, const YAML::Mark& mark,
                        std::string_view expected) const;
  absl::Status Expected(const Entry& e, std::string_view expected) const {
    return Expected(e.name(), e.value, e.where(), expected);
  }
  template <typename T>
  absl::StatusOr<T> Parse(std::string_view label, const YAML::Node& value, const YAML::Mark& mark,
                          absl::StatusOr<T> (*parse)(std::string_view),
                          std::string_view expected) const;
  template <typename T>
  absl::StatusOr<T> Parse(const Entry& e, absl::StatusOr<T> (*parse)(std::string_view),
                          std::string_view expected) const {
    return Parse(e.name(), e.value, e.where(), parse, expected);
  }

  absl::StatusOr<Fields> ReadMap(const YAML::Node& node, const YAML::Mark& mark,
                                 std::string_view what, Keys keys) const;
  absl::Status CheckKey(const Fields& f, const Entry& e, Keys keys) const;
  absl::StatusOr<const Entry*> Require(const Fields& f, std::string_view key) const;
  absl::StatusOr<std::vector<YAML::Node>> ReadList(const Entry* e, std::string_view expected) const;
  absl::Status ReadUint(const Fields& f, const UintKey& k) const;
  absl::Status ReadUint64(const Entry* e, uint64_t* out) const;
  absl::Status ReadMac(const Entry& e, Mac* out) const;

  absl::Status ReadSections(const Fields& top, Config* c) const;
  absl::Status ReadUintSection(const Fields& top, std::string_view section,
                               std::initializer_list<UintKey> keys) const;
  absl::Status ReadControl(const Fields& top, ControlConfig* c) const;
  absl::Status ReadMetrics(const Fields& top, MetricsConfig* m) const;
  absl::Status ReadKnet(const Fields& top, KnetConfig* k) const;
  absl::Status ReadMirror(const Entry& e, KnetConfig* k) const;

  absl::Status ReadGroups(const Fields& top, Config* c);
  absl::Status ReadGroupFile(const Entry& e, Config* c) const;
  absl::Status ReadGroup(const YAML::Node& node, const YAML::Mark& mark, Config* c);
  absl::Status ReadGroupSettings(const Fields& f, GroupConfig* g) const;
  absl::Status ReadImpairment(const Entry& e, ImpairmentConfig* out) const;

  absl::Status ReadPorts(const Fields& top, Config* c) const;
  absl::StatusOr<PortConfig> ReadPort(const YAML::Node& node, const YAML::Mark& mark,
                                      std::span<const PortConfig> earlier,
                                      std::span<const GroupConfig> groups) const;
  absl::Status ReadPortName(const Entry& e, std::span<const PortConfig> earlier,
                            PortConfig* port) const;
  absl::Status ReadDevice(const Entry& e, std::span<const PortConfig> earlier,
                          PortConfig* port) const;
  absl::Status ReadPortOptions(const Fields& f, std::span<const PortConfig> earlier,
                               PortConfig* port) const;
  absl::Status ReadGroupRef(const Entry* e, std::span<const GroupConfig> groups,
                            uint32_t* group) const;
  absl::Status ReadState(const Entry* e, bool* up) const;
  absl::Status ReadAddresses(const Entry* e, std::span<const PortConfig> earlier,
                             PortConfig* port) const;
  absl::Status ReadPortAddress6(const YAML::Node& item, std::span<const PortConfig> earlier,
                                PortConfig* port) const;
  absl::Status ReadLinkLocal(const Entry* e, std::optional<Ip6Addr>* out) const;
  void IndexPorts(const Config& c);

  // Sub-interfaces: templates, then vifs, checked against the ports and each other.
  absl::Status ReadTemplates(Config* c);
  absl::Status ReadTemplate(const YAML::Node& node, const GroupConfig& group, const Config& c);
  absl::Status ReadParent(const Fields& f, const Config& c, std::string* parent) const;
  absl::Status ReadMembers(const Entry& e, const PortConfig& parent, TemplateConfig* t) const;
  absl::Status ReadTags(const Fields& f, bool ranges, TagRange* outer,
                        std::optional<TagRange>* inner, YAML::Mark* where) const;
  absl::Status CheckTags(const Config& c, const std::string& parent, const TagRange& outer,
                         const std::optional<TagRange>& inner, const YAML::Mark& where) const;
  absl::Status CheckTemplateNames(const TemplateConfig& t, const Config& c,
                                  const YAML::Mark& where) const;
  absl::Status ReadTemplateAddress(const Fields& f, const Config& c, TemplateConfig* t) const;
  absl::Status ReadTemplateAddress6(const Fields& f, const Config& c, TemplateConfig* t) const;
  absl::Status ReadTemplateMac(const Fields& f, TemplateConfig* t) const;
  absl::Status CheckGroupMtu(const GroupConfig& group, const PortConfig& parent,
                             const YAML::Mark& where, std::string_view who) const;
  absl::Status CountVifs(uint64_t more, const YAML::Mark& where, std::string_view what);

  absl::Status ReadVifs(const Fields& top, Config* c);
  absl::Status ReadVif(const YAML::Node& node, const YAML::Mark& mark, Config* c);
  absl::Status CheckVifName(const Config& c, const std::string& name,
                            const YAML::Mark& where) const;
  absl::Status ReadVifAddresses(const Entry* e, const Config& c, VifConfig* vif) const;
  absl::Status ReadVifAddress6(const YAML::Node& item, const Config& c, VifConfig* vif) const;

  // Connected subnets of ports, vifs and template members.
  const Span* Overlapping(uint32_t first, uint64_t last) const;
  std::string SpanText(const Config& c, const Span& s) const;
  std::optional<MemberRef> MemberNamed(std::string_view name) const;
  std::optional<Subnet> SubnetOf(const Config& c, uint32_t ip) const;
  std::optional<std::vector<Subnet>> SubnetsOf(const Config& c, std::string_view name,
                                               Kind* kind) const;
  std::string SubnetList(const Config& c, std::string_view only) const;
  absl::StatusOr<std::string> Connected(const Config& c, uint32_t ip,
                                        std::string_view only) const;
  bool HasSubinterfaceAddresses(const Config& c) const;

  absl::Status ReadRoutes(const Fields& top, Config* c) const;
  absl::StatusOr<RouteConfig> ReadRoute(const Fields& f, const Entry& prefix,
                                        const Config& c) const;
  absl::Status ReadRoutePrefix(const Entry& e, const Config& c, RouteConfig* r) const;
  absl::Status ReadRouteType(const Entry* e, RouteType* type) const;
  absl::Status ReadVia(const Fields& f, const Config& c, RouteConfig* r) const;

  absl::Status ReadNeighbours(const Fields& top, Config* c) const;
  absl::StatusOr<NeighbourConfig> ReadNeighbour(const Fields& f, const Entry& ip,
                                                const Entry& mac, const Config& c) const;
  absl::Status ReadNeighbourPort(const Entry* e, const Config& c, NeighbourConfig* n) const;
  absl::Status ReadNeighbourIp(const Entry& e, const Config& c, NeighbourConfig* n) const;

  // IPv6: connected subnets of ports and vifs, routes and neighbours (the end of this file).
  void AddSubnets6(Kind kind, size_t index, const std::vector<Ip6Prefix>& addresses);
  const Span6* Overlapping6(const Ip6Prefix& subnet) const;
  const Span6* Overlapping6(const Ip6Addr& first, const Ip6Addr& last) const;
  std::string SpanText6(const Config& c, const Span6& s) const;
  std::optional<Subnet6> SubnetOf6(const Config& c, const Ip6Addr& ip) const;
  std::string SubnetList6(const Config& c, std::string_view only) const;
  absl::StatusOr<std::string> Connected6(const Config& c, const Ip6Addr& ip,
                                         std::string_view only) const;
  absl::Status CheckOwnLinkLocal(const Config& c, const Ip6Addr& ip, std::string_view name) const;
  absl::Status ReadInterface6(const Entry& e, const Config& c, std::string* name) const;
  absl::StatusOr<Route6Config> ReadRoute6(const Fields& f, const Entry& prefix,
                                          const Config& c) const;
  absl::Status ReadRoutePrefix6(const Entry& e, const Config& c, Route6Config* r) const;
  absl::Status ReadVia6(const Fields& f, const Config& c, Route6Config* r) const;
  absl::StatusOr<Neighbour6Config> ReadNeighbour6(const Fields& f, const Entry& ip,
                                                  const Entry& mac, const Config& c) const;

  // Router advertisements of a port or vif (the end of this file). `mtu`: the interface's
  // effective MTU; `who`: "port 'a'", "vif 'a.7'".
  absl::Status ReadRouterAdverts(const Entry* e, const std::vector<Ip6Prefix>& addresses6,
                                 const std::optional<Ip6Addr>& link_local, uint32_t mtu,
                                 std::string_view who,
                                 std::optional<RouterAdvertConfig>* out) const;
  absl::Status ReadRaMtu(const Entry& e, uint32_t mtu, std::string_view who,
                         RouterAdvertConfig* ra) const;
  absl::Status ReadRaPrefixes(const Entry& e, const std::vector<Ip6Prefix>& addresses6,
                              std::string_view who, RouterAdvertConfig* ra) const;
  absl::StatusOr<RaPrefixConfig> ReadRaPrefix(const YAML::Node& node,
                                              const std::vector<Ip6Prefix>& addresses6,
                                              std::string_view who) const;
  absl::Status ReadFlag(const Fields& f, std::string_view key, bool* out) const;
  absl::Status RefuseRouterAdverts(const YAML::Node& node, std::string_view where) const;
  absl::Status ReadLifetime(const Fields& f, std::string_view key, uint32_t* out) const;

  std::string file_;
  std::vector<std::string_view> lines_;  // of the source text, for the line under the message
  std::vector<GroupYaml> group_yaml_;    // in file order
  std::vector<TemplateConfig> templates_;  // every group's, in the order read
  std::map<uint32_t, Span> subnets_;     // by first address; never overlapping
  std::map<Ip6Addr, Span6> subnets6_;    // likewise for IPv6
  std::unordered_map<std::string, PortTags> tags_;  // by port name
  std::unordered_map<std::string, NameUse> names_;  // ports' and vifs' names
  uint64_t vif_count_ = 0;                          // ports, vifs and template members
  // The line of each route and neighbour read so far, by key, so a duplicate is found in
  // O(log n): scanning the list for each entry made a million routes cost 10^12 comparisons.
  mutable std::map<std::pair<uint32_t, uint8_t>, int> route_lines_;
  mutable std::map<std::pair<Ip6Addr, uint8_t>, int> route6_lines_;
  mutable std::map<uint32_t, int> neighbour_lines_;
  mutable std::map<std::pair<Ip6Addr, std::string>, int> neighbour6_lines_;  // port: link-local
};

Location Loader::Loc(const YAML::Mark& mark) const {
  // yaml-cpp counts from 0 and uses -1 for "no position"; people count from 1.
  return {file_, std::max(mark.line, 0) + 1, std::max(mark.column, 0) + 1};
}

absl::Status Loader::Error(const YAML::Mark& mark, std::string_view message) const {
  return internal::ErrorAt(Loc(mark), lines_, message);
}

absl::Status Loader::Expected(std::string_view label, const YAML::Node& value,
                              const YAML::Mark& mark, std::string_view expected) const {
  return Error(mark, absl::StrFormat("%s: expected %s, got %s", label, expected, Describe(value)));
}

template <typename T>
absl::StatusOr<T> Loader::Parse(std::string_view label, const YAML::Node& value,
                                const YAML::Mark& mark,
                                absl::StatusOr<T> (*parse)(std::string_view),
                                std::string_view expected) const {
  if (!value.IsScalar()) return Expected(label, value, mark, expected);
  absl::StatusOr<T> v = parse(value.Scalar());
  if (!v.ok()) return Error(mark, absl::StrFormat("%s: %s", label, v.status().message()));
  return v;
}

// yaml-cpp keeps every entry of a map but its lookups see only the first, so duplicate keys have
// to be caught here.
absl::StatusOr<Fields> Loader::ReadMap(const YAML::Node& node, const YAML::Mark& mark,
                                       std::string_view what, Keys keys) const {
  Fields f{what, mark, {}};
  if (node.IsNull()) return f;
  if (!node.IsMap()) {
    return Expected(what, node, mark, absl::StrFormat("a map with keys %s", Join(keys)));
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    Entry e{it->first, it->second};
    if (absl::Status s = CheckKey(f, e, keys); !s.ok()) return s;
    f.entries.push_back(std::move(e));
  }
  return f;
}

absl::Status Loader::CheckKey(const Fields& f, const Entry& e, Keys keys) const {
  if (!e.key.IsScalar()) {
    return Error(e.key.Mark(),
                 absl::StrFormat("%s: expected a plain key, got %s", f.what, Describe(e.key)));
  }
  if (!absl::c_linear_search(keys, e.name())) {
    return Error(e.key.Mark(), absl::StrFormat("unknown key '%s' in %s; expected one of: %s",
                                               e.name(), f.what, Join(keys)));
  }
  if (const Entry* first = f.Find(e.name())) {
    return Error(e.key.Mark(), absl::StrFormat("duplicate key '%s' in %s (first given on line %d)",
                                               e.name(), f.what, first->key.Mark().line + 1));
  }
  return absl::OkStatus();
}

absl::StatusOr<const Entry*> Loader::Require(const Fields& f, std::string_view key) const {
  if (const Entry* e = f.Find(key)) return e;
  return Error(f.mark, absl::StrFormat("missing key '%s' in %s", key, f.what));
}

// An absent or empty list is an empty list; anything else that is not a list is a mistake.
absl::StatusOr<std::vector<YAML::Node>> Loader::ReadList(const Entry* e,
                                                         std::string_view expected) const {
  std::vector<YAML::Node> items;
  if (e == nullptr || e->value.IsNull()) return items;
  if (!e->value.IsSequence()) return Expected(*e, expected);
  for (const YAML::Node& item : e->value) {
    // An empty item ("-" alone) has the mark of whatever follows it, so point at the list.
    if (item.IsNull()) {
      return Error(e->key.Mark(),
                   absl::StrFormat("%s: item %d is empty", e->name(), items.size() + 1));
    }
    items.push_back(item);
  }
  return items;
}

absl::Status Loader::ReadUint(const Fields& f, const UintKey& k) const {
  const Entry* e = f.Find(k.key);
  if (e == nullptr) return absl::OkStatus();
  std::string s = e->value.IsScalar() ? e->value.Scalar() : "";
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < k.lo || v > k.hi) {
    return Expected(*e, absl::StrFormat("an integer between %u and %u", k.lo, k.hi));
  }
  *k.out = static_cast<uint32_t>(v);
  return absl::OkStatus();
}

// Decimal 0..2^64-1, for seeds.
absl::Status Loader::ReadUint64(const Entry* e, uint64_t* out) const {
  if (e == nullptr) return absl::OkStatus();
  std::string s = e->value.IsScalar() ? e->value.Scalar() : "";
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return Expected(*e, absl::StrFormat("an integer between 0 and %u",
                                        std::numeric_limits<uint64_t>::max()));
  }
  *out = v;
  return absl::OkStatus();
}

absl::Status Loader::ReadMac(const Entry& e, Mac* out) const {
  absl::StatusOr<Mac> mac = Parse(e, ParseMac, "a MAC address like 02:00:00:00:00:01");
  if (!mac.ok()) return mac.status();
  // Bit 0 of the first octet marks group addresses; no port or host answers to one.
  if (((*mac)[0] & 1) != 0 || *mac == Mac{}) {
    return Error(e.value.Mark(),
                 absl::StrFormat("%s: %s is not a unicast MAC address", e.name(), FormatMac(*mac)));
  }
  *out = *mac;
  return absl::OkStatus();
}

namespace {

// Watches one document go by: where it has content, if any. Never builds nodes.
class DocumentProbe : public YAML::EventHandler {
 public:
  bool content = false;
  YAML::Mark mark;

  void OnDocumentStart(const YAML::Mark& m) override { mark = m; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { Saw(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Saw(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Saw(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Saw(m);
  }
  void OnMapEnd() override {}

 private:
  void Saw(const YAML::Mark& m) {
    if (!content) mark = m;
    content = true;
  }
};

}  // namespace

absl::StatusOr<Config> Loader::Load(std::string_view text) {
  // Not YAML::LoadAll: yaml-cpp 0.7 never returns from it on a stray ',' after a document
  // (yaml-cpp issue 1040), allocating until the process dies, and a reload must never take the
  // router down. The first document is built; at most one more is looked at, to refuse it.
  std::string s(text);
  {
    std::istringstream in(s);
    YAML::Parser parser(in);
    DocumentProbe first, second;
    if (parser.HandleNextDocument(first) && parser.HandleNextDocument(second) &&
        second.content) {
      return Error(second.mark, "expected a single YAML document, found a second one");
    }
  }
  YAML::Node root = YAML::Load(s);
  if (root.IsNull()) {
    return Error(YAML::Mark(), "the config is empty; expected a map with at least a 'ports' list");
  }
  absl::StatusOr<Fields> top = ReadMap(root, root.Mark(), "config", kTopKeys);
  if (!top.ok()) return top.status();
  Config c;
  // Groups, then ports, then the groups' templates and the vifs, whatever the order in the file:
  // ports name groups, sub-interfaces name ports and groups, and routes and neighbours are
  // checked against the subnets of all of them.
  if (absl::Status s = ReadSections(*top, &c); !s.ok()) return s;
  if (absl::Status s = ReadGroups(*top, &c); !s.ok()) return s;
  if (absl::Status s = ReadPorts(*top, &c); !s.ok()) return s;
  IndexPorts(c);
  if (absl::Status s = ReadTemplates(&c); !s.ok()) return s;
  if (absl::Status s = ReadVifs(*top, &c); !s.ok()) return s;
  if (absl::Status s = ReadRoutes(*top, &c); !s.ok()) return s;
  if (absl::Status s = ReadNeighbours(*top, &c); !s.ok()) return s;
  return c;
}

absl::Status Loader::ReadSections(const Fields& top, Config* c) const {
  DataplaneConfig& d = c->dataplane;
  ArpConfig& a = c->arp;
  IcmpConfig& i = c->icmp;
  // The ARP and ICMP ranges keep timers and token-bucket arithmetic far from overflow and zero.
  // Every section is read, in this order, and the first error is the one reported.
  for (absl::Status s :
       {ReadUintSection(top, "dataplane",
                        {{"workers", 1, 64, &d.workers}, {"nbufs", 1023, 16777215, &d.nbufs}}),
        ReadUintSection(top, "arp",
                        {{"hold_packets", 1, 1024, &a.hold_packets},
                         {"reachable_seconds", 1, 86400, &a.reachable_seconds},
                         {"retries", 1, 100, &a.retries},
                         {"retry_ms", 10, 60000, &a.retry_ms},
                         {"gc_seconds", 1, 86400, &a.gc_seconds}}),
        ReadUintSection(
            top, "icmp",
            {{"rate_per_second", 1, 1000000, &i.rate_per_second}, {"burst", 1, 1000000, &i.burst}}),
        ReadControl(top, &c->control), ReadMetrics(top, &c->metrics),
        ReadKnet(top, &c->knet)}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadUintSection(const Fields& top, std::string_view section,
                                     std::initializer_list<UintKey> keys) const {
  const Entry* e = top.Find(section);
  if (e == nullptr) return absl::OkStatus();
  std::vector<std::string_view> names;
  for (const UintKey& k : keys) names.push_back(k.key);
  absl::StatusOr<Fields> f = ReadMap(e->value, e->where(), section, names);
  if (!f.ok()) return f.status();
  for (const UintKey& k : keys) {
    if (absl::Status s = ReadUint(*f, k); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadMetrics(const Fields& top, MetricsConfig* m) const {
  const Entry* e = top.Find("metrics");
  if (e == nullptr) return absl::OkStatus();
  absl::StatusOr<Fields> f = ReadMap(e->value, e->where(), "metrics", kMetricsKeys);
  if (!f.ok()) return f.status();
  if (const Entry* listen = f->Find("listen")) {
    std::string v = listen->value.IsScalar() ? listen->value.Scalar() : "-";
    // HOST:PORT with a numeric port, or "" / "off" for no endpoint.
    if (v.empty() || v == "off") {
      m->listen.clear();
    } else {
      size_t colon = v.rfind(':');
      uint32_t port = 0;
      bool ok = colon != std::string::npos && colon > 0 &&
                absl::SimpleAtoi(v.substr(colon + 1), &port) && port >= 1 && port <= 65535 &&
                v.find_first_of(" /") == std::string::npos;
      if (!ok) return Expected(*listen, "HOST:PORT (e.g. 127.0.0.1:9420), or off");
      m->listen = v;
    }
  }
  // A million vifs' series would be a scrape of hundreds of megabytes: the cap keeps it sane.
  return ReadUint(*f, {"interfaces", 0, 1u << 20, &m->interfaces});
}

absl::Status Loader::ReadKnet(const Fields& top, KnetConfig* k) const {
  const Entry* e = top.Find("knet");
  if (e == nullptr) return absl::OkStatus();
  k->enabled = true;
  // `knet: {}` or an empty `knet:` is the exception path with every default.
  if (e->value.IsNull()) return absl::OkStatus();
  absl::StatusOr<Fields> f = ReadMap(e->value, e->where(), "knet", kKnetKeys);
  if (!f.ok()) return f.status();
  if (const Entry* name = f->Find("name")) {
    if (!name->value.IsScalar() || !IsPortName(name->value.Scalar())) {
      return Expected(*name, "an interface name of 1 to 15 characters from A-Z a-z 0-9 _ . -");
    }
    k->name = name->value.Scalar();
  }
  for (absl::Status s : {ReadUint(*f, {"mtu", 68, 9000, &k->mtu}),
                         ReadUint(*f, {"rate", 1, 100000000, &k->rate}),
                         ReadUint(*f, {"burst", 1, 1000000, &k->burst})}) {
    if (!s.ok()) return s;
  }
  if (const Entry* o = f->Find("offload")) {
    std::string v = o->value.IsScalar() ? o->value.Scalar() : "";
    if (v != "true" && v != "false") return Expected(*o, "true or false");
    k->offload = v == "true";
  }
  if (const Entry* m = f->Find("mirror")) return ReadMirror(*m, k);
  return absl::OkStatus();
}

absl::Status Loader::ReadMirror(const Entry& e, KnetConfig* k) const {
  if (e.value.IsScalar() && e.value.Scalar() == "off") {
    k->mirror = false;
    return absl::OkStatus();
  }
  if (e.value.IsNull()) return absl::OkStatus();
  if (!e.value.IsMap()) return Expected(e, "off, or a map with keys table, protocols");
  absl::StatusOr<Fields> f = ReadMap(e.value, e.where(), "mirror", kMirrorKeys);
  if (!f.ok()) return f.status();
  if (const Entry* table = f->Find("table")) {
    // 255 (local) and 0 (unspec) are the kernel's own; "main" is 254, as iproute2 names it.
    if (table->value.IsScalar() && table->value.Scalar() == "main") {
      k->table = 254;
    } else if (absl::Status s = ReadUint(*f, {"table", 1, 0xfffffffe, &k->table}); !s.ok() ||
                                                                              k->table == 255) {
      return Expected(*table, "main, or a table number from 1 to 4294967294 other than 255");
    }
  }
  absl::StatusOr<std::vector<YAML::Node>> items =
      ReadList(f->Find("protocols"), "a list of route protocols like [bird, static]");
  if (!items.ok()) return items.status();
  k->protocols.clear();
  for (const YAML::Node& item : *items) {
    std::optional<uint8_t> p;
    uint32_t n = 0;
    if (item.IsScalar()) {
      p = RouteProtocolByName(item.Scalar());
      if (!p && absl::SimpleAtoi(item.Scalar(), &n) && n <= 255) p = uint8_t(n);
    }
    if (!p || *p == 2 || *p == kVrouterRouteProtocol) {
      return Error(item.Mark(),
                   absl::StrFormat("protocols: expected a route protocol name from "
                                   "/etc/iproute2/rt_protos (boot, static, zebra, bird, bgp, ospf, "
                                   "...) or a number 0-255, other than kernel and vrouter, got %s",
                                   Describe(item)));
    }
    if (absl::c_find(k->protocols, *p) != k->protocols.end()) {
      return Error(item.Mark(), absl::StrFormat("protocols: %s is listed twice", item.Scalar()));
    }
    k->protocols.push_back(*p);
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadControl(const Fields& top, ControlConfig* c) const {
  const Entry* e = top.Find("control");
  if (e == nullptr) return absl::OkStatus();
  absl::StatusOr<Fields> f = ReadMap(e->value, e->where(), "control", kControlKeys);
  if (!f.ok()) return f.status();
  if (const Entry* socket = f->Find("socket")) {
    // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
    std::string path = socket->value.IsScalar() ? socket->value.Scalar() : "";
    if (path.empty() || path[0] != '/' || path.size() > 107) {
      return Expected(*socket, "an absolute path of at most 107 bytes");
    }
    c->socket = path;
  }
  if (const Entry* group = f->Find("group")) {
    // Only the form is checked: whether the group exists is a question for the host it runs on.
    if (!group->value.IsScalar() || !IsUnixGroupName(group->value.Scalar())) {
      return Expected(*group,
                      "a group name of 1 to 32 characters from A-Z a-z 0-9 _ . -, not starting "
                      "with -");
    }
    c->group = group->value.Scalar();
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadGroups(const Fields& top, Config* c) {
  c->groups = {GroupConfig{0, "default", {}, GroupSource::kBuiltin}};
  if (const Entry* e = top.Find("group_file")) {
    if (absl::Status s = ReadGroupFile(*e, c); !s.ok()) return s;
  }
  absl::StatusOr<std::vector<YAML::Node>> items =
      ReadList(top.Find("groups"), "a list of groups like {id: 10, name: uplinks}");
  if (!items.ok()) return items.status();
  for (const YAML::Node& item : *items) {
    if (absl::Status s = ReadGroup(item, item.Mark(), c); !s.ok()) return s;
  }
  absl::c_sort(c->groups, [](const GroupConfig& a, const GroupConfig& b) { return a.id < b.id; });
  return absl::OkStatus();
}

// The file is named relative to the YAML file, and kept absolute: a config written back elsewhere
// (FormatConfig) still names the same file.
absl::Status Loader::ReadGroupFile(const Entry& e, Config* c) const {
  namespace fs = std::filesystem;
  if (!e.value.IsScalar() || e.value.Scalar().empty()) {
    return Expected(e, "the path of a group file (iproute2 format)");
  }
  fs::path path(e.value.Scalar());
  if (path.is_relative()) path = fs::path(file_).parent_path() / path;
  std::error_code ec;
  path = fs::absolute(path, ec);
  if (ec) {
    return Error(e.value.Mark(),
                 absl::StrFormat("group_file: %s: %s", path.string(), ec.message()));
  }
  c->group_file = path.lexically_normal().string();
  absl::StatusOr<std::string> text = internal::ReadFile(c->group_file);
  if (!text.ok()) {
    return Error(e.value.Mark(), absl::StrCat("group_file: ", text.status().message()));
  }
  return internal::MergeGroupFile(*text, c->group_file, &c->groups);
}

// A group's name is optional: an entry may only give settings or templates to a group that the
// group file names, or that has no name at all. The settings join the table's entry for the id.
absl::Status Loader::ReadGroup(const YAML::Node& node, const YAML::Mark& mark, Config* c) {
  absl::StatusOr<Fields> f = ReadMap(node, mark, "group", kGroupKeys);
  if (!f.ok()) return f.status();
  absl::StatusOr<const Entry*> id = Require(*f, "id");
  if (!id.ok()) return id.status();
  absl::StatusOr<uint32_t> value = Parse(
      **id, ParseGroupId, absl::StrFormat("a group id between 0 and %u", kMaxGroupId));
  if (!value.ok()) return value.status();
  const Entry* name = f->Find("name");
  if (name != nullptr && (!name->value.IsScalar() || !IsGroupName(name->value.Scalar()))) {
    return Expected(*name, internal::kGroupNameForm);
  }
  GroupConfig g{*value, name != nullptr ? name->value.Scalar() : "", Loc(mark), GroupSource::kYaml};
  if (absl::Status s = ReadGroupSettings(*f, &g); !s.ok()) return s;
  absl::StatusOr<std::vector<YAML::Node>> templates = ReadList(
      f->Find("templates"), "a list of templates like {parent: a, vlan: 100-199}");
  if (!templates.ok()) return templates.status();
  GroupYaml y{g.id, g.name, Loc(mark).line,
              g.mtu.has_value() || g.up.has_value() || g.impairment.has_value() ||
                  !templates->empty(),
              std::move(*templates)};

  // The same id twice in `groups`: two names are the table's conflict (below); the same name
  // twice is harmless; anything else would leave the reader guessing which entry counts.
  for (const GroupYaml& earlier : group_yaml_) {
    if (earlier.id != y.id) continue;
    bool other_name = !y.name.empty() && !earlier.name.empty() && y.name != earlier.name;
    if (!other_name && (y.settings || earlier.settings || y.name.empty() || earlier.name.empty())) {
      return Error((*id)->where(),
                   absl::StrFormat("group %u is already listed on line %d; give a group's name, "
                                   "settings and templates in one entry",
                                   y.id, earlier.line));
    }
  }
  if (!g.name.empty()) {
    bool on_name = false;
    if (absl::Status s = internal::AddGroup(&c->groups, g, &on_name); !s.ok()) {
      return Error(on_name ? name->where() : (*id)->where(), std::string(s.message()));
    }
  }
  auto entry = absl::c_find_if(c->groups, [&](const GroupConfig& t) { return t.id == g.id; });
  if (entry == c->groups.end()) {
    c->groups.push_back(g);
  } else if (y.settings) {
    entry->mtu = g.mtu;
    entry->up = g.up;
    entry->impairment = g.impairment;
  }
  group_yaml_.push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status Loader::ReadGroupSettings(const Fields& f, GroupConfig* g) const {
  if (f.Find("mtu") != nullptr) {
    uint32_t mtu = 0;
    if (absl::Status s = ReadUint(f, {"mtu", 68, 9000, &mtu}); !s.ok()) return s;
    g->mtu = mtu;
  }
  if (const Entry* state = f.Find("state")) {
    if (absl::Status s = ReadState(state, &g->up.emplace()); !s.ok()) return s;
  }
  if (const Entry* impairment = f.Find("impairment")) {
    if (absl::Status s = ReadImpairment(*impairment, &g->impairment.emplace()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// {mode: pass}, {mode: drop, percent: P[, seed: S]} or {mode: flap, on_ms: N, off_ms: M}.
absl::Status Loader::ReadImpairment(const Entry& e, ImpairmentConfig* out) const {
  if (e.value.IsNull() || !e.value.IsMap()) {
    return Expected(e, absl::StrFormat("a map with keys %s", Join(kImpairmentKeys)));
  }
  absl::StatusOr<Fields> f = ReadMap(e.value, e.where(), "impairment", kImpairmentKeys);
  if (!f.ok()) return f.status();
  absl::StatusOr<const Entry*> mode = Require(*f, "mode");
  if (!mode.ok()) return mode.status();
  ImpairmentConfig m;
  bool known = false;
  for (ImpairMode candidate : {ImpairMode::kPass, ImpairMode::kDrop, ImpairMode::kFlap}) {
    if ((*mode)->value.IsScalar() && (*mode)->value.Scalar() == ModeName(candidate)) {
      m.mode = candidate;
      known = true;
    }
  }
  if (!known) return Expected(**mode, "one of pass, drop, flap");
  // Keys of another mode are refused rather than ignored: they would read as if they counted.
  struct ModeKey {
    std::string_view key;
    ImpairMode mode;
  };
  for (ModeKey k : {ModeKey{"percent", ImpairMode::kDrop}, ModeKey{"seed", ImpairMode::kDrop},
                    ModeKey{"on_ms", ImpairMode::kFlap}, ModeKey{"off_ms", ImpairMode::kFlap}}) {
    const Entry* given = f->Find(k.key);
    if (given != nullptr && m.mode != k.mode) {
      return Error(given->key.Mark(),
                   absl::StrFormat("%s is only for mode %s", k.key, ModeName(k.mode)));
    }
  }
  for (ModeKey k : {ModeKey{"percent", ImpairMode::kDrop}, ModeKey{"on_ms", ImpairMode::kFlap},
                    ModeKey{"off_ms", ImpairMode::kFlap}}) {
    if (m.mode == k.mode && f->Find(k.key) == nullptr) {
      return Error(f->mark, absl::StrFormat("missing key '%s' in impairment (mode %s needs it)",
                                            k.key, ModeName(k.mode)));
    }
  }
  for (absl::Status s : {ReadUint(*f, {"percent", 1, 100, &m.drop_percent}),
                         ReadUint64(f->Find("seed"), &m.seed),
                         ReadUint(*f, {"on_ms", 1, 3600000, &m.on_ms}),
                         ReadUint(*f, {"off_ms", 1, 3600000, &m.off_ms})}) {
    if (!s.ok()) return s;
  }
  *out = m;
  return absl::OkStatus();
}

absl::Status Loader::ReadPorts(const Fields& top, Config* c) const {
  absl::StatusOr<const Entry*> e = Require(top, "ports");
  if (!e.ok()) return e.status();
  absl::StatusOr<std::vector<YAML::Node>> items = ReadList(*e, "a list of at least one port");
  if (!items.ok()) return items.status();
  if (items->empty()) return Expected(**e, "a list of at least one port");
  for (const YAML::Node& item : *items) {
    absl::StatusOr<PortConfig> port = ReadPort(item, item.Mark(), c->ports, c->groups);
    if (!port.ok()) return port.status();
    c->ports.push_back(std::move(*port));
  }
  return absl::OkStatus();
}

absl::StatusOr<PortConfig> Loader::ReadPort(const YAML::Node& node, const YAML::Mark& mark,
                                            std::span<const PortConfig> earlier,
                                            std::span<const GroupConfig> groups) const {
  absl::StatusOr<Fields> f = ReadMap(node, mark, "port", kPortKeys);
  if (!f.ok()) return f.status();
  absl::StatusOr<const Entry*> name = Require(*f, "name");
  if (!name.ok()) return name.status();
  absl::StatusOr<const Entry*> device = Require(*f, "device");
  if (!device.ok()) return device.status();
  PortConfig port;
  port.loc = Loc(mark);
  if (absl::Status s = ReadPortName(**name, earlier, &port); !s.ok()) return s;
  if (absl::Status s = ReadDevice(**device, earlier, &port); !s.ok()) return s;
  if (absl::Status s = ReadPortOptions(*f, earlier, &port); !s.ok()) return s;
  if (absl::Status s = ReadGroupRef(f->Find("group"), groups, &port.group); !s.ok()) return s;
  if (absl::Status s = ReadState(f->Find("state"), &port.up); !s.ok()) return s;
  if (absl::Status s = ReadRouterAdverts(f->Find("router_advertisements"), port.addresses6,
                                         port.link_local, port.mtu,
                                         absl::StrCat("port '", port.name, "'"),
                                         &port.router_advertisements);
      !s.ok()) {
    return s;
  }
  return port;
}

absl::Status Loader::ReadPortName(const Entry& e, std::span<const PortConfig> earlier,
                                  PortConfig* port) const {
  if (!e.value.IsScalar() || !IsPortName(e.value.Scalar())) {
    return Expected(e, "a port name of 1 to 15 characters from A-Z a-z 0-9 _ . -");
  }
  for (const PortConfig& p : earlier) {
    if (p.name == e.value.Scalar()) {
      return Error(e.value.Mark(),
                   absl::StrFormat("duplicate port name '%s' (first defined on line %d)", p.name,
                                   p.loc.line));
    }
  }
  port->name = e.value.Scalar();
  return absl::OkStatus();
}

absl::Status Loader::ReadDevice(const Entry& e, std::span<const PortConfig> earlier,
                                PortConfig* port) const {
  std::string devargs = e.value.IsScalar() ? e.value.Scalar() : "";
  if (devargs.empty() || absl::c_any_of(devargs, absl::ascii_isspace)) {
    return Expected(e, "DPDK devargs such as 0000:03:00.0 or net_af_packet0,iface=eth0");
  }
  for (const PortConfig& p : earlier) {
    if (DeviceName(p.device) == DeviceName(devargs)) {
      return Error(e.value.Mark(),
                   absl::StrFormat("device '%s' is already used by port '%s' (line %d)",
                                   DeviceName(devargs), p.name, p.loc.line));
    }
  }
  port->device = devargs;
  return absl::OkStatus();
}

// The ports before this one are complete, so the port's addresses are checked against them here.
absl::Status Loader::ReadPortOptions(const Fields& f, std::span<const PortConfig> earlier,
                                     PortConfig* port) const {
  if (const Entry* mac = f.Find("mac")) {
    if (absl::Status s = ReadMac(*mac, &port->mac.emplace()); !s.ok()) return s;
  }
  if (absl::Status s = ReadUint(f, {"mtu", 68, 9000, &port->mtu}); !s.ok()) return s;
  if (absl::Status s = ReadAddresses(f.Find("addresses"), earlier, port); !s.ok()) return s;
  return ReadLinkLocal(f.Find("link_local"), &port->link_local);
}

// A name of the table, or an id with or without a name (as `ip link set dev D group 7` takes).
absl::Status Loader::ReadGroupRef(const Entry* e, std::span<const GroupConfig> groups,
                                  uint32_t* group) const {
  if (e == nullptr) return absl::OkStatus();
  std::string value = e->value.IsScalar() ? e->value.Scalar() : "";
  if (value.empty()) {
    return Expected(*e, absl::StrFormat("a group name or an id between 0 and %u", kMaxGroupId));
  }
  if (absl::ascii_isdigit(value[0])) {  // names never start with a digit
    absl::StatusOr<uint32_t> id = Parse(*e, ParseGroupId, "");
    if (!id.ok()) return id.status();
    *group = *id;
    return absl::OkStatus();
  }
  std::vector<std::string_view> names;
  for (const GroupConfig& g : groups) {
    if (g.name.empty()) continue;  // a group with settings only
    if (g.name == value) {
      *group = g.id;
      return absl::OkStatus();
    }
    names.push_back(g.name);
  }
  return Error(e->where(),
               absl::StrFormat("group: unknown group '%s'; known: %s", value, Join(names)));
}

absl::Status Loader::ReadState(const Entry* e, bool* up) const {
  if (e == nullptr) return absl::OkStatus();
  std::string value = e->value.IsScalar() ? e->value.Scalar() : "";
  if (value != "up" && value != "down") return Expected(*e, "up or down");
  *up = value == "up";
  return absl::OkStatus();
}

absl::Status Loader::ReadAddresses(const Entry* e, std::span<const PortConfig> earlier,
                                   PortConfig* port) const {
  absl::StatusOr<std::vector<YAML::Node>> items =
      ReadList(e, "a list of addresses like [198.18.1.1/24]");
  if (!items.ok()) return items.status();
  for (const YAML::Node& item : *items) {
    if (IsIp6Text(item)) {
      if (absl::Status s = ReadPortAddress6(item, earlier, port); !s.ok()) return s;
      continue;
    }
    YAML::Mark mark = item.Mark();
    absl::StatusOr<Ip4Prefix> a =
        Parse("address", item, mark, ParseIp4Prefix, "an address like 198.18.1.1/24");
    if (!a.ok()) return a.status();
    absl::Status s = CheckHostAddress(*a);
    for (size_t i = 0; s.ok() && i <= earlier.size(); ++i) {
      s = CheckOverlap(*a, i < earlier.size() ? earlier[i] : *port);
    }
    if (!s.ok()) return Error(mark, std::string(s.message()));
    port->addresses.push_back(*a);
  }
  return absl::OkStatus();
}

// --- Sub-interfaces -----------------------------------------------------------------------------

// Ports' names, tags and subnets, for the checks of templates and vifs. The ports' subnets do not
// overlap (ReadAddresses saw to it), as subnets_ requires.
void Loader::IndexPorts(const Config& c) {
  for (size_t i = 0; i < c.ports.size(); ++i) {
    const PortConfig& p = c.ports[i];
    names_[p.name] = {Kind::kPort, i};
    tags_[p.name];
    for (const Ip4Prefix& a : p.addresses) {
      uint32_t first = NetworkOf(a).addr;
      subnets_[first] = Span{first + BlockSize(a.len) - 1, Kind::kPort, i, a};
    }
    AddSubnets6(Kind::kPort, i, p.addresses6);
  }
  vif_count_ = c.ports.size();
}

// Templates are read after the ports, since they name them; in the order of the file.
absl::Status Loader::ReadTemplates(Config* c) {
  for (const GroupYaml& y : group_yaml_) {
    auto group = absl::c_find_if(c->groups, [&](const GroupConfig& g) { return g.id == y.id; });
    for (const YAML::Node& node : y.templates) {
      if (absl::Status s = ReadTemplate(node, *group, *c); !s.ok()) return s;
      group->templates.push_back(templates_.back());
    }
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadTemplate(const YAML::Node& node, const GroupConfig& group,
                                  const Config& c) {
  if (absl::Status s = RefuseRouterAdverts(node, "group templates"); !s.ok()) return s;
  absl::StatusOr<Fields> f = ReadMap(node, node.Mark(), "template", kTemplateKeys);
  if (!f.ok()) return f.status();
  TemplateConfig t;
  t.loc = Loc(node.Mark());
  if (absl::Status s = ReadParent(*f, c, &t.parent); !s.ok()) return s;
  YAML::Mark tags_at;
  if (absl::Status s = ReadTags(*f, true, &t.outer, &t.inner, &tags_at); !s.ok()) return s;
  if (absl::Status s = CheckTags(c, t.parent, t.outer, t.inner, tags_at); !s.ok()) return s;
  if (absl::Status s = CheckTemplateNames(t, c, tags_at); !s.ok()) return s;
  const PortConfig& parent = c.ports[names_.at(t.parent).index];
  if (absl::Status s = CheckGroupMtu(group, parent, f->Find("parent")->value.Mark(),
                                     "the parent of this template's members");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadTemplateAddress(*f, c, &t); !s.ok()) return s;
  if (absl::Status s = ReadTemplateAddress6(*f, c, &t); !s.ok()) return s;
  if (absl::Status s = ReadTemplateMac(*f, &t); !s.ok()) return s;
  if (const Entry* members = f->Find("members")) {
    if (absl::Status s = ReadMembers(*members, parent, &t); !s.ok()) return s;
  }
  if (absl::Status s = CountVifs(t.size(), node.Mark(),
                                 absl::StrFormat("this template's %u members bring", t.size()));
      !s.ok()) {
    return s;
  }
  size_t index = templates_.size();
  templates_.push_back(t);
  tags_[t.parent].templates.push_back(index);
  if (t.address.has_value()) {
    AddressSpan span = SpanOf(t);
    subnets_[span.first] = Span{span.last, Kind::kMember, index, {}};
  }
  if (t.address6.has_value()) {
    auto [first, last] = SpanOf6(t);
    subnets6_[first] = Span6{last, Kind::kMember, index, {}};
  }
  return absl::OkStatus();
}

// members: [{vlan | outer and inner, mtu, state, impairment}]: settings of single members, by
// their tags, which must be the template's; each member at most once.
absl::Status Loader::ReadMembers(const Entry& e, const PortConfig& parent,
                                 TemplateConfig* t) const {
  if (!e.value.IsSequence()) return Expected(e, "a list of members");
  std::map<uint32_t, MemberConfig> by_index;
  for (const YAML::Node& node : e.value) {
    if (absl::Status s = RefuseRouterAdverts(node, "template members"); !s.ok()) return s;
    absl::StatusOr<Fields> f = ReadMap(node, node.Mark(), "member", kMemberKeys);
    if (!f.ok()) return f.status();
    MemberConfig m;
    m.loc = Loc(node.Mark());
    TagRange outer;
    std::optional<TagRange> inner;
    YAML::Mark where;
    if (absl::Status s = ReadTags(*f, false, &outer, &inner, &where); !s.ok()) return s;
    if (inner.has_value() != t->inner.has_value()) {
      return Error(where, t->inner ? "this template is qinq: give its members outer and inner"
                                   : "this template is vlan: give its members vlan");
    }
    m.outer = outer.first;
    m.inner = inner ? inner->first : 0;
    std::optional<uint32_t> index = TemplateMemberIndex(*t, m.outer, m.inner);
    if (!index) {
      return Error(where, inner ? absl::StrFormat("outer %u inner %u is not a member of this "
                                                  "template",
                                                  m.outer, m.inner)
                                : absl::StrFormat("vlan %u is not a member of this template",
                                                  m.outer));
    }
    if (by_index.count(*index)) {
      return Error(node.Mark(), absl::StrFormat("member %s is listed twice",
                                                SubinterfaceName(t->parent, m.outer, m.inner)));
    }
    if (const Entry* mtu = f->Find("mtu")) {
      uint32_t value = 0;
      if (absl::Status s = ReadUint(*f, {"mtu", 68, 9000, &value}); !s.ok()) return s;
      if (value > parent.mtu) {
        return Error(mtu->value.Mark(),
                     absl::StrFormat("mtu %u is above the mtu %u of port '%s', the parent of "
                                     "this member",
                                     value, parent.mtu, parent.name));
      }
      m.mtu = value;
    }
    if (const Entry* state = f->Find("state")) {
      if (absl::Status s = ReadState(state, &m.up.emplace()); !s.ok()) return s;
    }
    if (const Entry* impairment = f->Find("impairment")) {
      if (absl::Status s = ReadImpairment(*impairment, &m.impairment.emplace()); !s.ok()) return s;
    }
    by_index[*index] = m;
  }
  for (auto& [i, m] : by_index) t->members.push_back(std::move(m));
  return absl::OkStatus();
}

absl::Status Loader::ReadParent(const Fields& f, const Config& c, std::string* parent) const {
  absl::StatusOr<const Entry*> e = Require(f, "parent");
  if (!e.ok()) return e.status();
  if ((*e)->value.IsScalar()) {
    auto it = names_.find((*e)->value.Scalar());
    if (it != names_.end() && it->second.kind == Kind::kPort) {
      *parent = it->first;
      return absl::OkStatus();
    }
  }
  std::vector<std::string_view> names;
  for (const PortConfig& p : c.ports) names.push_back(p.name);
  return Expected(**e, absl::StrFormat("the name of a port (%s)", Join(names)));
}

// vlan, or outer and inner: ranges FIRST-LAST in a template, single ids in a vif. *where is the
// value of vlan or outer, where a clash of tags is reported.
absl::Status Loader::ReadTags(const Fields& f, bool ranges, TagRange* outer,
                              std::optional<TagRange>* inner, YAML::Mark* where) const {
  const Entry* vlan = f.Find("vlan");
  const Entry* o = f.Find("outer");
  const Entry* i = f.Find("inner");
  if (vlan != nullptr && (o != nullptr || i != nullptr)) {
    const Entry* q = o != nullptr ? o : i;
    YAML::Mark a = vlan->key.Mark(), b = q->key.Mark();
    bool vlan_first = a.line < b.line || (a.line == b.line && a.column < b.column);
    return Error(vlan_first ? b : a,
                 absl::StrFormat("a %s takes either vlan (802.1Q) or outer and inner (802.1ad "
                                 "qinq), not both",
                                 f.what));
  }
  if (vlan == nullptr && o == nullptr) {
    if (i != nullptr) {
      return Error(f.mark, absl::StrFormat("missing key 'outer' in %s (qinq takes outer and inner)",
                                           f.what));
    }
    return Error(f.mark, absl::StrFormat("missing key 'vlan' in %s (or outer and inner, for qinq)",
                                         f.what));
  }
  if (o != nullptr && i == nullptr) {
    return Error(f.mark,
                 absl::StrFormat("missing key 'inner' in %s (qinq takes outer and inner)", f.what));
  }
  auto read = [&](std::string_view key, TagRange* r) -> absl::Status {
    const Entry* e = f.Find(key);
    if (!ranges) {
      uint32_t id = 0;
      if (absl::Status s = ReadUint(f, {key, 1, 4094, &id}); !s.ok()) return s;
      *r = {static_cast<uint16_t>(id), static_cast<uint16_t>(id)};
      return absl::OkStatus();
    }
    bool backwards = false;
    if (e->value.IsScalar() && ParseTagRange(e->value.Scalar(), r, &backwards)) {
      return absl::OkStatus();
    }
    if (backwards) {
      return Error(e->value.Mark(),
                   absl::StrFormat("%s: range %s runs backwards; expected FIRST-LAST with FIRST "
                                   "not above LAST",
                                   key, e->value.Scalar()));
    }
    return Expected(*e, "an id 1 to 4094 or a range FIRST-LAST like 100-199");
  };
  if (vlan != nullptr) {
    *where = vlan->value.Mark();
    inner->reset();
    return read("vlan", outer);
  }
  *where = o->value.Mark();
  if (absl::Status s = read("outer", outer); !s.ok()) return s;
  return read("inner", &inner->emplace());
}

std::string ClashText(std::string_view mine, bool mine_qinq, std::string_view other,
                      bool other_qinq) {
  return absl::StrFormat("%s clashes with %s%s", mine, other,
                         mine_qinq == other_qinq
                             ? ""
                             : "; a port's vlan ids and qinq outer ids are one id space");
}

// A vlan id and a qinq outer id of one port are one space: a frame's first tag chooses.
absl::Status Loader::CheckTags(const Config& c, const std::string& parent, const TagRange& outer,
                               const std::optional<TagRange>& inner,
                               const YAML::Mark& where) const {
  std::string mine = TagsText(outer, inner);
  const PortTags& tags = tags_.at(parent);
  for (size_t k : tags.templates) {
    const TemplateConfig& u = templates_[k];
    if (!Overlaps(outer, u.outer)) continue;
    if (inner.has_value() && u.inner.has_value() && !Overlaps(*inner, *u.inner)) continue;
    return Error(where, ClashText(mine, inner.has_value(), TemplateText(u), u.inner.has_value()));
  }
  // Only a vif (single ids) can meet vifs: every template is read before the first vif.
  if (outer.first != outer.last || (inner.has_value() && inner->first != inner->last)) {
    return absl::OkStatus();
  }
  auto clash = [&](size_t vif) {
    const VifConfig& o = c.vifs[vif];
    return Error(where, ClashText(mine, inner.has_value(), VifText(o), o.inner != 0));
  };
  if (auto it = tags.vlan.find(outer.first); it != tags.vlan.end()) return clash(it->second);
  if (!inner.has_value()) {
    if (auto it = tags.outer.find(outer.first); it != tags.outer.end()) return clash(it->second);
  } else if (auto it = tags.qinq.find(uint32_t{outer.first} << 16 | inner->first);
             it != tags.qinq.end()) {
    return clash(it->second);
  }
  return absl::OkStatus();
}

// Member names are PARENT.N or PARENT.N.M, and port names may hold dots: a member may be named
// like a port, or like a member of a template on another port (a.1 vlan 5 and a outer 1 inner 5
// both make "a.1.5").
absl::Status Loader::CheckTemplateNames(const TemplateConfig& t, const Config& c,
                                        const YAML::Mark& where) const {
  for (const PortConfig& p : c.ports) {
    if (std::optional<uint32_t> i = MemberIndexByName(t, p.name)) {
      return Error(where, absl::StrFormat("member '%s' of this template has the name of port '%s' "
                                          "(line %d)",
                                          p.name, p.name, p.loc.line));
    }
  }
  // The vlan template on "Q.o" and the qinq template on "Q" whose outer ids hold o.
  auto meet = [](const TemplateConfig& vlan, const TemplateConfig& qinq) -> std::optional<uint16_t> {
    std::string_view p = vlan.parent;
    uint16_t o = 0;
    if (p.size() <= qinq.parent.size() + 1 || p.substr(0, qinq.parent.size()) != qinq.parent ||
        p[qinq.parent.size()] != '.' || !ParseTag(p.substr(qinq.parent.size() + 1), &o) ||
        !InRange(qinq.outer, o) || !Overlaps(vlan.outer, *qinq.inner)) {
      return std::nullopt;
    }
    return std::max(vlan.outer.first, qinq.inner->first);
  };
  for (const TemplateConfig& u : templates_) {
    if (t.inner.has_value() == u.inner.has_value()) continue;  // then only one parent can clash
    const TemplateConfig& vlan = t.inner.has_value() ? u : t;
    const TemplateConfig& qinq = t.inner.has_value() ? t : u;
    if (std::optional<uint16_t> id = meet(vlan, qinq)) {
      return Error(where,
                   absl::StrFormat("member '%s' of this template has the name of a member of %s",
                                   SubinterfaceName(vlan.parent, *id, 0), TemplateText(u)));
    }
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadTemplateAddress(const Fields& f, const Config& c,
                                         TemplateConfig* t) const {
  const Entry* address = f.Find("address");
  const Entry* step = f.Find("address_step");
  if (address == nullptr) {
    if (step == nullptr) return absl::OkStatus();
    return Error(step->key.Mark(), "address_step is only for a template with an address");
  }
  // An IPv6 address in `address` is the template's IPv6 address (ReadTemplateAddress6).
  if (IsIp6Text(address->value)) return absl::OkStatus();
  absl::StatusOr<Ip4Prefix> a = Parse(*address, ParseIp4Prefix, "an address like 198.18.64.0/31");
  if (!a.ok()) return a.status();
  YAML::Mark mark = address->value.Mark();
  if (absl::Status s = CheckHostAddress(*a, "member 0"); !s.ok()) {
    return Error(mark, std::string(s.message()));
  }
  // A multiple of the block keeps every member's address at the same place in its subnet, so
  // none is a network or broadcast address when the first is not.
  uint64_t block = BlockSize(a->len);
  uint32_t address_step = static_cast<uint32_t>(block);
  if (step != nullptr) {
    if (absl::Status s = ReadUint(f, {"address_step", 1, 4294967295u, &address_step}); !s.ok()) {
      return s;
    }
    if (address_step % block != 0) {
      return Error(step->value.Mark(),
                   absl::StrFormat("address_step: expected a multiple of %u, the size of a /%d "
                                   "subnet, so that members' subnets do not overlap, got '%s'",
                                   block, a->len, step->value.Scalar()));
    }
  }
  t->address = *a;
  t->address_step = address_step;
  uint32_t n = t->size();
  if (SpanOf(*t).last > 0xffffffffu) {
    return Error(mark, absl::StrFormat("address %s: %u members at a step of %u run past "
                                       "255.255.255.255",
                                       FormatPrefix(*a), n, address_step));
  }
  // Addresses only grow: a member is not unicast when it falls in 127/8 or at 224.0.0.0 or above.
  for (uint64_t bound : {uint64_t{0x7f000000}, uint64_t{0xe0000000}}) {
    if (a->addr >= bound) continue;
    uint64_t i = FirstAtOrAbove(a->addr, address_step, bound);
    if (i < n && (bound == 0xe0000000 || a->addr + i * address_step < 0x80000000)) {
      Ip4Prefix member = *TemplateMember(*t, static_cast<uint32_t>(i)).address;
      return Error(mark, absl::StrFormat("address %s: member %u (%s) would get %s, which is not a "
                                         "unicast address",
                                         FormatPrefix(*a), i,
                                         MemberName(*t, static_cast<uint32_t>(i)),
                                         FormatPrefix(member)));
    }
  }
  AddressSpan span = SpanOf(*t);
  if (const Span* other = Overlapping(span.first, span.last)) {
    return Error(mark, absl::StrFormat("address %s: the members' subnets %s overlap %s",
                                       FormatPrefix(*a), MemberSubnetsText(*t),
                                       SpanText(c, *other)));
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadTemplateMac(const Fields& f, TemplateConfig* t) const {
  const Entry* mac = f.Find("mac");
  const Entry* step = f.Find("mac_step");
  if (mac == nullptr) {
    if (step == nullptr) return absl::OkStatus();
    return Error(step->key.Mark(), "mac_step is only for a template with a mac");
  }
  if (absl::Status s = ReadMac(*mac, &t->mac.emplace()); !s.ok()) return s;
  if (absl::Status s = ReadUint(f, {"mac_step", 1, 4294967295u, &t->mac_step}); !s.ok()) return s;
  uint64_t first = MacValue(*t->mac), n = t->size(), s = t->mac_step;
  uint64_t last = first + (n - 1) * s;
  YAML::Mark mark = mac->value.Mark();
  if (last > 0xffffffffffffu) {
    return Error(mark, absl::StrFormat("mac %s: %u members at a step of %u run past "
                                       "ff:ff:ff:ff:ff:ff",
                                       FormatMac(*t->mac), n, s));
  }
  // Bit 0 of the first octet marks group addresses: look for a member in each odd first octet
  // between the first member's and the last one's (at most 255 of them).
  for (uint64_t octet = (first >> 40) + 1; octet <= last >> 40; ++octet) {
    if ((octet & 1) == 0) continue;
    uint64_t i = FirstAtOrAbove(first, s, octet << 40);
    if (i < n && first + i * s < (octet + 1) << 40) {
      return Error(mark, absl::StrFormat("mac %s: member %u (%s) would get %s, a multicast "
                                         "address",
                                         FormatMac(*t->mac), i,
                                         MemberName(*t, static_cast<uint32_t>(i)),
                                         FormatMac(MacOf(first + i * s))));
    }
  }
  return absl::OkStatus();
}

// address6 (or an IPv6 `address`) with address6_step: checked as the IPv4 address is, by
// arithmetic over the 128-bit numbers of the members' addresses, whatever their number.
absl::Status Loader::ReadTemplateAddress6(const Fields& f, const Config& c,
                                          TemplateConfig* t) const {
  const Entry* address = f.Find("address6");
  const Entry* step = f.Find("address6_step");
  if (const Entry* given = f.Find("address"); given != nullptr && IsIp6Text(given->value)) {
    // The IPv6 address of a template without an IPv4 one may be given as `address`, with its
    // step as address_step; then address6 and address6_step would say it twice.
    if (address != nullptr) {
      return Error(address->key.Mark(),
                   absl::StrFormat("address6: this template's IPv6 address is given as address "
                                   "already (line %d); a template has one IPv6 address",
                                   given->key.Mark().line + 1));
    }
    if (step != nullptr) {
      return Error(step->key.Mark(), "address6_step is for address6; the step of an IPv6 "
                                     "address given as address is address_step");
    }
    address = given;
    step = f.Find("address_step");
  }
  if (address == nullptr) {
    if (step == nullptr) return absl::OkStatus();
    return Error(step->key.Mark(), "address6_step is only for a template with an address6");
  }
  const std::string key = address->name();
  if (address->value.IsScalar() && !IsIp6Text(address->value) &&
      ParseIp4Prefix(address->value.Scalar()).ok()) {
    return Error(address->value.Mark(),
                 absl::StrFormat("address6: %s is an IPv4 prefix; give it as address",
                                 address->value.Scalar()));
  }
  absl::StatusOr<Ip6Prefix> a =
      Parse(*address, ParseIp6Prefix, "an IPv6 prefix like 2001:db8:100::1/64");
  if (!a.ok()) return a.status();
  YAML::Mark mark = address->value.Mark();
  const std::string text = internal::FormatPrefix6(*a);
  if (IsLinkLocal6(a->addr)) {
    return Error(mark, absl::StrFormat("%s %s is a link-local address (fe80::/10); members' "
                                       "link-local addresses come from their MACs, give a "
                                       "global one",
                                       key, text));
  }
  if (absl::Status s = internal::CheckHostAddress6(*a, "member 0"); !s.ok()) {
    return Error(mark, std::string(s.message()));
  }
  // As for IPv4, a multiple of the subnet's size keeps every member's address at the same place
  // in its subnet: none is a Subnet-Router anycast address when member 0's is not.
  const absl::uint128 block = absl::uint128(1) << (128 - a->len);  // a->len is 1..128
  absl::uint128 address_step = block;
  if (step != nullptr) {
    absl::StatusOr<absl::uint128> v = Parse(
        *step, ParseIp6Step, "a step like 2 (a /127 each), or an IPv6 address like \"0:0:0:1::\"");
    if (!v.ok()) return v.status();
    if (*v == 0) {
      return Error(step->value.Mark(),
                   absl::StrFormat("%s: expected a step of at least 1, got '%s'", step->name(),
                                   step->value.Scalar()));
    }
    if (*v % block != 0) {
      return Error(step->value.Mark(),
                   absl::StrFormat("%s: expected a multiple of %s, the size of a /%d subnet, so "
                                   "that members' subnets do not overlap, got '%s'",
                                   step->name(), Size6Text(block), a->len,
                                   step->value.Scalar()));
    }
    address_step = *v;
  }
  const uint32_t n = t->size();
  const absl::uint128 first = Ip6Value(NetworkOf6(*a).addr);
  // The last member's subnet must end at ffff:...:ffff at the latest.
  const absl::uint128 room = ~absl::uint128(0) - first - (block - 1);
  if (n > 1 && address_step > room / (n - 1)) {
    return Error(mark, absl::StrFormat("%s %s: %u members at a step of %s run past "
                                       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                                       key, text, n, Size6Text(address_step)));
  }
  t->address6 = *a;
  t->address6_step = address_step;
  // Addresses only grow, and member 0's is unicast: a member is not when it reaches one of the
  // special ranges above it.
  const absl::uint128 a0 = Ip6Value(a->addr);
  for (const Ip6Prefix& special : {*ParseIp6Prefix("::ffff:0:0/96"), *ParseIp6Prefix("fe80::/10"),
                                   *ParseIp6Prefix("ff00::/8")}) {
    absl::uint128 lo = Ip6Value(special.addr), hi = Ip6Value(internal::LastOf6(special));
    if (a0 >= lo) continue;
    absl::uint128 d = lo - a0, i = d / address_step + (d % address_step != 0 ? 1 : 0);
    if (i >= n || a0 + i * address_step > hi) continue;
    uint32_t member = static_cast<uint32_t>(i);
    Ip6Prefix got = TemplateMemberAddress6(*t, member);
    return Error(mark, absl::StrFormat("%s %s: member %u (%s) would get %s, which is %s", key,
                                       text, member, MemberName(*t, member),
                                       internal::FormatPrefix6(got),
                                       *internal::SpecialUse6(got.addr)));
  }
  auto [span_first, span_last] = SpanOf6(*t);
  if (const Span6* other = Overlapping6(span_first, span_last)) {
    return Error(mark, absl::StrFormat("%s %s: the members' subnets %s overlap %s", key, text,
                                       MemberSubnetsText6(*t), SpanText6(c, *other)));
  }
  return absl::OkStatus();
}

// The members of a group that take its mtu must fit it into their parent port's.
absl::Status Loader::CheckGroupMtu(const GroupConfig& group, const PortConfig& parent,
                                   const YAML::Mark& where, std::string_view who) const {
  if (!group.mtu.has_value() || *group.mtu <= parent.mtu) return absl::OkStatus();
  int line = 0;
  for (const GroupYaml& y : group_yaml_) {
    if (y.id == group.id && y.settings) line = y.line;
  }
  std::string name = group.name.empty() ? absl::StrCat("group ", group.id)
                                        : absl::StrCat("group '", group.name, "'");
  return Error(where, absl::StrFormat("%s has mtu %u (line %d), above the mtu %u of port '%s', %s",
                                      name, *group.mtu, line, parent.mtu, parent.name, who));
}

absl::Status Loader::CountVifs(uint64_t more, const YAML::Mark& where, std::string_view what) {
  vif_count_ += more;
  if (vif_count_ <= kMaxVifs) return absl::OkStatus();
  return Error(where, absl::StrFormat("too many vifs: %s the ports and sub-interfaces to %u; at "
                                      "most %u fit the 24 bits of a vif id",
                                      what, vif_count_, kMaxVifs));
}

absl::Status Loader::ReadVifs(const Fields& top, Config* c) {
  absl::StatusOr<std::vector<YAML::Node>> items =
      ReadList(top.Find("vifs"), "a list of vifs like {parent: a, vlan: 100}");
  if (!items.ok()) return items.status();
  for (const YAML::Node& item : *items) {
    if (absl::Status s = ReadVif(item, item.Mark(), c); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadVif(const YAML::Node& node, const YAML::Mark& mark, Config* c) {
  absl::StatusOr<Fields> f = ReadMap(node, mark, "vif", kVifKeys);
  if (!f.ok()) return f.status();
  VifConfig v;
  v.loc = Loc(mark);
  if (absl::Status s = ReadParent(*f, *c, &v.parent); !s.ok()) return s;
  const PortConfig& parent = c->ports[names_.at(v.parent).index];
  TagRange outer;
  std::optional<TagRange> inner;
  YAML::Mark tags_at;
  if (absl::Status s = ReadTags(*f, false, &outer, &inner, &tags_at); !s.ok()) return s;
  v.outer = outer.first;
  v.inner = inner.has_value() ? inner->first : 0;
  if (absl::Status s = CheckTags(*c, v.parent, outer, inner, tags_at); !s.ok()) return s;

  const Entry* name = f->Find("name");
  if (name != nullptr) {
    if (!name->value.IsScalar() || !IsVifName(name->value.Scalar())) {
      return Expected(*name, "a vif name of 1 to 31 characters from A-Z a-z 0-9 _ . -");
    }
    v.name = name->value.Scalar();
  } else {
    v.name = SubinterfaceName(v.parent, v.outer, v.inner);
  }
  if (absl::Status s = CheckVifName(*c, v.name, name != nullptr ? name->value.Mark() : mark);
      !s.ok()) {
    return s;
  }

  if (const Entry* mac = f->Find("mac")) {
    if (absl::Status s = ReadMac(*mac, &v.mac.emplace()); !s.ok()) return s;
  }
  if (const Entry* mtu = f->Find("mtu")) {
    uint32_t value = 0;
    if (absl::Status s = ReadUint(*f, {"mtu", 68, 9000, &value}); !s.ok()) return s;
    if (value > parent.mtu) {
      return Error(mtu->value.Mark(),
                   absl::StrFormat("mtu %u is above the mtu %u of port '%s', the parent of this vif",
                                   value, parent.mtu, parent.name));
    }
    v.mtu = value;
  }
  v.group = parent.group;  // a sub-interface is in its parent's group unless told otherwise
  const Entry* group = f->Find("group");
  if (absl::Status s = ReadGroupRef(group, c->groups, &v.group); !s.ok()) return s;
  if (const Entry* state = f->Find("state")) {
    if (absl::Status s = ReadState(state, &v.up.emplace()); !s.ok()) return s;
  }
  if (const Entry* impairment = f->Find("impairment")) {
    if (absl::Status s = ReadImpairment(*impairment, &v.impairment.emplace()); !s.ok()) return s;
  }
  if (!v.mtu.has_value()) {
    auto g = absl::c_find_if(c->groups, [&](const GroupConfig& g) { return g.id == v.group; });
    YAML::Mark where = group != nullptr ? group->value.Mark() : f->Find("parent")->value.Mark();
    if (g != c->groups.end()) {
      if (absl::Status s = CheckGroupMtu(*g, parent, where,
                                         "the parent of this vif; give the vif an mtu of its own");
          !s.ok()) {
        return s;
      }
    }
  }
  if (absl::Status s = ReadVifAddresses(f->Find("addresses"), *c, &v); !s.ok()) return s;
  if (absl::Status s = ReadLinkLocal(f->Find("link_local"), &v.link_local); !s.ok()) return s;
  {
    // The MTU the vif has: its own, else its group's, else its parent's (docs/config.md).
    auto g = absl::c_find_if(c->groups, [&](const GroupConfig& g) { return g.id == v.group; });
    uint32_t mtu = v.mtu.value_or(g != c->groups.end() && g->mtu ? *g->mtu : parent.mtu);
    if (absl::Status s = ReadRouterAdverts(f->Find("router_advertisements"), v.addresses6,
                                           v.link_local, mtu,
                                           absl::StrCat("vif '", v.name, "'"),
                                           &v.router_advertisements);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CountVifs(1, mark, "this vif brings"); !s.ok()) return s;

  size_t index = c->vifs.size();
  names_[v.name] = {Kind::kVif, index};
  PortTags& tags = tags_[v.parent];
  if (v.inner == 0) {
    tags.vlan.emplace(v.outer, index);
  } else {
    tags.qinq.emplace(uint32_t{v.outer} << 16 | v.inner, index);
    tags.outer.emplace(v.outer, index);
  }
  for (const Ip4Prefix& a : v.addresses) {
    uint32_t first = NetworkOf(a).addr;
    subnets_[first] = Span{first + BlockSize(a.len) - 1, Kind::kVif, index, a};
  }
  AddSubnets6(Kind::kVif, index, v.addresses6);
  c->vifs.push_back(std::move(v));
  return absl::OkStatus();
}

absl::Status Loader::CheckVifName(const Config& c, const std::string& name,
                                  const YAML::Mark& where) const {
  if (auto it = names_.find(name); it != names_.end()) {
    if (it->second.kind == Kind::kPort) {
      return Error(where, absl::StrFormat("name '%s' is already used by port '%s' (line %d)", name,
                                          name, c.ports[it->second.index].loc.line));
    }
    return Error(where, absl::StrFormat("name '%s' is already used by %s", name,
                                        VifText(c.vifs[it->second.index])));
  }
  if (std::optional<MemberRef> m = MemberNamed(name)) {
    return Error(where, absl::StrFormat("name '%s' is already used by a member of %s", name,
                                        TemplateText(templates_[m->tmpl])));
  }
  return absl::OkStatus();
}

// As a port's addresses: host addresses whose subnets overlap no other interface's.
absl::Status Loader::ReadVifAddresses(const Entry* e, const Config& c, VifConfig* vif) const {
  absl::StatusOr<std::vector<YAML::Node>> items =
      ReadList(e, "a list of addresses like [198.18.1.1/24]");
  if (!items.ok()) return items.status();
  for (const YAML::Node& item : *items) {
    if (IsIp6Text(item)) {
      if (absl::Status s = ReadVifAddress6(item, c, vif); !s.ok()) return s;
      continue;
    }
    YAML::Mark mark = item.Mark();
    absl::StatusOr<Ip4Prefix> a =
        Parse("address", item, mark, ParseIp4Prefix, "an address like 198.18.1.1/24");
    if (!a.ok()) return a.status();
    if (absl::Status s = CheckHostAddress(*a, "the vif"); !s.ok()) return Error(mark, std::string(s.message()));
    for (const Ip4Prefix& b : vif->addresses) {
      if (Contains(*a, b.addr) || Contains(b, a->addr)) {
        return Error(mark, absl::StrFormat("address %s overlaps %s of vif '%s'", FormatPrefix(*a),
                                           FormatPrefix(b), vif->name));
      }
    }
    uint32_t first = NetworkOf(*a).addr;
    if (const Span* other = Overlapping(first, first + BlockSize(a->len) - 1)) {
      return Error(mark, absl::StrFormat("address %s overlaps %s", FormatPrefix(*a),
                                         SpanText(c, *other)));
    }
    vif->addresses.push_back(*a);
  }
  return absl::OkStatus();
}

// --- Connected subnets --------------------------------------------------------------------------

const Loader::Span* Loader::Overlapping(uint32_t first, uint64_t last) const {
  auto it = subnets_.upper_bound(static_cast<uint32_t>(std::min<uint64_t>(last, 0xffffffffu)));
  if (it == subnets_.begin()) return nullptr;
  --it;
  return it->second.last >= first ? &it->second : nullptr;
}

std::string Loader::SpanText(const Config& c, const Span& s) const {
  switch (s.kind) {
    case Kind::kPort:
      return absl::StrFormat("%s of port '%s'", FormatPrefix(s.prefix), c.ports[s.index].name);
    case Kind::kVif:
      return absl::StrFormat("%s of vif '%s'", FormatPrefix(s.prefix), c.vifs[s.index].name);
    case Kind::kMember: {
      const TemplateConfig& t = templates_[s.index];
      return absl::StrFormat("the members' subnets %s of %s", MemberSubnetsText(t),
                             TemplateText(t));
    }
  }
  return "?";
}

// The template member called `name`, found by reading the name as PARENT.N or PARENT.N.M.
std::optional<Loader::MemberRef> Loader::MemberNamed(std::string_view name) const {
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  std::string_view parents[2] = {name.substr(0, dot), {}};
  size_t dot2 = parents[0].rfind('.');
  if (dot2 != std::string_view::npos && dot2 > 0) parents[1] = parents[0].substr(0, dot2);
  for (std::string_view parent : parents) {
    if (parent.empty()) continue;
    auto it = tags_.find(std::string(parent));
    if (it == tags_.end()) continue;
    for (size_t k : it->second.templates) {
      if (std::optional<uint32_t> i = MemberIndexByName(templates_[k], name)) {
        return MemberRef{k, *i};
      }
    }
  }
  return std::nullopt;
}

// The connected subnet that holds `ip`: of a port, a vif, or a template member (by arithmetic:
// which member's block the address falls in, if not in a gap between blocks).
std::optional<Loader::Subnet> Loader::SubnetOf(const Config& c, uint32_t ip) const {
  auto it = subnets_.upper_bound(ip);
  if (it == subnets_.begin()) return std::nullopt;
  --it;
  const Span& s = it->second;
  if (s.last < ip) return std::nullopt;
  switch (s.kind) {
    case Kind::kPort: return Subnet{s.prefix, s.kind, c.ports[s.index].name};
    case Kind::kVif: return Subnet{s.prefix, s.kind, c.vifs[s.index].name};
    case Kind::kMember: {
      const TemplateConfig& t = templates_[s.index];
      uint32_t offset = ip - it->first;
      if (offset % t.address_step >= BlockSize(t.address->len)) return std::nullopt;
      uint32_t i = offset / t.address_step;
      return Subnet{*TemplateMember(t, i).address, s.kind, MemberName(t, i)};
    }
  }
  return std::nullopt;
}

// The subnets of the port, vif or template member called `name`; nullopt when there is none.
std::optional<std::vector<Loader::Subnet>> Loader::SubnetsOf(const Config& c,
                                                             std::string_view name,
                                                             Kind* kind) const {
  std::vector<Subnet> out;
  if (auto it = names_.find(std::string(name)); it != names_.end()) {
    *kind = it->second.kind;
    const std::vector<Ip4Prefix>& addresses = *kind == Kind::kPort
                                                  ? c.ports[it->second.index].addresses
                                                  : c.vifs[it->second.index].addresses;
    for (const Ip4Prefix& a : addresses) out.push_back({a, *kind, std::string(name)});
    return out;
  }
  if (std::optional<MemberRef> m = MemberNamed(name)) {
    *kind = Kind::kMember;
    if (std::optional<Ip4Prefix> a = TemplateMember(templates_[m->tmpl], m->index).address) {
      out.push_back({*a, Kind::kMember, std::string(name)});
    }
    return out;
  }
  return std::nullopt;
}

bool Loader::HasSubinterfaceAddresses(const Config& c) const {
  return absl::c_any_of(c.vifs, [](const VifConfig& v) { return !v.addresses.empty(); }) ||
         absl::c_any_of(templates_, [](const TemplateConfig& t) { return t.address.has_value(); });
}

// "a: 198.18.1.0/24, b: 198.18.2.0/24", ten at most.
std::string Loader::SubnetList(const Config& c, std::string_view only) const {
  constexpr size_t kMax = 10;
  std::vector<std::string> out;
  size_t more = 0;
  auto add = [&](std::string item) {
    if (out.size() < kMax) {
      out.push_back(std::move(item));
    } else {
      ++more;
    }
  };
  if (!only.empty()) {
    Kind kind;
    if (std::optional<std::vector<Subnet>> subnets = SubnetsOf(c, only, &kind)) {
      for (const Subnet& s : *subnets) add(absl::StrCat(s.name, ": ", FormatSubnet(s.prefix)));
    }
  } else {
    for (const PortConfig& p : c.ports) {
      for (const Ip4Prefix& a : p.addresses) add(absl::StrCat(p.name, ": ", FormatSubnet(a)));
    }
    for (const VifConfig& v : c.vifs) {
      for (const Ip4Prefix& a : v.addresses) add(absl::StrCat(v.name, ": ", FormatSubnet(a)));
    }
    for (const TemplateConfig& t : templates_) {
      if (!t.address.has_value()) continue;
      std::string names = MemberName(t, 0);
      if (t.size() > 1) absl::StrAppend(&names, " to ", MemberName(t, t.size() - 1));
      add(absl::StrCat(names, ": ", MemberSubnetsText(t)));
    }
  }
  if (out.empty()) return "no address is configured";
  std::string list = Join(out);
  if (more > 0) absl::StrAppend(&list, ", and ", more, " more");
  return list;
}

const char* KindName(bool port) { return port ? "port" : "vif"; }

// The interface whose connected subnet holds `ip` (only the one called `only` when not empty).
// `ip` must be another host there: neither the router itself nor the subnet's network or broadcast
// address.
absl::StatusOr<std::string> Loader::Connected(const Config& c, uint32_t ip,
                                              std::string_view only) const {
  std::optional<Subnet> found;
  Kind only_kind = Kind::kPort;
  if (only.empty()) {
    found = SubnetOf(c, ip);
  } else if (std::optional<std::vector<Subnet>> subnets = SubnetsOf(c, only, &only_kind)) {
    for (const Subnet& s : *subnets) {
      if (Contains(s.prefix, ip)) found = s;
    }
  }
  if (found.has_value()) {
    if (ip == found->prefix.addr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s is the router's own address on %s '%s'", FormatIp4(ip),
                          KindName(found->kind == Kind::kPort), found->name));
    }
    if (IsSubnetEdge(found->prefix, ip)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s is the network or broadcast address of %s", FormatIp4(ip),
          FormatSubnet(found->prefix)));
    }
    return found->name;
  }
  std::string where =
      !only.empty() ? absl::StrFormat("a subnet of %s '%s'", KindName(only_kind == Kind::kPort),
                                      only)
      : HasSubinterfaceAddresses(c) ? "any interface's subnet"
                                    : "any port's subnet";
  return absl::InvalidArgumentError(absl::StrFormat("%s is not inside %s (%s)", FormatIp4(ip),
                                                    where, SubnetList(c, only)));
}

absl::Status Loader::ReadRoutes(const Fields& top, Config* c) const {
  const Entry* e = top.Find("routes");
  absl::StatusOr<std::vector<YAML::Node>> items = ReadList(e, "a list of routes");
  if (!items.ok()) return items.status();
  // One list for both families: the prefix decides which one an entry is.
  for (const YAML::Node& item : *items) {
    absl::StatusOr<Fields> f = ReadMap(item, item.Mark(), "route", kRouteKeys);
    if (!f.ok()) return f.status();
    absl::StatusOr<const Entry*> prefix = Require(*f, "prefix");
    if (!prefix.ok()) return prefix.status();
    if (IsIp6Text((*prefix)->value)) {
      absl::StatusOr<Route6Config> route = ReadRoute6(*f, **prefix, *c);
      if (!route.ok()) return route.status();
      if (c->routes6.size() == kMaxRoutes6) {
        return Error((*prefix)->value.Mark(),
                     absl::StrFormat("route %s is IPv6 route number %u; the IPv6 FIB holds at "
                                     "most %u routes",
                                     internal::FormatPrefix6(route->prefix), kMaxRoutes6 + 1,
                                     kMaxRoutes6));
      }
      c->routes6.push_back(std::move(*route));
    } else {
      absl::StatusOr<RouteConfig> route = ReadRoute(*f, **prefix, *c);
      if (!route.ok()) return route.status();
      c->routes.push_back(*route);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RouteConfig> Loader::ReadRoute(const Fields& f, const Entry& prefix,
                                              const Config& c) const {
  RouteConfig r;
  r.loc = Loc(f.mark);
  if (absl::Status s = ReadRoutePrefix(prefix, c, &r); !s.ok()) return s;
  if (absl::Status s = ReadRouteType(f.Find("type"), &r.type); !s.ok()) return s;
  if (absl::Status s = ReadVia(f, c, &r); !s.ok()) return s;
  if (const Entry* port = f.Find("port")) {
    return Error(port->key.Mark(),
                 "port is only for an IPv6 route whose via is link-local (fe80::/10); an IPv4 "
                 "next hop's port is the one whose subnet holds it");
  }
  return r;
}

absl::Status Loader::ReadRoutePrefix(const Entry& e, const Config& c, RouteConfig* r) const {
  absl::StatusOr<Ip4Prefix> p = Parse(e, ParseIp4Prefix, "a prefix like 198.19.0.0/16");
  if (!p.ok()) return p.status();
  std::string text = FormatPrefix(*p);
  if ((p->addr & ~PrefixMask(p->len)) != 0) {
    return Error(e.value.Mark(), absl::StrFormat("prefix %s has host bits set; did you mean %s?",
                                                 text, FormatSubnet(*p)));
  }
  if (auto [it, added] = route_lines_.try_emplace({p->addr, p->len}, r->loc.line); !added) {
    return Error(e.value.Mark(), absl::StrFormat("duplicate route %s (first defined on line %d)",
                                                 text, it->second));
  }
  // A static route equal to a connected subnet would replace the connected route in the FIB.
  if (std::optional<Subnet> s = SubnetOf(c, p->addr); s && NetworkOf(s->prefix) == *p) {
    return Error(e.value.Mark(),
                 absl::StrFormat("prefix %s is the connected subnet of %s '%s'", text,
                                 KindName(s->kind == Kind::kPort), s->name));
  }
  r->prefix = *p;
  return absl::OkStatus();
}

absl::Status Loader::ReadRouteType(const Entry* e, RouteType* type) const {
  if (e == nullptr) return absl::OkStatus();
  for (RouteType t : {RouteType::kForward, RouteType::kBlackhole, RouteType::kUnreachable}) {
    if (e->value.IsScalar() && e->value.Scalar() == TypeName(t)) {
      *type = t;
      return absl::OkStatus();
    }
  }
  return Expected(*e, "one of forward, blackhole, unreachable");
}

absl::Status Loader::ReadVia(const Fields& f, const Config& c, RouteConfig* r) const {
  const Entry* via = f.Find("via");
  if (r->type != RouteType::kForward) {
    if (via == nullptr) return absl::OkStatus();
    return Error(via->key.Mark(), absl::StrFormat("%s route takes no 'via'", ARoute(r->type)));
  }
  if (via == nullptr) {
    return Error(f.mark,
                 "missing key 'via' in route (a forward route needs a next hop; "
                 "use type: blackhole or unreachable for a route without one)");
  }
  if (IsIp6Text(via->value) && ParseIp6(via->value.Scalar()).ok()) {
    return Error(via->value.Mark(),
                 absl::StrFormat("via: %s is an IPv6 address, but the prefix %s is IPv4; a next "
                                 "hop is of its prefix's family",
                                 via->value.Scalar(), FormatPrefix(r->prefix)));
  }
  absl::StatusOr<uint32_t> ip = Parse(*via, ParseIp4, "an IPv4 address like 198.18.2.2");
  if (!ip.ok()) return ip.status();
  absl::StatusOr<std::string> port = Connected(c, *ip, "");
  if (!port.ok()) return Error(via->value.Mark(), absl::StrCat("via ", port.status().message()));
  r->via = *ip;
  return absl::OkStatus();
}

absl::Status Loader::ReadNeighbours(const Fields& top, Config* c) const {
  const Entry* e = top.Find("neighbours");
  absl::StatusOr<std::vector<YAML::Node>> items = ReadList(e, "a list of neighbours");
  if (!items.ok()) return items.status();
  // One list for both families: the ip decides which one an entry is.
  for (const YAML::Node& item : *items) {
    absl::StatusOr<Fields> f = ReadMap(item, item.Mark(), "neighbour", kNeighbourKeys);
    if (!f.ok()) return f.status();
    absl::StatusOr<const Entry*> ip = Require(*f, "ip");
    if (!ip.ok()) return ip.status();
    absl::StatusOr<const Entry*> mac = Require(*f, "mac");
    if (!mac.ok()) return mac.status();
    if (IsIp6Text((*ip)->value)) {
      absl::StatusOr<Neighbour6Config> n = ReadNeighbour6(*f, **ip, **mac, *c);
      if (!n.ok()) return n.status();
      c->neighbours6.push_back(std::move(*n));
    } else {
      absl::StatusOr<NeighbourConfig> n = ReadNeighbour(*f, **ip, **mac, *c);
      if (!n.ok()) return n.status();
      c->neighbours.push_back(std::move(*n));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<NeighbourConfig> Loader::ReadNeighbour(const Fields& f, const Entry& ip,
                                                      const Entry& mac, const Config& c) const {
  NeighbourConfig n;
  n.loc = Loc(f.mark);
  if (absl::Status s = ReadMac(mac, &n.mac); !s.ok()) return s;
  // The port comes before the ip: the ip is then looked for in that port's subnets only.
  if (absl::Status s = ReadNeighbourPort(f.Find("port"), c, &n); !s.ok()) return s;
  if (absl::Status s = ReadNeighbourIp(ip, c, &n); !s.ok()) return s;
  return n;
}

// A port, a vif, or a template member by its name (PARENT.N or PARENT.N.M).
absl::Status Loader::ReadNeighbourPort(const Entry* e, const Config& c, NeighbourConfig* n) const {
  if (e == nullptr) return absl::OkStatus();
  Kind kind;
  if (e->value.IsScalar() && SubnetsOf(c, e->value.Scalar(), &kind).has_value()) {
    n->port = e->value.Scalar();
    return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (const PortConfig& p : c.ports) names.push_back(p.name);
  if (c.vifs.empty() && templates_.empty()) {
    return Expected(*e, absl::StrFormat("the name of a port (%s)", Join(names)));
  }
  constexpr size_t kMax = 10;
  size_t more = 0;
  for (const VifConfig& v : c.vifs) {
    if (names.size() < kMax) {
      names.push_back(v.name);
    } else {
      ++more;
    }
  }
  if (more > 0) names.push_back(absl::StrCat(more, " more"));
  if (!templates_.empty()) {
    names.push_back(absl::StrCat("template members such as ", MemberName(templates_[0], 0)));
  }
  return Expected(*e, absl::StrFormat("the name of a port or vif (%s)", Join(names)));
}

absl::Status Loader::ReadNeighbourIp(const Entry& e, const Config& c, NeighbourConfig* n) const {
  absl::StatusOr<uint32_t> ip = Parse(e, ParseIp4, "an IPv4 address like 198.18.2.2");
  if (!ip.ok()) return ip.status();
  if (auto [it, added] = neighbour_lines_.try_emplace(*ip, n->loc.line); !added) {
    return Error(e.value.Mark(),
                 absl::StrFormat("duplicate neighbour %s (first defined on line %d)",
                                 FormatIp4(*ip), it->second));
  }
  absl::StatusOr<std::string> port = Connected(c, *ip, n->port);
  if (!port.ok()) return Error(e.value.Mark(), absl::StrCat("ip ", port.status().message()));
  n->ip = *ip;
  n->port = *port;
  return absl::OkStatus();
}

// --- IPv6 ---------------------------------------------------------------------------------------
// The rules are IPv4's (above), with link-local addresses added: those are on one link only, so a
// link-local next hop or neighbour names its port or vif, and `addresses` never holds one (a port's
// or vif's own is `link_local`). A template's members' subnets are one span, as for IPv4.

// Subnets of one interface may not overlap, nor those of two: a next hop would belong to both.
absl::Status CheckOverlap6(const Ip6Prefix& a, const std::vector<Ip6Prefix>& addresses,
                           std::string_view kind, std::string_view name) {
  for (const Ip6Prefix& b : addresses) {
    if (a.addr == b.addr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("duplicate address %s (already on %s '%s')",
                          internal::FormatPrefix6(a), kind, name));
    }
    if (Contains6(a, b.addr) || Contains6(b, a.addr)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "address %s overlaps %s of %s '%s'", internal::FormatPrefix6(a),
          internal::FormatPrefix6(b), kind, name));
    }
  }
  return absl::OkStatus();
}

// As ReadAddresses for IPv4: checked against the earlier ports and this one's earlier addresses.
absl::Status Loader::ReadPortAddress6(const YAML::Node& item, std::span<const PortConfig> earlier,
                                      PortConfig* port) const {
  YAML::Mark mark = item.Mark();
  absl::StatusOr<Ip6Prefix> a = Parse("address", item, mark, ParseIp6Prefix, "");
  if (!a.ok()) return a.status();
  absl::Status s = internal::CheckHostAddress6(*a, "the port");
  for (size_t i = 0; s.ok() && i <= earlier.size(); ++i) {
    const PortConfig& p = i < earlier.size() ? earlier[i] : *port;
    s = CheckOverlap6(*a, p.addresses6, "port", p.name);
  }
  if (!s.ok()) return Error(mark, std::string(s.message()));
  port->addresses6.push_back(*a);
  return absl::OkStatus();
}

absl::Status Loader::ReadVifAddress6(const YAML::Node& item, const Config& c,
                                     VifConfig* vif) const {
  YAML::Mark mark = item.Mark();
  absl::StatusOr<Ip6Prefix> a = Parse("address", item, mark, ParseIp6Prefix, "");
  if (!a.ok()) return a.status();
  absl::Status s = internal::CheckHostAddress6(*a, "the vif");
  if (s.ok()) s = CheckOverlap6(*a, vif->addresses6, "vif", vif->name);
  if (!s.ok()) return Error(mark, std::string(s.message()));
  if (const Span6* other = Overlapping6(*a)) {
    if (other->kind != Kind::kMember && other->prefix.addr == a->addr) {
      return Error(mark, absl::StrFormat("duplicate address %s (already on %s '%s')",
                                         internal::FormatPrefix6(*a),
                                         KindName(other->kind == Kind::kPort),
                                         other->kind == Kind::kPort ? c.ports[other->index].name
                                                                    : c.vifs[other->index].name));
    }
    return Error(mark, absl::StrFormat("address %s overlaps %s", internal::FormatPrefix6(*a),
                                       SpanText6(c, *other)));
  }
  vif->addresses6.push_back(*a);
  return absl::OkStatus();
}

absl::Status Loader::ReadLinkLocal(const Entry* e, std::optional<Ip6Addr>* out) const {
  if (e == nullptr) return absl::OkStatus();
  absl::StatusOr<Ip6Addr> a = Parse(*e, ParseIp6, "a link-local address like fe80::1");
  if (!a.ok()) return a.status();
  if (absl::Status s = internal::CheckLinkLocal6(*a); !s.ok()) {
    return Error(e->value.Mark(), std::string(s.message()));
  }
  *out = *a;
  return absl::OkStatus();
}

// Called with subnets that overlap nothing indexed yet (the readers of addresses saw to it).
void Loader::AddSubnets6(Kind kind, size_t index, const std::vector<Ip6Prefix>& addresses) {
  for (const Ip6Prefix& a : addresses) {
    subnets6_[NetworkOf6(a).addr] = Span6{internal::LastOf6(a), kind, index, a};
  }
}

const Loader::Span6* Loader::Overlapping6(const Ip6Prefix& subnet) const {
  return Overlapping6(NetworkOf6(subnet).addr, internal::LastOf6(subnet));
}

const Loader::Span6* Loader::Overlapping6(const Ip6Addr& first, const Ip6Addr& last) const {
  auto it = subnets6_.upper_bound(last);
  if (it == subnets6_.begin()) return nullptr;
  --it;
  return it->second.last >= first ? &it->second : nullptr;
}

std::string Loader::SpanText6(const Config& c, const Span6& s) const {
  if (s.kind == Kind::kMember) {
    const TemplateConfig& t = templates_[s.index];
    return absl::StrFormat("the members' subnets %s of %s", MemberSubnetsText6(t),
                           TemplateText(t));
  }
  bool port = s.kind == Kind::kPort;
  return absl::StrFormat("%s of %s '%s'", internal::FormatPrefix6(s.prefix), KindName(port),
                         port ? c.ports[s.index].name : c.vifs[s.index].name);
}

// As SubnetOf: a template member's by arithmetic, none in the gaps between members.
std::optional<Loader::Subnet6> Loader::SubnetOf6(const Config& c, const Ip6Addr& ip) const {
  auto it = subnets6_.upper_bound(ip);
  if (it == subnets6_.begin()) return std::nullopt;
  --it;
  const Span6& s = it->second;
  if (s.last < ip) return std::nullopt;
  if (s.kind == Kind::kMember) {
    const TemplateConfig& t = templates_[s.index];
    std::optional<uint32_t> i = TemplateMemberFor6(t, ip);
    if (!i) return std::nullopt;
    return Subnet6{TemplateMemberAddress6(t, *i), s.kind, MemberName(t, *i)};
  }
  bool port = s.kind == Kind::kPort;
  return Subnet6{s.prefix, s.kind, port ? c.ports[s.index].name : c.vifs[s.index].name};
}

// "a: 2001:db8:1::/64, b: 2001:db8:2::/64", ten at most; of the interface `only` when not empty.
std::string Loader::SubnetList6(const Config& c, std::string_view only) const {
  constexpr size_t kMax = 10;
  std::vector<std::string> out;
  size_t more = 0;
  auto add = [&](const std::string& name, const std::vector<Ip6Prefix>& addresses) {
    if (!only.empty() && name != only) return;
    for (const Ip6Prefix& a : addresses) {
      if (out.size() < kMax) {
        out.push_back(absl::StrCat(name, ": ", internal::FormatSubnet6(a)));
      } else {
        ++more;
      }
    }
  };
  for (const PortConfig& p : c.ports) add(p.name, p.addresses6);
  for (const VifConfig& v : c.vifs) add(v.name, v.addresses6);
  if (std::optional<MemberRef> m = only.empty() ? std::nullopt : MemberNamed(only)) {
    const TemplateConfig& t = templates_[m->tmpl];
    if (t.address6) add(std::string(only), {TemplateMemberAddress6(t, m->index)});
  } else if (only.empty()) {
    for (const TemplateConfig& t : templates_) {
      if (!t.address6.has_value()) continue;
      std::string names = MemberName(t, 0);
      if (t.size() > 1) absl::StrAppend(&names, " to ", MemberName(t, t.size() - 1));
      if (out.size() < kMax) {
        out.push_back(absl::StrCat(names, ": ", MemberSubnetsText6(t)));
      } else {
        ++more;
      }
    }
  }
  if (out.empty()) return "no IPv6 address is configured";
  std::string list = Join(out);
  if (more > 0) absl::StrAppend(&list, ", and ", more, " more");
  return list;
}

// The port or vif whose IPv6 subnet holds the global `ip` (only the one called `only` when not
// empty). As Connected for IPv4, `ip` must be another host there: not the router's own address,
// nor the subnet's Subnet-Router anycast address.
absl::StatusOr<std::string> Loader::Connected6(const Config& c, const Ip6Addr& ip,
                                               std::string_view only) const {
  std::string text = FormatIp6(ip);
  if (std::optional<std::string_view> use = internal::SpecialUse6(ip)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s is %s; expected a unicast address", text, *use));
  }
  std::optional<Subnet6> found = SubnetOf6(c, ip);
  if (found.has_value() && !only.empty() && found->name != only) found.reset();
  if (found.has_value()) {
    if (ip == found->prefix.addr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s is the router's own address on %s '%s'", text,
                          KindName(found->kind == Kind::kPort), found->name));
    }
    if (internal::IsSubnetRouterAnycast6(found->prefix, ip)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s is the Subnet-Router anycast address of %s", text,
                          internal::FormatSubnet6(found->prefix)));
    }
    return found->name;
  }
  std::string where;
  if (!only.empty()) {
    auto it = names_.find(std::string(only));
    bool port = it != names_.end() && it->second.kind == Kind::kPort;
    where = absl::StrFormat("an IPv6 subnet of %s '%s'", KindName(port), only);
  } else if (absl::c_any_of(c.vifs, [](const VifConfig& v) { return !v.addresses6.empty(); }) ||
             absl::c_any_of(templates_,
                            [](const TemplateConfig& t) { return t.address6.has_value(); })) {
    where = "any interface's IPv6 subnet";
  } else {
    where = "any port's IPv6 subnet";
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("%s is not inside %s (%s)", text, where, SubnetList6(c, only)));
}

// A link-local next hop or neighbour may not be the router's own link_local on that interface.
absl::Status Loader::CheckOwnLinkLocal(const Config& c, const Ip6Addr& ip,
                                       std::string_view name) const {
  auto it = names_.find(std::string(name));
  if (it == names_.end()) return absl::OkStatus();
  bool port = it->second.kind == Kind::kPort;
  const std::optional<Ip6Addr>& own =
      port ? c.ports[it->second.index].link_local : c.vifs[it->second.index].link_local;
  if (own != ip) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("%s is the router's own link-local address on %s '%s'", FormatIp6(ip),
                      KindName(port), name));
}

// `port` of an IPv6 route or neighbour: a port, a listed vif or a template member, which all have
// a link-local address; named as `port` of an IPv4 neighbour is.
absl::Status Loader::ReadInterface6(const Entry& e, const Config& c, std::string* name) const {
  NeighbourConfig n;
  if (absl::Status s = ReadNeighbourPort(&e, c, &n); !s.ok()) return s;
  *name = n.port;
  return absl::OkStatus();
}

absl::StatusOr<Route6Config> Loader::ReadRoute6(const Fields& f, const Entry& prefix,
                                                const Config& c) const {
  Route6Config r;
  r.loc = Loc(f.mark);
  if (absl::Status s = ReadRoutePrefix6(prefix, c, &r); !s.ok()) return s;
  if (absl::Status s = ReadRouteType(f.Find("type"), &r.type); !s.ok()) return s;
  if (absl::Status s = ReadVia6(f, c, &r); !s.ok()) return s;
  return r;
}

absl::Status Loader::ReadRoutePrefix6(const Entry& e, const Config& c, Route6Config* r) const {
  absl::StatusOr<Ip6Prefix> p = Parse(e, ParseIp6Prefix, "");
  if (!p.ok()) return p.status();
  std::string text = internal::FormatPrefix6(*p);
  if (NetworkOf6(*p) != *p) {
    return Error(e.value.Mark(), absl::StrFormat("prefix %s has host bits set; did you mean %s?",
                                                 text, internal::FormatSubnet6(*p)));
  }
  if (auto [it, added] = route6_lines_.try_emplace({p->addr, p->len}, r->loc.line); !added) {
    return Error(e.value.Mark(), absl::StrFormat("duplicate route %s (first defined on line %d)",
                                                 text, it->second));
  }
  // A static route equal to a connected subnet would replace the connected route in the FIB.
  std::optional<Subnet6> s = SubnetOf6(c, p->addr);
  if (s && NetworkOf6(s->prefix) == *p) {
    return Error(e.value.Mark(),
                 absl::StrFormat("prefix %s is the connected subnet of %s '%s'", text,
                                 KindName(s->kind == Kind::kPort), s->name));
  }
  // A template member's own address has no /128 of its own in the FIB (its connected route
  // knows it), so a longer route in its subnet that held it would take it from the router.
  if (s && s->kind == Kind::kMember && p->len > s->prefix.len && Contains6(*p, s->prefix.addr)) {
    return Error(e.value.Mark(),
                 absl::StrFormat("prefix %s holds %s, the router's own address on vif '%s'; a "
                                 "route inside a template member's subnet may not take it",
                                 text, FormatIp6(s->prefix.addr), s->name));
  }
  r->prefix = *p;
  return absl::OkStatus();
}

// A global next hop lies in a connected subnet, which names its interface; a link-local one is on
// the link of `port`. `port` is for link-local next hops only, so that it never contradicts a
// subnet.
absl::Status Loader::ReadVia6(const Fields& f, const Config& c, Route6Config* r) const {
  const Entry* via = f.Find("via");
  const Entry* port = f.Find("port");
  if (r->type != RouteType::kForward) {
    for (const Entry* e : {via, port}) {
      if (e == nullptr) continue;
      return Error(e->key.Mark(),
                   absl::StrFormat("%s route takes no '%s'", ARoute(r->type), e->name()));
    }
    return absl::OkStatus();
  }
  if (via == nullptr) {
    return Error(f.mark,
                 "missing key 'via' in route (a forward route needs a next hop; "
                 "use type: blackhole or unreachable for a route without one)");
  }
  if (via->value.IsScalar() && !IsIp6Text(via->value) && ParseIp4(via->value.Scalar()).ok()) {
    return Error(via->value.Mark(),
                 absl::StrFormat("via: %s is an IPv4 address, but the prefix %s is IPv6; a next "
                                 "hop is of its prefix's family",
                                 via->value.Scalar(), internal::FormatPrefix6(r->prefix)));
  }
  absl::StatusOr<Ip6Addr> ip = Parse(*via, ParseIp6, "an IPv6 address like 2001:db8:2::2");
  if (!ip.ok()) return ip.status();
  std::string text = FormatIp6(*ip);
  if (IsLinkLocal6(*ip)) {
    if (port == nullptr) {
      return Error(via->value.Mark(),
                   absl::StrFormat("via %s is a link-local address; say which port or vif it is "
                                   "on with 'port'",
                                   text));
    }
    if (absl::Status s = ReadInterface6(*port, c, &r->port); !s.ok()) return s;
    if (absl::Status s = CheckOwnLinkLocal(c, *ip, r->port); !s.ok()) {
      return Error(via->value.Mark(), absl::StrCat("via ", s.message()));
    }
  } else {
    absl::StatusOr<std::string> on = Connected6(c, *ip, "");
    if (!on.ok()) return Error(via->value.Mark(), absl::StrCat("via ", on.status().message()));
    if (port != nullptr) {
      return Error(port->key.Mark(),
                   absl::StrFormat("port is only for a link-local via (fe80::/10); %s is on %s, "
                                   "the interface whose subnet holds it",
                                   text, *on));
    }
  }
  r->via = *ip;
  return absl::OkStatus();
}

absl::StatusOr<Neighbour6Config> Loader::ReadNeighbour6(const Fields& f, const Entry& ip,
                                                        const Entry& mac,
                                                        const Config& c) const {
  Neighbour6Config n;
  n.loc = Loc(f.mark);
  if (absl::Status s = ReadMac(mac, &n.mac); !s.ok()) return s;
  // The port comes before the ip, as for IPv4: the ip is then looked for in its subnets only.
  if (const Entry* port = f.Find("port")) {
    if (absl::Status s = ReadInterface6(*port, c, &n.port); !s.ok()) return s;
  }
  absl::StatusOr<Ip6Addr> a = Parse(ip, ParseIp6, "an IPv6 address like 2001:db8:2::2");
  if (!a.ok()) return a.status();
  std::string text = FormatIp6(*a);
  bool link_local = IsLinkLocal6(*a);
  // A link-local address is one host per link: the same one on two ports is two neighbours.
  if (auto [it, added] = neighbour6_lines_.try_emplace({*a, link_local ? n.port : ""},
                                                        n.loc.line);
      !added) {
    return Error(ip.value.Mark(),
                 link_local ? absl::StrFormat("duplicate neighbour %s on '%s' (first defined on "
                                              "line %d)",
                                              text, n.port, it->second)
                            : absl::StrFormat("duplicate neighbour %s (first defined on line %d)",
                                              text, it->second));
  }
  if (link_local) {
    if (n.port.empty()) {
      return Error(ip.value.Mark(),
                   absl::StrFormat("ip %s is a link-local address; say which port or vif it is "
                                   "on with 'port'",
                                   text));
    }
    if (absl::Status s = CheckOwnLinkLocal(c, *a, n.port); !s.ok()) {
      return Error(ip.value.Mark(), absl::StrCat("ip ", s.message()));
    }
  } else {
    absl::StatusOr<std::string> port = Connected6(c, *a, n.port);
    if (!port.ok()) return Error(ip.value.Mark(), absl::StrCat("ip ", port.status().message()));
    n.port = *port;
  }
  n.ip = *a;
  return n;
}

// --- Router advertisements ----------------------------------------------------------------------
// RFC 4861 §6.2.1's router configuration variables, per port or listed vif, with its ranges.

// The prefix options that fit one advertisement in IPv6's minimum MTU beside the others: 1280
// bytes less IPv6 (40), the RA header (16), source link-layer address and MTU (8 each), in 32s.
constexpr uint32_t kMaxRaPrefixes = 32;

std::string LifetimeText(uint32_t v) {
  return v == kInfiniteLifetime ? std::string("infinity") : std::to_string(v);
}

// Templates make members by the thousand: an advertiser per member (timers, solicitations) is
// not what they are for. Said in so many words rather than as an unknown key.
absl::Status Loader::RefuseRouterAdverts(const YAML::Node& node, std::string_view where) const {
  if (!node.IsMap()) return absl::OkStatus();
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "router_advertisements") {
      return Error(it->first.Mark(),
                   absl::StrFormat("router_advertisements: not supported in %s; list the "
                                   "sub-interfaces that should send them under vifs",
                                   where));
    }
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadFlag(const Fields& f, std::string_view key, bool* out) const {
  const Entry* e = f.Find(key);
  if (e == nullptr) return absl::OkStatus();
  std::string v = e->value.IsScalar() ? e->value.Scalar() : "";
  if (v != "true" && v != "false") return Expected(*e, "true or false");
  *out = v == "true";
  return absl::OkStatus();
}

// Seconds 0..4294967295, or `infinity` (4294967295, RFC 4861 §4.6.2).
absl::Status Loader::ReadLifetime(const Fields& f, std::string_view key, uint32_t* out) const {
  const Entry* e = f.Find(key);
  if (e == nullptr) return absl::OkStatus();
  if (e->value.IsScalar() && e->value.Scalar() == "infinity") {
    *out = kInfiniteLifetime;
    return absl::OkStatus();
  }
  if (ReadUint(f, {key, 0, kInfiniteLifetime, out}).ok()) return absl::OkStatus();
  return Expected(*e, "a number of seconds between 0 and 4294967295, or infinity");
}

// `router_advertisements: true` (or an empty value, or `{}`) sends them with every default;
// `false` sends none, as leaving the key out does.
absl::Status Loader::ReadRouterAdverts(const Entry* e, const std::vector<Ip6Prefix>& addresses6,
                                       const std::optional<Ip6Addr>& link_local, uint32_t mtu,
                                       std::string_view who,
                                       std::optional<RouterAdvertConfig>* out) const {
  if (e == nullptr) return absl::OkStatus();
  const YAML::Node& v = e->value;
  if (v.IsScalar() && v.Scalar() == "false") return absl::OkStatus();
  bool defaults = v.IsNull() || (v.IsScalar() && v.Scalar() == "true");
  if (!defaults && !v.IsMap()) {
    return Expected(*e, absl::StrFormat("true, false or a map with keys %s",
                                        Join(kRouterAdvertKeys)));
  }
  // Advertisements come from the interface's link-local address and carry its prefixes.
  if (addresses6.empty() && !link_local.has_value()) {
    return Error(e->key.Mark(),
                 absl::StrFormat("router_advertisements on %s, which has no IPv6 address: add "
                                 "one to its addresses (hosts configure themselves from its "
                                 "prefix), or give it a link_local to advertise a default "
                                 "router alone",
                                 who));
  }
  RouterAdvertConfig ra;
  ra.loc = Loc(e->key.Mark());
  if (!defaults) {
    absl::StatusOr<Fields> f = ReadMap(v, e->where(), "router_advertisements", kRouterAdvertKeys);
    if (!f.ok()) return f.status();
    if (absl::Status s = ReadUint(*f, {"interval", 4, 1800, &ra.interval}); !s.ok()) return s;
    if (const Entry* min = f->Find("min_interval")) {
      // §6.2.1: no less than 3 seconds, no more than 0.75 x MaxRtrAdvInterval.
      uint32_t hi = ra.interval * 3 / 4, value = 0;
      if (!ReadUint(*f, {"min_interval", 3, hi, &value}).ok()) {
        return Error(min->where(),
                     absl::StrFormat("min_interval: expected an integer between 3 and %u (0.75 x "
                                     "interval %u), got %s",
                                     hi, ra.interval, Describe(min->value)));
      }
      ra.min_interval = value;
    }
    if (const Entry* l = f->Find("lifetime")) {
      // §6.2.1: 0, or between MaxRtrAdvInterval and 9000 seconds.
      uint32_t value = 0;
      if (!ReadUint(*f, {"lifetime", 0, 9000, &value}).ok() ||
          (value != 0 && value < ra.interval)) {
        return Error(l->where(),
                     absl::StrFormat("lifetime: expected 0 (not a default router) or an integer "
                                     "between %u (the interval) and 9000, got %s",
                                     ra.interval, Describe(l->value)));
      }
      ra.lifetime = value;
    }
    if (const Entry* m = f->Find("mtu")) {
      if (absl::Status s = ReadRaMtu(*m, mtu, who, &ra); !s.ok()) return s;
    }
    for (absl::Status s : {ReadFlag(*f, "managed", &ra.managed), ReadFlag(*f, "other", &ra.other),
                           ReadUint(*f, {"hop_limit", 0, 255, &ra.hop_limit}),
                           ReadUint(*f, {"reachable_time", 0, 3600000, &ra.reachable_time}),
                           ReadUint(*f, {"retrans_timer", 0, 4294967295u, &ra.retrans_timer})}) {
      if (!s.ok()) return s;
    }
    if (const Entry* p = f->Find("prefixes")) {
      if (absl::Status s = ReadRaPrefixes(*p, addresses6, who, &ra); !s.ok()) return s;
    }
  }
  if (ra.advertise_mtu && !ra.mtu.has_value() && mtu < 1280) {
    return Error(e->key.Mark(),
                 absl::StrFormat("router_advertisements: %s has mtu %u, below IPv6's minimum of "
                                 "1280, which the MTU option cannot carry; give mtu: false",
                                 who, mtu));
  }
  if (size_t n = AdvertisedPrefixes(ra, addresses6).size(); n > kMaxRaPrefixes) {
    return Error(e->key.Mark(),
                 absl::StrFormat("router_advertisements: %s would advertise %u prefixes; at "
                                 "most %u fit one advertisement (list them in prefixes, "
                                 "without auto)",
                                 who, n, kMaxRaPrefixes));
  }
  *out = std::move(ra);
  return absl::OkStatus();
}

// `mtu: true` (the interface's MTU, the default), `false` (no MTU option) or a number of bytes.
absl::Status Loader::ReadRaMtu(const Entry& e, uint32_t mtu, std::string_view who,
                               RouterAdvertConfig* ra) const {
  std::string v = e.value.IsScalar() ? e.value.Scalar() : "";
  if (v == "true" || v == "false") {
    ra->advertise_mtu = v == "true";
    return absl::OkStatus();
  }
  uint32_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (!v.empty() && ec == std::errc() && end == v.data() + v.size() && n >= 1280 && n <= mtu) {
    ra->mtu = n;
    return absl::OkStatus();
  }
  if (mtu < 1280) {
    return Expected(e, absl::StrFormat("true or false (%s has mtu %u, below IPv6's minimum of "
                                       "1280)",
                                       who, mtu));
  }
  return Expected(e, absl::StrFormat("true, false or an integer between 1280 (IPv6's minimum) "
                                     "and %u (the mtu of %s)",
                                     mtu, who));
}

// [auto] (the default), a list of prefix maps, or both: auto adds the subnets not listed.
absl::Status Loader::ReadRaPrefixes(const Entry& e, const std::vector<Ip6Prefix>& addresses6,
                                    std::string_view who, RouterAdvertConfig* ra) const {
  absl::StatusOr<std::vector<YAML::Node>> items =
      ReadList(&e, "a list of prefixes like [auto] or [{prefix: 2001:db8:1::/64}]");
  if (!items.ok()) return items.status();
  ra->auto_prefixes = false;
  for (const YAML::Node& item : *items) {
    if (item.IsScalar() && item.Scalar() == "auto") {
      if (ra->auto_prefixes) return Error(item.Mark(), "prefixes: auto is listed twice");
      ra->auto_prefixes = true;
      continue;
    }
    if (!item.IsMap()) {
      return Expected("prefixes", item, item.Mark(),
                      absl::StrFormat("auto or a map with keys %s", Join(kRaPrefixKeys)));
    }
    absl::StatusOr<RaPrefixConfig> p = ReadRaPrefix(item, addresses6, who);
    if (!p.ok()) return p.status();
    for (const RaPrefixConfig& q : ra->prefixes) {
      if (q.prefix == p->prefix) {
        return Error(item.Mark(), absl::StrFormat("prefix %s is listed twice (first on line %d)",
                                                  internal::FormatPrefix6(q.prefix), q.loc.line));
      }
    }
    ra->prefixes.push_back(*p);
  }
  return absl::OkStatus();
}

absl::StatusOr<RaPrefixConfig> Loader::ReadRaPrefix(const YAML::Node& node,
                                                    const std::vector<Ip6Prefix>& addresses6,
                                                    std::string_view who) const {
  absl::StatusOr<Fields> f = ReadMap(node, node.Mark(), "prefix", kRaPrefixKeys);
  if (!f.ok()) return f.status();
  absl::StatusOr<const Entry*> e = Require(*f, "prefix");
  if (!e.ok()) return e.status();
  absl::StatusOr<Ip6Prefix> prefix = Parse(**e, ParseIp6Prefix, "");
  if (!prefix.ok()) return prefix.status();
  YAML::Mark mark = (*e)->value.Mark();
  if (!(NetworkOf6(*prefix) == *prefix)) {
    return Error(mark, absl::StrFormat("prefix %s has host bits set; the subnet is %s",
                                       internal::FormatPrefix6(*prefix),
                                       internal::FormatSubnet6(*prefix)));
  }
  if (absl::c_none_of(addresses6, [&](const Ip6Prefix& a) { return NetworkOf6(a) == *prefix; })) {
    std::vector<std::string> subnets;
    for (const Ip6Prefix& a : addresses6) subnets.push_back(internal::FormatSubnet6(a));
    return Error(mark, absl::StrFormat("prefix %s is not a subnet of %s (%s); a router "
                                       "advertises the prefixes of its own addresses on the link",
                                       internal::FormatPrefix6(*prefix), who,
                                       subnets.empty() ? std::string("it has no IPv6 address")
                                                       : "its IPv6 subnets: " + Join(subnets)));
  }
  RaPrefixConfig p;
  p.loc = Loc(node.Mark());
  p.prefix = *prefix;
  p.autonomous = prefix->len == 64;
  for (absl::Status s : {ReadFlag(*f, "on_link", &p.on_link),
                         ReadFlag(*f, "autonomous", &p.autonomous),
                         ReadLifetime(*f, "valid_lifetime", &p.valid_lifetime),
                         ReadLifetime(*f, "preferred_lifetime", &p.preferred_lifetime)}) {
    if (!s.ok()) return s;
  }
  if (p.autonomous && prefix->len != 64) {
    return Error(f->Find("autonomous")->value.Mark(),
                 absl::StrFormat("autonomous: hosts form addresses only from a /64 (a 64-bit "
                                 "interface identifier, RFC 4862 §5.5.3), and %s is a /%d",
                                 internal::FormatPrefix6(*prefix), prefix->len));
  }
  if (p.preferred_lifetime > p.valid_lifetime) {
    // RFC 4861 §4.6.2: an address stops being preferred before it stops being valid.
    const Entry* preferred = f->Find("preferred_lifetime");
    const Entry* at = preferred != nullptr ? preferred : f->Find("valid_lifetime");
    return Error(at->value.Mark(),
                 absl::StrFormat("preferred_lifetime %s%s is above valid_lifetime %s: an address "
                                 "stops being preferred before it stops being valid",
                                 LifetimeText(p.preferred_lifetime),
                                 preferred != nullptr ? "" : " (the default)",
                                 LifetimeText(p.valid_lifetime)));
  }
  return p;
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view text, std::string_view file) {
  Loader loader(text, file);
  // yaml-cpp reports syntax errors by exception; none may reach the caller.
  try {
    return loader.Load(text);
  } catch (const YAML::Exception& e) {
    return loader.Error(e.mark, e.msg);
  } catch (const std::exception& e) {
    return loader.Error(YAML::Mark::null_mark(), e.what());
  }
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = internal::ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseConfig(*text, path);
}

}  // namespace vr::config
