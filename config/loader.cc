// Reads the YAML config into config::Config and validates all of it before anything touches DPDK.
// Every error names file:line:column, then shows the offending line with a caret under the column.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/config.h"
#include "config/diagnostic.h"

namespace vr::config {
namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 10> kTopKeys = {
    "dataplane", "control", "metrics", "arp", "icmp", "group_file", "groups", "ports", "routes", "neighbours"};
constexpr std::array<std::string_view, 2> kControlKeys = {"socket", "group"};
constexpr std::array<std::string_view, 1> kMetricsKeys = {"listen"};
constexpr std::array<std::string_view, 2> kGroupKeys = {"id", "name"};
constexpr std::array<std::string_view, 7> kPortKeys = {"name",      "device", "mac",  "mtu",
                                                       "addresses", "group",  "state"};
constexpr std::array<std::string_view, 3> kRouteKeys = {"prefix", "via", "type"};
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

absl::Status CheckHostAddress(const Ip4Prefix& a) {
  if (a.len == 0 || !IsUnicast(a.addr)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "address %s: expected a unicast address with a prefix length of 1 to 32", FormatPrefix(a)));
  }
  if (IsSubnetEdge(a, a.addr)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "address %s is the %s address of %s; give the port a host address", FormatPrefix(a),
        a.addr == (a.addr & PrefixMask(a.len)) ? "network" : "broadcast", FormatSubnet(a)));
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

std::string Subnets(std::span<const PortConfig> ports, std::string_view only) {
  std::vector<std::string> out;
  for (const PortConfig& p : ports) {
    if (!only.empty() && p.name != only) continue;
    for (const Ip4Prefix& a : p.addresses) {
      out.push_back(absl::StrCat(p.name, ": ", FormatSubnet(a)));
    }
  }
  return out.empty() ? "no address is configured" : Join(out);
}

// The port whose connected subnet holds `ip` (only port `only` when not empty). `ip` must be
// another host there: neither the router itself nor the subnet's network or broadcast address.
absl::StatusOr<const PortConfig*> ConnectedPort(std::span<const PortConfig> ports, uint32_t ip,
                                                std::string_view only) {
  for (const PortConfig& p : ports) {
    if (!only.empty() && p.name != only) continue;
    for (const Ip4Prefix& a : p.addresses) {
      if (!Contains(a, ip)) continue;
      if (ip == a.addr) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s is the router's own address on port '%s'", FormatIp4(ip), p.name));
      }
      if (IsSubnetEdge(a, ip)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s is the network or broadcast address of %s", FormatIp4(ip), FormatSubnet(a)));
      }
      return &p;
    }
  }
  std::string where =
      only.empty() ? "any port's subnet" : absl::StrFormat("a subnet of port '%s'", only);
  return absl::InvalidArgumentError(
      absl::StrFormat("%s is not inside %s (%s)", FormatIp4(ip), where, Subnets(ports, only)));
}

class Loader {
 public:
  Loader(std::string_view text, std::string_view file)
      : file_(file), lines_(internal::SplitLines(text)) {}

  absl::StatusOr<Config> Load(std::string_view text) const;
  absl::Status Error(const YAML::Mark& mark, std::string_view message) const;

 private:
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
  absl::Status ReadMac(const Entry& e, Mac* out) const;

  absl::Status ReadSections(const Fields& top, Config* c) const;
  absl::Status ReadUintSection(const Fields& top, std::string_view section,
                               std::initializer_list<UintKey> keys) const;
  absl::Status ReadControl(const Fields& top, ControlConfig* c) const;
  absl::Status ReadMetrics(const Fields& top, MetricsConfig* m) const;

  absl::Status ReadGroups(const Fields& top, Config* c) const;
  absl::Status ReadGroupFile(const Entry& e, Config* c) const;
  absl::Status ReadGroup(const YAML::Node& node, const YAML::Mark& mark, Config* c) const;

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
  absl::Status ReadPortGroup(const Entry* e, std::span<const GroupConfig> groups,
                             PortConfig* port) const;
  absl::Status ReadPortState(const Entry* e, PortConfig* port) const;
  absl::Status ReadAddresses(const Entry* e, std::span<const PortConfig> earlier,
                             PortConfig* port) const;

