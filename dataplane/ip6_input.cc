// IPv6 input, forwarding and output (RFC 8200, RFC 4291, RFC 4443): header checks, hop-by-hop
// options, the never-forwarded address classes, hop limit, packet too big (routers never
// fragment IPv6), and output to a neighbour that control resolves with NDP.
#include <rte_ether.h>

#include "dataplane/fib6.h"
#include "dataplane/icmp6.h"
#include "dataplane/ip6_check.h"
#include "dataplane/worker.h"

namespace vr::dataplane {
namespace {

// Neighbour discovery and router discovery reach the control lcore (RFC 4861 §6-7); so does
// anything else ICMPv6 sent to a link-scope group the router belongs to.
bool ForControl(const rte_ipv6_hdr* ip, uint32_t avail) {
  if (ip->proto != kIp6NextIcmp || avail < 4) return false;
  uint8_t type = *reinterpret_cast<const uint8_t*>(ip + 1);
  return type >= kNdRouterSolicit && type <= kNdRedirect;
}

}  // namespace

bool Worker::Ip6Input(rte_mbuf* m, rte_ipv6_hdr* ip) {
  uint32_t l3_len = rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr);
  if (DropReason r = Ip6Check(ip, l3_len); unlikely(r != kIp6Ok)) {
    Drop(m, r);
    return false;
  }
  uint32_t total = sizeof(rte_ipv6_hdr) + rte_be_to_cpu_16(ip->payload_len);
  if (unlikely(total < l3_len)) rte_pktmbuf_trim(m, l3_len - total);
  uint32_t avail = total - sizeof(rte_ipv6_hdr);
  const auto* src = reinterpret_cast<const uint8_t*>(&ip->src_addr);
  const auto* dst = reinterpret_cast<const uint8_t*>(&ip->dst_addr);
  // One branch for the common packet: global unicast both ways, no hop-by-hop header. Every
  // class below starts with a first byte of 0x00 (unspecified, loopback), 0xfe (link-local) or
  // 0xff (multicast), or has next header 0.
  bool unusual = src[0] == 0xff || src[0] == 0 || dst[0] >= 0xfe || dst[0] == 0 ||
                 ip->proto == kIp6NextHopByHop;
  if (likely(!unusual)) return true;
  // A unicast IPv6 packet in a link-layer multicast frame is routed like any other.
  if (unlikely(Ip6Multicast(src) || Ip6Loopback(src) || Ip6V4Mapped(src))) {
    Drop(m, DropReason::kIp6MartianSource);
    return false;
  }
  if (unlikely(Ip6Multicast(dst))) {
    // Link-scope groups: the router's all-nodes, all-routers and solicited-node memberships,
    // whose ICMPv6 is neighbour discovery. No multicast routing beyond that.
    if (Ip6MulticastScope(dst) == 2 && ForControl(ip, avail)) {
      counters_.Count(Event::kNdFramesPunted);
      Punt(XqAction::kNdFrame, m);
      return false;
    }
    Drop(m, DropReason::kIp6Multicast);
    return false;
  }
  if (unlikely(Ip6Unspecified(src))) {
    Drop(m, DropReason::kIp6MartianSource);
    return false;
  }
  if (unlikely(Ip6Loopback(dst) || Ip6Unspecified(dst))) {
    Drop(m, DropReason::kIp6MartianDestination);
    return false;
  }
  if (unlikely(ip->proto == kIp6NextHopByHop)) {
    uint32_t pointer = 0;
    switch (Ip6HopByHop(reinterpret_cast<const uint8_t*>(ip + 1), avail, &pointer)) {
      case HbhVerdict::kMalformed:
        Drop(m, DropReason::kIp6BadExtension);
        return false;
      case HbhVerdict::kDiscard:
        Drop(m, DropReason::kIp6HbhDiscard);
        return false;
      case HbhVerdict::kParamProblem:
        counters_.Drop(DropReason::kIp6HbhParamProblem);
        Icmp6Error(m, kIcmp6ParamProblem, 2, uint32_t(sizeof(rte_ipv6_hdr)) + pointer);
        return false;
      default:
        break;
    }
  }
  if (unlikely(Ip6LinkLocal(dst))) {
    // Only ever for this link: the router's own link-local address, which control knows.
    if (ip->proto == kIp6NextIcmp) {
      counters_.Count(Event::kNdFramesPunted);
      Punt(XqAction::kNdFrame, m);
    } else {
      Drop(m, DropReason::kIp6LinkLocal);
    }
    return false;
  }
  return true;
}

void Worker::Ip6Route(rte_mbuf* m, rte_ipv6_hdr* ip, uint32_t nh) {
  if (unlikely(nh == Fib6::kNoRoute)) {
    counters_.Drop(DropReason::kIp6NoRoute);
    return Icmp6Error(m, kIcmp6DestUnreachable, 0 /* no route */, 0);
  }
  if (fib_->nexthop(nh).kind == NhKind::kLocal) return Ip6Local(m, ip);
  Ip6Forward(m, ip, nh);
}

