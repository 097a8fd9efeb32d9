// The IPv6 neighbour table (RFC 4861), owned by the control lcore: answers neighbour
// solicitations for the router's addresses, resolves next hops, holds packets while it does, and
// runs the reachable / stale / delay / probe states.
#pragma once

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "control/neighbours.h"
#include "control/nexthops.h"
#include "dataplane/counters.h"
#include "dataplane/fib.h"
#include "dataplane/fib6.h"
#include "dataplane/nbuf_pool.h"

namespace vr::control {

struct Neighbour6 {
  config::Ip6Addr ip;
  uint32_t vif = 0;
  uint32_t nh = 0;  // its next-hop index (v6): the FIB's /128 for it and routes via it point here
  NeighState state = NeighState::kIncomplete;
  rte_ether_addr mac{};
  bool router = false;        // the R flag of its last advertisement
  uint64_t timer_ms = 0;      // when the state's next action is due
  uint64_t last_used_ms = 0;  // last time a worker flagged it used (or its creation)
  uint32_t probes = 0;        // solicitations sent in this round
  uint32_t route_refs = 0;    // static routes using it as gateway: never garbage collected
  bool host_route = false;    // a /128 for it is in the FIB (a global address on a subnet)
  std::deque<rte_mbuf*> held;
};

// What the table needs from the router.
struct Ndp6Env {
  dataplane::Fib* fib;    // next hops
  dataplane::Fib6* fib6;  // host routes
  dataplane::NbufPool* pool;
  NexthopTable* nexthops;
  dataplane::CoreCounters* counters;  // the control lcore's own
  // A vif's global IPv6 addresses with prefix length, its link-local address, name and MAC.
  std::function<std::vector<config::Ip6Prefix>(uint32_t vif)> vif_addresses;
  std::function<config::Ip6Addr(uint32_t vif)> vif_link_local;
  std::function<std::string(uint32_t vif)> vif_name;
  std::function<rte_ether_addr(uint32_t vif)> vif_mac;
  // Hands a complete frame to a worker for TX on meta->tx_vif.
  std::function<void(rte_mbuf*)> transmit;
  // Hands a held packet back to a worker to be routed out via meta->nexthop.
  std::function<void(rte_mbuf*)> output;
  std::function<bool(uint32_t nh)> take_used;
  std::function<void()> synchronize;
  // Timers and bounds, the same keys as ARP's: hold_packets, reachable_seconds (REACHABLE_TIME),
  // retries (MAX_MULTICAST_SOLICIT and MAX_UNICAST_SOLICIT), retry_ms (RETRANS_TIMER),
  // gc_seconds. DELAY_FIRST_PROBE_TIME is 5 s as RFC 4861 §10 has it.
  config::ArpConfig nd;
  // Router solicitations go here (router advertisements, control/router_adverts.h), which
  // takes the mbuf; unset, they are dropped.
  std::function<void(rte_mbuf*)> router_solicit;
};

class Ndp6Table {
 public:
  explicit Ndp6Table(Ndp6Env env) : env_(std::move(env)) {}
  ~Ndp6Table();

  // Configuration. A link-local `ip` is only meaningful with its vif; a global one lies in a
  // connected subnet of `vif`.
  absl::Status AddStatic(const config::Ip6Addr& ip, uint32_t vif, const rte_ether_addr& mac);
  void RemoveStatic(const config::Ip6Addr& ip, uint32_t vif);
  // The next hop a static (or mirrored) route via `ip` on `vif` points at, created unresolved
  // if needed; ReleaseGateway undoes one such reference.
  absl::StatusOr<uint32_t> GatewayNexthop(const config::Ip6Addr& ip, uint32_t vif);
  void ReleaseGateway(const config::Ip6Addr& ip, uint32_t vif);
  // After addresses changed: removes entries no subnet of their vif holds any more (link-local
  // ones stay while their vif exists). Returns how many went.
  size_t RemoveOffSubnet();
  void set_nd(const config::ArpConfig& nd) { env_.nd = nd; }
  // A valid router solicitation's source link-layer address (RFC 4861 §6.2.6): learned as from
  // a neighbour solicitation, when `ip` is link-local or on a subnet of `vif`.
  void LearnRouterSolicitor(const config::Ip6Addr& ip, uint32_t vif, const rte_ether_addr& mac);
  const Neighbour6* Get(const config::Ip6Addr& ip, uint32_t vif) const;

  // From the workers' OutQ: neighbour discovery (NS, NA; RS to env.router_solicit; RA and
  // redirects are counted and dropped, the router does not act on them), and ICMPv6 echo
  // requests to a link-local address of the router (answered here).
  void OnNdFrame(rte_mbuf* m);
  // An IPv6 packet whose next hop (meta->nexthop) has no MAC yet; for a connected next hop the
  // address to resolve is the packet's destination.
  void OnResolve(rte_mbuf* m);
  // A packet the router originated to a neighbour on PacketVif(m)'s link, by its destination
  // (an ICMPv6 error to a link-local source, which the FIB cannot route; an echo reply).
  void OnLinkLocalOutput(rte_mbuf* m);
  // Retries, state changes and garbage collection; call every ~100 ms.
  void OnTimer(uint64_t now_ms);

  std::vector<const Neighbour6*> List() const;
  size_t size() const { return table_.size(); }

 private:
  using Key = std::pair<config::Ip6Addr, uint32_t>;  // address, vif
  Neighbour6* Find(const config::Ip6Addr& ip, uint32_t vif);
  absl::StatusOr<Neighbour6*> Create(const config::Ip6Addr& ip, uint32_t vif, uint64_t now_ms);
  void Remove(Neighbour6* n);
  // Removes them all behind one grace period.
  void RemoveAll(const std::vector<Key>& keys);
  void SetMac(Neighbour6* n, const rte_ether_addr& mac, NeighState state, uint64_t now_ms);
  // Forgets the MAC (workers punt again) and enters `state`.
  void Invalidate(Neighbour6* n, NeighState state, uint64_t now_ms);
  void ReleaseHeld(Neighbour6* n);
  void DropHeld(Neighbour6* n, dataplane::DropReason reason);
  // Sends `m` out via `n`, or holds it and starts resolving.
  void Hold(Neighbour6* n, rte_mbuf* m, uint64_t now_ms);
  // What a solicitation's source link-layer option teaches (§7.2.3).
  void Learn(const config::Ip6Addr& ip, uint32_t vif, const rte_ether_addr& mac,
             uint64_t now_ms);
  // A valid advertisement (§7.2.5); `tll`: its usable target link-layer address, or null.
  void OnAdvert(uint32_t vif, const config::Ip6Addr& src, const config::Ip6Addr& target,
                uint8_t flags, const rte_ether_addr* tll, uint64_t now_ms);
  void OnEchoRequest(rte_mbuf* m);
  // A neighbour solicitation: multicast to the solicited-node group, or unicast to probe.
  void SendSolicit(Neighbour6* n, bool unicast);
  // The router's address on `vif` to speak to `ip` from: a global one whose subnet holds it,
  // else the vif's link-local.
  config::Ip6Addr SourceFor(uint32_t vif, const config::Ip6Addr& ip) const;
  bool IsOurs(uint32_t vif, const config::Ip6Addr& ip) const;
  bool OnSubnet(uint32_t vif, const config::Ip6Addr& ip) const;

  Ndp6Env env_;
  // std::map: Neighbour6 pointers stay valid while other entries come and go.
  std::map<Key, Neighbour6> table_;
};

}  // namespace vr::control
