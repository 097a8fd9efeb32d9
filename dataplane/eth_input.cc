// Ethernet input: checks the frame is for this port and dispatches by EtherType. ARP goes to the
// control lcore whole; IPv4 continues here; everything else is dropped and counted by reason.
#include <rte_ether.h>

#include "dataplane/worker.h"

namespace vr::dataplane {

void Worker::EthInput(uint16_t port, rte_mbuf* m) {
  if (unlikely(rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr))) {
    return Drop(m, DropReason::kEthTruncated);
  }
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  // Ports run promiscuous (vdevs cannot always filter by MAC), so the filter is ours.
  bool group = rte_is_multicast_ether_addr(&eth->dst_addr);
  if (!group && !rte_is_same_ether_addr(&eth->dst_addr, &fib_->port(port).mac)) {
    return Drop(m, DropReason::kL2OtherHost);
  }
  Meta(m)->rx_port = port;
  switch (eth->ether_type) {
    case RTE_BE16(RTE_ETHER_TYPE_IPV4):
      return Ip4Input(port, m, group);
    case RTE_BE16(RTE_ETHER_TYPE_ARP):
      counters_.Count(Event::kArpFramesPunted);
      return Punt(XqAction::kArpFrame, m);
    default:
      return Drop(m, DropReason::kEthertypeUnsupported);
  }
}

}  // namespace vr::dataplane
