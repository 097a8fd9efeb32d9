// IPv4 input in two halves around the burst's bulk route lookup: Ip4Input validates the header
// (RFC 1812 §5.2.2), trims link padding and filters martians; Ip4Route acts on the lookup.
#include <rte_ether.h>

#include "dataplane/checksum.h"
#include "dataplane/icmp4.h"
#include "dataplane/ip4_check.h"
#include "dataplane/worker.h"

namespace vr::dataplane {

bool Worker::Ip4Input(rte_mbuf* m, rte_ipv4_hdr* ip) {
  uint32_t l3_len = rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr);
  if (DropReason r = Ip4Check(ip, l3_len); unlikely(r != kIp4Ok)) {
    Drop(m, r);
    return false;
  }
  // Ethernet pads short frames: what follows the IP total length is not part of the packet.
  uint32_t total = Be16(ip->total_length);
  if (unlikely(total < l3_len)) rte_pktmbuf_trim(m, l3_len - total);

  uint32_t src = Be32(ip->src_addr);
  uint32_t dst = Be32(ip->dst_addr);
  uint8_t cls = (kFirstOctetClass[src >> 24] & kBadSource) |
                (kFirstOctetClass[dst >> 24] & (kBadDestination | kMulticastDestination));
  if (likely(cls == 0)) return true;
  Drop(m, (cls & kBadSource)        ? DropReason::kIp4MartianSource
          : (cls & kBadDestination) ? DropReason::kIp4MartianDestination
                                    : DropReason::kIp4Multicast);
  return false;
}

void Worker::Ip4Route(rte_mbuf* m, rte_ipv4_hdr* ip, uint32_t nh, bool link_broadcast) {
  if (unlikely(nh == Fib::kNoRoute)) {
    if (link_broadcast) return Drop(m, DropReason::kIp4LinkBroadcast);
    counters_.Drop(DropReason::kIp4NoRoute);
    return IcmpError(m, kIcmpDestUnreachable, 0 /* net unreachable */, 0);
  }
  if (fib_->nexthop(nh).kind == NhKind::kLocal) return Ip4Local(m, ip);
  // §5.3.4: a packet that arrived as a link-layer broadcast is not forwarded.
  if (unlikely(link_broadcast)) return Drop(m, DropReason::kIp4LinkBroadcast);
  Ip4Forward(m, ip, nh);
}

}  // namespace vr::dataplane
