// Ethernet input: checks the frame is for this port and dispatches by EtherType. ARP goes to the
// control lcore whole; IPv4 continues on the burst's fast path; everything else is dropped.
#include <rte_ether.h>

#include "dataplane/worker.h"

namespace vr::dataplane {

rte_ipv4_hdr* Worker::EthInput(uint16_t port, rte_mbuf* m, bool* link_broadcast) {
  if (unlikely(rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr))) {
    Drop(m, DropReason::kEthTruncated);
    return nullptr;
  }
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  // Ports run promiscuous (vdevs cannot always filter by MAC), so the filter is ours: one 8-byte
  // load (the frame has at least 14) and a masked compare.
  bool group = rte_is_multicast_ether_addr(&eth->dst_addr);
  uint64_t dst;
  memcpy(&dst, eth, sizeof(dst));
  if (!group && unlikely((dst & kMacMask) != fib_->port(port).mac_word)) {
    Drop(m, DropReason::kL2OtherHost);
    return nullptr;
  }
  m->port = port;  // PMDs set it too; tests and InQ re-injection may not
  if (likely(eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
    *link_broadcast = group;
    return reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  }
  if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
    counters_.Count(Event::kArpFramesPunted);
    Punt(XqAction::kArpFrame, m);
  } else {
    Drop(m, DropReason::kEthertypeUnsupported);
  }
  return nullptr;
}

}  // namespace vr::dataplane
