// The ARP neighbour table, owned by the control lcore: answers ARP for the router's addresses,
// resolves next hops, holds packets while it does, and ages entries (states after RFC 4861).
#pragma once

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "config/config.h"
#include "dataplane/counters.h"
#include "dataplane/fib.h"
#include "dataplane/nbuf_pool.h"
#include "control/nexthops.h"

namespace vr::control {

// kDelay is NDP's only (RFC 4861 §7.3.2); ARP goes from stale straight to probe.
enum class NeighState { kIncomplete, kReachable, kStale, kDelay, kProbe, kFailed, kPermanent };
std::string_view NeighStateName(NeighState s);

struct Neighbour {
  uint32_t ip = 0;  // host order
  uint32_t vif = 0;
  uint32_t nh = 0;  // its next-hop index; the FIB's /32 for it and routes via it point here
  NeighState state = NeighState::kIncomplete;
  rte_ether_addr mac{};
  uint64_t timer_ms = 0;      // when the state's next action is due
  uint64_t last_used_ms = 0;  // last time a worker flagged it used (or its creation)
  uint32_t probes = 0;        // requests sent in this round
  uint32_t route_refs = 0;    // static routes using it as gateway: it is never garbage collected
  bool host_route = false;    // a /32 for it is in the FIB
  std::deque<rte_mbuf*> held;
};

// What the table needs from the router: vifs' facts, and ways to hand frames to workers.
struct NeighbourEnv {
  dataplane::Fib* fib;
  dataplane::NbufPool* pool;
  NexthopTable* nexthops;
  dataplane::CoreCounters* counters;  // the control lcore's own counters
  // Router addresses with prefix length, per vif (host order); a vif's name and MAC.
  std::function<std::vector<config::Ip4Prefix>(uint32_t vif)> vif_addresses;
  std::function<std::string(uint32_t vif)> vif_name;
  std::function<rte_ether_addr(uint32_t vif)> vif_mac;
  // Hands a complete frame to a worker for TX on meta->tx_vif. Frees and counts on failure.
  std::function<void(rte_mbuf*)> transmit;
  // Hands a held packet back to a worker to be routed out via meta->nexthop.
  std::function<void(rte_mbuf*)> output;
  // Whether any worker used next hop `nh` since the last call, clearing the flags.
  std::function<bool(uint32_t nh)> take_used;
  // Waits until no worker can still see a next hop or route just removed (RCU grace period).
  std::function<void()> synchronize;
  config::ArpConfig arp;
};

class NeighbourTable {
 public:
  explicit NeighbourTable(NeighbourEnv env) : env_(std::move(env)) {}
  ~NeighbourTable();

  // Configuration time.
  absl::Status AddStatic(uint32_t ip, uint32_t vif, const rte_ether_addr& mac);
  // The next hop a static route via `ip` points at, creating an unresolved entry if needed.
  absl::StatusOr<uint32_t> GatewayNexthop(uint32_t ip, uint32_t vif);

  // Live reconfiguration. A static entry the config dropped: if routes still use it, it goes back
  // to ARP (stale, keeping its MAC until a probe says otherwise); otherwise it is removed.
  void RemoveStatic(uint32_t ip);
  // A static route via `ip` is gone; the entry ages like any other once nothing uses it.
  void ReleaseGateway(uint32_t ip);
  // After router addresses changed: removes entries no subnet of their vif holds any more.
  // Returns how many went. Entries static routes use cannot be outside (config validation).
  size_t RemoveOffSubnet();
  void set_arp(const config::ArpConfig& arp) { env_.arp = arp; }
  const Neighbour* Get(uint32_t ip) const;

  // From the workers' OutQ.
  void OnArpFrame(rte_mbuf* m);
  void OnResolve(rte_mbuf* m);
  // Retries, aging and garbage collection; call every ~100 ms.
  void OnTimer(uint64_t now_ms);

  std::vector<const Neighbour*> List() const;
  size_t size() const { return table_.size(); }

 private:
  Neighbour* Find(uint32_t ip);
  absl::StatusOr<Neighbour*> Create(uint32_t ip, uint32_t vif, uint64_t now_ms);
  void Remove(Neighbour* n);
  void SetMac(Neighbour* n, const rte_ether_addr& mac, NeighState state, uint64_t now_ms);
  void Invalidate(Neighbour* n, NeighState state, uint64_t now_ms);
  void ReleaseHeld(Neighbour* n);
  void DropHeld(Neighbour* n, dataplane::DropReason reason);
  void SendRequest(Neighbour* n, bool unicast);
  // The router's address on `vif` whose subnet holds `ip`, or 0.
  uint32_t SourceFor(uint32_t vif, uint32_t ip) const;
  bool IsOurs(uint32_t vif, uint32_t ip) const;

  NeighbourEnv env_;
  // Node map: Neighbour pointers stay valid while other entries are added.
  absl::node_hash_map<uint32_t, Neighbour> table_;  // by IPv4 address: subnets never overlap
};

uint64_t NowMs();

}  // namespace vr::control
