// Every reason the dataplane drops a packet, each with its own per-core counter and a stable name
// (the names are a contract: vrouterctl stats, tests and later metrics use them).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace vr::dataplane {

#define VR_DROP_REASONS(X)                                                                 \
  X(kEthTruncated, "eth_truncated")             /* frame shorter than an Ethernet header */ \
  X(kEthertypeUnsupported, "ethertype_unsupported")                                        \
  X(kL2OtherHost, "l2_other_host")              /* unicast to another MAC */               \
  X(kPortDown, "port_down")                     /* received on or routed to a port set down */ \
  X(kVifDown, "vif_down")                       /* the same for a sub-interface */         \
  X(kVlanUnknown, "vlan_unknown")               /* tags no sub-interface of the port has */ \
  X(kIp4Truncated, "ip4_truncated")             /* fewer than 20 bytes of IPv4 header */   \
  X(kIp4BadVersion, "ip4_bad_version")                                                     \
  X(kIp4BadIhl, "ip4_bad_ihl")                  /* IHL < 5 or beyond the frame */          \
  X(kIp4BadTotalLength, "ip4_bad_total_length") /* total length < IHL*4 or > frame */      \
  X(kIp4BadChecksum, "ip4_bad_checksum")                                                   \
  X(kIp4MartianSource, "ip4_martian_source")                                               \
  X(kIp4MartianDestination, "ip4_martian_destination")                                     \
  X(kIp4DirectedBroadcast, "ip4_directed_broadcast")                                       \
  X(kIp4Multicast, "ip4_multicast")             /* no multicast routing */                 \
  X(kIp4LinkBroadcast, "ip4_link_broadcast")    /* RFC 1812 5.3.4: not forwarded */        \
  X(kIp4TtlExceeded, "ip4_ttl_exceeded")                                                   \
  X(kIp4NoRoute, "ip4_no_route")                                                           \
  X(kIp4UnreachableRoute, "ip4_unreachable_route")                                         \
  X(kIp4Blackhole, "ip4_blackhole")                                                        \
  X(kIp4FragNeeded, "ip4_frag_needed")          /* DF set and over the egress MTU */       \
  X(kIp4FragFailed, "ip4_frag_failed")          /* no nbufs, or too many fragments */      \
  X(kIp4LocalUnsupported, "ip4_local_unsupported") /* for the router, not answered here */ \
  X(kArpInvalid, "arp_invalid")                                                            \
  X(kArpNotForUs, "arp_not_for_us")                                                        \
  X(kArpHoldOverflow, "arp_hold_overflow")                                                 \
  X(kArpResolutionFailed, "arp_resolution_failed")                                         \
  X(kTxFull, "tx_full")                         /* the port's TX queue did not take it */  \
  X(kOutqFull, "outq_full")                     /* OutQ full or holding 1/4 of the pool */ \
  X(kInqFull, "inq_full")                                                                  \
  X(kNbufExhausted, "nbuf_exhausted")                                                      \
  X(kKnetRateLimited, "knet_rate_limited")      /* over knet.rate, to the kernel */         \
  X(kKnetBacklog, "knet_backlog")               /* OutQ holds too many for the kernel */    \
  X(kKnetNotRouted, "knet_not_routed")          /* from the kernel, to no neighbour */     \
  X(kIp6Truncated, "ip6_truncated")             /* fewer than 40 bytes of IPv6 header */   \
  X(kIp6BadVersion, "ip6_bad_version")                                                     \
  X(kIp6BadPayloadLength, "ip6_bad_payload_length") /* beyond the frame */                 \
  X(kIp6BadExtension, "ip6_bad_extension")      /* a header chain running past the packet */ \
  X(kIp6HbhDiscard, "ip6_hbh_discard")          /* unknown hop-by-hop option: discard */   \
  X(kIp6HbhParamProblem, "ip6_hbh_param_problem") /* ... with ICMPv6 parameter problem */   \
  X(kIp6MartianSource, "ip6_martian_source")    /* multicast, loopback or unspecified */   \
  X(kIp6MartianDestination, "ip6_martian_destination") /* loopback or unspecified */       \
  X(kIp6LinkLocal, "ip6_link_local")            /* link-local: never forwarded */          \
  X(kIp6Multicast, "ip6_multicast")             /* no multicast routing */                 \
  X(kIp6HopLimitExceeded, "ip6_hop_limit_exceeded")                                        \
  X(kIp6NoRoute, "ip6_no_route")                                                           \
  X(kIp6UnreachableRoute, "ip6_unreachable_route")                                         \
  X(kIp6Blackhole, "ip6_blackhole")                                                        \
  X(kIp6TooBig, "ip6_too_big")                  /* over the egress MTU: routers never fragment */ \
  X(kIp6LocalUnsupported, "ip6_local_unsupported") /* for the router, not answered here */ \
  X(kNdInvalid, "nd_invalid")                   /* neighbour discovery failing RFC 4861 checks */ \
  X(kNdHoldOverflow, "nd_hold_overflow")                                                   \
  X(kNdResolutionFailed, "nd_resolution_failed")                                          \
  X(kNdRouterSolicitInvalid, "nd_router_solicit_invalid") /* failing RFC 4861 §6.1.1 */

enum class DropReason : uint8_t {
#define VR_DROP_ENUM(e, s) e,
  VR_DROP_REASONS(VR_DROP_ENUM)
#undef VR_DROP_ENUM
      kCount
};

constexpr size_t kDropReasonCount = size_t(DropReason::kCount);

constexpr std::array<std::string_view, kDropReasonCount> kDropReasonNames = {
#define VR_DROP_NAME(e, s) s,
    VR_DROP_REASONS(VR_DROP_NAME)
#undef VR_DROP_NAME
};

constexpr std::string_view DropReasonName(DropReason r) { return kDropReasonNames[size_t(r)]; }

}  // namespace vr::dataplane
