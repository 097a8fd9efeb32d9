// ICMP messages the router writes itself (RFC 792, RFC 1812 §4.3): errors built in place in the
// offending packet's own nbuf, so sending one allocates nothing.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>

namespace vr::dataplane {

// ICMP types (RFC 792) that DPDK 22.11's rte_icmp.h does not name.
constexpr uint8_t kIcmpDestUnreachable = 3;
constexpr uint8_t kIcmpSourceQuench = 4;
constexpr uint8_t kIcmpRedirect = 5;
constexpr uint8_t kIcmpTimeExceeded = 11;
constexpr uint8_t kIcmpParameterProblem = 12;

// RFC 1812 §4.3.2.7: no error about an ICMP error, a non-first fragment, or a packet whose
// source does not name a single host.
bool Icmp4ErrorAllowed(const rte_ipv4_hdr* ip);

// Rewrites `m` (Ethernet + offending IPv4 packet) into Ethernet + IPv4 + ICMP error quoting as
// much of the original as fits in 576 bytes (§4.3.2.3). `src` is the router's address (network
// order). The Ethernet header is left for output to fill. Returns false if the nbuf lacks room.
bool Icmp4BuildError(rte_mbuf* m, uint32_t src, uint8_t type, uint8_t code, uint16_t mtu);

// Turns an echo request for the router into its reply in place. Returns false when the request is
// not a well-formed unfragmented echo request (bad ICMP checksum included).
bool Icmp4EchoReply(rte_mbuf* m);

}  // namespace vr::dataplane
