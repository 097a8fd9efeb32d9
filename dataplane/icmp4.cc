// ICMP for the router itself: echo replies, and errors (time exceeded, unreachable, fragmentation
// needed) rate-limited by a per-worker token bucket and routed back like any originated packet.
#include "dataplane/icmp4.h"

#include <rte_ether.h>
#include <rte_icmp.h>

#include "dataplane/checksum.h"
#include "dataplane/ip4_check.h"
#include "dataplane/worker.h"

namespace vr::dataplane {
namespace {

constexpr uint32_t kIcmpErrorMaxIp = 576;  // RFC 1812 §4.3.2.3
constexpr uint32_t kOuterLen = sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr);

bool IsIcmpError(uint8_t type) {
  return type == kIcmpDestUnreachable || type == kIcmpSourceQuench ||
         type == kIcmpRedirect || type == kIcmpTimeExceeded ||
         type == kIcmpParameterProblem;
}

}  // namespace

bool Icmp4ErrorAllowed(const rte_ipv4_hdr* ip) {
  uint32_t src = rte_be_to_cpu_32(ip->src_addr);
  if (Ip4MartianSource(src)) return false;
  if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) return false;
  if (ip->next_proto_id == IPPROTO_ICMP) {
    uint32_t hlen = rte_ipv4_hdr_len(ip);
    uint32_t total = rte_be_to_cpu_16(ip->total_length);
    if (total < hlen + 1) return false;
    const uint8_t type = *(reinterpret_cast<const uint8_t*>(ip) + hlen);
    if (IsIcmpError(type)) return false;
  }
  return true;
}

bool Icmp4BuildError(rte_mbuf* m, uint32_t src, uint8_t type, uint8_t code, uint16_t mtu) {
  if (!rte_pktmbuf_is_contiguous(m)) return false;
  auto* orig = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  uint32_t quoted = rte_be_to_cpu_16(orig->total_length);
  if (quoted > kIcmpErrorMaxIp - kOuterLen) quoted = kIcmpErrorMaxIp - kOuterLen;
  uint32_t orig_src = orig->src_addr;
  // New layout: [eth][ip][icmp][quoted original]. The original IP header stays where it is; the
  // new headers go in front of it, over the old Ethernet header and into the headroom.
  if (rte_pktmbuf_prepend(m, kOuterLen) == nullptr) return false;
  uint32_t want = sizeof(rte_ether_hdr) + kOuterLen + quoted;
  if (rte_pktmbuf_data_len(m) > want) rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - want);

  // The Ethernet header is output's to fill, but its EtherType already says IPv4: a packet held
  // for ARP is told apart from IPv6 by it.
  rte_pktmbuf_mtod(m, rte_ether_hdr*)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0xc0;  // internetwork control, as hosts and routers use for ICMP errors
  ip->total_length = rte_cpu_to_be_16(kOuterLen + quoted);
  ip->packet_id = 0;
  ip->fragment_offset = 0;
  ip->time_to_live = 64;
  ip->next_proto_id = IPPROTO_ICMP;
  ip->src_addr = src;
  ip->dst_addr = orig_src;
  Ip4SetChecksum(ip);

  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  icmp->icmp_type = type;
  icmp->icmp_code = code;
  icmp->icmp_cksum = 0;
  icmp->icmp_ident = 0;  // "unused" in errors; for code 4 the next-hop MTU follows (RFC 1191)
  icmp->icmp_seq_nb = rte_cpu_to_be_16(mtu);
  icmp->icmp_cksum = ~rte_raw_cksum(icmp, sizeof(rte_icmp_hdr) + quoted);
  return true;
}

bool Icmp4EchoReply(rte_mbuf* m) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  if (ip->next_proto_id != IPPROTO_ICMP) return false;
  if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG)) return false;
  uint32_t hlen = rte_ipv4_hdr_len(ip);
  uint32_t total = rte_be_to_cpu_16(ip->total_length);
  if (total < hlen + sizeof(rte_icmp_hdr)) return false;
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(reinterpret_cast<uint8_t*>(ip) + hlen);
  if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0) return false;
  if (rte_raw_cksum(icmp, total - hlen) != 0xffff) return false;

  rte_be32_t src = ip->src_addr;
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = src;
  ip->time_to_live = 64;
  Ip4SetChecksum(ip);
  // Type and code share one 16-bit checksum word; code stays 0.
  uint16_t old_word = rte_cpu_to_be_16(uint16_t(RTE_IP_ICMP_ECHO_REQUEST) << 8);
  uint16_t new_word = rte_cpu_to_be_16(uint16_t(RTE_IP_ICMP_ECHO_REPLY) << 8);
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  icmp->icmp_cksum = ChecksumUpdate16(icmp->icmp_cksum, old_word, new_word);
  return true;
}