void Worker::Ip6Local(rte_mbuf* m, rte_ipv6_hdr* ip) {
  counters_.Count(Event::kIp6Local);
  uint32_t avail = rte_be_to_cpu_16(ip->payload_len);
  uint8_t upper;
  uint32_t off;
  bool fragment;
  if (!Ip6UpperLayer(reinterpret_cast<const uint8_t*>(ip + 1), avail, ip->proto, &upper, &off,
                     &fragment)) {
    return Drop(m, DropReason::kIp6BadExtension);
  }
  if (upper == kIp6NextIcmp && !fragment && off + 4 <= avail) {
    uint8_t type = reinterpret_cast<const uint8_t*>(ip + 1)[off];
    if (type >= kNdRouterSolicit && type <= kNdRedirect) {
      counters_.Count(Event::kNdFramesPunted);
      return Punt(XqAction::kNdFrame, m);
    }
    if (Icmp6EchoReplyInPlace(m, uint32_t(sizeof(rte_ipv6_hdr)) + off)) {
      counters_.Count(Event::kIcmp6EchoReplies);
      return RouteOriginated6(m);
    }
  }
  if (setup_.knet) return ToKernel(m);
  Drop(m, DropReason::kIp6LocalUnsupported);
}

void Worker::Ip6Forward(rte_mbuf* m, rte_ipv6_hdr* ip, uint32_t nh_index) {
  const Nexthop& nh = fib_->nexthop(nh_index);
  switch (nh.kind) {
    case NhKind::kNeighbour:
    case NhKind::kConnected:
      break;
    case NhKind::kBlackhole:
      return Drop(m, DropReason::kIp6Blackhole);
    case NhKind::kUnreachable:
      counters_.Drop(DropReason::kIp6UnreachableRoute);
      return Icmp6Error(m, kIcmp6DestUnreachable, 0 /* no route */, 0);
    default:
      counters_.Drop(DropReason::kIp6NoRoute);
      return Icmp6Error(m, kIcmp6DestUnreachable, 0, 0);
  }
  // RFC 4291 §2.5.6: a link-local source never leaves its link.
  if (unlikely(Ip6LinkLocal(reinterpret_cast<const uint8_t*>(&ip->src_addr)))) {
    counters_.Drop(DropReason::kIp6LinkLocal);
    return Icmp6Error(m, kIcmp6DestUnreachable, 2 /* beyond scope of source */, 0);
  }
  if (unlikely(ip->hop_limits <= 1)) {
    counters_.Drop(DropReason::kIp6HopLimitExceeded);
    return Icmp6Error(m, kIcmp6TimeExceeded, 0, 0);
  }
  uint32_t mtu = vifs_->Mtu(vifs_->vif(nh.vif));
  if (unlikely(sizeof(rte_ipv6_hdr) + rte_be_to_cpu_16(ip->payload_len) > mtu)) {
    counters_.Drop(DropReason::kIp6TooBig);
    return Icmp6Error(m, kIcmp6PacketTooBig, 0, mtu);
  }
  ip->hop_limits--;  // no header checksum in IPv6
  counters_.Count(Event::kIp6Forwarded);
  Ip6Output(m, nh_index);
}

void Worker::RouteOriginated6(rte_mbuf* m) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
  if (unlikely(Ip6LinkLocal(reinterpret_cast<const uint8_t*>(&ip->dst_addr)))) {
    // Not in the FIB: it goes back out the vif it came in on, resolved by control.
    counters_.Count(Event::kResolvePunted);
    return Punt(XqAction::kLinkLocalOut, m);
  }
  uint32_t nh;
  if (fib6_->Lookup(reinterpret_cast<const uint8_t*>(&ip->dst_addr), &nh)) {
    NhKind kind = fib_->nexthop(nh).kind;
    if (kind == NhKind::kNeighbour || kind == NhKind::kConnected) return Ip6Output(m, nh);
  }
  counters_.Count(Event::kOutputDropped);
  Drop(m, DropReason::kIp6NoRoute);
}

void Worker::Ip6Output(rte_mbuf* m, uint32_t nh_index) {
  const Nexthop& nh = fib_->nexthop(nh_index);
  uint64_t l2 = nh.l2.load(std::memory_order_acquire);
  if (unlikely(!(l2 & kL2Resolved))) {
    // Control resolves the next hop (a connected subnet: the destination, read from the
    // packet) with neighbour solicitations and sends the packet on.
    Meta(m)->nexthop = nh_index;
    counters_.Count(Event::kResolvePunted);
    return Punt(XqAction::kResolve, m);
  }
  if (unlikely(!used_[nh_index])) used_[nh_index] = 1;
  const VifView& out = vifs_->vif(nh.vif);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  WriteEthernet(eth, l2, out);
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
  Send(nh.vif, m);
}

}  // namespace vr::dataplane
