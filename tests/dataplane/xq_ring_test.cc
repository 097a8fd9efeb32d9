// InQ/OutQ: entry encoding, the toggle bit across many laps, counted overflow, batches published
// first slot last, and real producer threads against a real consumer with every entry checked.
#include "dataplane/xq_ring.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

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
    ring.Publish();
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
  ring.Publish();
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
  ring.Publish();
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
      ring.Publish();
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
    ring.Publish();
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

// Pushes the entry PopAllChecked expects next: parameter n, action 1 + n % 4.
bool PushNext(XqRing& ring, uint32_t* next) {
  if (!ring.Push(XqAction(1 + *next % 4), *next)) return false;
  ++*next;
  return true;
}

// Pops everything visible, in order, checking each entry carries the next expected parameter.
uint32_t PopAllChecked(XqRing& ring, uint32_t* next) {
  uint32_t n = 0;
  XqAction a;
  uint32_t p;
  while (ring.Pop(&a, &p)) {
    EXPECT_EQ(a, XqAction(1 + *next % 4));
    EXPECT_EQ(p, *next);
    ++*next;
    ++n;
  }
  ring.Flush();
  return n;
}

// The batch's first entry is held until Publish, and the consumer stops at its slot, so none of
// the batch shows early although the later entries are in their slots.
TEST(XqRingTest, EntriesAreInvisibleUntilPublished) {
  XqRing ring(16);
  ring.Publish();  // nothing held: nothing happens
  XqAction a;
  uint32_t p;
  EXPECT_FALSE(ring.Pop(&a, &p));
  for (uint32_t i = 0; i < 3; ++i) ASSERT_TRUE(ring.Push(XqAction(1 + i % 4), i));
  EXPECT_EQ(ring.Unpublished(), 3u);
  // Held entries hold slots: the producer's and the metrics' views count them.
  EXPECT_EQ(ring.Pending(), 3u);
  EXPECT_EQ(ring.Depth(), 3u);
  EXPECT_FALSE(ring.Pop(&a, &p));
  uint32_t out[16];
  EXPECT_EQ(ring.PopBurst(out, 16), 0u);
  ring.Publish();
  EXPECT_EQ(ring.Unpublished(), 0u);
  ASSERT_EQ(ring.PopBurst(out, 16), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(XqParam(out[i]), i);
    EXPECT_EQ(XqActionOf(out[i]), XqAction(1 + i % 4));
  }
  EXPECT_EQ(ring.Depth(), 3u) << "read but not yet flushed";
  ring.Flush();
  EXPECT_EQ(ring.Depth(), 0u);
  ring.Publish();  // again nothing held
  EXPECT_EQ(ring.PopBurst(out, 16), 0u);
  // A published batch and a held one: the consumer takes the first and stops at the second.
  uint32_t next_push = 3, next_pop = 3;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(PushNext(ring, &next_push));
  ring.Publish();
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(PushNext(ring, &next_push));
  EXPECT_EQ(PopAllChecked(ring, &next_pop), 4u);
  EXPECT_EQ(PopAllChecked(ring, &next_pop), 0u);
  ring.Publish();
  EXPECT_EQ(PopAllChecked(ring, &next_pop), 2u);
  EXPECT_EQ(next_pop, next_push);
}

// Batches of every size up to the capacity, starting at every offset: those that run past the end
// of the slots change toggle bit mid batch, with the first entry (held) on the old lap. A ring of
// 8 is less than a cache line; in one of 64, batches start anywhere in a line, fill the rest of it
// (held until Publish too) or not, and run on into the next lines.
TEST(XqRingTest, BatchesAcrossTheWrapPublishWhole) {
  for (uint32_t capacity : {8u, 64u}) {
    XqRing ring(capacity);
    uint32_t next_push = 0, next_pop = 0;
    for (uint32_t lap = 0; lap < 3; ++lap) {
      for (uint32_t size = 1; size <= capacity; ++size) {
        for (uint32_t offset = 0; offset < capacity; ++offset) {
          // Move the ring's position to `offset` with one-entry batches.
          while (next_push % capacity != offset) {
            ASSERT_TRUE(PushNext(ring, &next_push));
            ring.Publish();
            ASSERT_EQ(PopAllChecked(ring, &next_pop), 1u);
          }
          for (uint32_t i = 0; i < size; ++i) ASSERT_TRUE(PushNext(ring, &next_push));
          // Past kMaxBatch entries the ring publishes on its own, every kMaxBatch.
          uint32_t early = size / XqRing::kMaxBatch * XqRing::kMaxBatch;
          ASSERT_EQ(PopAllChecked(ring, &next_pop), early)
              << "capacity " << capacity << " size " << size << " offset " << offset;
          ring.Publish();
          ASSERT_EQ(PopAllChecked(ring, &next_pop), size - early)
              << "capacity " << capacity << " size " << size << " offset " << offset;
        }
      }
    }
    EXPECT_EQ(ring.overflows(), 0u);
  }
}

