// A token bucket on the TSC, for rate-limiting ICMP errors per worker (RFC 1812 §4.3.2.8).
// No system call: the clock is rte_rdtsc.
#pragma once

#include <rte_cycles.h>

#include <cstdint>

namespace vr::dataplane {

class TokenBucket {
 public:
  TokenBucket(uint32_t rate_per_second, uint32_t burst) { Configure(rate_per_second, burst); }

  void Configure(uint32_t rate_per_second, uint32_t burst) {
    hz_ = rte_get_tsc_hz();
    rate_ = rate_per_second;
    burst_ = burst;
    tokens_ = burst;
    last_ = rte_rdtsc();
  }

  bool Take(uint64_t now = rte_rdtsc()) {
    if (tokens_ == 0) {
      uint64_t elapsed = now - last_;
      // A second or more of silence refills the bucket; it also keeps the product below 2^64.
      uint64_t earned = elapsed >= hz_ ? burst_ : elapsed * rate_ / hz_;
      if (earned == 0) return false;
      tokens_ = earned > burst_ ? burst_ : earned;
      last_ = now;
    }
    --tokens_;
    return true;
  }

 private:
  uint64_t hz_ = 1;
  uint64_t rate_ = 0;
  uint64_t burst_ = 0;
  uint64_t tokens_ = 0;
  uint64_t last_ = 0;
};

}  // namespace vr::dataplane
