// IPv4 longest-prefix match in DIR-24-8 form: one table load for prefixes up to /24, two beyond.
// Adds and deletes cost the addresses a prefix spans, never the number of routes already held.
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
#include "dataplane/lazy_array.h"

namespace vr::dataplane {

// Why not rte_lpm or rte_fib: rte_lpm finds a rule by scanning every rule of the same length, so
// loading a million sub-interfaces' routes took 612 s; rte_fib's rte_rib keeps each route in a
// mempool object of about 400 bytes of hugepage memory. Here a route costs one hash-map slot on
// the control side and its span of table entries on the worker side.
//
// Control writes, workers read without locks: every entry changes by one 32-bit store; a tbl8
// group is filled before the tbl24 entry that points to it is published, and a group a delete
// empties is reused only after an RCU grace period, so a worker between its two loads never reads
// a group that now belongs to another /24.
class Lpm4 {
 public:
  static constexpr uint32_t kMiss = ~uint32_t{0};  // lookup result with no route, no default
  static constexpr uint32_t kMaxValue = (1u << 30) - 1;
  static constexpr uint32_t kDefaultTbl8Groups = 1u << 16;

  // `rcu` may be null when no worker reads (tests): emptied groups are then reused at once.
  static absl::StatusOr<std::unique_ptr<Lpm4>> Create(uint32_t tbl8_groups, rte_rcu_qsbr* rcu,
                                                      int socket_id);
  ~Lpm4();
  Lpm4(const Lpm4&) = delete;
  Lpm4& operator=(const Lpm4&) = delete;

  // Control only. `prefix` in host order; `len` 0 is the default route. Adding an existing
  // prefix replaces its value.
  absl::Status Add(uint32_t prefix, uint8_t len, uint32_t value);
  absl::Status Delete(uint32_t prefix, uint8_t len);
  // Control only: whether exactly this prefix is in the table.
  bool Has(uint32_t prefix, uint8_t len) const { return routes_.contains(Key(prefix, len)); }

  // Workers: what a lookup reads, taken once per burst into registers. The tables never move;
  // entries are read as they are at each lookup, the default route as it was when taken (a
  // change is seen from the next burst).
  struct Reader {
    const uint32_t* tbl24;
    const uint32_t* tbl8;
    uint32_t def;
    // Issued while the burst is parsed, so the tbl24 misses of its packets overlap one another
    // and the parsing, and the lookup later finds the line in cache.
    void Prefetch(uint32_t dst) const { __builtin_prefetch(&tbl24[dst >> 8]); }
    // `dst` in host order.
    uint32_t Lookup(uint32_t dst) const {
      uint32_t e = Load(&tbl24[dst >> 8]);
      if (e & kExt) e = Load(&tbl8[((e & kValueMask) << 8) | (dst & 255)]);
      return (e & kValid) ? e & kValueMask : def;
    }
  };
  Reader reader() const { return {tbl24_, tbl8_, default_.load(std::memory_order_acquire)}; }
  // Workers. `dst` in host order.
  uint32_t Lookup(uint32_t dst) const { return reader().Lookup(dst); }

 private:
  static constexpr uint32_t kValid = 1u << 31;  // a route's value follows in the low 30 bits
  static constexpr uint32_t kExt = 1u << 30;    // tbl24 only: the low bits index a tbl8 group
  static constexpr uint32_t kValueMask = kExt - 1;

  static uint32_t Load(const uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
  static void Store(uint32_t* p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
  static uint64_t Key(uint32_t prefix, uint8_t len) { return (uint64_t{prefix} << 8) | len; }

  // What an entry holds once the route owning it goes: the longest route shorter than `len`
  // covering `prefix` (entry 0 and depth 0 when none).
  std::pair<uint32_t, uint8_t> Cover(uint32_t prefix, uint8_t len) const;
  // Sets every entry in prefix/len whose depth satisfies `take(depth)` to `entry` at `depth`.
  template <typename Take>
  void Write(uint32_t prefix, uint8_t len, uint32_t entry, uint8_t depth, Take take);
  absl::StatusOr<uint32_t> AllocGroup();
  void FreeGroup(uint32_t g);

  Lpm4() = default;
  uint32_t* tbl24_ = nullptr;  // 2^24 entries, hugepage memory
  uint32_t* tbl8_ = nullptr;   // groups of 256 entries, hugepage memory
  std::atomic<uint32_t> default_{kMiss};
  uint32_t tbl8_groups_ = 0;
  rte_rcu_qsbr* rcu_ = nullptr;

  // Control only: the routes, and the prefix length owning each entry (0: none).
  absl::flat_hash_map<uint64_t, uint32_t> routes_;
  LazyArray<uint8_t> depth24_;
  LazyArray<uint8_t> depth8_;
  std::vector<uint32_t> group_routes_;  // routes longer than /24 inside each group
  std::vector<uint32_t> free_groups_;
  std::deque<std::pair<uint32_t, uint64_t>> retired_;  // group, RCU token of its retirement
  uint32_t next_group_ = 0;
};

}  // namespace vr::dataplane
