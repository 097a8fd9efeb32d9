// Port bring-up against what the device says it can do (vdevs lack most offloads), with every
// failure reported as a status that names the port and the DPDK error.
#include "drivers/port.h"

#include <rte_errno.h>

#include "absl/strings/str_format.h"
#include "drivers/eal.h"
#include "drivers/log.h"

namespace vr::drivers {
namespace {

absl::Status PortError(const std::string& name, const char* what, int rc) {
  return absl::InternalError(
      absl::StrFormat("port %s: %s failed: %s", name, what, rte_strerror(rc < 0 ? -rc : rc)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Port>> Port::Open(const PortOptions& opts) {
  auto port = std::unique_ptr<Port>(new Port());
  port->name_ = opts.name;
  port->devargs_ = opts.devargs;
  std::string dev = DeviceName(opts.devargs);
  if (rte_eth_dev_get_port_by_name(dev.c_str(), &port->id_) != 0) {
    return absl::NotFoundError(absl::StrFormat(
        "port %s: no DPDK device named \"%s\" (from devargs \"%s\"); is the driver present and "
        "the interface there?",
        opts.name, dev, opts.devargs));
  }
  uint16_t id = port->id_;
  rte_eth_dev_info info;
  if (int rc = rte_eth_dev_info_get(id, &info); rc != 0) return PortError(opts.name, "info", rc);
  if (opts.queues > info.max_rx_queues || opts.queues > info.max_tx_queues) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "port %s: %u workers need %u queues each way; the device has %u RX and %u TX", opts.name,
        opts.queues, opts.queues, info.max_rx_queues, info.max_tx_queues));
  }
  rte_eth_conf conf{};
  if (opts.queues > 1 && info.flow_type_rss_offloads != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
    port->rss_ = true;
  }
  // Multi-segment TX carries fragments (a header nbuf chained to the original's data).
  conf.txmode.offloads = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  if (int rc = rte_eth_dev_configure(id, opts.queues, opts.queues, &conf); rc != 0) {
    return PortError(opts.name, "configure", rc);
  }
  uint16_t rxd = opts.rx_desc, txd = opts.tx_desc;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd); rc != 0) {
    return PortError(opts.name, "descriptor sizing", rc);
  }
  int socket = rte_eth_dev_socket_id(id);
  if (socket < 0) socket = 0;
  for (uint16_t q = 0; q < opts.queues; ++q) {
    if (int rc = rte_eth_rx_queue_setup(id, q, rxd, socket, nullptr, opts.pool); rc != 0) {
      return PortError(opts.name, "RX queue setup", rc);
    }
    if (int rc = rte_eth_tx_queue_setup(id, q, txd, socket, nullptr); rc != 0) {
      return PortError(opts.name, "TX queue setup", rc);
    }
  }
  // The device MTU is best effort (a pcap or null vdev has none); the router enforces its own.
  if (int rc = rte_eth_dev_set_mtu(id, opts.mtu); rc != 0 && rc != -ENOTSUP) {
    VR_LOG_WARNING("port %s: cannot set device MTU %u: %s", opts.name, opts.mtu, rte_strerror(-rc));
  }
  if (opts.mac != nullptr) {
    // Not every PMD can change its MAC; the port then runs promiscuous and filters in software.
    rte_eth_dev_default_mac_addr_set(id, const_cast<rte_ether_addr*>(opts.mac));
    port->mac_ = *opts.mac;
  } else {
    rte_eth_macaddr_get(id, &port->mac_);
  }
  return port;
}

absl::Status Port::Start() {
  if (int rc = rte_eth_dev_start(id_); rc != 0) return PortError(name_, "start", rc);
  started_ = true;
  // The router owns the MAC filter (eth_input.cc), so it needs to see every frame.
  rte_eth_promiscuous_enable(id_);
  rte_eth_stats_reset(id_);
  return absl::OkStatus();
}

Port::~Port() {
  if (started_) rte_eth_dev_stop(id_);
  rte_eth_dev_close(id_);
}

bool Port::LinkUp() const {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(id_, &link) != 0) return false;
  return link.link_status == RTE_ETH_LINK_UP;
}

std::string Port::LinkDescription() const {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(id_, &link) != 0) return "unknown";
  char text[RTE_ETH_LINK_MAX_STR_LEN];
  rte_eth_link_to_str(text, sizeof(text), &link);
  return text;
}

PortStats Port::Stats() const {
  rte_eth_stats s{};
  rte_eth_stats_get(id_, &s);
  return PortStats{s.ipackets, s.ibytes, s.opackets, s.obytes,
                   s.ierrors,  s.oerrors, s.imissed, s.rx_nombuf};
}

}  // namespace vr::drivers
