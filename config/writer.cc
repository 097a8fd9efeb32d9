// Writes a Config back as YAML in the shape config/loader.cc reads and docs/config.md describes:
// what `vrouterctl config show` prints and `config save` stores. The output is deterministic (fixed
// section and key order, lists in their stored order) and loads back to an equal Config.
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/config.h"

namespace vr::config {
namespace {

// Words yaml-cpp reads as null, and YAML 1.1 booleans, which other tools reading a saved file would
// take for true or false.
bool IsSpecialWord(std::string_view s) {
  std::string lower = absl::AsciiStrToLower(std::string(s));
  for (std::string_view w : {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}) {
    if (lower == w) return true;
  }
  return false;
}

// Names, devargs and paths are written plain when that cannot be misread: characters that mean
// nothing to YAML, a first character that starts no YAML construct, no ':' at the end (it would
// start a map), and no special word. Anything else is double-quoted.
bool IsSafePlain(std::string_view s) {
  if (s.empty() || IsSpecialWord(s)) return false;
  if (!(absl::ascii_isalnum(s[0]) || s[0] == '/' || s[0] == '_' || s[0] == '.')) return false;
  if (s.back() == ':') return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(c) || c == '/' || c == '_' || c == '.' || c == '-' || c == ':' ||
          c == ',' || c == '=' || c == '+' || c == '@')) {
      return false;
    }
  }
  return true;
}

std::string Scalar(std::string_view s) {
  if (IsSafePlain(s)) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += absl::StrFormat("\\x%02x", u);
    } else {
      out += c;  // UTF-8 passes through: YAML is UTF-8
    }
  }
  return out + "\"";
}

std::string Prefix(const Ip4Prefix& p) { return absl::StrCat(FormatIp4(p.addr), "/", p.len); }

const char* TypeName(RouteType t) {
  switch (t) {
    case RouteType::kForward: return "forward";
    case RouteType::kBlackhole: return "blackhole";
    case RouteType::kUnreachable: return "unreachable";
  }
  return "?";
}

// The Debian build of Abseil has its own string_view, which StrCat and StrAppend insist on.
void Key(std::string* out, std::string_view indent, std::string_view key, std::string_view value) {
  out->append(indent).append(key).append(": ").append(value).append("\n");
}

void Key(std::string* out, std::string_view indent, std::string_view key, uint32_t value) {
  Key(out, indent, key, std::to_string(value));
}

std::string Range(const TagRange& r) {
  return r.first == r.last ? std::to_string(r.first) : absl::StrCat(r.first, "-", r.last);
}

std::string Impairment(const ImpairmentConfig& m) {
  switch (m.mode) {
    case ImpairMode::kPass: return "{mode: pass}";
    case ImpairMode::kDrop:
      return absl::StrCat("{mode: drop, percent: ", m.drop_percent, ", seed: ", m.seed, "}");
    case ImpairMode::kFlap:
      return absl::StrCat("{mode: flap, on_ms: ", m.on_ms, ", off_ms: ", m.off_ms, "}");
  }
  return "{}";
}

std::string Prefix6(const Ip6Prefix& p) {
  return Scalar(absl::StrCat(FormatIp6(p.addr), "/", p.len));
}

// IPv6 text starts or ends with ':' at times ("::/0", "2001:db8:0:1::"), which YAML would misread:
// Scalar quotes those.
std::string Address6(const Ip6Addr& a) { return Scalar(FormatIp6(a)); }

// One flow list for both families: IPv4 first, then IPv6, each in its stored order.
std::string Addresses(const std::vector<Ip4Prefix>& addresses,
                      const std::vector<Ip6Prefix>& addresses6) {
  std::vector<std::string> items;
  for (const Ip4Prefix& a : addresses) items.push_back(Prefix(a));
  for (const Ip6Prefix& a : addresses6) items.push_back(Prefix6(a));
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) absl::StrAppend(&out, i == 0 ? "" : ", ", items[i]);
  return out + "]";
}

