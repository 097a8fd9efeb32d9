// IPv4 input: validates the header (RFC 1812 §5.2.2), trims link padding, filters martians,
// looks the destination up and hands the packet to local delivery or forwarding.
#include <rte_ether.h>

#include "dataplane/ip4_check.h"
#include "dataplane/icmp4.h"
#include "dataplane/worker.h"

namespace vr::dataplane {

void Worker::Ip4Input(uint16_t port, rte_mbuf* m, bool link_broadcast) {
  (void)port;
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  uint32_t l3_len = rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr);
  if (DropReason r = Ip4Check(ip, l3_len); unlikely(r != kIp4Ok)) return Drop(m, r);

  // Ethernet pads short frames: what follows the IP total length is not part of the packet.
  uint32_t total = rte_be_to_cpu_16(ip->total_length);
  if (unlikely(total < l3_len)) rte_pktmbuf_trim(m, l3_len - total);

  uint32_t src = rte_be_to_cpu_32(ip->src_addr);
  uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
  if (unlikely(Ip4MartianSource(src))) return Drop(m, DropReason::kIp4MartianSource);
  if (unlikely(Ip4MartianDestination(dst))) return Drop(m, DropReason::kIp4MartianDestination);
  if (unlikely(Ip4Multicast(dst))) return Drop(m, DropReason::kIp4Multicast);

  uint32_t nh;
  if (unlikely(!fib_->Lookup(dst, &nh))) {
    if (link_broadcast) return Drop(m, DropReason::kIp4LinkBroadcast);
    counters_.Drop(DropReason::kIp4NoRoute);
    return IcmpError(m, kIcmpDestUnreachable, 0 /* net unreachable */, 0);
  }
  NhKind kind = fib_->nexthop(nh).kind;
  if (kind == NhKind::kLocal) return Ip4Local(m, ip);
  // §5.3.4: a packet that arrived as a link-layer broadcast is not forwarded.
  if (unlikely(link_broadcast)) return Drop(m, DropReason::kIp4LinkBroadcast);
  Ip4Forward(m, ip, nh);
}

}  // namespace vr::dataplane
