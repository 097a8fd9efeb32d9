// Next-hop slot allocator: a free list over the FIB's table. Slot 0 is never handed out, so a
// zeroed index in a packet's metadata can never alias a live next hop.
#include "control/nexthops.h"

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
  std::atomic_thread_fence(std::memory_order_release);
  ++in_use_;
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
