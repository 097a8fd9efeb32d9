// Per-vif series for /metrics/interfaces: built at scrape time from a directory the control lcore
// publishes (which vifs, their names and groups) and the workers' per-core counters, read live.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "dataplane/worker.h"

namespace vr::control {

class InterfaceMetrics : public prometheus::Collectable {
 public:
  struct Entry {
    uint32_t vif;
    std::string name;
    std::string group;
  };
  // The vifs a scrape reports, at most the configured cap, and how many the cap left out.
  struct Directory {
    std::vector<Entry> entries;
    uint64_t omitted = 0;
  };

  // `workers` outlive this object: the router stops the endpoint before its workers.
  explicit InterfaceMetrics(std::vector<const dataplane::Worker*> workers)
      : workers_(std::move(workers)) {}

  // Control lcore: replaces the directory whole; a scrape in progress keeps the one it took.
  void Publish(std::shared_ptr<const Directory> directory);
  // The endpoint's thread.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::vector<const dataplane::Worker*> workers_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Directory> directory_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<Directory>();
};

}  // namespace vr::control
