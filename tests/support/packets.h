// Test helpers that build real frames in real mbufs: Ethernet + IPv4 + UDP or ICMP, with correct
// checksums, so a test changes one field and sees what the code under test does with it.
#pragma once

#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstdint>
#include <cstring>

namespace vr::testing {

inline uint32_t Ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

struct Ip4Spec {
  uint32_t src = Ip(198, 18, 1, 2);  // host order
  uint32_t dst = Ip(198, 18, 2, 2);
  uint8_t ttl = 64;
  uint8_t proto = IPPROTO_UDP;
  bool df = false;
  uint16_t payload = 18;  // bytes after the IPv4 header
};

// Ethernet + IPv4 (+ 8-byte UDP header or ICMP echo header when the payload has room).
inline rte_mbuf* MakeIp4(rte_mempool* pool, const Ip4Spec& s) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  uint32_t len = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + s.payload;
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_append(m, len));
  memset(eth, 0, len);
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(sizeof(rte_ipv4_hdr) + s.payload);
  ip->packet_id = RTE_BE16(0x1234);
  ip->fragment_offset = s.df ? RTE_BE16(RTE_IPV4_HDR_DF_FLAG) : 0;
  ip->time_to_live = s.ttl;
  ip->next_proto_id = s.proto;
  ip->src_addr = rte_cpu_to_be_32(s.src);
  ip->dst_addr = rte_cpu_to_be_32(s.dst);
  auto* l4 = reinterpret_cast<uint8_t*>(ip + 1);
  for (uint16_t i = 0; i < s.payload; ++i) l4[i] = uint8_t(i * 7 + 1);
  if (s.proto == IPPROTO_UDP && s.payload >= sizeof(rte_udp_hdr)) {
    auto* udp = reinterpret_cast<rte_udp_hdr*>(l4);
    udp->src_port = RTE_BE16(1024);
    udp->dst_port = RTE_BE16(9);
    udp->dgram_len = rte_cpu_to_be_16(s.payload);
    udp->dgram_cksum = 0;
  } else if (s.proto == IPPROTO_ICMP && s.payload >= sizeof(rte_icmp_hdr)) {
    auto* icmp = reinterpret_cast<rte_icmp_hdr*>(l4);
    icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
    icmp->icmp_code = 0;
    icmp->icmp_ident = RTE_BE16(77);
    icmp->icmp_seq_nb = RTE_BE16(1);
    icmp->icmp_cksum = 0;
    icmp->icmp_cksum = ~rte_raw_cksum(icmp, s.payload);
  }
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  return m;
}

inline rte_ipv4_hdr* Ip4Of(rte_mbuf* m) {
  return rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
}

}  // namespace vr::testing
