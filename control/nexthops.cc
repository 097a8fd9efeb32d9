// Next-hop slot allocator: a free list over the FIB's table. Slot 0 is never handed out, so a
// zeroed index in a packet's metadata can never alias a live next hop.
#include "control/nexthops.h"

namespace vr::control {

NexthopTable::NexthopTable(dataplane::Fib* fib) : fib_(fib) {
  for (uint32_t i = fib->max_nexthops() - 1; i >= 1; --i) free_.push_back(i);
}

absl::StatusOr<uint32_t> NexthopTable::Alloc(dataplane::NhKind kind, uint32_t ip_be,
                                             uint16_t port) {
  if (free_.empty()) return absl::ResourceExhaustedError("next-hop table full");
  uint32_t i = free_.back();
  free_.pop_back();
  dataplane::Nexthop& nh = fib_->nexthop(i);
  nh.l2.store(0, std::memory_order_relaxed);
  nh.ip = ip_be;
  nh.port = port;
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
