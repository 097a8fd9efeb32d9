// A DPDK ethdev port opened from a devargs string: one RX and one TX queue per worker, RSS when
// there are several, promiscuous mode, link state and stats. Stopped and closed on destruction.
#pragma once

#include <rte_ethdev.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace vr::drivers {

struct PortOptions {
  std::string name;     // operator's name
  std::string devargs;  // as in the config
  uint16_t queues = 1;  // = workers
  uint32_t mtu = 1500;
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  rte_mempool* pool = nullptr;
  const rte_ether_addr* mac = nullptr;  // null: keep the device's own
};

struct PortStats {
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  uint64_t rx_errors = 0, tx_errors = 0, rx_missed = 0, rx_nombuf = 0;
};

class Port {
 public:
  static absl::StatusOr<std::unique_ptr<Port>> Open(const PortOptions& opts);
  ~Port();
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  absl::Status Start();
  uint16_t id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& devargs() const { return devargs_; }
  const rte_ether_addr& mac() const { return mac_; }
  bool rss() const { return rss_; }

  // Control lcore only: these may call into the kernel (af_packet, tap).
  bool LinkUp() const;
  std::string LinkDescription() const;
  PortStats Stats() const;

 private:
  Port() = default;
  uint16_t id_ = 0;
  std::string name_, devargs_;
  rte_ether_addr mac_{};
  bool started_ = false;
  bool rss_ = false;
};

}  // namespace vr::drivers