  absl::Status ReadRoutes(const Fields& top, Config* c) const;
  absl::StatusOr<RouteConfig> ReadRoute(const YAML::Node& node, const YAML::Mark& mark,
                                        const Config& c) const;
  absl::Status ReadRoutePrefix(const Entry& e, const Config& c, RouteConfig* r) const;
  absl::Status ReadRouteType(const Entry* e, RouteConfig* r) const;
  absl::Status ReadVia(const Fields& f, const Config& c, RouteConfig* r) const;

  absl::Status ReadNeighbours(const Fields& top, Config* c) const;
  absl::StatusOr<NeighbourConfig> ReadNeighbour(const YAML::Node& node, const YAML::Mark& mark,
                                                const Config& c) const;
  absl::Status ReadNeighbourPort(const Entry* e, const Config& c, NeighbourConfig* n) const;
  absl::Status ReadNeighbourIp(const Entry& e, const Config& c, NeighbourConfig* n) const;

  std::string file_;
  std::vector<std::string_view> lines_;  // of the source text, for the line under the message
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

absl::StatusOr<Config> Loader::Load(std::string_view text) const {
  std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
  if (docs.size() > 1 && !docs[1].IsNull()) {
    return Error(docs[1].Mark(), "expected a single YAML document, found a second one");
  }
  if (docs.empty() || docs[0].IsNull()) {
    return Error(YAML::Mark(), "the config is empty; expected a map with at least a 'ports' list");
  }
  const YAML::Node& root = docs[0];
  absl::StatusOr<Fields> top = ReadMap(root, root.Mark(), "config", kTopKeys);
  if (!top.ok()) return top.status();
  Config c;
  // Groups, then ports, whatever the order in the file: ports name groups, and routes and
  // neighbours are checked against ports.
  for (auto read : {&Loader::ReadSections, &Loader::ReadGroups, &Loader::ReadPorts,
                    &Loader::ReadRoutes, &Loader::ReadNeighbours}) {
    if (absl::Status s = (this->*read)(*top, &c); !s.ok()) return s;
  }
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
        ReadControl(top, &c->control), ReadMetrics(top, &c->metrics)}) {
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
      return absl::OkStatus();
    }
    size_t colon = v.rfind(':');
    uint32_t port = 0;
    bool ok = colon != std::string::npos && colon > 0 &&
              absl::SimpleAtoi(v.substr(colon + 1), &port) && port >= 1 && port <= 65535 &&
              v.find_first_of(" /") == std::string::npos;
    if (!ok) return Expected(*listen, "HOST:PORT (e.g. 127.0.0.1:9420), or off");
    m->listen = v;
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

