// The kernel route mirror: follows one kernel IPv4 (and IPv6) routing table over rtnetlink (libnl-3) and tells
// a sink which routes to install in the dataplane, polled by the control lcore without blocking.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "config/config.h"

struct nl_msg;
struct nl_sock;
struct nlmsghdr;

namespace vr::control {

// A kernel IPv4 or IPv6 route as the dataplane wants it.
struct KernelRoute {
  config::Ip4Prefix prefix;  // host order, network-aligned; IPv4 only
  // RTN_UNICAST / RTN_BLACKHOLE / RTN_UNREACHABLE and RTN_PROHIBIT.
  enum class Type : uint8_t { kForward, kBlackhole, kUnreachable } type = Type::kForward;
  uint32_t gateway = 0;  // host order; 0 when the route has no gateway; IPv4 only
  int oif = 0;           // kernel ifindex of the (first) next hop, 0 if none
  uint8_t protocol = 0;  // RTPROT_*
  bool v6 = false;       // an IPv6 route: prefix6 and gateway6 say where, prefix and gateway are 0
  config::Ip6Prefix prefix6;  // network-aligned
  config::Ip6Addr gateway6;   // :: when the route has no gateway; often link-local (fe80::/10)
  bool operator==(const KernelRoute&) const = default;
};

// A prefix of either family, as a hash key: IPv4 and IPv6 routes never collide.
struct KernelRouteKey {
  bool v6 = false;
  uint8_t len = 0;
  std::array<uint8_t, 16> addr{};  // IPv4: the host-order address in the first 4 bytes
  bool operator==(const KernelRouteKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const KernelRouteKey& k) {
    return H::combine(std::move(h), k.v6, k.len, k.addr);
  }
  static KernelRouteKey Of(const config::Ip4Prefix& p);
  static KernelRouteKey Of(const config::Ip6Prefix& p);
  static KernelRouteKey Of(const KernelRoute& r) { return r.v6 ? Of(r.prefix6) : Of(r.prefix); }
};

struct RouteMirrorOptions {
  uint32_t table = 254;  // RT_TABLE_MAIN
  // Empty: every protocol. RTPROT_KERNEL (connected routes: the dataplane's own business) and
  // own_protocol are never mirrored, listed or not.
  std::vector<uint8_t> protocols;
  uint8_t own_protocol = 250;  // routes vrouter itself installs in the kernel (knet)
  // The subscription socket's receive buffer. Large, so that a burst of changes (a BGP session
  // coming up) rarely overflows it; an overflow costs a full Resync. Set with SO_RCVBUFFORCE, so
  // net.core.rmem_max does not cap it when running as root.
  int rcvbuf = 8 << 20;
  int dump_timeout_ms = 5000;  // a dump the kernel stops answering is an error, not a hang
};

// Where the mirror's conclusions go. Called from Poll/Resync/Open only; must not call back into
// the mirror.
struct RouteMirrorSink {
  std::function<void(const KernelRoute&)> set;           // add or replace the route for r.prefix
  std::function<void(const config::Ip4Prefix&)> remove;  // the kernel no longer has it
  // The same for an IPv6 prefix. Optional: without it the mirror follows IPv4 routes only (it
  // neither joins the IPv6 route group nor dumps IPv6), and set() sees no IPv6 route.
  std::function<void(const config::Ip6Prefix&)> remove6;
};

class RouteMirror {
 public:
  // Subscribes first, then dumps, so that no change falls between the two: whatever changed during
  // the dump waits in the subscription socket and is applied by the next Poll.
  static absl::StatusOr<std::unique_ptr<RouteMirror>> Open(RouteMirrorOptions options,
                                                           RouteMirrorSink sink);
  // A mirror on no kernel socket, for tests and fuzzing: Receive() hands it datagrams as though
  // the subscription socket had read them, through the same libnl parsing and callbacks. Poll
  // and Resync are not for it.
  static absl::StatusOr<std::unique_ptr<RouteMirror>> Detached(RouteMirrorOptions options,
                                                               RouteMirrorSink sink);
  ~RouteMirror();
  RouteMirror(const RouteMirror&) = delete;
  RouteMirror& operator=(const RouteMirror&) = delete;

  int fd() const;  // the subscription socket's, for poll(): readable when Poll has work

  // Handles what netlink has queued, at most `budget` notifications, without blocking; returns
  // how many it handled. After ENOBUFS (the kernel dropped notifications) it counts an overflow,
  // drops what is queued and runs a Resync. It also resyncs ~100 ms after the kernel may have
  // flushed routes without telling (a link down or gone, see route_mirror.cc): so call it every
  // control loop, or at least every 100 ms, not only when fd() is readable. Resyncs are not
  // bounded by `budget`.
  absl::StatusOr<uint32_t> Poll(uint32_t budget = 4096);

