// The IPv4 FIB the workers read: a DIR-24-8 table whose values index a table of next hops, plus
// the list of ports workers poll. Control writes, workers read.
#pragma once

#include <rte_ether.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "dataplane/lazy_array.h"
#include "dataplane/lpm4.h"

namespace vr::dataplane {

enum class NhKind : uint8_t {
  kUnused = 0,
  kNeighbour,    // a host on a connected subnet (a gateway or a /32 learned by ARP): has a MAC
  kConnected,    // a connected subnet: the destination itself must be resolved on `port`
  kLocal,        // one of the router's own addresses
  kBroadcast,    // a connected subnet's broadcast address: never forwarded
  kBlackhole,    // silently dropped
  kUnreachable,  // dropped with ICMP destination unreachable
};

constexpr uint64_t kL2Resolved = uint64_t{1} << 63;

// One next hop, one cache line. `l2` changes while workers read it, as a single 64-bit store, so a
// worker sees either the old MAC or the new, never a mix; so do the `peer` words of an IPv6
// connected next hop (Fib6::AddConnected), read as a seqlock whose sequence is `peer` itself.
struct alignas(64) Nexthop {
  std::atomic<uint64_t> l2{0};  // control: wo, dataplane: ro. kL2Resolved | MAC in low 48 bits
  uint32_t ip = 0;              // control: wo before publishing, dataplane: ro. Network order
  uint32_t vif = 0;             // egress vif for kNeighbour / kConnected
  NhKind kind = NhKind::kUnused;
  bool v6 = false;              // an IPv6 next hop: `ip6` is its address, `ip` unused
  // Network order. kNeighbour: the neighbour's address. An IPv6 kConnected next hop of
  // Fib6::AddConnected: the router's own address on the subnet.
  uint8_t ip6[16] = {};
  // An IPv6 kConnected next hop of Fib6::AddConnected: one neighbour on the subnet whose /128
  // lives here rather than in tbl8 groups (its next hop, 0 for none, and its address as two
  // network-order halves). Fib6 writes them, workers read them. dataplane: ro, control: wo.
  std::atomic<uint32_t> peer{0};
  std::atomic<uint64_t> peer_hi{0};
  std::atomic<uint64_t> peer_lo{0};
};
static_assert(sizeof(Nexthop) == 64);

inline uint64_t PackMac(const rte_ether_addr& mac) {
  uint64_t v = 0;
  memcpy(&v, mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  return v;
}
inline rte_ether_addr UnpackMac(uint64_t v) {
  rte_ether_addr mac;
  memcpy(mac.addr_bytes, &v, RTE_ETHER_ADDR_LEN);
  return mac;
}

// The first six bytes of a 64-bit load are a MAC, whatever the byte order.
inline const uint64_t kMacMask = PackMac(rte_ether_addr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}});

// The ports workers poll and flush, in order: an immutable snapshot workers read through one
// pointer, so ports join and leave at run time by a new table.
struct PortTable {
  uint16_t polled[RTE_MAX_ETHPORTS] = {};
  uint16_t polled_count = 0;

  void Poll(uint16_t id) {
    for (uint16_t i = 0; i < polled_count; ++i) {
      if (polled[i] == id) return;
    }
    polled[polled_count++] = id;
  }
  void Unpoll(uint16_t id) {
    uint16_t n = 0;
    for (uint16_t i = 0; i < polled_count; ++i) {
      if (polled[i] != id) polled[n++] = polled[i];
    }
    polled_count = n;
  }
};

class Fib {
 public:
  // `rcu` may be null (tests without workers); with it, emptied tbl8 groups wait for a grace
  // period before reuse.
  static absl::StatusOr<std::unique_ptr<Fib>> Create(
      uint32_t max_nexthops, rte_rcu_qsbr* rcu, int socket_id,
      uint32_t tbl8_groups = Lpm4::kDefaultTbl8Groups);
  ~Fib();
  Fib(const Fib&) = delete;
  Fib& operator=(const Fib&) = delete;

  // Control only. `prefix` in host order; `len` 0 is the default route.
  absl::Status Add(uint32_t prefix, uint8_t len, uint32_t nexthop) {
    return lpm_->Add(prefix, len, nexthop);
  }
  absl::Status Delete(uint32_t prefix, uint8_t len) { return lpm_->Delete(prefix, len); }
  bool Has(uint32_t prefix, uint8_t len) const { return lpm_->Has(prefix, len); }

  static constexpr uint32_t kNoRoute = Lpm4::kMiss;

  // Workers. `dst` in host order. Returns false on no route.
  bool Lookup(uint32_t dst, uint32_t* nexthop) const {
    *nexthop = lpm_->Lookup(dst);
    return *nexthop != kNoRoute;
  }
  // Workers: one burst's view of the routes (Lpm4::Reader); misses come back as kNoRoute.
  Lpm4::Reader reader() const { return lpm_->reader(); }

  Nexthop& nexthop(uint32_t i) { return nexthops_[i]; }
  const Nexthop& nexthop(uint32_t i) const { return nexthops_[i]; }
  uint32_t max_nexthops() const { return max_nexthops_; }
  // Workers: the polled ports as of the snapshot published last.
  const PortTable& ports() const { return *ports_.load(std::memory_order_acquire); }
  // Control, before any worker runs (bring-up, tests): edits the current snapshot in place.
  PortTable& edit_ports() { return *ports_.load(std::memory_order_relaxed); }
  // Control, while workers run: a copy to change, then published whole. `synchronize` waits for
  // an RCU grace period, after which no worker can still hold the old table, and it is freed.
  std::unique_ptr<PortTable> CopyPorts() const {
    return std::make_unique<PortTable>(*ports_.load(std::memory_order_relaxed));
  }
  void PublishPorts(std::unique_ptr<PortTable> next, const std::function<void()>& synchronize) {
    std::unique_ptr<PortTable> old(ports_.exchange(next.release(), std::memory_order_acq_rel));
    synchronize();
  }

 private:
  Fib() = default;
  std::unique_ptr<Lpm4> lpm_;
  LazyArray<Nexthop> nexthops_;  // one per vif's subnet and per neighbour: committed as used
  uint32_t max_nexthops_ = 0;
  std::atomic<PortTable*> ports_{new PortTable()};  // control: wo (whole tables), workers: ro
};

}  // namespace vr::dataplane
