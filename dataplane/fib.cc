// rte_lpm creation with its RCU reclamation attached, and the next-hop table.
// Workers never lock: rte_lpm tolerates one writer beside lock-free readers.
#include "dataplane/fib.h"

#include <rte_errno.h>
#include <rte_malloc.h>

#include <new>

#include "absl/strings/str_format.h"

namespace vr::dataplane {

absl::StatusOr<std::unique_ptr<Fib>> Fib::Create(uint32_t max_routes, uint32_t max_nexthops,
                                                 rte_rcu_qsbr* rcu, int socket_id) {
  if (max_nexthops == 0 || max_nexthops > (1u << 24)) {
    return absl::InvalidArgumentError("next-hop table size must be in 1..2^24");
  }
  auto fib = std::unique_ptr<Fib>(new Fib());
  static int instance = 0;
  std::string name = absl::StrFormat("vr_fib4_%d", instance++);
  rte_lpm_config cfg{};
  cfg.max_rules = max_routes;
  cfg.number_tbl8s = 1 << 16;  // one per /24 holding longer prefixes: 1M /31 vifs use 8192
  fib->lpm_ = rte_lpm_create(name.c_str(), socket_id, &cfg);
  if (fib->lpm_ == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot create the IPv4 FIB: %s", rte_strerror(rte_errno)));
  }
  if (rcu != nullptr) {
    rte_lpm_rcu_config rcfg{};
    rcfg.v = rcu;
    rcfg.mode = RTE_LPM_QSBR_MODE_DQ;
    if (rte_lpm_rcu_qsbr_add(fib->lpm_, &rcfg) != 0) {
      return absl::InternalError(absl::StrFormat("cannot attach RCU to the FIB: %s",
                                                 rte_strerror(rte_errno)));
    }
  }
  fib->nexthops_ = LazyArray<Nexthop>(max_nexthops);
  if (!fib->nexthops_.ok()) return absl::ResourceExhaustedError("cannot map the next-hop table");
  fib->max_nexthops_ = max_nexthops;
  return fib;
}

Fib::~Fib() {
  if (lpm_ != nullptr) rte_lpm_free(lpm_);
  delete ports_.load();
}

absl::Status Fib::Add(uint32_t prefix, uint8_t len, uint32_t nexthop) {
  if (len == 0) {
    default_nh_.store(nexthop, std::memory_order_release);
    return absl::OkStatus();
  }
  int rc = rte_lpm_add(lpm_, prefix, len, nexthop);
  if (rc != 0) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "cannot add route %u.%u.%u.%u/%u: %s", prefix >> 24, (prefix >> 16) & 255,
        (prefix >> 8) & 255, prefix & 255, len, rte_strerror(-rc)));
  }
  return absl::OkStatus();
}

absl::Status Fib::Delete(uint32_t prefix, uint8_t len) {
  if (len == 0) {
    if (default_nh_.exchange(kNoDefault) == kNoDefault) return absl::NotFoundError("no default route");
    return absl::OkStatus();
  }
  int rc = rte_lpm_delete(lpm_, prefix, len);
  if (rc != 0) return absl::NotFoundError(absl::StrFormat("route not in FIB: %s", rte_strerror(-rc)));
  return absl::OkStatus();
}

}  // namespace vr::dataplane
