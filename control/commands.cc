// The control socket's command language, iproute2-like: parses the words of a request, checks
// them, and turns changes into a new running config that Apply() diffs in. Usage errors say so.
#include <rte_ethdev.h>

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "control/control_socket.h"
#include "control/json.h"
#include "control/router.h"

namespace vr::control {

namespace {

constexpr const char* kCommands =
    "stats [-s] | link show [dev D | group G] | link set dev D [mtu N] [up|down] [group G] | "
    "link set group G [mtu N] [up|down] | group show | addr show [dev D] | "
    "addr add|del PREFIX dev D | route show | route get ADDR | route add PREFIX via ADDR | "
    "route add blackhole|unreachable PREFIX | route del PREFIX | neigh show | "
    "neigh add ADDR lladdr MAC [dev D] | neigh del ADDR | config show | reload";

using Args = std::vector<std::string>;

std::string PrefixText(const config::Ip4Prefix& p) {
  return absl::StrFormat("%s/%u", config::FormatIp4(p.addr), p.len);
}

// The loader's messages start with FILE:LINE:COL and end with the line and a caret; for a
// change typed at the CLI only the message itself means anything.
std::string CandidateError(const absl::Status& s) {
  std::string msg(s.message());
  msg = msg.substr(0, msg.find('\n'));
  for (int colons = 0; colons < 3; ++colons) {
    size_t at = msg.find(':');
    if (at == std::string::npos) return msg;
    msg = msg.substr(at + 1);
  }
  return std::string(absl::StripLeadingAsciiWhitespace(msg));
}

}  // namespace

absl::Status UsageError(std::string_view message) {
  absl::Status s = absl::InvalidArgumentError(
      absl::StrFormat("%s\nusage: %s", message, kCommands));
  s.SetPayload(kReplyUsagePayload, absl::Cord("1"));
  return s;
}

absl::Status Router::ApplyCandidate(const config::Config& next) {
  // The same validation a file gets: the candidate is written out and read back by the loader.
  auto checked = config::ParseConfig(config::FormatConfig(next), "<running config>");
  if (!checked.ok()) return absl::InvalidArgumentError(CandidateError(checked.status()));
  return Apply(*checked);
}

absl::StatusOr<std::string> Router::Execute(const std::vector<std::string>& argv) {
  Args args = argv;
  bool json = false;
  if (!args.empty() && args[0] == "-j") {
    json = true;
    args.erase(args.begin());
  }
  if (args.empty()) return UsageError("no command");
  const std::string& obj = args[0];
  std::string verb = args.size() > 1 ? args[1] : "show";
  Args rest(args.begin() + std::min<size_t>(2, args.size()), args.end());

  if (obj == "ping" && args.size() == 1) return std::string("pong\n");
  if (obj == "stats" && (args.size() == 1 || (args.size() == 2 && args[1] == "-s"))) {
    return ShowStats(json);
  }
  if (obj == "link") return LinkCommand(verb, rest, json);
  if (obj == "addr" || obj == "address") return AddrCommand(verb, rest, json);
  if (obj == "route") return RouteCommand(verb, rest, json);
  if (obj == "group") return GroupCommand(verb, rest, json);
  if (obj == "neigh" || obj == "neighbour" || obj == "neighbor") {
    return NeighCommand(verb, rest, json);
  }
  if (obj == "config" && verb == "show" && rest.empty()) {
    return config::FormatConfig(config_);
  }
  if (obj == "reload" && args.size() == 1) {
    if (absl::Status s = Reload(); !s.ok()) return s;
    return absl::StrFormat("reloaded %s\n", config_path_);
  }
  return UsageError(absl::StrFormat("unknown command \"%s\"", absl::StrJoin(args, " ")));
}

absl::StatusOr<std::string> Router::LinkCommand(const std::string& verb, const Args& rest,
                                                bool json) {
  if (verb == "show") {
    int only = -1;
    std::optional<uint32_t> group;
    if (rest.size() == 2 && rest[0] == "dev") {
      only = PortByName(rest[1]);
      if (only < 0) return absl::NotFoundError("no port " + rest[1]);
    } else if (rest.size() == 2 && rest[0] == "group") {
      group = config::GroupId(config_, rest[1]);
      if (!group) return absl::NotFoundError("no group " + rest[1]);
    } else if (!rest.empty()) {
      return UsageError("link show [dev D | group G]");
    }
    JsonWriter j;
    std::string text;
    j.BeginArray();
    for (uint16_t id : port_ids_) {
      if (only >= 0 && id != only) continue;
      const PortState& ps = ports_[id];
      if (group && ps.group != *group) continue;
      char mac[RTE_ETHER_ADDR_FMT_SIZE];
      rte_ether_format_addr(mac, sizeof(mac), &ps.port->mac());
      std::string group_name = config::GroupName(config_, ps.group);
      j.BeginObject()
          .Field("name", ps.port->name())
          .Field("device", ps.port->devargs())
          .Field("mtu", ps.mtu)
          .Field("mac", mac)
          .Field("admin_up", ps.up)
          .Field("link_up", ps.link_up)
          .Field("group", group_name)
          .Field("group_id", ps.group)
          .EndObject();
      std::string flags = ps.up ? (ps.link_up ? "UP,LOWER_UP" : "UP,NO-CARRIER") : "DOWN";
      absl::StrAppendFormat(&text, "%u: %s: <%s> mtu %u group %s\n    link/ether %s device %s\n",
                            id, ps.port->name(), flags, ps.mtu, group_name, mac,
                            ps.port->devargs());
    }
    j.EndArray();
    return json ? j.Take() + "\n" : text;
  }
  if (verb == "set") {
    // `link set dev D ATTR...` or `link set group G ATTR...`; ATTR: mtu N, up, down, group G
    // (the last for dev only). One command is one candidate config, applied as a whole.
    if (rest.size() < 3 || (rest[0] != "dev" && rest[0] != "group")) {
      return UsageError("link set dev D [mtu N] [up|down] [group G] | link set group G [mtu N] [up|down]");
    }
    bool by_group = rest[0] == "group";
    config::Config next = config_;
    std::vector<config::PortConfig*> targets;
    if (by_group) {
      auto g = config::GroupId(config_, rest[1]);
      if (!g) return absl::NotFoundError("no group " + rest[1]);
      for (auto& p : next.ports) {
        if (p.group == *g) targets.push_back(&p);
      }
    } else {
      for (auto& p : next.ports) {
        if (p.name == rest[1]) targets.push_back(&p);
      }
      if (targets.empty()) return absl::NotFoundError("no port " + rest[1]);
    }
    for (size_t i = 2; i < rest.size(); ++i) {
      const std::string& attr = rest[i];
      if (attr == "up" || attr == "down") {
        for (auto* p : targets) p->up = attr == "up";
      } else if (attr == "mtu" && i + 1 < rest.size()) {
        uint32_t mtu;
        if (!absl::SimpleAtoi(rest[++i], &mtu)) {
          return absl::InvalidArgumentError("mtu: expected an integer, got '" + rest[i] + "'");
        }
        for (auto* p : targets) p->mtu = mtu;
      } else if (attr == "group" && !by_group && i + 1 < rest.size()) {
        auto g = config::GroupId(config_, rest[++i]);
        if (!g) return absl::NotFoundError("no group " + rest[i]);
        for (auto* p : targets) p->group = *g;
      } else {
        return UsageError("link set: unexpected '" + attr + "'");
      }
    }
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return by_group ? absl::StrFormat("%u ports\n", targets.size()) : std::string();
  }
  return UsageError("link show | link set");
}

absl::StatusOr<std::string> Router::GroupCommand(const std::string& verb, const Args& rest,
                                                 bool json) {
  if (verb != "show" || !rest.empty()) return UsageError("group show");
  JsonWriter j;
  std::string text;
  j.BeginArray();
  for (const auto& g : config_.groups) {
    uint64_t members = 0;
    for (uint16_t id : port_ids_) members += ports_[id].group == g.id;
    j.BeginObject().Field("id", g.id).Field("name", g.name).Field("ports", members).EndObject();
    absl::StrAppendFormat(&text, "%u %s (%u ports)\n", g.id, g.name, members);
  }
  j.EndArray();
  return json ? j.Take() + "\n" : text;
}

absl::StatusOr<std::string> Router::AddrCommand(const std::string& verb, const Args& rest,
                                                bool json) {
  if (verb == "show") {
    int only = -1;
    if (rest.size() == 2 && rest[0] == "dev") {
      only = PortByName(rest[1]);
      if (only < 0) return absl::NotFoundError("no port " + rest[1]);
    } else if (!rest.empty()) {
      return UsageError("addr show [dev D]");
    }
    JsonWriter j;
    std::string text;
    j.BeginArray();
    for (uint16_t id : port_ids_) {
      if (only >= 0 && id != only) continue;
      j.BeginObject().Field("port", ports_[id].port->name()).Key("addresses").BeginArray();
      for (const auto& a : ports_[id].addresses) {
        j.Value(PrefixText(a));
        absl::StrAppendFormat(&text, "%s inet %s\n", ports_[id].port->name(), PrefixText(a));
      }
      j.EndArray().EndObject();
    }
    j.EndArray();
    return json ? j.Take() + "\n" : text;
  }
  if (verb == "add" || verb == "del") {
    if (rest.size() != 3 || rest[1] != "dev") return UsageError("addr add|del PREFIX dev D");
    auto prefix = config::ParseIp4Prefix(rest[0]);
    if (!prefix.ok()) return prefix.status();
    config::Config next = config_;
    auto port = std::find_if(next.ports.begin(), next.ports.end(),
                             [&](const config::PortConfig& p) { return p.name == rest[2]; });
    if (port == next.ports.end()) return absl::NotFoundError("no port " + rest[2]);
    auto at = std::find(port->addresses.begin(), port->addresses.end(), *prefix);
    if (verb == "add") {
      if (at != port->addresses.end()) {
        return absl::AlreadyExistsError(PrefixText(*prefix) + " is already on " + rest[2]);
      }
      port->addresses.push_back(*prefix);
    } else {
      if (at == port->addresses.end()) {
        return absl::NotFoundError(PrefixText(*prefix) + " is not on " + rest[2]);
      }
      port->addresses.erase(at);
    }
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  return UsageError("addr show | add | del");
}

absl::StatusOr<std::string> Router::RouteCommand(const std::string& verb, const Args& rest,
                                                 bool json) {
  if (verb == "show" && rest.empty()) return ShowRoutes(json);
  if (verb == "get" && rest.size() == 1) {
    auto addr = config::ParseIp4(rest[0].substr(0, rest[0].find('/')));
    if (!addr.ok()) return addr.status();
    // Longest match over the routes control knows: the same answer the workers' FIB gives.
    const RouteEntry* best = nullptr;
    for (const auto& r : routes_) {
      if (config::Contains(r.prefix, *addr) &&
          (best == nullptr || r.prefix.len > best->prefix.len)) {
        best = &r;
      }
    }
    if (best == nullptr) {
      return absl::NotFoundError("no route to " + config::FormatIp4(*addr));
    }
    std::string port = best->port >= 0 ? ports_[best->port].port->name() : "";
    if (json) {
      JsonWriter j;
      j.BeginObject()
          .Field("dst", config::FormatIp4(*addr))
          .Field("prefix", PrefixText(best->prefix))
          .Field("type", best->type)
          .Key("via");
      if (best->type == "forward") {
        j.Value(config::FormatIp4(best->via));
      } else {
        j.Null();
      }
      j.Key("port");
      if (best->port >= 0) {
        j.Value(port);
      } else {
        j.Null();
      }
      return j.EndObject().Take() + "\n";
    }
    if (best->type == "forward") {
      return absl::StrFormat("%s via %s dev %s (route %s)\n", config::FormatIp4(*addr),
                             config::FormatIp4(best->via), port, PrefixText(best->prefix));
    }
    return absl::StrFormat("%s %s%s (route %s)\n", best->type, config::FormatIp4(*addr),
                           port.empty() ? "" : " dev " + port, PrefixText(best->prefix));
  }
  if (verb == "add") {
    config::RouteConfig r;
    std::string prefix_text;
    if (rest.size() == 3 && rest[1] == "via") {
      prefix_text = rest[0];
      auto via = config::ParseIp4(rest[2]);
      if (!via.ok()) return via.status();
      r.via = *via;
    } else if (rest.size() == 2 && (rest[0] == "blackhole" || rest[0] == "unreachable")) {
      prefix_text = rest[1];
      r.type = rest[0] == "blackhole" ? config::RouteType::kBlackhole
                                      : config::RouteType::kUnreachable;
    } else {
      return UsageError("route add PREFIX via ADDR | route add blackhole|unreachable PREFIX");
    }
    auto prefix = config::ParseIp4Prefix(prefix_text);
    if (!prefix.ok()) return prefix.status();
    r.prefix = *prefix;
    config::Config next = config_;
    for (const auto& e : next.routes) {
      if (e.prefix == r.prefix) {
        return absl::AlreadyExistsError("route " + PrefixText(r.prefix) + " exists");
      }
    }
    next.routes.push_back(r);
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  if (verb == "del" && rest.size() == 1) {
    auto prefix = config::ParseIp4Prefix(rest[0]);
    if (!prefix.ok()) return prefix.status();
    config::Config next = config_;
    auto at = std::find_if(next.routes.begin(), next.routes.end(),
                           [&](const config::RouteConfig& e) { return e.prefix == *prefix; });
    if (at == next.routes.end()) {
      return absl::NotFoundError("no route " + PrefixText(*prefix) +
                                 " (connected routes go with their address: addr del)");
    }
    next.routes.erase(at);
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  return UsageError("route show | get ADDR | add | del PREFIX");
}

absl::StatusOr<std::string> Router::NeighCommand(const std::string& verb, const Args& rest,
                                                 bool json) {
  if (verb == "show" && rest.empty()) return ShowNeighbours(json);
  if (verb == "add" && (rest.size() == 3 || rest.size() == 5) && rest[1] == "lladdr" &&
      (rest.size() == 3 || rest[3] == "dev")) {
    config::NeighbourConfig n;
    auto ip = config::ParseIp4(rest[0]);
    if (!ip.ok()) return ip.status();
    auto mac = config::ParseMac(rest[2]);
    if (!mac.ok()) return mac.status();
    n.ip = *ip;
    n.mac = *mac;
    config::Config next = config_;
    if (rest.size() == 5) {
      n.port = rest[4];
    } else {
      // As the YAML does: the port is the one whose subnet holds the address.
      for (const auto& p : next.ports) {
        for (const auto& a : p.addresses) {
          if (config::Contains(a, n.ip)) n.port = p.name;
        }
      }
      if (n.port.empty()) {
        return absl::InvalidArgumentError(config::FormatIp4(n.ip) +
                                          " is not inside any port's subnet; name one with dev");
      }
    }
    auto at = std::find_if(next.neighbours.begin(), next.neighbours.end(),
                           [&](const config::NeighbourConfig& e) { return e.ip == n.ip; });
    if (at != next.neighbours.end()) {
      *at = n;  // as `ip neigh replace`: a static entry is corrected in place
    } else {
      next.neighbours.push_back(n);
    }
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  if (verb == "del" && (rest.size() == 1 || (rest.size() == 3 && rest[1] == "dev"))) {
    auto ip = config::ParseIp4(rest[0]);
    if (!ip.ok()) return ip.status();
    config::Config next = config_;
    auto at = std::find_if(next.neighbours.begin(), next.neighbours.end(),
                           [&](const config::NeighbourConfig& e) { return e.ip == *ip; });
    if (at == next.neighbours.end()) {
      return absl::NotFoundError("no static neighbour " + config::FormatIp4(*ip));
    }
    next.neighbours.erase(at);
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  return UsageError("neigh show | add ADDR lladdr MAC [dev D] | del ADDR");
}

}  // namespace vr::control
