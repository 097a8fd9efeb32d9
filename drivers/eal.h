// The DPDK Environment Abstraction Layer as an RAII object: initialised once from flags and the
// config, cleaned up on destruction so no hugepage file or runtime directory outlives the process.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vr::drivers {

struct EalOptions {
  uint32_t workers = 1;               // lcores 1..workers are workers; lcore 0 is control
  std::vector<std::string> devices;   // devargs: vdevs and PCI addresses to allow
  std::string extra_args;             // operator's own EAL arguments, space separated
  uint64_t memory_mb = 640;           // used only without hugepages
  bool force_no_huge = false;
};

class Eal {
 public:
  static absl::StatusOr<std::unique_ptr<Eal>> Init(const EalOptions& opts);
  ~Eal();
  Eal(const Eal&) = delete;
  Eal& operator=(const Eal&) = delete;

  bool hugepages() const { return hugepages_; }
  const std::vector<std::string>& args() const { return args_; }

 private:
  Eal() = default;
  bool hugepages_ = true;
  std::vector<std::string> args_;
  std::string runtime_dir_;
};

// Free 2 MB hugepages right now, from sysfs (0 when the machine has none).
uint64_t FreeHugepages();

// "net_pcap0,rx_pcap=x" -> "net_pcap0"; a PCI address stays as it is.
std::string DeviceName(const std::string& devargs);
bool IsVdev(const std::string& devargs);

}  // namespace vr::drivers
