// The IPv6 FIB the workers read: prefix -> next-hop index in a 24-bit first level and then one
// 256-entry group per further byte, down to /128. Control writes, workers read without locks.
#pragma once

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataplane/fib.h"
#include "dataplane/lazy_array.h"

namespace vr::dataplane {

// Why not DPDK's rte_fib6 (22.11, RTE_FIB6_TRIE), measured on the installed 22.11.11:
// - It has no RCU, and one rte_fib6_add or rte_fib6_delete can free a tbl8 group and hand it to
//   another prefix before it returns (replacing 2001:db8::/32's next hop moved group 4 from
//   2001:db8:00::/40 to 2001:db8:05::/40 in one call): no grace period taken between calls can
//   protect a worker still walking the old path, and its lookup loop has no depth bound.
// - It zeroes a group before the entry above stops pointing at it: a worker reads next hop 0.
// - A delete never returns the tbl8 groups its add reserved: with 16 groups, adding a /64 fails
//   with ENOSPC after three add/delete rounds of that same /64, all 16 groups free.
// - Its rte_rib6 keeps up to two mempool nodes a route in hugepages: 422 bytes a route.
// So Fib6 is Lpm4 carried down to /128, with the same rules for readers:
//
// Workers never lock. Every entry changes by one aligned 32-bit store, so a lookup, which ends on
// exactly one entry, sees a route's old or new next hop. A group is filled (a copy of the entry it
// replaces) before the entry that points to it is published. A group a delete empties is unlinked
// first (the entry above takes the value every entry of the group already holds) and left as it
// is; it serves again only after an RCU grace period, so a worker between two loads reads the
// group as it was, never one that now belongs to another prefix, and never a half-reset one.
class Fib6 {
 public:
  static constexpr uint32_t kNoRoute = ~uint32_t{0};       // lookup result with no route
  static constexpr uint32_t kMaxNexthop = (1u << 28) - 1;  // next hops use the low 28 bits
  static constexpr uint32_t kMaxTbl8Groups = 1u << 24;     // group << 8 must fit in 32 bits

  // The groups Create reserves unless told: one per route, 1 KiB of hugepage memory a route, at
  // most 2^20 (1 GiB). A prefix longer than /24 needs a group for each byte after the third down
  // to its own: a lone /48 takes 3, a lone /64 5, a lone /127 or /128 13. Prefixes handed out in
  // sequence share them: measured per route, 0.004 for subscriber /64s from a pool, 0.008 for
  // /127s, 1.1 for /48-/64s scattered over a provider's /32, 4.4 scattered over 2000::/3.
  static uint32_t DefaultTbl8Groups(uint32_t max_routes);

  // `max_routes`: the routes it may hold, the default route included. `rcu`: the workers' QSBR
  // variable; null when no worker reads (tests), and emptied groups are then reused at once.
  // Fails with the size it wanted when hugepage memory is short.
  static absl::StatusOr<std::unique_ptr<Fib6>> Create(uint32_t max_routes, rte_rcu_qsbr* rcu,
                                                      int socket_id, uint32_t tbl8_groups = 0);
  ~Fib6();
  Fib6(const Fib6&) = delete;
  Fib6& operator=(const Fib6&) = delete;

  // Control only. `addr`: 16 bytes, network order; bits past `len` are ignored. `len` 0 is the
  // default route. Adding an existing prefix replaces its next hop.
  absl::Status Add(const uint8_t addr[16], uint8_t len, uint32_t nexthop);

