// IPv4 forwarding: acts on the route's kind, then TTL (RFC 1812 §5.3.1), the egress MTU with
// DF (§5.2.6 and RFC 1191), and the TTL decrement with an incremental checksum (RFC 1624).
#include <rte_ether.h>

#include "dataplane/checksum.h"
#include "dataplane/icmp4.h"
#include "dataplane/worker.h"

namespace vr::dataplane {

void Worker::Ip4Forward(rte_mbuf* m, rte_ipv4_hdr* ip, uint32_t nh_index) {
  const Nexthop& nh = fib_->nexthop(nh_index);
  switch (nh.kind) {
    case NhKind::kNeighbour:
    case NhKind::kConnected:
      break;
    case NhKind::kBlackhole:
      return Drop(m, DropReason::kIp4Blackhole);
    case NhKind::kUnreachable:
      counters_.Drop(DropReason::kIp4UnreachableRoute);
      return IcmpError(m, kIcmpDestUnreachable, 1 /* host unreachable */, 0);
    case NhKind::kBroadcast:
      return Drop(m, DropReason::kIp4DirectedBroadcast);
    default:
      counters_.Drop(DropReason::kIp4NoRoute);
      return IcmpError(m, kIcmpDestUnreachable, 0, 0);
  }
  if (unlikely(ip->time_to_live <= 1)) {
    counters_.Drop(DropReason::kIp4TtlExceeded);
    return IcmpError(m, kIcmpTimeExceeded, 0, 0);
  }
  uint32_t mtu = vifs_->Mtu(vifs_->vif(nh.vif));
  if (unlikely(rte_be_to_cpu_16(ip->total_length) > mtu) &&
      (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG))) {
    counters_.Drop(DropReason::kIp4FragNeeded);
    return IcmpError(m, kIcmpDestUnreachable, 4 /* fragmentation needed */, mtu);
  }
  Ip4DecrementTtl(ip);
  counters_.Count(Event::kIp4Forwarded);
  Ip4Output(m, nh_index);
}

}  // namespace vr::dataplane
