// The per-vif families: one pass over the directory per scrape, each counter summed over the
// workers' plain per-core copies with relaxed loads, never touching the packet path.
#include "control/interface_metrics.h"

namespace vr::control {

using dataplane::VifCounters;

void InterfaceMetrics::Publish(std::shared_ptr<const Directory> directory) {
  absl::MutexLock lock(&mu_);
  directory_ = std::move(directory);
}

std::vector<prometheus::MetricFamily> InterfaceMetrics::Collect() const {
  std::shared_ptr<const Directory> dir;
  {
    absl::MutexLock lock(&mu_);
    dir = directory_;
  }
  struct Series {
    const char* name;
    const char* help;
    uint64_t VifCounters::*field;
  };
  static constexpr Series kSeries[] = {
      {"vrouter_interface_receive_packets_total", "Packets received on the interface",
       &VifCounters::rx_packets},
      {"vrouter_interface_receive_bytes_total", "Bytes received on the interface",
       &VifCounters::rx_bytes},
      {"vrouter_interface_transmit_packets_total", "Packets sent from the interface",
       &VifCounters::tx_packets},
      {"vrouter_interface_transmit_bytes_total", "Bytes sent from the interface",
       &VifCounters::tx_bytes},
      {"vrouter_interface_drop_packets_total",
       "Packets received by or routed to the interface, then dropped", &VifCounters::drops},
      {"vrouter_interface_impairment_drop_packets_total",
       "Packets the interface's impairment dropped (also in drop_packets_total)",
       &VifCounters::impaired},
  };
  // Each worker's counters of a vif read once (one snapshot, all kinds), then laid out by
  // series.
  std::vector<VifCounters> sums(dir->entries.size());
  for (size_t i = 0; i < dir->entries.size(); ++i) {
    for (const dataplane::Worker* w : workers_) {
      VifCounters c = w->vif_counters(dir->entries[i].vif);
      for (const Series& s : kSeries) sums[i].*s.field += c.*s.field;
    }
  }
  std::vector<prometheus::MetricFamily> families;
  families.reserve(std::size(kSeries) + 2);
  for (const Series& s : kSeries) {
    prometheus::MetricFamily f{s.name, s.help, prometheus::MetricType::Counter, {}};
    f.metric.resize(dir->entries.size());
    for (size_t i = 0; i < dir->entries.size(); ++i) {
      const Entry& e = dir->entries[i];
      prometheus::ClientMetric& m = f.metric[i];
      m.label = {{"interface", e.name}, {"group", e.group}};
      m.counter.value = double(sums[i].*s.field);
    }
    families.push_back(std::move(f));
  }
  auto gauge = [&](const char* name, const char* help, double v) {
    prometheus::MetricFamily f{name, help, prometheus::MetricType::Gauge, {}};
    f.metric.emplace_back();
    f.metric.back().gauge.value = v;
    families.push_back(std::move(f));
  };
  gauge("vrouter_interfaces_exported", "Interfaces this path reports (metrics.interfaces caps it)",
        double(dir->entries.size()));
  gauge("vrouter_interfaces_omitted", "Interfaces left out by the cap (metrics.interfaces)",
        double(dir->omitted));
  return families;
}

}  // namespace vr::control