  // A connected subnet that holds one of the router's own addresses, with no /128 route for it:
  // a lookup that ends on this subnet's entries compares the destination with the `ip6` of
  // next hop `nexthop` (a kConnected entry of `nexthops`, given to SetOwnAddresses) and returns
  // the local next hop when they are equal. A /128 costs up to 13 tbl8 groups (8 under its
  // own /64), which tens of thousands of template members' addresses cannot pay; this costs a
  // compare on the one cache line the worker reads next anyway. The same line keeps one
  // neighbour of the subnet: the first /128 Add puts under such a subnet (a subscriber's
  // router, the far end of a /127) lives in the next hop's `peer` words instead of tbl8 groups,
  // and a lookup that ends on the subnet compares with it too; further /128s go to the table.
  // A route added later inside the subnet that would hide that neighbour moves it to the table
  // first. These routes do not count against max_routes (the vifs bound their number). Delete
  // removes them as any; deleting the subnet leaves its neighbour's /128 known but unused, as
  // the neighbour is on no subnet then (NDP removes it next).
  absl::Status AddConnected(const uint8_t addr[16], uint8_t len, uint32_t nexthop);
  // Control, once, before AddConnected: the next-hop table and the next hop of the router's own
  // addresses. Null `nexthops` (tests without own addresses) keeps AddConnected refused.
  void SetOwnAddresses(Nexthop* nexthops, uint32_t local) {
    own_nexthops_ = nexthops;
    own_local_ = local;
  }
  // How many tbl8 groups `n` prefixes of length `len` at first, first + step, ... (16-byte
  // addresses, network order, host bits ignored) need at most, with nothing else in the table:
  // what a template's members' subnets take, to size the table from a config.
  static uint64_t GroupsFor(const uint8_t first[16], uint8_t len, const uint8_t step[16],
                            uint32_t n);
  absl::Status Delete(const uint8_t addr[16], uint8_t len);
  bool Has(const uint8_t addr[16], uint8_t len) const;
  size_t size() const { return routes_.size() + (default_has_route_ ? 1 : 0); }
  uint32_t max_routes() const { return max_routes_; }
  // Control only: groups workers can reach (not those waiting for a grace period).
  uint32_t tbl8_groups_in_use() const {
    return next_group_ - uint32_t(free_groups_.size() + retired_.size());
  }
  uint32_t tbl8_groups() const { return tbl8_groups_; }

  // Workers: lock-free. Returns false on no route.
  bool Lookup(const uint8_t addr[16], uint32_t* nexthop) const {
    uint32_t e = Load(&tbl24_[Index24(addr)]);
    for (int b = 3; e & kExt; ++b) e = Load(&tbl8_[(e & kValueMask) << 8 | addr[b]]);
    *nexthop = (e & kValid) ? Resolve(addr, e) : default_.load(std::memory_order_acquire);
    return *nexthop != kNoRoute;
  }

  // Workers: misses come back as kNoRoute. The burst goes down level by level: the loads of one
  // level are independent of each other, so their cache misses overlap instead of queueing
  // behind each other. Measured over 10,000 random /48-/64 routes, bursts of 32: 21 ns a lookup,
  // as fast as rte_fib6's AVX-512 lookup; 26-30 ns walking the burst one address at a time.
  void LookupBulk(const uint8_t (*addrs)[16], uint32_t* nexthops, uint32_t n) const {
    uint32_t any = 0;
    for (uint32_t i = 0; i < n; ++i) any |= nexthops[i] = Load(&tbl24_[Index24(addrs[i])]);
    for (int b = 3; any & kExt; ++b) {
      any = 0;
      for (uint32_t i = 0; i < n; ++i) {
        uint32_t e = nexthops[i];
        if (e & kExt) e = nexthops[i] = Load(&tbl8_[(e & kValueMask) << 8 | addrs[i][b]]);
        any |= e;
      }
    }
    uint32_t def = default_.load(std::memory_order_acquire);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t e = nexthops[i];
      nexthops[i] = (e & kValid) ? Resolve(addrs[i], e) : def;
    }
  }

 private:
  static constexpr uint32_t kValid = 1u << 31;  // a route's next hop follows in the low 29 bits
  static constexpr uint32_t kExt = 1u << 30;    // the low bits index the group of the next byte
  // With kValid: a connected subnet holding a router address (AddConnected).
  static constexpr uint32_t kOwn = 1u << 29;
  // In routes_ only, never in an entry: a /128 kept in its subnet's next hop (`peer`).
  static constexpr uint32_t kPeer = 1u << 28;
  static constexpr uint32_t kValueMask = kPeer - 1;

