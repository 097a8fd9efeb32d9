// IPv6 header validation (RFC 8200 §3), address classes that are never forwarded (RFC 4291), and
// the hop-by-hop options walk of RFC 8200 §4.2-4.3, as pure functions over bytes.
#pragma once

#include <rte_ip.h>

#include <cstdint>
#include <cstring>

#include "dataplane/drop_reason.h"

namespace vr::dataplane {

constexpr DropReason kIp6Ok = DropReason::kCount;
constexpr uint8_t kIp6NextHopByHop = 0;
constexpr uint8_t kIp6NextIcmp = 58;
constexpr uint8_t kIp6NextNone = 59;

// `l3_len`: bytes of the frame after the Ethernet header. The payload length must fit in them;
// Ethernet padding after it is the caller's to trim.
inline DropReason Ip6Check(const rte_ipv6_hdr* ip, uint32_t l3_len) {
  if (unlikely(l3_len < sizeof(rte_ipv6_hdr))) return DropReason::kIp6Truncated;
  if (unlikely((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6)) return DropReason::kIp6BadVersion;
  if (unlikely(rte_be_to_cpu_16(ip->payload_len) > l3_len - sizeof(rte_ipv6_hdr))) {
    return DropReason::kIp6BadPayloadLength;
  }
  return kIp6Ok;
}

inline bool Ip6Multicast(const uint8_t* a) { return a[0] == 0xff; }
inline bool Ip6LinkLocal(const uint8_t* a) { return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; }
inline bool Ip6Unspecified(const uint8_t* a) {
  uint64_t hi, lo;
  memcpy(&hi, a, 8);
  memcpy(&lo, a + 8, 8);
  return (hi | lo) == 0;
}
inline bool Ip6Loopback(const uint8_t* a) {
  static constexpr uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return memcmp(a, kLoopback, 16) == 0;
}
// ::ffff:0:0/96 (RFC 4291 2.5.5.2): stands for an IPv4 node inside a host's stack, never on
// the wire; RFC 6890 lists it as not forwardable.
inline bool Ip6V4Mapped(const uint8_t* a) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return memcmp(a, kPrefix, 12) == 0;
}
// Multicast scope (RFC 4291 §2.7): 1 interface-local, 2 link-local; neither leaves the link.
inline uint8_t Ip6MulticastScope(const uint8_t* a) { return a[1] & 0x0f; }

// What the hop-by-hop options tell a router forwarding the packet.
enum class HbhVerdict : uint8_t {
  kForward,        // only padding and options a router may skip
  kMalformed,      // the header or an option runs past the packet: drop
  kDiscard,        // an unknown option whose type says "discard silently" (action 01)
  kParamProblem,   // an unknown option whose type asks for ICMPv6 parameter problem (10, 11)
  kRouterAlert,    // RFC 2711: the router should look at it (MLD, RSVP): the control plane's
};

// Walks the options of a hop-by-hop header at `h` with `avail` bytes of packet from there. On
// kParamProblem, `*pointer` is the offending option's offset from `h`. Jumbograms (RFC 2675) are
// not supported and answer kParamProblem like any option whose payload length rules they break.
inline HbhVerdict Ip6HopByHop(const uint8_t* h, uint32_t avail, uint32_t* pointer) {
  if (avail < 8) return HbhVerdict::kMalformed;
  uint32_t len = (uint32_t(h[1]) + 1) * 8;
  if (len > avail) return HbhVerdict::kMalformed;
  bool alert = false;
  for (uint32_t i = 2; i < len;) {
    uint8_t type = h[i];
    if (type == 0) {  // Pad1
      ++i;
      continue;
    }
    if (i + 2 > len || i + 2 + h[i + 1] > len) return HbhVerdict::kMalformed;
    switch (type) {
      case 1:  // PadN
        break;
      case 5:  // Router Alert
        alert = true;
        break;
      default:
        switch (type >> 6) {
          case 0:
            break;  // skip over it
          case 1:
            return HbhVerdict::kDiscard;
          default:
            *pointer = i;
            return HbhVerdict::kParamProblem;
        }
    }
    i += 2 + h[i + 1];
  }
  return alert ? HbhVerdict::kRouterAlert : HbhVerdict::kForward;
}

// Extension headers that carry a next-header field and a length in 8-octet units past the first
// eight (RFC 8200 §4; the fragment header is a fixed 8 bytes).
inline bool Ip6IsExtension(uint8_t next) {
  return next == 0 || next == 43 || next == 44 || next == 60 || next == 51 || next == 135 ||
         next == 139 || next == 140;
}

// Finds the upper-layer header after the extension headers starting with `next` at `p`, with
// `avail` bytes of packet from there. Returns false when the chain runs past the packet; else
// `*proto` and `*offset` (from `p`) of the upper layer, and `*fragment` if a fragment header
// with a non-zero offset was crossed (the upper layer is then not in this packet).
inline bool Ip6UpperLayer(const uint8_t* p, uint32_t avail, uint8_t next, uint8_t* proto,
                          uint32_t* offset, bool* fragment) {
  uint32_t at = 0;
  *fragment = false;
  for (int guard = 0; guard < 16 && Ip6IsExtension(next); ++guard) {
    if (at + 8 > avail) return false;
    uint32_t len;
    if (next == 44) {  // fragment
      uint16_t off;
      memcpy(&off, p + at + 2, 2);
      if ((rte_be_to_cpu_16(off) & 0xfff8) != 0) *fragment = true;
      len = 8;
    } else if (next == 51) {  // AH: length in 4-octet units, minus 2
      len = (uint32_t(p[at + 1]) + 2) * 4;
    } else {
      len = (uint32_t(p[at + 1]) + 1) * 8;
    }
    if (at + len > avail) return false;
    next = p[at];
    at += len;
  }
  if (Ip6IsExtension(next)) return false;  // more than 16 headers: not worth walking
  *proto = next;
  *offset = at;
  return true;
}

}  // namespace vr::dataplane
