// The FIB's parts created together: the prefix table and the next-hop table its values index.
// Workers never lock: both tolerate one writer beside lock-free readers.
#include "dataplane/fib.h"

namespace vr::dataplane {

absl::StatusOr<std::unique_ptr<Fib>> Fib::Create(uint32_t max_nexthops, rte_rcu_qsbr* rcu,
                                                 int socket_id, uint32_t tbl8_groups) {
  if (max_nexthops == 0 || max_nexthops > (1u << 24)) {
    return absl::InvalidArgumentError("next-hop table size must be in 1..2^24");
  }
  auto fib = std::unique_ptr<Fib>(new Fib());
  auto lpm = Lpm4::Create(tbl8_groups, rcu, socket_id);
  if (!lpm.ok()) return lpm.status();
  fib->lpm_ = std::move(*lpm);
  fib->nexthops_ = LazyArray<Nexthop>(max_nexthops);
  if (!fib->nexthops_.ok()) return absl::ResourceExhaustedError("cannot map the next-hop table");
  fib->max_nexthops_ = max_nexthops;
  return fib;
}

Fib::~Fib() { delete ports_.load(); }

}  // namespace vr::dataplane
