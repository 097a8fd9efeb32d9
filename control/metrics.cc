// Prometheus endpoint and the builder the router fills its snapshot with; prometheus-cpp's
// exceptions stop here and become statuses.
#include "control/metrics.h"

#include <exception>

namespace vr::control {

MetricsBuilder& MetricsBuilder::Counter(const std::string& name, const std::string& help) {
  families_.push_back({name, help, prometheus::MetricType::Counter, {}});
  return *this;
}

MetricsBuilder& MetricsBuilder::Gauge(const std::string& name, const std::string& help) {
  families_.push_back({name, help, prometheus::MetricType::Gauge, {}});
  return *this;
}

MetricsBuilder& MetricsBuilder::Add(const Labels& labels, double value) {
  prometheus::MetricFamily& f = families_.back();
  prometheus::ClientMetric m;
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  if (f.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return *this;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen) {
  auto server = std::unique_ptr<MetricsServer>(new MetricsServer());
  try {
    // One serving thread: scrapes are rare and each only copies the snapshot.
    server->exposer_ = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError("metrics: cannot listen on " + listen + ": " + e.what());
  } catch (...) {
    return absl::FailedPreconditionError("metrics: cannot listen on " + listen);
  }
  server->exposer_->RegisterCollectable(server->snapshot_, "/metrics");
  return server;
}

MetricsServer::~MetricsServer() = default;

void MetricsServer::Publish(std::vector<prometheus::MetricFamily> families) {
  snapshot_->Set(std::move(families));
}

void MetricsServer::ServeInterfaces(std::shared_ptr<prometheus::Collectable> collectable) {
  interfaces_ = std::move(collectable);
  exposer_->RegisterCollectable(interfaces_, "/metrics/interfaces");
}

uint64_t MetricsServer::scrapes() const { return snapshot_->scrapes(); }

std::vector<prometheus::MetricFamily> MetricsServer::Snapshot::Collect() const {
  absl::MutexLock lock(&mu_);
  ++scrapes_;
  return families_;
}

void MetricsServer::Snapshot::Set(std::vector<prometheus::MetricFamily> families) {
  absl::MutexLock lock(&mu_);
  families_ = std::move(families);
}

uint64_t MetricsServer::Snapshot::scrapes() const {
  absl::MutexLock lock(&mu_);
  return scrapes_;
}

}  // namespace vr::control
