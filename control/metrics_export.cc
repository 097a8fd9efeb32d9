// What /metrics says: every series, built on the control lcore from per-core counters summed at
// read time, port statistics and control's own tables, then handed to the endpoint whole.
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "control/metrics.h"
#include "control/router.h"

namespace vr::control {

using dataplane::ReadCounter;

void Router::PublishInterfaceDirectory() {
  // Names of template members are computed, not stored: the directory is rebuilt only when a
  // vif comes, goes or moves, a reload may have renamed groups, or the cap changed.
  std::tuple<uint64_t, uint64_t, uint32_t> key{vifs_->changes(), reloads_ok_,
                                                config_.metrics.interfaces};
  if (key == interface_directory_key_) return;
  interface_directory_key_ = key;
  auto dir = std::make_shared<InterfaceMetrics::Directory>();
  const uint32_t cap = config_.metrics.interfaces;
  dir->entries.reserve(std::min<uint64_t>(cap, vifs_->size()));
  vifs_->ForEach([&](uint32_t id) {
    if (dir->entries.size() == cap) return false;
    const VifRecord* r = vifs_->record(id);
    uint32_t group = r != nullptr ? r->group : vifs_->BlockOf(id)->group;
    dir->entries.push_back({id, vifs_->Name(id), config::GroupName(config_, group)});
    return true;
  });
  dir->omitted = vifs_->size() - dir->entries.size();
  interface_metrics_->Publish(std::move(dir));
}

namespace {

void Add(dataplane::VifCounters* to, const dataplane::VifCounters& c, int64_t sign) {
  to->rx_packets += sign * c.rx_packets;
  to->rx_bytes += sign * c.rx_bytes;
  to->tx_packets += sign * c.tx_packets;
  to->tx_bytes += sign * c.tx_bytes;
  to->drops += sign * c.drops;
  to->impaired += sign * c.impaired;
}

}  // namespace

dataplane::VifCounters Router::SlotCounters(uint32_t slot) const {
  dataplane::VifCounters sum;
  for (const auto& w : workers_) {
    const dataplane::VifCounters& c = w->group_counters(slot);
    dataplane::VifCounters read{ReadCounter(c.rx_packets), ReadCounter(c.rx_bytes),
                                ReadCounter(c.tx_packets), ReadCounter(c.tx_bytes),
                                ReadCounter(c.drops),      ReadCounter(c.impaired)};
    Add(&sum, read, 1);
  }
  if (auto it = slot_baseline_.find(slot); it != slot_baseline_.end()) Add(&sum, it->second, -1);
  return sum;
}

dataplane::VifCounters Router::GroupCounters(uint32_t group) const {
  dataplane::VifCounters sum;
  if (auto it = group_kept_.find(group); it != group_kept_.end()) sum = it->second;
  if (uint32_t slot = vifs_->GroupSlot(group); slot != ~0u) Add(&sum, SlotCounters(slot), 1);
  return sum;
}

void Router::ReleaseGroupSlot(uint32_t group, uint32_t slot) {
  // Packets a worker was still counting against the slot as it was freed land in the next
  // group's first reading: a handful, and only at the moment of the change.
  dataplane::VifCounters counted = SlotCounters(slot);
  Add(&group_kept_[group], counted, 1);
  Add(&slot_baseline_[slot], counted, 1);
}

void Router::PublishMetrics() {
  if (metrics_ == nullptr) return;
  if (interface_metrics_ != nullptr) PublishInterfaceDirectory();
  MetricsBuilder b;
  b.Gauge("vrouter_build_info", "vrouter version; always 1").Add({{"version", VR_VERSION}}, 1);

  // Ports, and groups: a group counts what its interfaces (a port's vif: its untagged traffic;
  // each sub-interface its own) did while they were its members, summed over workers.
  struct Sums {
    double rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, drops = 0, impaired = 0;
  };
  std::map<std::string, Sums> groups;
  for (const auto& g : config_.groups) groups[config::GroupName(config_, g.id)];
  std::vector<std::pair<MetricsBuilder::Labels, drivers::PortStats>> stats;
  for (uint16_t id : port_ids_) {
    const PortState& ps = ports_[id];
    std::string group = config::GroupName(config_, vifs_->record(id)->group);
    stats.push_back({{{"port", ps.port->name()}, {"group", group}}, ps.port->Stats()});
  }
  auto add_group = [&](uint32_t group) {
    dataplane::VifCounters c = GroupCounters(group);
    Sums& g = groups[config::GroupName(config_, group)];
    g.rx_packets = double(c.rx_packets);
    g.rx_bytes = double(c.rx_bytes);
    g.tx_packets = double(c.tx_packets);
    g.tx_bytes = double(c.tx_bytes);
    g.drops = double(c.drops);
    g.impaired = double(c.impaired);
  };
  for (const auto& g : config_.groups) add_group(g.id);
  for (const auto& [id, r] : vifs_->records()) add_group(r.group);
  for (const auto& [first, blk] : vifs_->blocks()) add_group(blk.group);
  auto per_port = [&](const char* name, const char* help, auto field) {
    b.Counter(name, help);
    for (const auto& [labels, s] : stats) b.Add(labels, double(field(s)));
  };
  using S = drivers::PortStats;
  per_port("vrouter_port_receive_packets_total", "Packets received by the port",
           [](const S& s) { return s.rx_packets; });
  per_port("vrouter_port_receive_bytes_total", "Bytes received by the port",
           [](const S& s) { return s.rx_bytes; });
  per_port("vrouter_port_transmit_packets_total", "Packets sent by the port",
           [](const S& s) { return s.tx_packets; });
  per_port("vrouter_port_transmit_bytes_total", "Bytes sent by the port",
           [](const S& s) { return s.tx_bytes; });
  per_port("vrouter_port_receive_errors_total", "Receive errors the device reports",
           [](const S& s) { return s.rx_errors; });
  per_port("vrouter_port_transmit_errors_total", "Transmit errors the device reports",
           [](const S& s) { return s.tx_errors; });
  per_port("vrouter_port_receive_missed_total", "Packets the device dropped: RX queue full",
           [](const S& s) { return s.rx_missed; });
  per_port("vrouter_port_receive_nobuf_total", "Packets the device dropped: no nbuf free",
           [](const S& s) { return s.rx_nombuf; });
  b.Gauge("vrouter_port_up", "1 when the port has a carrier");
  for (size_t i = 0; i < port_ids_.size(); ++i) b.Add(stats[i].first, ports_[port_ids_[i]].link_up);
  b.Gauge("vrouter_port_admin_up", "1 when the port is set up");
  for (size_t i = 0; i < port_ids_.size(); ++i) b.Add(stats[i].first, ports_[port_ids_[i]].up);
  b.Gauge("vrouter_port_mtu_bytes", "IPv4 MTU of the port");
  for (size_t i = 0; i < port_ids_.size(); ++i) b.Add(stats[i].first, ports_[port_ids_[i]].mtu);

  auto per_group = [&](const char* name, const char* help, double Sums::*field) {
    b.Counter(name, help);
    for (const auto& [g, s] : groups) b.Add({{"group", g}}, s.*field);
  };
  per_group("vrouter_group_receive_packets_total", "Packets received by the group's interfaces",
            &Sums::rx_packets);
  per_group("vrouter_group_receive_bytes_total", "Bytes received by the group's interfaces",
            &Sums::rx_bytes);
  per_group("vrouter_group_transmit_packets_total", "Packets sent by the group's interfaces",
            &Sums::tx_packets);
  per_group("vrouter_group_transmit_bytes_total", "Bytes sent by the group's interfaces",
            &Sums::tx_bytes);
  per_group("vrouter_group_drop_packets_total",
            "Packets received by or routed to the group's interfaces and dropped", &Sums::drops);
  per_group("vrouter_group_impairment_drop_packets_total",
            "Of those, packets the group's impairment dropped on purpose", &Sums::impaired);
  b.Gauge("vrouter_group_interfaces", "Interfaces (ports and sub-interfaces) in the group");
  {
    std::map<std::string, double> members;
    for (const auto& [id, r] : vifs_->records()) members[config::GroupName(config_, r.group)]++;
    for (const auto& [first, blk] : vifs_->blocks()) {
      members[config::GroupName(config_, blk.group)] += blk.count;
    }
    for (const auto& [g, s] : groups) b.Add({{"group", g}}, members[g]);
  }

  // Workers.
  double hz = double(rte_get_tsc_hz());
  auto per_worker = [&](const char* name, const char* help, auto field) {
    b.Counter(name, help);
    for (const auto& w : workers_) {
      b.Add({{"worker", absl::StrCat(w->index())}}, field(w->counters()));
    }
  };
  using C = dataplane::CoreCounters;
  per_worker("vrouter_worker_busy_polls_total", "Loop iterations that found work",
             [](const C& c) { return double(ReadCounter(c.busy_polls)); });
  per_worker("vrouter_worker_idle_polls_total", "Loop iterations that found nothing",
             [](const C& c) { return double(ReadCounter(c.idle_polls)); });
  per_worker("vrouter_worker_busy_seconds_total", "Time spent in iterations that found work",
             [hz](const C& c) { return double(ReadCounter(c.busy_cycles)) / hz; });
  per_worker("vrouter_worker_receive_packets_total", "Packets the worker received",
             [](const C& c) { return double(ReadCounter(c.rx_packets)); });
  per_worker("vrouter_worker_transmit_packets_total", "Packets the worker sent",
             [](const C& c) { return double(ReadCounter(c.tx_packets)); });

  b.Gauge("vrouter_nbuf_pool_size", "Packet buffers in the pool").Add({}, pool_->size());
  b.Gauge("vrouter_nbuf_pool_in_use", "Packet buffers not in the pool").Add({}, pool_->InUse());
  b.Gauge("vrouter_ring_depth", "Entries waiting in a worker's InQ or OutQ");
  for (size_t w = 0; w < workers_.size(); ++w) {
    b.Add({{"ring", "inq"}, {"worker", absl::StrCat(w)}}, inqs_[w]->Depth());
    b.Add({{"ring", "outq"}, {"worker", absl::StrCat(w)}}, outqs_[w]->Depth());
  }
  b.Counter("vrouter_ring_overflows_total", "Entries a full InQ or OutQ refused");
  for (size_t w = 0; w < workers_.size(); ++w) {
    b.Add({{"ring", "inq"}, {"worker", absl::StrCat(w)}}, double(inqs_[w]->overflows()));
    b.Add({{"ring", "outq"}, {"worker", absl::StrCat(w)}}, double(outqs_[w]->overflows()));
  }

  Totals t = SumCounters();
  b.Counter("vrouter_drop_packets_total", "Packets dropped, by reason");
  for (size_t i = 0; i < dataplane::kDropReasonCount; ++i) {
    b.Add({{"reason", std::string(dataplane::kDropReasonNames[i])}}, double(t.drops[i]));
  }
  b.Counter("vrouter_events_total", "Things the router did, by kind");
  for (size_t i = 0; i < dataplane::kEventCount; ++i) {
    b.Add({{"event", std::string(dataplane::kEventNames[i])}}, double(t.events[i]));
  }

  std::map<std::string, double> origins = {
      {"connected", 0}, {"local", 0}, {"broadcast", 0}, {"static", 0}, {"kernel", 0}};
  for (const auto& [key, s] : kernel_routes_) origins["kernel"] += s.installed ? 1 : 0;
  for (const auto& r : routes_) origins[IsUserRoute(r) ? "static" : r.type] += 1;
  for (const auto& [first, blk] : vifs_->blocks()) {
    double n = double(blk.nexthops.size());
    origins["connected"] += n;
    origins["local"] += n;
    if (blk.tmpl.address && blk.tmpl.address->len < 31) origins["broadcast"] += n;
  }
  b.Gauge("vrouter_fib_routes",
          "Routes installed from the config, interface addresses and the kernel (knet's mirror), "
          "by address family and origin "
          "(the /32s ARP adds for resolved hosts are counted in vrouter_neighbours)");
  for (const auto& [origin, n] : origins) b.Add({{"family", "ipv4"}, {"origin", origin}}, n);
  std::map<std::string, double> origins6 = {{"connected", 0}, {"local", 0}, {"static", 0}};
  for (const auto& r : routes6_) {
    bool user = r.type == "forward" || r.type == "blackhole" || r.type == "unreachable";
    origins6[user ? "static" : r.type] += 1;
  }
  for (const auto& [origin, n] : origins6) b.Add({{"family", "ipv6"}, {"origin", origin}}, n);

  std::map<std::string, double> states;
  for (NeighState s : {NeighState::kIncomplete, NeighState::kReachable, NeighState::kStale,
                       NeighState::kProbe, NeighState::kFailed, NeighState::kPermanent}) {
    states[std::string(NeighStateName(s))] = 0;
  }
  std::map<std::string, double> states6 = states;
  states6[std::string(NeighStateName(NeighState::kDelay))] = 0;
  for (const Neighbour* n : neighbours_->List()) states[std::string(NeighStateName(n->state))] += 1;
  for (const Neighbour6* n : ndp_->List()) states6[std::string(NeighStateName(n->state))] += 1;
  b.Gauge("vrouter_neighbours", "Neighbour entries (ARP for IPv4, NDP for IPv6), by state");
  for (const auto& [state, n] : states) b.Add({{"family", "ipv4"}, {"state", state}}, n);
  for (const auto& [state, n] : states6) b.Add({{"family", "ipv6"}, {"state", state}}, n);

  // The kernel path, both ways. Served with zeros when knet is off, so dashboards and alerts
  // need no special case.
  knet::KnetCounters k = knet_ != nullptr ? knet_->counters() : knet::KnetCounters{};
  b.Counter("vrouter_knet_packets_total", "Frames through knet, by direction")
      .Add({{"direction", "to_kernel"}}, double(k.to_kernel_packets))
      .Add({{"direction", "from_kernel"}}, double(k.from_kernel_packets));
  b.Counter("vrouter_knet_bytes_total", "Bytes through knet, by direction")
      .Add({{"direction", "to_kernel"}}, double(k.to_kernel_bytes))
      .Add({{"direction", "from_kernel"}}, double(k.from_kernel_bytes));
  b.Counter("vrouter_knet_drop_packets_total",
            "Frames knet did not pass, by reason (rate limits to the kernel are "
            "vrouter_drop_packets_total{reason=\"knet_rate_limited\"})")
      .Add({{"reason", "write_failed"}}, double(k.to_kernel_errors))
      .Add({{"reason", "unsupported"}}, double(k.from_kernel_unsupported))
      .Add({{"reason", "rate_limited"}}, double(k.from_kernel_rate_limited))
      .Add({{"reason", "no_nbuf"}}, double(k.from_kernel_no_nbuf));

  RouteMirror::Counters mc = mirror_ != nullptr ? mirror_->counters() : RouteMirror::Counters{};
  b.Counter("vrouter_netlink_events_total",
            "Route, link and address notifications the kernel route mirror handled")
      .Add({}, double(mc.events));
  b.Counter("vrouter_netlink_resyncs_total",
            "Full dumps of the kernel routing table (at start, after an overflow or a flush)")
      .Add({}, double(mc.resyncs));
  b.Counter("vrouter_netlink_overflows_total",
            "Times the kernel dropped notifications for the mirror (ENOBUFS)")
      .Add({}, double(mc.overflows));
  b.Gauge("vrouter_netlink_routes", "Routes mirrored from the kernel, by whether the FIB has them")
      .Add({{"state", "installed"}}, origins["kernel"])
      .Add({{"state", "not_installed"}}, double(kernel_routes_.size()) - origins["kernel"]);

  b.Counter("vrouter_config_reloads_total", "Configuration reloads, by result")
      .Add({{"result", "success"}}, double(reloads_ok_))
      .Add({{"result", "failure"}}, double(reloads_failed_));

  metrics_->Publish(b.Take());
}

}  // namespace vr::control
