// The IPv6 side of the command language (commands.cc has the grammar and dispatches here):
// `route add|del` and `route get`, `addr add|del` and `neigh add|del` for IPv6 addresses. Changes
// go the way IPv4's do: a candidate config, checked by the loader, applied as a diff.
#include <algorithm>
#include <optional>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "control/json.h"
#include "control/router.h"

namespace vr::control {

absl::StatusOr<std::string> Router::Route6Command(const std::string& verb, const Args& rest) {
  config::Config next = config_;
  std::string prefix_text = verb == "del" && rest.size() == 1 ? rest[0] : "";
  config::Route6Config r;
  if (verb == "add" && rest.size() == 3 && rest[1] == "via") {
    prefix_text = rest[0];
    auto via = config::ParseIp6(rest[2]);
    if (!via.ok()) return via.status();
    r.via = *via;
  } else if (verb == "add" && rest.size() == 2 &&
             (rest[0] == "blackhole" || rest[0] == "unreachable")) {
    prefix_text = rest[1];
    r.type = rest[0] == "blackhole" ? config::RouteType::kBlackhole
                                    : config::RouteType::kUnreachable;
  } else if (prefix_text.empty()) {
    return UsageError("route add PREFIX via ADDR | route add blackhole|unreachable PREFIX | "
                      "route del PREFIX");
  }
  auto prefix = config::ParseIp6Prefix(prefix_text);
  if (!prefix.ok()) return prefix.status();
  r.prefix = *prefix;
  auto at = std::find_if(next.routes6.begin(), next.routes6.end(),
                         [&](const config::Route6Config& e) { return e.prefix == r.prefix; });
  std::string text = config::FormatIp6(r.prefix.addr) + "/" + std::to_string(r.prefix.len);
  if (verb == "add") {
    if (at != next.routes6.end()) return absl::AlreadyExistsError("route " + text + " exists");
    next.routes6.push_back(r);
  } else {
    if (at == next.routes6.end()) {
      return absl::NotFoundError("no route " + text +
                                 " (connected routes go with their address: addr del)");
    }
    next.routes6.erase(at);
  }
  if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
  return std::string();
}

absl::StatusOr<std::string> Router::Addr6Command(const std::string& verb, const Args& rest) {
  auto prefix = config::ParseIp6Prefix(rest[0]);
  if (!prefix.ok()) return prefix.status();
  config::Config next = config_;
  std::vector<config::Ip6Prefix>* addresses = nullptr;
  for (auto& p : next.ports) {
    if (p.name == rest[2]) addresses = &p.addresses6;
  }
  for (auto& v : next.vifs) {
    if (v.name == rest[2]) addresses = &v.addresses6;
  }
  if (addresses == nullptr) {
    if (auto id = vifs_->ByName(rest[2]); id && vifs_->BlockOf(*id) != nullptr) {
      return absl::FailedPreconditionError(
          rest[2] + " takes its address from its template; change the template");
    }
    return absl::NotFoundError("no interface " + rest[2]);
  }
  std::string text = config::FormatIp6(prefix->addr) + "/" + std::to_string(prefix->len);
  auto at = std::find(addresses->begin(), addresses->end(), *prefix);
  if (verb == "add") {
    if (at != addresses->end()) {
      return absl::AlreadyExistsError(text + " is already on " + rest[2]);
    }
    addresses->push_back(*prefix);
  } else {
    if (at == addresses->end()) return absl::NotFoundError(text + " is not on " + rest[2]);
    addresses->erase(at);
  }
  if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
  return std::string();
}

// `neigh add ADDR lladdr MAC [dev D]` and `neigh del ADDR [dev D]` for an IPv6 ADDR: the YAML's
// IPv6 `neighbours` entries. A global ADDR is on the interface whose subnet holds it; a
// link-local one names its interface, and may be a neighbour on several.
absl::StatusOr<std::string> Router::Neigh6Command(const std::string& verb, const Args& rest) {
  auto ip = config::ParseIp6(rest[0]);
  if (!ip.ok()) return ip.status();
  const std::string text = config::FormatIp6(*ip);
  const bool link_local = config::IsLinkLocal6(*ip);
  const std::string dev = verb == "add" ? (rest.size() == 5 ? rest[4] : "")
                                        : (rest.size() == 3 ? rest[2] : "");
  if (!dev.empty() && !vifs_->ByName(dev)) return absl::NotFoundError("no interface " + dev);
  config::Config next = config_;
  if (verb == "add") {
    auto mac = config::ParseMac(rest[2]);
    if (!mac.ok()) return mac.status();
    config::Neighbour6Config n;
    n.ip = *ip;
    n.mac = *mac;
    n.port = dev;
    if (n.port.empty() && link_local) {
      return absl::InvalidArgumentError(
          text + " is a link-local address; say which interface it is on with dev D");
    }
    if (n.port.empty()) {
      // As the YAML does: the interface whose IPv6 subnet holds the address.
      int vif = VifForAddress6(*ip);
      if (vif < 0) {
        return absl::InvalidArgumentError(
            text + " is not inside any interface's IPv6 subnet; name one with dev D");
      }
      n.port = vifs_->Name(uint32_t(vif));
    }
    auto at = std::find_if(next.neighbours6.begin(), next.neighbours6.end(), [&](const auto& e) {
      return e.ip == n.ip && (!link_local || e.port == n.port);
    });
    if (at != next.neighbours6.end()) {
      *at = n;  // as `ip neigh replace`: a static entry is corrected in place
    } else {
      next.neighbours6.push_back(n);
    }
  } else {
    std::vector<std::string> ports;
    for (const auto& e : next.neighbours6) {
      if (e.ip == *ip && (dev.empty() || e.port == dev)) ports.push_back(e.port);
    }
    if (ports.empty()) {
      return absl::NotFoundError("no static neighbour " + text + (dev.empty() ? "" : " on " + dev));
    }
    if (ports.size() > 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s is a static neighbour on %s; say which with dev D", text,
          absl::StrJoin(ports, ", ")));
    }
    std::erase_if(next.neighbours6,
                  [&](const auto& e) { return e.ip == *ip && e.port == ports[0]; });
  }
  if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
  return std::string();
}