  // Dumps the table into a fresh view, then marks and sweeps against what the sink was told:
  // set() for new and changed routes, remove() for vanished ones. Blocks for the dump (bounded by
  // dump_timeout_ms); on error the mirror keeps its previous view.
  absl::Status Resync();

  // Detached mirrors only: one datagram of rtnetlink notifications. Returns libnl's result: 0,
  // or a negative NLE_* code when it stopped early (a malformed message, an error message).
  int Receive(std::span<const uint8_t> datagram);

  struct Counters {
    uint64_t events = 0;          // notifications handled: routes, links, addresses, next hops
    uint64_t routes_set = 0;      // sink.set calls
    uint64_t routes_removed = 0;  // sink.remove calls
    uint64_t ignored = 0;         // other table, type or protocol (dumps included)
    uint64_t unsupported = 0;     // TOS, source-specific, next hop the dataplane cannot use
    uint64_t resyncs = 0;
    uint64_t overflows = 0;  // ENOBUFS on the subscription socket
    uint64_t errors = 0;     // unparseable messages, failed dumps
  };
  const Counters& counters() const { return counters_; }
  size_t size() const { return routes_.size(); }  // prefixes currently mirrored
  // What the sink was told for `prefix`, if anything.
  const KernelRoute* Find(const config::Ip4Prefix& prefix) const;
  const KernelRoute* Find6(const config::Ip6Prefix& prefix) const;
  const RouteMirrorOptions& options() const { return options_; }

 private:
  // The kernel keeps one route per (prefix, TOS, metric) in a table (appended aliases aside):
  // the mirror keeps the TOS-0 ones of each prefix by metric, and the sink sees the lowest.
  struct Slot {
    uint32_t priority = 0;
    uint32_t nhid = 0;  // RTA_NH_ID: deleting the object deletes the route unannounced
    KernelRoute route;
  };
  using Slots = absl::InlinedVector<Slot, 1>;  // by ascending priority, never empty
  using View = absl::flat_hash_map<KernelRouteKey, Slots>;
  struct Parsed;

  RouteMirror(RouteMirrorOptions options, RouteMirrorSink sink);
  absl::Status Connect();
  // The subscription socket's libnl settings, shared by Connect and Detached.
  absl::Status SetUpSubscriber();
  absl::Status ConnectDump();
  // Sorts one rtnetlink message out; false when it has no bearing on the table.
  bool Classify(nlmsghdr* hdr, Parsed* out);
  void OnNotification(nlmsghdr* hdr);
  void OnDumped(nlmsghdr* hdr);
  void OnRoute(nlmsghdr* hdr);
  // A link went down or away, lost an IPv4 address, or a next-hop object was deleted: the routes
  // `affected` picks may be gone unsaid.
  void MaybeFlushed(const std::function<bool(const Slot&)>& affected);
  // Drops what the subscription socket holds after an overflow.
  void Discard();
  void Upsert(const Parsed& p);
  void Erase(const Parsed& p, bool only_if_same);
  // Tells the sink about `key` after its slots changed from `before` (nullptr: none).
  void Announce(const KernelRouteKey& key, const KernelRoute* before);
  void Removed(const KernelRoute& r);  // tells the sink, by family
  absl::Status Dump(View* fresh);

  static int NotificationCallback(nl_msg* msg, void* arg);
  static int DumpCallback(nl_msg* msg, void* arg);

  struct SockDeleter {
    void operator()(nl_sock* s) const;
  };
  using Sock = std::unique_ptr<nl_sock, SockDeleter>;

  RouteMirrorOptions options_;
  RouteMirrorSink sink_;
  std::array<bool, 256> mirrored_{};  // by RTPROT_*
  bool ipv6_ = false;                 // sink.remove6 given: IPv6 routes too
  Sock sub_;   // nonblocking, joined to the route (IPv4, IPv6), link, IPv4 address and next-hop
               // groups
  Sock dump_;  // blocking with a timeout, no groups
  View routes_;
  View* fresh_ = nullptr;  // the view a dump in progress fills
  uint32_t handled_ = 0;   // notifications in this Poll
  using Clock = std::chrono::steady_clock;
  // A silent flush (or a failed Resync after an overflow): Resync once resync_due_ is past.
  bool resync_pending_ = false;
  Clock::time_point resync_first_, resync_due_;
  Counters counters_;
};

}  // namespace vr::control
