// Internet checksum helpers: the incremental update of RFC 1624 used on every forwarded packet,
// and full sums for headers the router writes itself.
#pragma once

#include <rte_byteorder.h>
#include <rte_ip.h>

#include <cstdint>

namespace vr::dataplane {

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit field changing from m to m'.
// All values in network byte order, as they sit in the header.
inline uint16_t ChecksumUpdate16(uint16_t hc, uint16_t old_val, uint16_t new_val) {
  uint32_t sum = uint16_t(~hc) + uint16_t(~old_val) + uint32_t(new_val);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

// Decrements TTL and patches the checksum: TTL is the high byte of the 16-bit word it shares
// with the protocol field.
inline void Ip4DecrementTtl(rte_ipv4_hdr* ip) {
  uint16_t old_word = *reinterpret_cast<uint16_t*>(&ip->time_to_live);
  ip->time_to_live--;
  uint16_t new_word = *reinterpret_cast<uint16_t*>(&ip->time_to_live);
  ip->hdr_checksum = ChecksumUpdate16(ip->hdr_checksum, old_word, new_word);
}

// True when the header (including options) sums to 0xffff, i.e. its checksum is right.
inline bool Ip4ChecksumOk(const rte_ipv4_hdr* ip, uint32_t hdr_len) {
  return rte_raw_cksum(ip, hdr_len) == 0xffff;
}

inline void Ip4SetChecksum(rte_ipv4_hdr* ip) {
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

}  // namespace vr::dataplane