// A held entry takes its slot: the ring is full with it, and a Push that finds the ring full
// publishes the held batch, so a producer retrying Push waits on the consumer, not on itself.
TEST(XqRingTest, FullRingWithAHeldBatchPublishesIt) {
  XqRing ring(4);
  uint32_t next_pop = 0;
  for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(ring.Push(XqAction(1 + i % 4), i));
  EXPECT_EQ(PopAllChecked(ring, &next_pop), 0u);
  EXPECT_FALSE(ring.Push(XqAction::kTransmit, 99));
  EXPECT_EQ(ring.overflows(), 1u);
  EXPECT_EQ(ring.Unpublished(), 0u);
  EXPECT_EQ(PopAllChecked(ring, &next_pop), 4u);

  // Two published and unread, two held: full, and the failed Push makes the held two visible.
  uint32_t next_push = 4;
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(PushNext(ring, &next_push));
  ring.Publish();
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(PushNext(ring, &next_push));
  XqAction a;
  uint32_t p;
  ASSERT_TRUE(ring.Pop(&a, &p));
  EXPECT_EQ(p, next_pop++);
  EXPECT_FALSE(ring.Push(XqAction::kTransmit, 99)) << "read but not flushed is not free";
  EXPECT_EQ(ring.overflows(), 2u);
  EXPECT_EQ(PopAllChecked(ring, &next_pop), 3u);
  EXPECT_EQ(next_pop, next_push);

  // Three held, one free: the fourth fits, the fifth does not.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(PushNext(ring, &next_push));
  EXPECT_EQ(ring.Depth(), 4u);
  EXPECT_FALSE(ring.Push(XqAction::kTransmit, 99));
  EXPECT_EQ(PopAllChecked(ring, &next_pop), 4u);
  EXPECT_EQ(next_pop, next_push);
  EXPECT_EQ(ring.overflows(), 3u);
}

// A producer that does not Publish for a long run still hands over every kMaxBatch entries.
TEST(XqRingTest, LongBatchesPublishEveryMaxBatch) {
  XqRing ring(1024);
  uint32_t next_push = 0, next_pop = 0;
  for (uint32_t i = 0; i + 1 < XqRing::kMaxBatch; ++i) ASSERT_TRUE(PushNext(ring, &next_push));
  EXPECT_EQ(ring.Unpublished(), XqRing::kMaxBatch - 1);
  EXPECT_EQ(PopAllChecked(ring, &next_pop), 0u);
  ASSERT_TRUE(PushNext(ring, &next_push));
  EXPECT_EQ(ring.Unpublished(), 0u);
  EXPECT_EQ(PopAllChecked(ring, &next_pop), XqRing::kMaxBatch);
  for (uint32_t i = 0; i < 3 * XqRing::kMaxBatch + 5; ++i) ASSERT_TRUE(PushNext(ring, &next_push));
  EXPECT_EQ(ring.Unpublished(), 5u);
  EXPECT_EQ(PopAllChecked(ring, &next_pop), 3 * XqRing::kMaxBatch);
  ring.Publish();
  EXPECT_EQ(PopAllChecked(ring, &next_pop), 5u);
  EXPECT_EQ(next_pop, next_push);
}

// Two threads, batches of random size (some past kMaxBatch, some past the ring's free space) and
// random drain sizes over a small ring, so the wrap, the full ring and the automatic publications
// all happen many times. Each entry names a payload word the producer wrote before it pushed, as
// a worker writes a packet before it punts the nbuf: the consumer must see the word written.
TEST(XqRingTest, TwoThreadsRandomBatchesInOrderWithPayload) {
  constexpr uint32_t kCapacity = 128;
  constexpr uint32_t kCount = 1 << 18;
  XqRing ring(kCapacity);
  // Plain memory, ordered by the ring alone. Twice the capacity: the producer's Push of entry i
  // found the consumer done with entry i - kCapacity (it acquired the consumer's position), so
  // by entry i + kCapacity the word of entry i is free to write again.
  constexpr uint32_t kWords = 2 * kCapacity;
  std::vector<uint32_t> payload(kWords);
  std::thread producer([&] {
    std::mt19937 rng(1);
    for (uint32_t i = 0; i < kCount;) {
      uint32_t batch = std::min<uint32_t>(1 + rng() % 150, kCount - i);
      for (uint32_t j = 0; j < batch; ++j, ++i) {
        payload[i % kWords] = i;
        while (!ring.Push(XqAction(1 + i % 4), i % kWords)) std::this_thread::yield();
      }
      ring.Publish();
    }
  });
  std::mt19937 rng(2);
  uint32_t got = 0, out[64];
  uint64_t sum = 0;
  bool ordered = true;
  while (got < kCount) {
    uint32_t n = ring.PopBurst(out, 1 + rng() % 64);
    for (uint32_t j = 0; j < n; ++j, ++got) {
      uint32_t word = payload[XqParam(out[j])];
      if (XqParam(out[j]) != got % kWords || XqActionOf(out[j]) != XqAction(1 + got % 4) ||
          word != got) {
        ordered = false;
      }
      sum += word;
    }
    if (n != 0) {
      ring.Flush();
    } else {
      std::this_thread::yield();
    }
  }
  producer.join();
  EXPECT_TRUE(ordered);
  EXPECT_EQ(sum, uint64_t{kCount} * (kCount - 1) / 2);
  EXPECT_EQ(ring.PopBurst(out, 64), 0u) << "nothing beyond what was pushed";
  EXPECT_EQ(ring.Unpublished(), 0u);
}

}  // namespace
}  // namespace vr::dataplane
