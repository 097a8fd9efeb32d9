// The ICMP error rate limiter: a full burst, then refusal, then refill at the configured rate,
// driven by explicit TSC values so the test does not depend on the machine's speed.
#include "dataplane/token_bucket.h"

#include "gtest/gtest.h"

namespace vr::dataplane {
namespace {

TEST(TokenBucketTest, BurstThenRateThenFullRefill) {
  TokenBucket b(1000, 10);
  uint64_t hz = rte_get_tsc_hz();
  uint64_t t = rte_rdtsc();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(b.Take(t)) << i;
  EXPECT_FALSE(b.Take(t));
  // 1000/s: after 5 ms, five more.
  t += hz / 200;
  int granted = 0;
  while (b.Take(t)) ++granted;
  EXPECT_EQ(granted, 5);
  // A long silence refills the bucket to its depth, never beyond.
  t += 10 * hz;
  granted = 0;
  while (b.Take(t)) ++granted;
  EXPECT_EQ(granted, 10);
}

TEST(TokenBucketTest, ZeroRateSendsOnlyTheBurst) {
  TokenBucket b(0, 3);
  uint64_t t = rte_rdtsc();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.Take(t));
  EXPECT_FALSE(b.Take(t + rte_get_tsc_hz() / 2));
}

}  // namespace
}  // namespace vr::dataplane
