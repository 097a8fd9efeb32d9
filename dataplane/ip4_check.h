// IPv4 header validation as RFC 1812 §5.2.2 asks, and the martian filter of §5.3.7, as pure
// functions over bytes so they are tested without DPDK ports.
#pragma once

#include <rte_ip.h>

#include <array>
#include <cstdint>

#include "dataplane/checksum.h"
#include "dataplane/drop_reason.h"

namespace vr::dataplane {

constexpr DropReason kIp4Ok = DropReason::kCount;

// `l3_len` is how many bytes of the frame follow the Ethernet header. Checks, in RFC order:
// (1) the link layer gave at least a minimal header, (2) checksum, (3) version 4,
// (4) IHL >= 5, (5) total length >= IHL*4; and that the total length fits in the frame.
inline DropReason Ip4Check(const rte_ipv4_hdr* ip, uint32_t l3_len) {
  // Nearly every packet: version 4 without options, in a frame that holds the header. One
  // compare settles checks 1, 3 and 4, and the checksum is summed over a known 20 bytes.
  if (likely(l3_len >= sizeof(rte_ipv4_hdr) && ip->version_ihl == RTE_IPV4_VHL_DEF)) {
    uint32_t total = Be16(ip->total_length);
    if (unlikely(total < sizeof(rte_ipv4_hdr) || total > l3_len)) {
      return DropReason::kIp4BadTotalLength;
    }
    if (unlikely(!Ip4ChecksumOk(ip, sizeof(rte_ipv4_hdr)))) return DropReason::kIp4BadChecksum;
    return kIp4Ok;
  }
  if (unlikely(l3_len < sizeof(rte_ipv4_hdr))) return DropReason::kIp4Truncated;
  uint8_t vihl = ip->version_ihl;
  if (unlikely((vihl >> 4) != 4)) return DropReason::kIp4BadVersion;
  uint32_t hlen = (vihl & 0xf) * 4u;
  if (unlikely(hlen < sizeof(rte_ipv4_hdr) || hlen > l3_len)) return DropReason::kIp4BadIhl;
  uint32_t total = Be16(ip->total_length);
  if (unlikely(total < hlen || total > l3_len)) return DropReason::kIp4BadTotalLength;
  if (unlikely(!Ip4ChecksumOk(ip, hlen))) return DropReason::kIp4BadChecksum;
  return kIp4Ok;
}

// §5.3.7: never forward from 0/8, 127/8, multicast, class E or limited broadcast sources.
constexpr bool Ip4MartianSource(uint32_t src_host) {
  uint8_t a = src_host >> 24;
  return a == 0 || a == 127 || a >= 224;
}
// Destinations that are never forwarded: 0/8, 127/8, class E and limited broadcast.
constexpr bool Ip4MartianDestination(uint32_t dst_host) {
  uint8_t a = dst_host >> 24;
  return a == 0 || a == 127 || a >= 240;
}
constexpr bool Ip4Multicast(uint32_t host) { return (host >> 28) == 0xe; }

// The three rules above depend on the first octet only: one table load per address on the fast
// path instead of a chain of compares.
enum : uint8_t { kBadSource = 1, kBadDestination = 2, kMulticastDestination = 4 };
inline constexpr std::array<uint8_t, 256> kFirstOctetClass = [] {
  std::array<uint8_t, 256> t{};
  for (uint32_t a = 0; a < 256; ++a) {
    uint32_t host = a << 24;
    t[a] = (Ip4MartianSource(host) ? kBadSource : 0) |
           (Ip4MartianDestination(host) ? kBadDestination : 0) |
           (Ip4Multicast(host) ? kMulticastDestination : 0);
  }
  return t;
}();

}  // namespace vr::dataplane