absl::Status Loader::ReadGroups(const Fields& top, Config* c) const {
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

absl::Status Loader::ReadGroup(const YAML::Node& node, const YAML::Mark& mark, Config* c) const {
  absl::StatusOr<Fields> f = ReadMap(node, mark, "group", kGroupKeys);
  if (!f.ok()) return f.status();
  absl::StatusOr<const Entry*> id = Require(*f, "id");
  if (!id.ok()) return id.status();
  absl::StatusOr<const Entry*> name = Require(*f, "name");
  if (!name.ok()) return name.status();
  absl::StatusOr<uint32_t> value = Parse(
      **id, ParseGroupId, absl::StrFormat("a group id between 0 and %u", kMaxGroupId));
  if (!value.ok()) return value.status();
  if (!(*name)->value.IsScalar() || !IsGroupName((*name)->value.Scalar())) {
    return Expected(**name, internal::kGroupNameForm);
  }
  GroupConfig g{*value, (*name)->value.Scalar(), Loc(mark), GroupSource::kYaml};
  bool on_name = false;
  if (absl::Status s = internal::AddGroup(&c->groups, g, &on_name); !s.ok()) {
    return Error(on_name ? (*name)->where() : (*id)->where(), std::string(s.message()));
  }
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
  if (absl::Status s = ReadPortGroup(f->Find("group"), groups, &port); !s.ok()) return s;
  if (absl::Status s = ReadPortState(f->Find("state"), &port); !s.ok()) return s;
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
  return ReadAddresses(f.Find("addresses"), earlier, port);
}

// A name of the table, or an id with or without a name (as `ip link set dev D group 7` takes).
absl::Status Loader::ReadPortGroup(const Entry* e, std::span<const GroupConfig> groups,
                                   PortConfig* port) const {
  if (e == nullptr) return absl::OkStatus();
  std::string value = e->value.IsScalar() ? e->value.Scalar() : "";
  if (value.empty()) {
    return Expected(*e, absl::StrFormat("a group name or an id between 0 and %u", kMaxGroupId));
  }
  if (absl::ascii_isdigit(value[0])) {  // names never start with a digit
    absl::StatusOr<uint32_t> id = Parse(*e, ParseGroupId, "");
    if (!id.ok()) return id.status();
    port->group = *id;
    return absl::OkStatus();
  }
  std::vector<std::string_view> names;
  for (const GroupConfig& g : groups) {
    if (g.name == value) {
      port->group = g.id;
      return absl::OkStatus();
    }
    names.push_back(g.name);
  }
  return Error(e->where(),
               absl::StrFormat("group: unknown group '%s'; known: %s", value, Join(names)));
}

absl::Status Loader::ReadPortState(const Entry* e, PortConfig* port) const {
  if (e == nullptr) return absl::OkStatus();
  std::string value = e->value.IsScalar() ? e->value.Scalar() : "";
  if (value != "up" && value != "down") return Expected(*e, "up or down");
  port->up = value == "up";
  return absl::OkStatus();
}

absl::Status Loader::ReadAddresses(const Entry* e, std::span<const PortConfig> earlier,
                                   PortConfig* port) const {
  absl::StatusOr<std::vector<YAML::Node>> items =
      ReadList(e, "a list of addresses like [198.18.1.1/24]");
  if (!items.ok()) return items.status();
  for (const YAML::Node& item : *items) {
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

absl::Status Loader::ReadRoutes(const Fields& top, Config* c) const {
  const Entry* e = top.Find("routes");
  absl::StatusOr<std::vector<YAML::Node>> items = ReadList(e, "a list of routes");
  if (!items.ok()) return items.status();
  for (const YAML::Node& item : *items) {
    absl::StatusOr<RouteConfig> route = ReadRoute(item, item.Mark(), *c);
    if (!route.ok()) return route.status();
    c->routes.push_back(*route);
  }
  return absl::OkStatus();
}

absl::StatusOr<RouteConfig> Loader::ReadRoute(const YAML::Node& node, const YAML::Mark& mark,
                                              const Config& c) const {
  absl::StatusOr<Fields> f = ReadMap(node, mark, "route", kRouteKeys);
  if (!f.ok()) return f.status();
  absl::StatusOr<const Entry*> prefix = Require(*f, "prefix");
  if (!prefix.ok()) return prefix.status();
  RouteConfig r;
  r.loc = Loc(mark);
  if (absl::Status s = ReadRoutePrefix(**prefix, c, &r); !s.ok()) return s;
  if (absl::Status s = ReadRouteType(f->Find("type"), &r); !s.ok()) return s;
  if (absl::Status s = ReadVia(*f, c, &r); !s.ok()) return s;
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
  for (const RouteConfig& other : c.routes) {
    if (other.prefix == *p) {
      return Error(e.value.Mark(), absl::StrFormat("duplicate route %s (first defined on line %d)",
                                                   text, other.loc.line));
    }
  }
  // A static route equal to a connected subnet would replace the connected route in the FIB.
  for (const PortConfig& port : c.ports) {
    for (const Ip4Prefix& a : port.addresses) {
      if (Ip4Prefix{a.addr & PrefixMask(a.len), a.len} == *p) {
        return Error(
            e.value.Mark(),
            absl::StrFormat("prefix %s is the connected subnet of port '%s'", text, port.name));
      }
    }
  }
  r->prefix = *p;
  return absl::OkStatus();
}

absl::Status Loader::ReadRouteType(const Entry* e, RouteConfig* r) const {
  if (e == nullptr) return absl::OkStatus();
  for (RouteType t : {RouteType::kForward, RouteType::kBlackhole, RouteType::kUnreachable}) {
    if (e->value.IsScalar() && e->value.Scalar() == TypeName(t)) {
      r->type = t;
      return absl::OkStatus();
    }
  }
  return Expected(*e, "one of forward, blackhole, unreachable");
}

absl::Status Loader::ReadVia(const Fields& f, const Config& c, RouteConfig* r) const {
  const Entry* via = f.Find("via");
  if (r->type != RouteType::kForward) {
    if (via == nullptr) return absl::OkStatus();
    return Error(via->key.Mark(), absl::StrFormat("a %s route takes no 'via'", TypeName(r->type)));
  }
  if (via == nullptr) {
    return Error(f.mark,
                 "missing key 'via' in route (a forward route needs a next hop; "
                 "use type: blackhole or unreachable for a route without one)");
  }
  absl::StatusOr<uint32_t> ip = Parse(*via, ParseIp4, "an IPv4 address like 198.18.2.2");
  if (!ip.ok()) return ip.status();
  absl::StatusOr<const PortConfig*> port = ConnectedPort(c.ports, *ip, "");
  if (!port.ok()) return Error(via->value.Mark(), absl::StrCat("via ", port.status().message()));
  r->via = *ip;
  return absl::OkStatus();
}

absl::Status Loader::ReadNeighbours(const Fields& top, Config* c) const {
  const Entry* e = top.Find("neighbours");
  absl::StatusOr<std::vector<YAML::Node>> items = ReadList(e, "a list of neighbours");
  if (!items.ok()) return items.status();
  for (const YAML::Node& item : *items) {
    absl::StatusOr<NeighbourConfig> n = ReadNeighbour(item, item.Mark(), *c);
    if (!n.ok()) return n.status();
    c->neighbours.push_back(std::move(*n));
  }
  return absl::OkStatus();
}

absl::StatusOr<NeighbourConfig> Loader::ReadNeighbour(const YAML::Node& node,
                                                      const YAML::Mark& mark,
                                                      const Config& c) const {
  absl::StatusOr<Fields> f = ReadMap(node, mark, "neighbour", kNeighbourKeys);
  if (!f.ok()) return f.status();
  absl::StatusOr<const Entry*> ip = Require(*f, "ip");
  if (!ip.ok()) return ip.status();
  absl::StatusOr<const Entry*> mac = Require(*f, "mac");
  if (!mac.ok()) return mac.status();
  NeighbourConfig n;
  n.loc = Loc(mark);
  if (absl::Status s = ReadMac(**mac, &n.mac); !s.ok()) return s;
  // The port comes before the ip: the ip is then looked for in that port's subnets only.
  if (absl::Status s = ReadNeighbourPort(f->Find("port"), c, &n); !s.ok()) return s;
  if (absl::Status s = ReadNeighbourIp(**ip, c, &n); !s.ok()) return s;
  return n;
}

absl::Status Loader::ReadNeighbourPort(const Entry* e, const Config& c, NeighbourConfig* n) const {
  if (e == nullptr) return absl::OkStatus();
  std::vector<std::string_view> names;
  for (const PortConfig& p : c.ports) names.push_back(p.name);
  if (!e->value.IsScalar() || !absl::c_linear_search(names, e->value.Scalar())) {
    return Expected(*e, absl::StrFormat("the name of a port (%s)", Join(names)));
  }
  n->port = e->value.Scalar();
  return absl::OkStatus();
}

absl::Status Loader::ReadNeighbourIp(const Entry& e, const Config& c, NeighbourConfig* n) const {
  absl::StatusOr<uint32_t> ip = Parse(e, ParseIp4, "an IPv4 address like 198.18.2.2");
  if (!ip.ok()) return ip.status();
  for (const NeighbourConfig& other : c.neighbours) {
    if (other.ip == *ip) {
      return Error(e.value.Mark(),
                   absl::StrFormat("duplicate neighbour %s (first defined on line %d)",
                                   FormatIp4(*ip), other.loc.line));
    }
  }
  absl::StatusOr<const PortConfig*> port = ConnectedPort(c.ports, *ip, n->port);
  if (!port.ok()) return Error(e.value.Mark(), absl::StrCat("ip ", port.status().message()));
  n->ip = *ip;
  n->port = (*port)->name;
  return absl::OkStatus();
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
