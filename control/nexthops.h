// Allocation of next-hop slots in the FIB's next-hop table, on the control lcore. A freed slot
// is reused only after an RCU grace period, so no worker can read it under its new meaning.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/fib.h"

namespace vr::control {

class NexthopTable {
 public:
  explicit NexthopTable(dataplane::Fib* fib);

  // Fills the slot before returning its index, so publishing the index publishes a whole entry.
  absl::StatusOr<uint32_t> Alloc(dataplane::NhKind kind, uint32_t ip_be, uint32_t vif);
  // An IPv6 next hop: `ip6` (16 bytes, network order) is the neighbour's address, or null.
  absl::StatusOr<uint32_t> Alloc6(dataplane::NhKind kind, const uint8_t* ip6, uint32_t vif);
  // The caller has removed every FIB entry pointing at `index` and waited for a grace period.
  void Free(uint32_t index);
  uint32_t in_use() const { return in_use_; }

 private:
  dataplane::Fib* fib_;
  std::vector<uint32_t> free_;  // freed slots; never-used ones are those from next_ up
  uint32_t next_ = 1;
  uint32_t in_use_ = 0;
};

}  // namespace vr::control