std::string Lifetime(uint32_t seconds) {
  return seconds == kInfiniteLifetime ? std::string("infinity") : std::to_string(seconds);
}

std::string Flag(bool b) { return b ? "true" : "false"; }

// A block map under a port or vif (`indent`: its keys'); optional values only when set.
void RouterAdverts(std::string* out, std::string_view indent, const RouterAdvertConfig& ra) {
  out->append(indent.substr(2)).append("router_advertisements:\n");
  Key(out, indent, "interval", ra.interval);
  if (ra.min_interval.has_value()) Key(out, indent, "min_interval", *ra.min_interval);
  if (ra.lifetime.has_value()) Key(out, indent, "lifetime", *ra.lifetime);
  Key(out, indent, "mtu", ra.mtu.has_value() ? std::to_string(*ra.mtu) : Flag(ra.advertise_mtu));
  Key(out, indent, "managed", Flag(ra.managed));
  Key(out, indent, "other", Flag(ra.other));
  Key(out, indent, "hop_limit", ra.hop_limit);
  Key(out, indent, "reachable_time", ra.reachable_time);
  Key(out, indent, "retrans_timer", ra.retrans_timer);
  std::vector<std::string> items;
  if (ra.auto_prefixes) items.push_back("auto");
  for (const RaPrefixConfig& p : ra.prefixes) {
    items.push_back(absl::StrCat("{prefix: ", Prefix6(p.prefix), ", on_link: ", Flag(p.on_link),
                                 ", autonomous: ", Flag(p.autonomous), ", valid_lifetime: ",
                                 Lifetime(p.valid_lifetime), ", preferred_lifetime: ",
                                 Lifetime(p.preferred_lifetime), "}"));
  }
  if (items.size() <= 1) {
    Key(out, indent, "prefixes", items.empty() ? "[]" : absl::StrCat("[", items[0], "]"));
    return;
  }
  out->append(indent).append("prefixes:\n");
  for (const std::string& item : items) {
    out->append(indent).append("  - ").append(item).append("\n");
  }
}

void Ports(std::string* out, const Config& c) {
  out->append(c.ports.empty() ? "ports: []\n" : "ports:\n");
  for (const PortConfig& p : c.ports) {
    Key(out, "  - ", "name", Scalar(p.name));
    Key(out, "    ", "device", Scalar(p.device));
    if (p.mac.has_value()) Key(out, "    ", "mac", FormatMac(*p.mac));
    Key(out, "    ", "mtu", p.mtu);
    Key(out, "    ", "addresses", Addresses(p.addresses, p.addresses6));
    if (p.link_local.has_value()) Key(out, "    ", "link_local", Address6(*p.link_local));
    // Group 0 and up are the defaults, and most ports have them; the keys are left out then.
    if (p.group != 0) Key(out, "    ", "group", Scalar(GroupName(c, p.group)));
    if (!p.up) Key(out, "    ", "state", "down");
    if (p.router_advertisements.has_value()) RouterAdverts(out, "      ", *p.router_advertisements);
  }
}

void Template(std::string* out, const TemplateConfig& t) {
  Key(out, "      - ", "parent", Scalar(t.parent));
  if (t.inner.has_value()) {
    Key(out, "        ", "outer", Range(t.outer));
    Key(out, "        ", "inner", Range(*t.inner));
  } else {
    Key(out, "        ", "vlan", Range(t.outer));
  }
  if (t.address.has_value()) {
    Key(out, "        ", "address", Prefix(*t.address));
    Key(out, "        ", "address_step", t.address_step);
  }
  if (t.address6.has_value()) {
    Key(out, "        ", "address6", Prefix6(*t.address6));
    Key(out, "        ", "address6_step", Scalar(FormatIp6Step(t.address6_step)));
  }
  if (t.mac.has_value()) {
    Key(out, "        ", "mac", FormatMac(*t.mac));
    Key(out, "        ", "mac_step", t.mac_step);
  }
  if (!t.members.empty()) out->append("        members:\n");
  for (const MemberConfig& m : t.members) {
    if (t.inner.has_value()) {
      Key(out, "          - ", "outer", m.outer);
      Key(out, "            ", "inner", m.inner);
    } else {
      Key(out, "          - ", "vlan", m.outer);
    }
    if (m.mtu.has_value()) Key(out, "            ", "mtu", *m.mtu);
    if (m.up.has_value()) Key(out, "            ", "state", *m.up ? "up" : "down");
    if (m.impairment.has_value()) Key(out, "            ", "impairment", Impairment(*m.impairment));
  }
}