// `route get ADDR` for IPv6: the longest match over the config's routes, the interfaces'
// subnets and own addresses (template members' by arithmetic) and the kernel routes installed:
// the answer the workers' FIB gives, but for the /128s NDP keeps for its neighbours.
absl::StatusOr<std::string> Router::Route6Get(const config::Ip6Addr& addr, bool json) const {
  struct Found {
    Route6Entry route;
    std::string origin;
  };
  std::optional<Found> best;
  auto consider = [&](const Route6Entry& r, const char* origin) {
    if (config::Contains6(r.prefix, addr) && (!best || r.prefix.len > best->route.prefix.len)) {
      best = Found{r, origin};
    }
  };
  for (const auto& r : routes6_) {
    bool user = r.type == "forward" || r.type == "blackhole" || r.type == "unreachable";
    consider(r, user ? "config" : "interface");
  }
  if (int vif = MemberForAddress6(addr); vif >= 0) {
    const Block* b = vifs_->BlockOf(uint32_t(vif));
    uint32_t i = uint32_t(vif) - b->first;
    config::Ip6Prefix own = config::TemplateMemberAddress6(b->tmpl, i);
    consider({config::NetworkOf6(own), "connected", {}, vif, b->nexthops6[i]}, "interface");
    consider({{own.addr, 128}, "local", {}, vif, nh_local_}, "interface");
  }
  for (const auto& [key, s] : kernel_routes_) {
    if (!s.route.v6 || !s.installed) continue;
    const KernelRoute& r = s.route;
    Route6Entry e{r.prefix6, "forward", r.gateway6, s.gateway_vif, s.nh};
    if (r.type == KernelRoute::Type::kBlackhole) e.type = "blackhole";
    if (r.type == KernelRoute::Type::kUnreachable) e.type = "unreachable";
    if (e.type == "forward" && e.vif < 0 && !config::IsLinkLocal6(r.gateway6)) {
      e.vif = VifForAddress6(r.gateway6);
    }
    consider(e, "kernel");
  }
  if (!best) return absl::NotFoundError("no route to " + config::FormatIp6(addr));
  const Route6Entry& r = best->route;
  std::string prefix = absl::StrFormat("%s/%u", config::FormatIp6(r.prefix.addr), r.prefix.len);
  std::string port = r.vif >= 0 ? vifs_->Name(uint32_t(r.vif)) : "";
  if (json) {
    JsonWriter j;
    j.BeginObject()
        .Field("dst", config::FormatIp6(addr))
        .Field("prefix", prefix)
        .Field("type", r.type)
        .Key("via");
    if (r.type == "forward") {
      j.Value(config::FormatIp6(r.via));
    } else {
      j.Null();
    }
    j.Key("port");
    if (r.vif >= 0) {
      j.Value(port);
    } else {
      j.Null();
    }
    return j.Field("origin", best->origin).EndObject().Take() + "\n";
  }
  if (r.type == "forward") {
    return absl::StrFormat("%s via %s%s (route %s)\n", config::FormatIp6(addr),
                           config::FormatIp6(r.via), port.empty() ? "" : " dev " + port, prefix);
  }
  return absl::StrFormat("%s %s%s (route %s)\n", r.type, config::FormatIp6(addr),
                         port.empty() ? "" : " dev " + port, prefix);
}

}  // namespace vr::control
