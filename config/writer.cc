// Writes a Config back as YAML in the shape config/loader.cc reads and docs/config.md describes:
// what `vrouterctl config show` prints and `config save` stores. The output is deterministic (fixed
// section and key order, lists in their stored order) and loads back to an equal Config.
#include <string>
#include <string_view>

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

void Ports(std::string* out, const Config& c) {
  out->append(c.ports.empty() ? "ports: []\n" : "ports:\n");
  for (const PortConfig& p : c.ports) {
    Key(out, "  - ", "name", Scalar(p.name));
    Key(out, "    ", "device", Scalar(p.device));
    if (p.mac.has_value()) Key(out, "    ", "mac", FormatMac(*p.mac));
    Key(out, "    ", "mtu", p.mtu);
    std::string addresses = "[";
    for (size_t i = 0; i < p.addresses.size(); ++i) {
      absl::StrAppend(&addresses, i == 0 ? "" : ", ", Prefix(p.addresses[i]));
    }
    Key(out, "    ", "addresses", addresses + "]");
    // Group 0 and up are the defaults, and most ports have them; the keys are left out then.
    if (p.group != 0) Key(out, "    ", "group", Scalar(GroupName(c, p.group)));
    if (!p.up) Key(out, "    ", "state", "down");
  }
}

// Only the names the YAML defined: group_file's are read from the file again, and "default" is
// built in.
void Groups(std::string* out, const Config& c) {
  bool any = false;
  for (const GroupConfig& g : c.groups) {
    if (g.source != GroupSource::kYaml) continue;
    if (!any) out->append("\ngroups:\n");
    any = true;
    Key(out, "  - ", "id", g.id);
    Key(out, "    ", "name", Scalar(g.name));
  }
}

void Routes(std::string* out, const Config& c) {
  out->append(c.routes.empty() ? "routes: []\n" : "routes:\n");
  for (const RouteConfig& r : c.routes) {
    Key(out, "  - ", "prefix", Prefix(r.prefix));
    if (r.type == RouteType::kForward) {
      Key(out, "    ", "via", FormatIp4(r.via));
    } else {
      Key(out, "    ", "type", TypeName(r.type));
    }
  }
}

void Neighbours(std::string* out, const Config& c) {
  out->append(c.neighbours.empty() ? "neighbours: []\n" : "neighbours:\n");
  for (const NeighbourConfig& n : c.neighbours) {
    Key(out, "  - ", "ip", FormatIp4(n.ip));
    Key(out, "    ", "mac", FormatMac(n.mac));
    // The loader always fills the port in; a Config built by hand may leave it to be found again.
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
  out.append("\n");
  Routes(&out, c);
  out.append("\n");
  Neighbours(&out, c);
  return out;
}

}  // namespace vr::config
