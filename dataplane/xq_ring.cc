// InQ/OutQ ring construction; the hot Push/Pop are inline in the header.
// Slots start zeroed, which the consumer reads as "empty" on every lap (action kNone), and start
// on a cache line boundary, so the line Push holds back until Publish is one whole line.
#include "dataplane/xq_ring.h"

#include <bit>
#include <cassert>
#include <new>

namespace vr::dataplane {

XqRing::XqRing(uint32_t capacity_pow2)
    : mask_(capacity_pow2 - 1),
      shift_(std::countr_zero(capacity_pow2)),
      slots_(new (std::align_val_t(64)) std::atomic<uint32_t>[capacity_pow2]) {
  assert(std::has_single_bit(capacity_pow2));
  for (uint32_t i = 0; i < capacity_pow2; ++i) slots_[i].store(0, std::memory_order_relaxed);
  free_ = capacity_pow2;
}

void XqRing::SlotsDelete::operator()(std::atomic<uint32_t>* p) const {
  ::operator delete[](p, std::align_val_t(64));
}

}  // namespace vr::dataplane
