// Router advertisements (RFC 4861 §6.2) on the control lcore: unsolicited ones at random
// intervals, answers to router solicitations, and final ones when an interface stops
// advertising. No thread and no timer of its own: the control loop calls OnTimer.
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "config/config.h"
#include "dataplane/counters.h"
#include "dataplane/nbuf_pool.h"

namespace vr::control {

// What an advertising interface is now. Read again for every advertisement, so an address or
// MTU that changed is in the next one.
struct RaInterface {
  bool exists = false;  // false: the vif is gone
  bool up = false;      // admin state: nothing is sent while down
  rte_ether_addr mac{};
  config::Ip6Addr link_local;
  uint32_t mtu = 0;
  std::vector<config::Ip6Prefix> addresses;  // global ones, with their lengths
  std::string name;                          // for the log

  // What an advertisement says of the interface.
  bool SameAdvert(const RaInterface& o) const {
    return rte_is_same_ether_addr(&mac, &o.mac) && link_local == o.link_local && mtu == o.mtu &&
           addresses == o.addresses;
  }
};

struct RouterAdvertEnv {
  dataplane::NbufPool* pool;
  dataplane::CoreCounters* counters;  // the control lcore's own
  std::function<RaInterface(uint32_t vif)> interface;
  // Hands a complete frame to a worker for TX on meta->tx_vif.
  std::function<void(rte_mbuf*)> transmit;
  // A valid solicitation's source and link-layer address: the neighbour cache learns it
  // (§6.2.6, as from a neighbour solicitation, §7.2.3).
  std::function<void(uint32_t vif, const config::Ip6Addr& src, const rte_ether_addr& mac)> learn;
  uint64_t seed = 1;  // of the random intervals and delays
};

// RFC 4861 §10's router constants.
inline constexpr uint32_t kMaxInitialRtrAdvertIntervalMs = 16000;
inline constexpr uint32_t kMaxInitialRtrAdvertisements = 3;
inline constexpr uint32_t kMaxFinalRtrAdvertisements = 3;
inline constexpr uint32_t kMinDelayBetweenRasMs = 3000;
inline constexpr uint32_t kMaxRaDelayTimeMs = 500;

// §6.1.1: whether a router solicitation (ICMPv6 `icmp` of `len` bytes in `ip`) is valid; a
// usable source link-layer address option is returned in *sll (else null).
bool ValidRouterSolicit(const rte_ipv6_hdr* ip, const uint8_t* icmp, uint32_t len,
                        const rte_ether_addr** sll);

// A whole advertisement in a new nbuf: Ethernet to 33:33:00:00:00:01, IPv6 from the interface's
// link-local address to ff02::1 with hop limit 255, the RA, then the source link-layer
// address, MTU and prefix information options. `final`: router lifetime 0 (§6.2.5).
rte_mbuf* BuildRouterAdvert(rte_mempool* pool, const config::RouterAdvertConfig& cfg,
                            const RaInterface& ifc, bool final);

class RouterAdverts {
 public:
  explicit RouterAdverts(RouterAdvertEnv env) : env_(std::move(env)), rng_(env_.seed) {}

  // `vif` advertises with `cfg` from now on, or (nullopt) stops, with final advertisements of
  // router lifetime 0 (§6.2.5). One that starts, or whose settings change, sends its first
  // advertisements as §6.2.4 has it: the first at once, the next ones at most 16 s apart.
  void Configure(uint32_t vif, const std::optional<config::RouterAdvertConfig>& cfg,
                 uint64_t now_ms);
  // After a reconfiguration: an interface whose addresses, link-local address, MAC or MTU
  // changed since its last advertisement sends its first few again (§6.2.4).
  void Recheck(uint64_t now_ms);
  // The vif is about to go: one final advertisement now, then it is forgotten.
  void Remove(uint32_t vif);
  // vrouterd is stopping: one final advertisement on every advertising interface.
  void StopAll();
  // A router solicitation punted by a worker (Ethernet + IPv6 + ICMPv6, its vif in the mbuf):
  // checked (§6.1.1) and answered per §6.2.6 with a multicast advertisement after a random delay
  // of up to 500 ms, at most one per 3 s. Takes the mbuf.
  void OnSolicit(rte_mbuf* m, uint64_t now_ms);
  // Sends what is due; cheap when nothing is, so the control loop calls it every iteration.
  void OnTimer(uint64_t now_ms);

  // What tests and `show` look at.
  struct Advertiser {
    config::RouterAdvertConfig cfg;
    bool stopping = false;  // sending its final advertisements
    uint32_t finals_left = 0;
    uint32_t initial_sent = 0;             // advertisements since it became advertising (§6.2.4)
    uint64_t next_ms = 0;                  // the next unsolicited (or final) advertisement
    std::optional<uint64_t> solicited_ms;  // an answer to solicitations, when scheduled
    std::optional<uint64_t> last_ms;       // the last multicast advertisement
    uint64_t sent = 0;
    RaInterface seen;  // what the last advertisement was built from
  };
  const Advertiser* Get(uint32_t vif) const;
  size_t size() const { return ifaces_.size(); }

 private:
  void Restart(Advertiser& a, uint64_t now_ms);
  // Sends one advertisement on `vif` now, and schedules the next (§6.2.4).
  void Send(uint32_t vif, Advertiser& a, uint64_t now_ms);
  bool Transmit(uint32_t vif, Advertiser& a, bool final);
  uint64_t Uniform(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_);
  }
  void Due(uint64_t ms) { next_due_ms_ = std::min(next_due_ms_, ms); }

  RouterAdvertEnv env_;
  std::mt19937_64 rng_;
  std::map<uint32_t, Advertiser> ifaces_;  // by vif
  uint64_t next_due_ms_ = 0;               // nothing is due before this
};

}  // namespace vr::control
