// InQ/OutQ ring construction; the hot Push/Pop are inline in the header.
// Slots start zeroed, which the consumer reads as "empty" on every lap (action kNone).
#include "dataplane/xq_ring.h"

#include <bit>
#include <cassert>

namespace vr::dataplane {

XqRing::XqRing(uint32_t capacity_pow2)
    : mask_(capacity_pow2 - 1),
      shift_(std::countr_zero(capacity_pow2)),
      slots_(new std::atomic<uint32_t>[capacity_pow2]) {
  assert(std::has_single_bit(capacity_pow2));
  for (uint32_t i = 0; i < capacity_pow2; ++i) slots_[i].store(0, std::memory_order_relaxed);
  free_ = capacity_pow2;
}

}  // namespace vr::dataplane