// The names the YAML defined (group_file's are read from the file again, and "default" is built
// in), and the settings and templates of any group; a group named elsewhere gets its id alone.
void Groups(std::string* out, const Config& c) {
  bool any = false;
  for (const GroupConfig& g : c.groups) {
    bool settings = g.mtu.has_value() || g.up.has_value() || g.impairment.has_value() ||
                    !g.templates.empty();
    if (g.source != GroupSource::kYaml && !settings) continue;
    if (!any) out->append("\ngroups:\n");
    any = true;
    Key(out, "  - ", "id", g.id);
    if (g.source == GroupSource::kYaml && !g.name.empty()) Key(out, "    ", "name", Scalar(g.name));
    if (g.mtu.has_value()) Key(out, "    ", "mtu", *g.mtu);
    if (g.up.has_value()) Key(out, "    ", "state", *g.up ? "up" : "down");
    if (g.impairment.has_value()) Key(out, "    ", "impairment", Impairment(*g.impairment));
    if (!g.templates.empty()) {
      out->append("    templates:\n");
      for (const TemplateConfig& t : g.templates) Template(out, t);
    }
  }
}

// Only when there are any, like groups. A vif's group is written when it is not its parent's,
// which is what the loader fills in when the key is left out.
void Vifs(std::string* out, const Config& c) {
  if (c.vifs.empty()) return;
  out->append("\nvifs:\n");
  for (const VifConfig& v : c.vifs) {
    Key(out, "  - ", "name", Scalar(v.name));
    Key(out, "    ", "parent", Scalar(v.parent));
    if (v.inner != 0) {
      Key(out, "    ", "outer", v.outer);
      Key(out, "    ", "inner", v.inner);
    } else {
      Key(out, "    ", "vlan", v.outer);
    }
    if (v.mac.has_value()) Key(out, "    ", "mac", FormatMac(*v.mac));
    if (v.mtu.has_value()) Key(out, "    ", "mtu", *v.mtu);
    Key(out, "    ", "addresses", Addresses(v.addresses, v.addresses6));
    if (v.link_local.has_value()) Key(out, "    ", "link_local", Address6(*v.link_local));
    const PortConfig* parent = nullptr;
    for (const PortConfig& p : c.ports) {
      if (p.name == v.parent) parent = &p;
    }
    if (parent == nullptr || parent->group != v.group) {
      Key(out, "    ", "group", Scalar(GroupName(c, v.group)));
    }
    if (v.up.has_value()) Key(out, "    ", "state", *v.up ? "up" : "down");
    if (v.impairment.has_value()) Key(out, "    ", "impairment", Impairment(*v.impairment));
    if (v.router_advertisements.has_value()) RouterAdverts(out, "      ", *v.router_advertisements);
  }
}

// IPv4 routes, then IPv6 ones, in one list: the loader sorts them by their prefix's family.
void Routes(std::string* out, const Config& c) {
  out->append(c.routes.empty() && c.routes6.empty() ? "routes: []\n" : "routes:\n");
  for (const RouteConfig& r : c.routes) {
    Key(out, "  - ", "prefix", Prefix(r.prefix));
    if (r.type == RouteType::kForward) {
      Key(out, "    ", "via", FormatIp4(r.via));
    } else {
      Key(out, "    ", "type", TypeName(r.type));
    }
  }
  for (const Route6Config& r : c.routes6) {
    Key(out, "  - ", "prefix", Prefix6(r.prefix));
    if (r.type == RouteType::kForward) {
      Key(out, "    ", "via", Address6(r.via));
      if (!r.port.empty()) Key(out, "    ", "port", Scalar(r.port));
    } else {
      Key(out, "    ", "type", TypeName(r.type));
    }
  }
}

