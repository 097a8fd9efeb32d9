// Per-core counters: each worker (and the control lcore) owns one block and increments it with
// plain stores; readers sum the blocks at read time with relaxed loads. No atomics per packet.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "dataplane/drop_reason.h"

namespace vr::dataplane {

#define VR_EVENT_COUNTERS(X)                                                     \
  X(kIp4Forwarded, "ip4_forwarded")                                              \
  X(kIp4Local, "ip4_local")                  /* IPv4 packets for the router */   \
  X(kIcmpEchoReplies, "icmp_echo_replies")                                       \
  X(kIcmpErrorsSent, "icmp_errors_sent")                                         \
  X(kIcmpErrorsRateLimited, "icmp_errors_ratelimited") /* errors not sent */      \
  X(kIcmpErrorsSuppressed, "icmp_errors_suppressed") /* never about an error */    \
  X(kFragmentsSent, "fragments_sent")                                            \
  X(kArpFramesPunted, "arp_frames_punted")                                       \
  X(kResolvePunted, "resolve_punted")        /* packets sent to control for ARP */ \
  X(kArpRequestsSent, "arp_requests_sent")                                       \
  X(kArpRepliesSent, "arp_replies_sent")                                         \
  X(kArpRepliesReceived, "arp_replies_received")                                 \
  X(kArpHeld, "arp_held")                    /* packets queued awaiting a MAC */ \
  X(kArpReleased, "arp_released")            /* held packets sent on resolution */ \
  X(kInqReceived, "inq_received")                                                 \
  X(kKnetPunted, "knet_punted")              /* frames for the router sent to the kernel */ \
  X(kKnetRouted, "knet_routed")              /* packets from the kernel routed out */ \
  X(kIp6Forwarded, "ip6_forwarded")                                              \
  X(kIp6Local, "ip6_local")                  /* IPv6 packets for the router */   \
  X(kIcmp6EchoReplies, "icmp6_echo_replies")                                     \
  X(kIcmp6ErrorsSent, "icmp6_errors_sent")                                       \
  X(kIcmp6ErrorsRateLimited, "icmp6_errors_ratelimited")                         \
  X(kIcmp6ErrorsSuppressed, "icmp6_errors_suppressed")                           \
  X(kNdFramesPunted, "nd_frames_punted")     /* neighbour discovery to control */ \
  X(kNdRouterAdvertsSent, "nd_router_adverts_sent")                               \
  X(kNdRouterSolicitsReceived, "nd_router_solicits_received") /* valid ones */    \
  X(kImpairmentDropped, "impairment_dropped") /* dropped by a vif's impairment, on purpose */ \
  /* Packets already counted once (forwarded, an echo reply or ICMP error, from the kernel or    \
     control) then dropped on the way out by a down port or vif, egress impairment or no route  \
     back: counted under that reason (or impairment_dropped) too. Received packets are the sum  \
     of their outcomes less this. */                                                            \
  X(kOutputDropped, "output_dropped")

enum class Event : uint8_t {
#define VR_EVENT_ENUM(e, s) e,
  VR_EVENT_COUNTERS(VR_EVENT_ENUM)
#undef VR_EVENT_ENUM
      kCount
};
constexpr size_t kEventCount = size_t(Event::kCount);
constexpr std::array<std::string_view, kEventCount> kEventNames = {
#define VR_EVENT_NAME(e, s) s,
    VR_EVENT_COUNTERS(VR_EVENT_NAME)
#undef VR_EVENT_NAME
};

struct alignas(64) CoreCounters {
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t busy_polls = 0;   // loop iterations that received something
  uint64_t idle_polls = 0;
  uint64_t busy_cycles = 0;  // TSC cycles spent in busy iterations
  std::array<uint64_t, kEventCount> events{};
  std::array<uint64_t, kDropReasonCount> drops{};

  void Count(Event e, uint64_t n = 1) { events[size_t(e)] += n; }
  void Drop(DropReason r, uint64_t n = 1) { drops[size_t(r)] += n; }
};

// A vif's counters on one core, by kind, each kind an array indexed by vif id (as VPP keeps
// its combined counters): 16 bytes a vif, so the line a received frame's count lands on holds
// four vifs' rather than one and a third, which is what frames spread over many sub-interfaces
// pay in cache misses.
struct PacketsBytes {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};
struct VifDrops {
  uint64_t drops = 0;     // received by or routed to this vif, then dropped (any reason)
  uint64_t impaired = 0;  // of which dropped by impairment
};

// All of one vif's (or one group's) counters: how readers see them, summed over cores, and how
// each core keeps its per-group ones.
struct VifCounters {
  uint64_t rx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t drops = 0;         // received by or routed to this vif, then dropped (any reason)
  uint64_t impaired = 0;      // of which dropped by impairment
};

// Reads a counter another core writes; relaxed, because a torn or slightly old value is fine for
// statistics and an aligned 64-bit load is never torn on the machines we run on.
inline uint64_t ReadCounter(const uint64_t& c) { return __atomic_load_n(&c, __ATOMIC_RELAXED); }

}  // namespace vr::dataplane
