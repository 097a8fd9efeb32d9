// InQ/OutQ: entry encoding, the toggle bit across many laps, counted overflow, and a real
// producer thread against a real consumer thread with every entry checked in order.
#include "dataplane/xq_ring.h"

#include <thread>

#include "gtest/gtest.h"

namespace vr::dataplane {
namespace {

TEST(XqRingTest, EncodesAllFields) {
  uint32_t e = XqEncode(true, XqAction::kResolve, 0xabcdef);
  EXPECT_TRUE(XqToggle(e));
  EXPECT_EQ(XqActionOf(e), XqAction::kResolve);
  EXPECT_EQ(XqParam(e), 0xabcdefu);
  EXPECT_EQ(XqParam(XqEncode(false, XqAction::kOutput, 0x1ffffff)), 0xffffffu)
      << "parameters are 24 bits";
}

TEST(XqRingTest, EmptyRingYieldsNothing) {
  XqRing ring(8);
  XqAction a;
  uint32_t p;
  EXPECT_FALSE(ring.Pop(&a, &p));
}

TEST(XqRingTest, ManyLapsKeepOrder) {
  XqRing ring(8);
  uint32_t next_in = 0, next_out = 0;
  for (int lap = 0; lap < 100; ++lap) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring.Push(XqAction::kArpFrame, next_in++));
    XqAction a;
    uint32_t p;
    while (ring.Pop(&a, &p)) {
      EXPECT_EQ(a, XqAction::kArpFrame);
      ASSERT_EQ(p, next_out++);
    }
    ring.Flush();
    ASSERT_EQ(next_in, next_out);
  }
  EXPECT_EQ(ring.overflows(), 0u);
}

TEST(XqRingTest, FullRingCountsOverflowAndLosesNothingQueued) {
  XqRing ring(4);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(ring.Push(XqAction::kTransmit, i));
  EXPECT_FALSE(ring.Push(XqAction::kTransmit, 99));
  EXPECT_FALSE(ring.Push(XqAction::kTransmit, 100));
  EXPECT_EQ(ring.overflows(), 2u);
  XqAction a;
  uint32_t p;
  for (uint32_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(ring.Pop(&a, &p));
    EXPECT_EQ(p, i);
  }
  EXPECT_FALSE(ring.Pop(&a, &p));
  // Space comes back only once the consumer publishes its position.
  EXPECT_FALSE(ring.Push(XqAction::kTransmit, 5));
  ring.Flush();
  EXPECT_TRUE(ring.Push(XqAction::kTransmit, 5));
  ASSERT_TRUE(ring.Pop(&a, &p));
  EXPECT_EQ(p, 5u);
}

TEST(XqRingTest, TwoThreadsManyLapsInOrder) {
  XqRing ring(256);
  // Many laps of a small ring; yield when blocked, as CI shares its two cores with pollers.
  constexpr uint32_t kCount = 1 << 18;
  std::thread producer([&] {
    for (uint32_t i = 0; i < kCount; ++i) {
      while (!ring.Push(XqAction(1 + i % 4), i & kXqParamMask)) std::this_thread::yield();
    }
  });
  uint32_t got = 0;
  bool ordered = true;
  while (got < kCount) {
    XqAction a;
    uint32_t p;
    uint32_t batch = 0;
    while (batch < 32 && ring.Pop(&a, &p)) {
      if (p != (got & kXqParamMask) || a != XqAction(1 + got % 4)) ordered = false;
      ++got;
      ++batch;
    }
    ring.Flush();
    if (batch == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_TRUE(ordered);
  XqAction a;
  uint32_t p;
  EXPECT_FALSE(ring.Pop(&a, &p)) << "nothing beyond what was pushed";
}

// The batch drain the worker uses: across laps, stopping exactly at what was pushed, mixing with
// single pops, and never past `max`.
TEST(XqRingTest, PopBurstTakesWhatIsThereInOrderAcrossLaps) {
  XqRing ring(16);
  uint32_t next_push = 0, next_pop = 0;
  uint32_t out[16];
  for (uint32_t round = 0; round < 40; ++round) {
    uint32_t n = 1 + round % 16;
    for (uint32_t i = 0; i < n; ++i, ++next_push) {
      ASSERT_TRUE(ring.Push(XqAction(1 + next_push % 4), next_push));
    }
    uint32_t got = ring.PopBurst(out, round % 3 == 0 ? n / 2 + 1 : 16);
    ASSERT_LE(got, n);
    for (uint32_t i = 0; i < got; ++i, ++next_pop) {
      EXPECT_EQ(XqParam(out[i]), next_pop);
      EXPECT_EQ(XqActionOf(out[i]), XqAction(1 + next_pop % 4));
    }
    XqAction a;
    uint32_t p;
    while (ring.Pop(&a, &p)) EXPECT_EQ(p, next_pop++);
    ring.Flush();
    EXPECT_EQ(next_pop, next_push) << "round " << round;
    EXPECT_EQ(ring.PopBurst(out, 16), 0u);
  }
}

}  // namespace
}  // namespace vr::dataplane
