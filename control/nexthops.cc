// Next-hop slot allocator: a free list over the FIB's table. Slot 0 is never handed out, so a
// zeroed index in a packet's metadata can never alias a live next hop.
#include "control/nexthops.h"

#include <cstring>

namespace vr::control {

NexthopTable::NexthopTable(dataplane::Fib* fib) : fib_(fib) {}

absl::StatusOr<uint32_t> NexthopTable::Alloc(dataplane::NhKind kind, uint32_t ip_be,
                                             uint32_t vif) {
  uint32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else if (next_ < fib_->max_nexthops()) {
    i = next_++;
  } else {
    return absl::ResourceExhaustedError("next-hop table full");
  }
  dataplane::Nexthop& nh = fib_->nexthop(i);
  nh.l2.store(0, std::memory_order_relaxed);
  nh.ip = ip_be;
  nh.vif = vif;
  nh.kind = kind;
  nh.v6 = false;
  memset(nh.ip6, 0, sizeof(nh.ip6));
  nh.peer.store(0, std::memory_order_relaxed);
  nh.peer_hi.store(0, std::memory_order_relaxed);
  nh.peer_lo.store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  ++in_use_;
  return i;
}

absl::StatusOr<uint32_t> NexthopTable::Alloc6(dataplane::NhKind kind, const uint8_t* ip6,
                                              uint32_t vif) {
  auto i = Alloc(kind, 0, vif);
  if (!i.ok()) return i;
  dataplane::Nexthop& nh = fib_->nexthop(*i);
  nh.v6 = true;
  if (ip6 != nullptr) memcpy(nh.ip6, ip6, sizeof(nh.ip6));
  // Published by the caller storing the index; the fence orders these stores before it.
  std::atomic_thread_fence(std::memory_order_release);
  return i;
}

void NexthopTable::Free(uint32_t index) {
  dataplane::Nexthop& nh = fib_->nexthop(index);
  nh.kind = dataplane::NhKind::kUnused;
  nh.l2.store(0, std::memory_order_relaxed);
  free_.push_back(index);
  --in_use_;
}

}  // namespace vr::control