// Likewise IPv4 neighbours, then IPv6 ones.
void Neighbours(std::string* out, const Config& c) {
  out->append(c.neighbours.empty() && c.neighbours6.empty() ? "neighbours: []\n"
                                                            : "neighbours:\n");
  for (const NeighbourConfig& n : c.neighbours) {
    Key(out, "  - ", "ip", FormatIp4(n.ip));
    Key(out, "    ", "mac", FormatMac(n.mac));
    // The loader always fills the port in; a Config built by hand may leave it to be found again.
    if (!n.port.empty()) Key(out, "    ", "port", Scalar(n.port));
  }
  for (const Neighbour6Config& n : c.neighbours6) {
    Key(out, "  - ", "ip", Address6(n.ip));
    Key(out, "    ", "mac", FormatMac(n.mac));
    if (!n.port.empty()) Key(out, "    ", "port", Scalar(n.port));
  }
}

}  // namespace

std::string FormatConfig(const Config& c) {
  std::string out =
      "# Written by vrouterd: its running configuration, every key given (docs/config.md).\n"
      "# Check an edited copy with `vrouterd --config FILE --check`.\n";

  out.append("\ndataplane:\n");
  Key(&out, "  ", "workers", c.dataplane.workers);
  Key(&out, "  ", "nbufs", c.dataplane.nbufs);

  out.append("\ncontrol:\n");
  Key(&out, "  ", "socket", Scalar(c.control.socket));
  if (!c.control.group.empty()) Key(&out, "  ", "group", Scalar(c.control.group));
  out.append("\nmetrics:\n");
  Key(&out, "  ", "listen", c.metrics.listen.empty() ? std::string("off") : Scalar(c.metrics.listen));
  Key(&out, "  ", "interfaces", c.metrics.interfaces);

  if (c.knet.enabled) {
    out.append("\nknet:\n");
    Key(&out, "  ", "name", Scalar(c.knet.name));
    Key(&out, "  ", "mtu", c.knet.mtu);
    Key(&out, "  ", "rate", c.knet.rate);
    Key(&out, "  ", "burst", c.knet.burst);
    Key(&out, "  ", "offload", std::string(c.knet.offload ? "true" : "false"));
    if (!c.knet.mirror) {
      Key(&out, "  ", "mirror", std::string("off"));
    } else {
      out.append("  mirror:\n");
      Key(&out, "    ", "table", c.knet.table);
      std::string list = "[";
      for (size_t i = 0; i < c.knet.protocols.size(); ++i) {
        list += (i ? ", " : "") + RouteProtocolName(c.knet.protocols[i]);
      }
      Key(&out, "    ", "protocols", list + "]");
    }
  }

  out.append("\narp:\n");
  Key(&out, "  ", "hold_packets", c.arp.hold_packets);
  Key(&out, "  ", "reachable_seconds", c.arp.reachable_seconds);
  Key(&out, "  ", "retries", c.arp.retries);
  Key(&out, "  ", "retry_ms", c.arp.retry_ms);
  Key(&out, "  ", "gc_seconds", c.arp.gc_seconds);

  out.append("\nicmp:\n");
  Key(&out, "  ", "rate_per_second", c.icmp.rate_per_second);
  Key(&out, "  ", "burst", c.icmp.burst);

  if (!c.group_file.empty()) {
    out.append("\n");
    Key(&out, "", "group_file", Scalar(c.group_file));
  }
  Groups(&out, c);

  out.append("\n");
  Ports(&out, c);
  Vifs(&out, c);
  out.append("\n");
  Routes(&out, c);
  out.append("\n");
  Neighbours(&out, c);
  return out;
}

}  // namespace vr::config
