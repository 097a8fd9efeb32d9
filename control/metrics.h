// The Prometheus endpoint: prometheus-cpp's Exposer serving what the control lcore last built.
// Scrapes run on the Exposer's threads and only copy that snapshot: they never read router state.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace vr::control {

// Families under construction, in exposition order. Labels are given as name/value pairs.
class MetricsBuilder {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  MetricsBuilder& Counter(const std::string& name, const std::string& help);
  MetricsBuilder& Gauge(const std::string& name, const std::string& help);
  MetricsBuilder& Add(const Labels& labels, double value);
  std::vector<prometheus::MetricFamily> Take() { return std::move(families_); }

 private:
  std::vector<prometheus::MetricFamily> families_;
};

class MetricsServer {
 public:
  // Listens on HOST:PORT and serves /metrics. An address in use or a bad one is an error.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& listen);
  ~MetricsServer();

  // Control lcore: replaces what scrapes see.
  void Publish(std::vector<prometheus::MetricFamily> families);
  // Also serves `collectable` on /metrics/interfaces, for as long as this server lives.
  void ServeInterfaces(std::shared_ptr<prometheus::Collectable> collectable);
  uint64_t scrapes() const;

 private:
  class Snapshot : public prometheus::Collectable {
   public:
    std::vector<prometheus::MetricFamily> Collect() const override;
    void Set(std::vector<prometheus::MetricFamily> families);
    uint64_t scrapes() const;

   private:
    mutable absl::Mutex mu_;
    std::vector<prometheus::MetricFamily> families_ ABSL_GUARDED_BY(mu_);
    mutable uint64_t scrapes_ ABSL_GUARDED_BY(mu_) = 0;
  };

  MetricsServer() = default;
  std::shared_ptr<Snapshot> snapshot_ = std::make_shared<Snapshot>();
  std::shared_ptr<prometheus::Collectable> interfaces_;
  std::unique_ptr<prometheus::Exposer> exposer_;  // last: its thread stops before the rest goes
};

}  // namespace vr::control
