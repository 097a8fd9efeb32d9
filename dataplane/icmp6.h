// ICMPv6 messages the router writes itself (RFC 4443): errors built in place in the offending
// packet's own nbuf, and echo replies, so sending one allocates nothing.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>

namespace vr::dataplane {

constexpr uint8_t kIcmp6DestUnreachable = 1;
constexpr uint8_t kIcmp6PacketTooBig = 2;
constexpr uint8_t kIcmp6TimeExceeded = 3;
constexpr uint8_t kIcmp6ParamProblem = 4;
constexpr uint8_t kIcmp6EchoRequest = 128;
constexpr uint8_t kIcmp6EchoReply = 129;
constexpr uint8_t kNdRouterSolicit = 133;
constexpr uint8_t kNdRouterAdvert = 134;
constexpr uint8_t kNdNeighbourSolicit = 135;
constexpr uint8_t kNdNeighbourAdvert = 136;
constexpr uint8_t kNdRedirect = 137;

// The ICMPv6 checksum over the pseudo-header (RFC 8200 §8.1) and `len` bytes at `icmp`.
uint16_t Icmp6Checksum(const rte_ipv6_hdr* ip, const void* icmp, uint32_t len);

// RFC 4443 §2.4 (e): no error about an ICMPv6 error or a redirect, nor about a packet whose
// source is not one host; nor, but for packet too big and parameter problem code 2, about a
// packet sent to a multicast address. `upper`, `upper_type`: the upper layer protocol and, for
// ICMPv6, its type (when the caller found it; 0 otherwise).
bool Icmp6ErrorAllowed(const rte_ipv6_hdr* ip, uint8_t type, uint8_t code, uint8_t upper,
                       uint8_t upper_type);

// Rewrites `m` (Ethernet + offending IPv6 packet) into Ethernet + IPv6 + ICMPv6 error quoting as
// much of the original as fits in the minimum MTU of 1280 bytes (§2.4 (c)). `src`: the router's
// address. `param`: the MTU for packet too big, the pointer for parameter problem. Returns false
// if the nbuf lacks room.
bool Icmp6BuildError(rte_mbuf* m, const uint8_t* src, uint8_t type, uint8_t code,
                     uint32_t param);

// Turns an echo request for the router (`icmp_off`: its offset from the IPv6 header) into its
// reply in place. Returns false when it is not a well-formed echo request.
bool Icmp6EchoReplyInPlace(rte_mbuf* m, uint32_t icmp_off);

}  // namespace vr::dataplane