void Worker::Ip4Local(rte_mbuf* m, rte_ipv4_hdr* ip) {
  (void)ip;
  counters_.Count(Event::kIp4Local);
  if (Icmp4EchoReply(m)) {
    counters_.Count(Event::kIcmpEchoReplies);
    return RouteOriginated(m);
  }
  if (!setup_.knet) return Drop(m, DropReason::kIp4LocalUnsupported);
  ToKernel(m);
}

void Worker::ToKernel(rte_mbuf* m) {
  if (!knet_bucket_.Take()) return Drop(m, DropReason::kKnetRateLimited);
  // The rate bounds packets per second, not nbufs waiting: when the control lcore writes to the
  // kernel more slowly than the rate (a shared core), a flood would park the whole pool in OutQ
  // and starve forwarding. Beyond this many, frames for the kernel are dropped instead.
  if (unlikely(setup_.outq->Pending() >= setup_.knet_backlog)) {
    return Drop(m, DropReason::kKnetBacklog);
  }
  counters_.Count(Event::kKnetPunted);
  Punt(XqAction::kToKernel, m);
}

void Worker::FromKernel(rte_mbuf* m) {
  // The kernel built these headers itself and the control lcore checked there is an IPv4 or
  // IPv6 header: no TTL or hop limit decrement, no martian filter (the kernel's own addresses
  // are fine as sources).
  SetPacketVif(m, kKnetVif);
  bool v6 = rte_pktmbuf_mtod(m, const rte_ether_hdr*)->ether_type ==
            RTE_BE16(RTE_ETHER_TYPE_IPV6);
  uint32_t nh;
  bool found;
  if (v6) {
    auto* ip6 = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, sizeof(rte_ether_hdr));
    // A raw socket on the router may build any header; none leaves with no hop left (RFC 1812
    // §4.2.2.9, RFC 8200 §3). Found by fuzzing (tests/fuzz/regressions/packet).
    if (unlikely(ip6->hop_limits == 0)) return Drop(m, DropReason::kIp6HopLimitExceeded);
    found = fib6_ != nullptr &&
            fib6_->Lookup(reinterpret_cast<const uint8_t*>(&ip6->dst_addr), &nh);
  } else {
    auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, sizeof(rte_ether_hdr));
    if (unlikely(ip->time_to_live == 0)) return Drop(m, DropReason::kIp4TtlExceeded);
    found = fib_->Lookup(rte_be_to_cpu_32(ip->dst_addr), &nh);
  }
  if (found) {
    NhKind kind = fib_->nexthop(nh).kind;
    if (kind == NhKind::kNeighbour || kind == NhKind::kConnected) {
      counters_.Count(Event::kKnetRouted);
      return v6 ? Ip6Output(m, nh) : Ip4Output(m, nh);
    }
  }
  Drop(m, DropReason::kKnetNotRouted);
}

void Worker::IcmpError(rte_mbuf* m, uint8_t type, uint8_t code, uint16_t mtu) {
  // The caller has counted why the original packet is dropped; what follows only decides
  // whether an error goes back, and never counts the packet twice.
  auto* orig = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  if (!Icmp4ErrorAllowed(orig)) {
    counters_.Count(Event::kIcmpErrorsSuppressed);
    return (void)rte_pktmbuf_free(m);
  }
  uint32_t src = vifs_->vif(PacketVif(m)).addr.load(std::memory_order_relaxed);
  if (src == 0) {  // the ingress vif has no address to speak from
    counters_.Count(Event::kIcmpErrorsSuppressed);
    return (void)rte_pktmbuf_free(m);
  }
  if (!icmp_bucket_.Take()) {
    counters_.Count(Event::kIcmpErrorsRateLimited);
    return (void)rte_pktmbuf_free(m);
  }
  if (!Icmp4BuildError(m, src, type, code, mtu)) {
    counters_.Count(Event::kIcmpErrorsSuppressed);
    return (void)rte_pktmbuf_free(m);
  }
  counters_.Count(Event::kIcmpErrorsSent);
  RouteOriginated(m);
}

void Worker::RouteOriginated(rte_mbuf* m) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  uint32_t nh;
  if (fib_->Lookup(rte_be_to_cpu_32(ip->dst_addr), &nh)) {
    NhKind kind = fib_->nexthop(nh).kind;
    if (kind == NhKind::kNeighbour || kind == NhKind::kConnected) return Ip4Output(m, nh);
  }
  // Nowhere to send our own packet; an error about it would be an error about ourselves.
  counters_.Count(Event::kOutputDropped);
  Drop(m, DropReason::kIp4NoRoute);
}

}  // namespace vr::dataplane