  // The next hop of a valid entry `e` for destination `addr`.
  uint32_t Resolve(const uint8_t addr[16], uint32_t e) const {
    uint32_t nh = e & kValueMask;
    if (__builtin_expect((e & kOwn) == 0, 1)) return nh;
    // The worker reads this next hop's line next in any case; the router's own address and the
    // subnet's kept neighbour are in it.
    const Nexthop& c = own_nexthops_[nh];
    uint64_t a[2], o[2];
    memcpy(a, addr, 16);
    memcpy(o, c.ip6, 16);
    if (((a[0] ^ o[0]) | (a[1] ^ o[1])) == 0) return own_local_;
    // A seqlock whose sequence is the neighbour's next hop: control clears it before the
    // address changes, and a next hop is never reused within a worker's burst (its slot is
    // freed only after a grace period), so seeing the same one twice means the address read
    // between is its own.
    uint32_t peer = c.peer.load(std::memory_order_acquire);
    if (peer != 0 && c.peer_hi.load(std::memory_order_acquire) == a[0] &&
        c.peer_lo.load(std::memory_order_acquire) == a[1] &&
        c.peer.load(std::memory_order_acquire) == peer) {
      return peer;
    }
    return nh;
  }


  struct Prefix {
    uint8_t b[16];
  };
  struct Key {
    uint64_t hi, lo;
    uint8_t len;
    friend bool operator==(const Key&, const Key&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.hi, k.lo, k.len);
    }
  };

  static uint32_t Index24(const uint8_t* a) { return uint32_t{a[0]} << 16 | a[1] << 8 | a[2]; }
  static uint32_t Load(const uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
  static void Store(uint32_t* p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
  static Prefix Masked(const uint8_t addr[16], uint8_t len);
  absl::Status AddValue(const uint8_t addr[16], uint8_t len, uint32_t nexthop, uint32_t own);
  // Control: the connected next hop whose `peer` holds the /128 at `p` with next hop `nh`.
  Nexthop* PeerHolder(const Prefix& p, uint32_t nh) const;
  // Control: a route of `len` at `p` is coming; a kept neighbour it would hide goes to the table.
  absl::Status DemotePeer(const Prefix& p, uint8_t len);
  static Key KeyOf(const Prefix& p, uint8_t len);
  absl::Status Full(const Prefix& p, uint8_t len) const;

  // What the entries of prefix/len hold once it goes: the longest shorter route covering it, as
  // (entry, its length); (0, 0) when none, which workers read as "ask the default route".
  std::pair<uint32_t, uint8_t> Cover(const Prefix& p, uint8_t len) const;
  // Sets every entry of prefix/len whose owner's length satisfies `take` to `entry`, owned by
  // `depth`, in the groups below it too.
  template <typename Take>
  void Write(const Prefix& p, uint8_t len, uint32_t entry, uint8_t depth, Take take);
  template <typename Take>
  void WriteEntry(uint32_t* e, uint8_t* owner, uint32_t entry, uint8_t depth, Take take);
  // Makes `n` groups ready to take, waiting for a grace period only when nothing else is left.
  absl::Status ReserveGroups(uint32_t n);
  void Reclaim(bool wait);
  uint32_t TakeGroup();
  void Retire(uint32_t g);

  Fib6() = default;
  uint32_t* tbl24_ = nullptr;  // 2^24 entries, hugepages. dataplane: ro, control: wo
  uint32_t* tbl8_ = nullptr;   // groups of 256 entries, hugepages. dataplane: ro, control: wo
  std::atomic<uint32_t> default_{kNoRoute};  // dataplane: ro, control: wo
  uint32_t tbl8_groups_ = 0;
  uint32_t max_routes_ = 0;
  rte_rcu_qsbr* rcu_ = nullptr;
  Nexthop* own_nexthops_ = nullptr;  // dataplane: ro; set once before workers start
  uint32_t own_local_ = kNoRoute;
  uint32_t own_routes_ = 0;  // control only: AddConnected's and kept /128s, outside max_routes

  // Control only: the routes but the default, how many of each length (a delete's search for its
  // cover skips absent lengths), and per entry the length of the prefix that owns it (0: none;
  // for an entry pointing to a group: what the entry holds again when the group folds).
  absl::flat_hash_map<Key, uint32_t> routes_;
  bool default_has_route_ = false;
  uint32_t routes_of_len_[129] = {};
  LazyArray<uint8_t> owner24_;
  LazyArray<uint8_t> owner8_;
  LazyArray<uint32_t> group_routes_;  // routes at or below each group's level inside it
  std::vector<uint32_t> free_groups_;
  std::deque<std::pair<uint32_t, uint64_t>> retired_;  // group, RCU token of its retirement
  uint32_t next_group_ = 0;
};

}  // namespace vr::dataplane
