// ICMPv6 for the router itself: echo replies, and errors (time exceeded, destination unreachable,
// packet too big, parameter problem) rate-limited by a per-worker token bucket.
#include "dataplane/icmp6.h"

#include <rte_ether.h>

#include <cstring>

#include "dataplane/ip6_check.h"
#include "dataplane/worker.h"

namespace vr::dataplane {
namespace {

constexpr uint32_t kIcmp6ErrorMaxIp = 1280;  // RFC 4443 §2.4 (c): the IPv6 minimum MTU
constexpr uint32_t kIcmp6Header = 8;
constexpr uint32_t kOuterLen = sizeof(rte_ipv6_hdr) + kIcmp6Header;

}  // namespace

uint16_t Icmp6Checksum(const rte_ipv6_hdr* ip, const void* icmp, uint32_t len) {
  // Pseudo-header: source, destination, upper-layer length, next header 58.
  uint32_t sum = rte_raw_cksum(&ip->src_addr, 32);
  sum += rte_raw_cksum(icmp, len);
  uint32_t tail[2] = {rte_cpu_to_be_32(len), rte_cpu_to_be_32(kIp6NextIcmp)};
  sum += rte_raw_cksum(tail, sizeof(tail));
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

bool Icmp6ErrorAllowed(const rte_ipv6_hdr* ip, uint8_t type, uint8_t code, uint8_t upper,
                       uint8_t upper_type) {
  const uint8_t* src = reinterpret_cast<const uint8_t*>(&ip->src_addr);
  if (Ip6Multicast(src) || Ip6Unspecified(src)) return false;
  if (upper == kIp6NextIcmp && (upper_type < 128 || upper_type == kNdRedirect)) return false;
  bool to_multicast = Ip6Multicast(reinterpret_cast<const uint8_t*>(&ip->dst_addr));
  if (to_multicast && type != kIcmp6PacketTooBig && !(type == kIcmp6ParamProblem && code == 2)) {
    return false;
  }
  return true;
}

bool Icmp6BuildError(rte_mbuf* m, const uint8_t* src, uint8_t type, uint8_t code,
                     uint32_t param) {
  if (!rte_pktmbuf_is_contiguous(m)) return false;
  auto* orig = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
  uint32_t quoted = sizeof(rte_ipv6_hdr) + rte_be_to_cpu_16(orig->payload_len);
  if (quoted > kIcmp6ErrorMaxIp - kOuterLen) quoted = kIcmp6ErrorMaxIp - kOuterLen;
  uint8_t orig_src[16];
  memcpy(orig_src, &orig->src_addr, 16);
  // [eth][ipv6][icmpv6][quoted original]: the original stays where it is, the new headers go in
  // front of it, over the old Ethernet header and into the headroom.
  if (rte_pktmbuf_prepend(m, kOuterLen) == nullptr) return false;
  uint32_t want = sizeof(rte_ether_hdr) + kOuterLen + quoted;
  if (rte_pktmbuf_data_len(m) > want) rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - want);

  rte_pktmbuf_mtod(m, rte_ether_hdr*)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
  ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
  ip->payload_len = rte_cpu_to_be_16(uint16_t(kIcmp6Header + quoted));
  ip->proto = kIp6NextIcmp;
  ip->hop_limits = 64;
  memcpy(&ip->src_addr, src, 16);
  memcpy(&ip->dst_addr, orig_src, 16);
  auto* icmp = reinterpret_cast<uint8_t*>(ip + 1);
  icmp[0] = type;
  icmp[1] = code;
  icmp[2] = icmp[3] = 0;
  uint32_t p = rte_cpu_to_be_32(param);  // MTU, pointer, or unused (0)
  memcpy(icmp + 4, &p, 4);
  uint16_t c = Icmp6Checksum(ip, icmp, kIcmp6Header + quoted);
  memcpy(icmp + 2, &c, 2);
  return true;
}

bool Icmp6EchoReplyInPlace(rte_mbuf* m, uint32_t icmp_off) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
  uint32_t total = sizeof(rte_ipv6_hdr) + rte_be_to_cpu_16(ip->payload_len);
  if (icmp_off + kIcmp6Header > total || total + sizeof(rte_ether_hdr) > rte_pktmbuf_data_len(m)) {
    return false;
  }
  auto* icmp = reinterpret_cast<uint8_t*>(ip) + icmp_off;
  if (icmp[0] != kIcmp6EchoRequest || icmp[1] != 0) return false;
  // The reply drops any extension headers: the ICMPv6 message moves up behind the IPv6 header.
  uint32_t len = total - icmp_off;
  if (Icmp6Checksum(ip, icmp, len) != 0) {
    // The checksum field is part of the sum: a right one makes the complement 0.
    return false;
  }
  if (icmp_off != sizeof(rte_ipv6_hdr)) {
    memmove(ip + 1, icmp, len);
    rte_pktmbuf_trim(m, icmp_off - sizeof(rte_ipv6_hdr));
    icmp = reinterpret_cast<uint8_t*>(ip + 1);
    ip->proto = kIp6NextIcmp;
    ip->payload_len = rte_cpu_to_be_16(uint16_t(len));
  }
  uint8_t tmp[16];
  memcpy(tmp, &ip->src_addr, 16);
  memcpy(&ip->src_addr, &ip->dst_addr, 16);
  memcpy(&ip->dst_addr, tmp, 16);
  ip->hop_limits = 64;
  icmp[0] = kIcmp6EchoReply;
  icmp[2] = icmp[3] = 0;
  uint16_t c = Icmp6Checksum(ip, icmp, len);
  memcpy(icmp + 2, &c, 2);
  return true;
}

void Worker::Icmp6Error(rte_mbuf* m, uint8_t type, uint8_t code, uint32_t param) {
  // The caller counted why the packet is dropped; this only decides whether an error goes back.
  auto* orig = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
  uint8_t upper = 0, upper_type = 0;
  uint32_t off = 0;
  bool fragment = false;
  uint32_t avail = rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr) - sizeof(rte_ipv6_hdr);
  const uint8_t* after = reinterpret_cast<const uint8_t*>(orig + 1);
  if (Ip6UpperLayer(after, avail, orig->proto, &upper, &off, &fragment) && !fragment &&
      upper == kIp6NextIcmp && off < avail) {
    upper_type = after[off];
  }
  uint8_t src[16];
  if (!Icmp6ErrorAllowed(orig, type, code, upper, upper_type) ||
      !vifs_->vif6(PacketVif(m)).Get(src)) {
    counters_.Count(Event::kIcmp6ErrorsSuppressed);
    return (void)rte_pktmbuf_free(m);
  }
  if (!icmp6_bucket_.Take()) {
    counters_.Count(Event::kIcmp6ErrorsRateLimited);
    return (void)rte_pktmbuf_free(m);
  }
  if (!Icmp6BuildError(m, src, type, code, param)) {
    counters_.Count(Event::kIcmp6ErrorsSuppressed);
    return (void)rte_pktmbuf_free(m);
  }
  counters_.Count(Event::kIcmp6ErrorsSent);
  RouteOriginated6(m);
}

}  // namespace vr::dataplane
