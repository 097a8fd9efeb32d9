// The read-only commands of the control socket (stats, route show, neigh show, ping), each as
// text for people and JSON (-j) for scripts. Counters are summed across cores here, at read time.
#include <rte_ethdev.h>

#include <algorithm>
#include <array>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "control/json.h"
#include "control/router.h"

namespace vr::control {

using dataplane::kDropReasonCount;
using dataplane::kEventCount;
using dataplane::ReadCounter;

Router::Totals Router::SumCounters() const {
  Totals t;
  auto add = [&](const dataplane::CoreCounters& c) {
    for (size_t i = 0; i < kEventCount; ++i) t.events[i] += ReadCounter(c.events[i]);
    for (size_t i = 0; i < kDropReasonCount; ++i) t.drops[i] += ReadCounter(c.drops[i]);
  };
  add(control_counters_);
  for (const auto& w : workers_) add(w->counters());
  return t;
}

std::string Router::ShowStats(bool json) const {
  Totals totals = SumCounters();
  const auto& events = totals.events;
  const auto& drops = totals.drops;
  uint64_t overflows = 0;
  for (const auto& q : outqs_) overflows += q->overflows();
  for (const auto& q : inqs_) overflows += q->overflows();

  JsonWriter j;
  std::string text;
  j.BeginObject().Key("ports").BeginArray();
  for (uint16_t id : port_ids_) {
    const auto& ps = ports_[id];
    drivers::PortStats s = ps.port->Stats();
    char mac[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(mac, sizeof(mac), &ps.port->mac());
    j.BeginObject()
        .Field("name", ps.port->name())
        .Field("device", ps.port->devargs())
        .Field("link_up", ps.link_up)
        .Field("mtu", ps.mtu)
        .Field("mac", mac)
        .Field("rx_packets", s.rx_packets)
        .Field("rx_bytes", s.rx_bytes)
        .Field("tx_packets", s.tx_packets)
        .Field("tx_bytes", s.tx_bytes)
        .Field("rx_errors", s.rx_errors)
        .Field("tx_errors", s.tx_errors)
        .Field("rx_missed", s.rx_missed)
        .Field("rx_nombuf", s.rx_nombuf)
        .EndObject();
    absl::StrAppendFormat(&text,
                          "port %s (%s) link %s mtu %u mac %s\n"
                          "    RX: %u packets %u bytes %u errors %u missed %u nombuf\n"
                          "    TX: %u packets %u bytes %u errors\n",
                          ps.port->name(), ps.port->devargs(), ps.link_up ? "up" : "down",
                          ps.mtu, mac, s.rx_packets, s.rx_bytes, s.rx_errors, s.rx_missed,
                          s.rx_nombuf, s.tx_packets, s.tx_bytes, s.tx_errors);
  }
  j.EndArray().Key("workers").BeginArray();
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (const auto& w : workers_) {
    const auto& c = w->counters();
    j.BeginObject()
        .Field("lcore", lcore)
        .Field("rx_packets", ReadCounter(c.rx_packets))
        .Field("tx_packets", ReadCounter(c.tx_packets))
        .Field("busy_polls", ReadCounter(c.busy_polls))
        .Field("idle_polls", ReadCounter(c.idle_polls))
        .Field("busy_cycles", ReadCounter(c.busy_cycles))
        .EndObject();
    absl::StrAppendFormat(&text, "worker %u (lcore %u): rx %u tx %u busy polls %u idle polls %u\n",
                          w->index(), lcore, ReadCounter(c.rx_packets), ReadCounter(c.tx_packets),
                          ReadCounter(c.busy_polls), ReadCounter(c.idle_polls));
    lcore = rte_get_next_lcore(lcore, 1, 0);
  }
  j.EndArray();
  if (knet_ != nullptr) {
    const knet::KnetCounters& k = knet_->counters();
    j.Key("knet")
        .BeginObject()
        .Field("name", knet_->name())
        .Field("state", knet_->attached() ? "up" : "gone")
        .Field("link_lost", k.link_lost)
        .Field("recreated", k.recreated)
        .Field("to_kernel_packets", k.to_kernel_packets)
        .Field("to_kernel_bytes", k.to_kernel_bytes)
        .Field("to_kernel_errors", k.to_kernel_errors)
        .Field("to_kernel_writes", k.to_kernel_writes)
        .Field("to_kernel_gro", k.to_kernel_gro)
        .Field("from_kernel_packets", k.from_kernel_packets)
        .Field("from_kernel_bytes", k.from_kernel_bytes)
        .Field("from_kernel_unsupported", k.from_kernel_unsupported)
        .Field("from_kernel_rate_limited", k.from_kernel_rate_limited)
        .Field("from_kernel_no_nbuf", k.from_kernel_no_nbuf)
        .Field("from_kernel_reads", k.from_kernel_reads)
        .Field("from_kernel_tso", k.from_kernel_tso)
        .Field("from_kernel_bad_offload", k.from_kernel_bad_offload)
        .Field("read_errors", k.read_errors)
        .EndObject();
    absl::StrAppendFormat(&text,
                          "knet %s %s (removed by the kernel %u times, made again %u)\n"
                          "    to kernel: %u packets %u bytes %u errors\n"
                          "    from kernel: %u packets %u bytes %u unsupported %u rate-limited "
                          "%u no nbuf\n",
                          knet_->name(), knet_->attached() ? "up" : "gone", k.link_lost,
                          k.recreated, k.to_kernel_packets, k.to_kernel_bytes,
                          k.to_kernel_errors, k.from_kernel_packets, k.from_kernel_bytes,
                          k.from_kernel_unsupported, k.from_kernel_rate_limited,
                          k.from_kernel_no_nbuf);
  }
  if (mirror_ != nullptr) {
    const RouteMirror::Counters& m = mirror_->counters();
    size_t installed = 0;
    for (const auto& [key, s] : kernel_routes_) installed += s.installed;
    j.Key("route_mirror")
        .BeginObject()
        .Field("routes", uint64_t(kernel_routes_.size()))
        .Field("installed", uint64_t(installed))
        .Field("events", m.events)
        .Field("routes_set", m.routes_set)
        .Field("routes_removed", m.routes_removed)
        .Field("ignored", m.ignored)
        .Field("unsupported", m.unsupported)
        .Field("resyncs", m.resyncs)
        .Field("overflows", m.overflows)
        .Field("errors", m.errors)
        .EndObject();
    absl::StrAppendFormat(&text,
                          "route mirror: %u kernel routes, %u installed; %u events, %u resyncs, "
                          "%u overflows, %u errors\n",
                          kernel_routes_.size(), installed, m.events, m.resyncs, m.overflows,
                          m.errors);
  }
  j.Key("counters").BeginObject();
  text += "counters:\n";
  for (size_t i = 0; i < kEventCount; ++i) {
    j.Field(dataplane::kEventNames[i], events[i]);
    if (events[i]) absl::StrAppendFormat(&text, "    %-28s %u\n", dataplane::kEventNames[i], events[i]);
  }
  j.EndObject().Key("drops").BeginObject();
  text += "drops:\n";
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    j.Field(dataplane::kDropReasonNames[i], drops[i]);
    if (drops[i]) absl::StrAppendFormat(&text, "    %-28s %u\n", dataplane::kDropReasonNames[i], drops[i]);
  }
  j.EndObject()
      .Key("pool").BeginObject()
      .Field("size", pool_->size())
      .Field("in_use", pool_->InUse())
      .EndObject()
      .Key("rings").BeginObject()
      .Field("overflows", overflows)
      .EndObject()
      .Field("neighbours", uint64_t(neighbours_->size()))
      .Field("routes", uint64_t(routes_.size()))
      .EndObject();
  absl::StrAppendFormat(&text, "nbufs: %u in use of %u; ring overflows %u\n", pool_->InUse(),
                        pool_->size(), overflows);
  return json ? j.Take() + "\n" : text;
}

namespace {

// One route as `route show` prints it, whatever its family and origin: JSON fields prefix, type,
// via, port, origin (and for kernel routes protocol, installed, reason), and an ip-route-like
// line. `via` and `port` empty when the route has none.
struct RouteRow {
  std::string prefix, type, via, port, origin;
  std::string protocol;      // kernel routes only
  bool installed = true;     // kernel routes only
  std::string reason;        // why not installed
};

void WriteRoute(JsonWriter& j, std::string& text, const RouteRow& r) {
  j.BeginObject().Field("prefix", r.prefix).Field("type", r.type).Key("via");
  if (!r.via.empty()) {
    j.Value(r.via);
  } else {
    j.Null();
  }
  j.Key("port");
  if (!r.port.empty()) {
    j.Value(r.port);
  } else {
    j.Null();
  }
  j.Field("origin", r.origin);
  if (!r.protocol.empty()) {
    j.Field("protocol", r.protocol).Field("installed", r.installed);
    if (!r.installed) j.Field("reason", r.reason);
  }
  j.EndObject();
  std::string line;
  if (r.type == "forward") {
    line = absl::StrCat(r.prefix, " via ", r.via, r.port.empty() ? "" : " dev ", r.port);
  } else if (r.type == "connected") {
    line = absl::StrCat(r.prefix, " dev ", r.port, " proto kernel scope link");
  } else if (r.type == "local" || r.type == "broadcast") {
    line = absl::StrCat(r.type, " ", r.prefix, " dev ", r.port);
  } else {
    line = absl::StrCat(r.type, " ", r.prefix);
  }
  if (!r.protocol.empty()) absl::StrAppend(&line, " proto ", r.protocol);
  if (!r.installed) absl::StrAppend(&line, " (not installed: ", r.reason, ")");
  text += line + "\n";
}

}  // namespace

std::string Router::ShowRoutes(bool json) const {
  JsonWriter j;
  std::string text;
  j.BeginArray();
  auto port_of = [this](int vif) { return vif >= 0 ? vifs_->Name(uint32_t(vif)) : std::string(); };
  auto show = [&](const RouteEntry& r) {
    WriteRoute(j, text,
               {absl::StrFormat("%s/%u", config::FormatIp4(r.prefix.addr), r.prefix.len), r.type,
                r.type == "forward" ? config::FormatIp4(r.via) : "", port_of(r.vif),
                IsUserRoute(r) ? "config" : "interface"});
  };
  for (const auto& r : routes_) show(r);
  ForEachTemplateRoute(show);
  auto show6 = [&](const Route6Entry& r) {
    bool user = r.type == "forward" || r.type == "blackhole" || r.type == "unreachable";
    WriteRoute(j, text,
               {absl::StrFormat("%s/%u", config::FormatIp6(r.prefix.addr), r.prefix.len), r.type,
                r.type == "forward" ? config::FormatIp6(r.via) : "", port_of(r.vif),
                user ? "config" : "interface"});
  };
  for (const Route6Entry& r : routes6_) show6(r);
  ForEachTemplateRoute6(show6);
  // Kernel routes, by prefix; those not installed say why (shadowed by the config, a gateway
  // outside every subnet), as `ip route` would show a dead route.
  std::vector<const KernelRouteState*> kernel;
  kernel.reserve(kernel_routes_.size());
  for (const auto& [key, s] : kernel_routes_) kernel.push_back(&s);
  // IPv4 first, then IPv6, each by prefix.
  std::sort(kernel.begin(), kernel.end(), [](const KernelRouteState* a, const KernelRouteState* b) {
    return std::tuple(a->route.v6, a->route.prefix.addr, a->route.prefix.len,
                      a->route.prefix6.addr, a->route.prefix6.len) <
           std::tuple(b->route.v6, b->route.prefix.addr, b->route.prefix.len,
                      b->route.prefix6.addr, b->route.prefix6.len);
  });
  for (const KernelRouteState* s : kernel) {
    const KernelRoute& r = s->route;
    bool forward = r.type == KernelRoute::Type::kForward;
    bool has_gw = r.v6 ? r.gateway6 != config::Ip6Addr{} : r.gateway != 0;
    std::string via, prefix;
    int vif = -1;
    if (r.v6) {
      prefix = absl::StrFormat("%s/%u", config::FormatIp6(r.prefix6.addr), r.prefix6.len);
      if (forward && has_gw) via = config::FormatIp6(r.gateway6);
      // A link-local gateway's interface is the one the route holds a reference on, if any.
      vif = s->gateway_vif >= 0 ? s->gateway_vif
            : has_gw && !config::IsLinkLocal6(r.gateway6) ? VifForAddress6(r.gateway6)
                                                          : -1;
    } else {
      prefix = absl::StrFormat("%s/%u", config::FormatIp4(r.prefix.addr), r.prefix.len);
      if (forward && has_gw) via = config::FormatIp4(r.gateway);
      vif = has_gw ? VifForAddress(r.gateway) : -1;
    }
    RouteRow row{prefix,
                 forward ? "forward"
                 : r.type == KernelRoute::Type::kBlackhole ? "blackhole"
                                                           : "unreachable",
                 via,
                 port_of(vif),
                 "kernel",
                 config::RouteProtocolName(r.protocol),
                 s->installed,
                 s->why};
    WriteRoute(j, text, row);
  }
  j.EndArray();
  return json ? j.Take() + "\n" : text;
}

std::string Router::ShowNeighbours(bool json) const {
  JsonWriter j;
  std::string text;
  j.BeginArray();
  for (const Neighbour* n : neighbours_->List()) {
    bool has_mac = n->state != NeighState::kIncomplete && n->state != NeighState::kFailed;
    char mac[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(mac, sizeof(mac), &n->mac);
    std::string port = vifs_->Name(n->vif);
    j.BeginObject().Field("ip", config::FormatIp4(n->ip)).Field("port", port).Key("mac");
    if (has_mac) {
      j.Value(mac);
    } else {
      j.Null();
    }
    j.Field("state", NeighStateName(n->state)).Field("held", uint64_t(n->held.size())).EndObject();
    std::string state(NeighStateName(n->state));
    for (auto& ch : state) ch = toupper(ch);
    absl::StrAppendFormat(&text, "%s dev %s%s %s\n", config::FormatIp4(n->ip), port,
                          has_mac ? absl::StrCat(" lladdr ", mac) : "", state);
  }
  for (const Neighbour6* n : ndp_->List()) {
    bool has_mac = n->state != NeighState::kIncomplete && n->state != NeighState::kFailed;
    char mac[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(mac, sizeof(mac), &n->mac);
    std::string port = vifs_->Name(n->vif);
    j.BeginObject().Field("ip", config::FormatIp6(n->ip)).Field("port", port).Key("mac");
    if (has_mac) {
      j.Value(mac);
    } else {
      j.Null();
    }
    j.Field("state", NeighStateName(n->state))
        .Field("held", uint64_t(n->held.size()))
        .Field("router", n->router)
        .EndObject();
    std::string state(NeighStateName(n->state));
    for (auto& ch : state) ch = toupper(ch);
    absl::StrAppendFormat(&text, "%s dev %s%s%s %s\n", config::FormatIp6(n->ip), port,
                          has_mac ? absl::StrCat(" lladdr ", mac) : "", n->router ? " router" : "",
                          state);
  }
  j.EndArray();
  return json ? j.Take() + "\n" : text;
}

}  // namespace vr::control
