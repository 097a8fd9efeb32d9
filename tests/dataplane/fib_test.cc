// The FIB as workers see it: longest-prefix match over connected, host and static routes, and
// what a delete uncovers.
#include "dataplane/fib.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/packets.h"

namespace vr::dataplane {
namespace {

using vr::testing::Ip;

std::unique_ptr<Fib> NewFib() {
  auto fib = Fib::Create(1024, nullptr, SOCKET_ID_ANY);
  EXPECT_TRUE(fib.ok()) << fib.status();
  return std::move(*fib);
}

TEST(FibTest, LongestPrefixWins) {
  auto fib = NewFib();
  ASSERT_TRUE(fib->Add(Ip(198, 18, 0, 0), 15, 1).ok());
  ASSERT_TRUE(fib->Add(Ip(198, 18, 2, 0), 24, 2).ok());
  ASSERT_TRUE(fib->Add(Ip(198, 18, 2, 128), 25, 3).ok());
  ASSERT_TRUE(fib->Add(Ip(198, 18, 2, 200), 32, 4).ok());
  uint32_t nh = 0;
  ASSERT_TRUE(fib->Lookup(Ip(198, 19, 7, 7), &nh));
  EXPECT_EQ(nh, 1u);
  ASSERT_TRUE(fib->Lookup(Ip(198, 18, 2, 1), &nh));
  EXPECT_EQ(nh, 2u);
  ASSERT_TRUE(fib->Lookup(Ip(198, 18, 2, 129), &nh));
  EXPECT_EQ(nh, 3u);
  ASSERT_TRUE(fib->Lookup(Ip(198, 18, 2, 200), &nh));
  EXPECT_EQ(nh, 4u);
  EXPECT_FALSE(fib->Lookup(Ip(198, 20, 0, 1), &nh));
}

TEST(FibTest, DeleteUncoversTheShorterPrefix) {
  auto fib = NewFib();
  ASSERT_TRUE(fib->Add(Ip(198, 18, 0, 0), 16, 7).ok());
  ASSERT_TRUE(fib->Add(Ip(198, 18, 5, 0), 24, 8).ok());
  uint32_t nh = 0;
  ASSERT_TRUE(fib->Lookup(Ip(198, 18, 5, 9), &nh));
  EXPECT_EQ(nh, 8u);
  ASSERT_TRUE(fib->Delete(Ip(198, 18, 5, 0), 24).ok());
  ASSERT_TRUE(fib->Lookup(Ip(198, 18, 5, 9), &nh));
  EXPECT_EQ(nh, 7u);
  absl::Status gone = fib->Delete(Ip(198, 18, 5, 0), 24);
  EXPECT_EQ(gone.code(), absl::StatusCode::kNotFound);
}

TEST(FibTest, DefaultRouteCatchesEverything) {
  auto fib = NewFib();
  ASSERT_TRUE(fib->Add(0, 0, 9).ok());
  uint32_t nh = 0;
  ASSERT_TRUE(fib->Lookup(Ip(203, 0, 113, 1), &nh));
  EXPECT_EQ(nh, 9u);
  ASSERT_TRUE(fib->Add(Ip(198, 18, 0, 0), 15, 3).ok());
  ASSERT_TRUE(fib->Lookup(Ip(198, 18, 0, 1), &nh));
  EXPECT_EQ(nh, 3u) << "a longer prefix beats the default";
  ASSERT_TRUE(fib->Delete(0, 0).ok());
  EXPECT_FALSE(fib->Lookup(Ip(203, 0, 113, 1), &nh));
  EXPECT_EQ(fib->Delete(0, 0).code(), absl::StatusCode::kNotFound);
}

TEST(FibTest, TenThousandRoutesEachFoundExactly) {
  auto fib = NewFib();
  // /30s and /28s inside 198.18.0.0/15, as the benchmark uses.
  for (uint32_t i = 0; i < 10000; ++i) {
    uint8_t len = i % 2 == 0 ? 30 : 28;
    ASSERT_TRUE(fib->Add(Ip(198, 18, 0, 0) + i * 16, len, 1 + i % 1000).ok()) << i;
  }
  for (uint32_t i = 0; i < 10000; ++i) {
    uint32_t nh = 0;
    ASSERT_TRUE(fib->Lookup(Ip(198, 18, 0, 0) + i * 16 + 1, &nh)) << i;
    EXPECT_EQ(nh, 1 + i % 1000);
  }
  uint32_t nh = 0;
  EXPECT_FALSE(fib->Lookup(Ip(198, 18, 0, 0) + 0 * 16 + 5, &nh)) << "outside the /30";
}

// The worker's path: a burst of lookups must agree with one-by-one lookups, misses and the
// default route included, for every burst length.
TEST(FibTest, ReaderSeesTableChangesAndTheDefaultAsTaken) {
  // A worker takes one reader per burst: route entries are read live, the default route as it
  // was when the reader was taken.
  auto fib = NewFib();
  ASSERT_TRUE(fib->Add(Ip(198, 18, 1, 0), 24, 11).ok());
  ASSERT_TRUE(fib->Add(Ip(198, 18, 2, 128), 25, 12).ok());
  Lpm4::Reader r = fib->reader();
  EXPECT_EQ(r.Lookup(Ip(198, 18, 1, 9)), 11u);
  EXPECT_EQ(r.Lookup(Ip(198, 18, 2, 200)), 12u);  // through a tbl8 group
  EXPECT_EQ(r.Lookup(Ip(198, 18, 2, 100)), Fib::kNoRoute);
  EXPECT_EQ(r.Lookup(Ip(198, 18, 3, 1)), Fib::kNoRoute);
  ASSERT_TRUE(fib->Add(Ip(198, 18, 3, 0), 24, 13).ok());
  ASSERT_TRUE(fib->Add(0, 0, 999).ok());
  EXPECT_EQ(r.Lookup(Ip(198, 18, 3, 1)), 13u);
  EXPECT_EQ(r.Lookup(Ip(198, 18, 4, 1)), Fib::kNoRoute);
  EXPECT_EQ(fib->reader().Lookup(Ip(198, 18, 4, 1)), 999u);
  EXPECT_EQ(fib->reader().Lookup(Ip(198, 18, 2, 100)), 999u);
}

// With four tbl8 groups, four /24s may hold longer prefixes; the fifth is refused with words
// that say so, what is held still answers, and a group emptied by a delete serves again.
TEST(FibTest, Tbl8ExhaustionIsRefusedAndRecovers) {
  auto fib = Fib::Create(16, nullptr, SOCKET_ID_ANY, 4);
  ASSERT_TRUE(fib.ok()) << fib.status();
  for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE((*fib)->Add(Ip(198, 18, i, 1), 32, 1 + i).ok());
  absl::Status s = (*fib)->Add(Ip(198, 18, 9, 1), 32, 9);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("cannot add route 198.18.9.1/32: FIB full"));
  uint32_t nh = 0;
  EXPECT_FALSE((*fib)->Lookup(Ip(198, 18, 9, 1), &nh)) << "a refused route leaves nothing behind";
  ASSERT_TRUE((*fib)->Lookup(Ip(198, 18, 3, 1), &nh));
  EXPECT_EQ(nh, 4u);
  ASSERT_TRUE((*fib)->Delete(Ip(198, 18, 2, 1), 32).ok());
  ASSERT_TRUE((*fib)->Add(Ip(198, 18, 9, 1), 32, 9).ok());
  ASSERT_TRUE((*fib)->Lookup(Ip(198, 18, 9, 1), &nh));
  EXPECT_EQ(nh, 9u);
  EXPECT_FALSE((*fib)->Lookup(Ip(198, 18, 2, 1), &nh));
}

// Replacing a prefix's value changes only the addresses it still owns.
TEST(FibTest, ReAddReplacesOnlyWhatThePrefixOwns) {
  auto fib = NewFib();
  ASSERT_TRUE(fib->Add(Ip(198, 18, 0, 0), 16, 1).ok());
  ASSERT_TRUE(fib->Add(Ip(198, 18, 4, 0), 30, 2).ok());
  ASSERT_TRUE(fib->Add(Ip(198, 18, 0, 0), 16, 3).ok());
  uint32_t nh = 0;
  ASSERT_TRUE(fib->Lookup(Ip(198, 18, 4, 1), &nh));
  EXPECT_EQ(nh, 2u);
  ASSERT_TRUE(fib->Lookup(Ip(198, 18, 4, 5), &nh));
  EXPECT_EQ(nh, 3u);
  ASSERT_TRUE(fib->Lookup(Ip(198, 18, 200, 5), &nh));
  EXPECT_EQ(nh, 3u);
}

// Random adds and deletes of nested prefixes around a few /24s, checked after every step against
// a plain list searched for the longest match, at addresses on every prefix boundary.
TEST(FibTest, AgreesWithALinearSearchThroughRandomChurn) {
  auto fib = NewFib();
  struct R {
    uint32_t prefix;
    uint8_t len;
    uint32_t nh;
  };
  std::vector<R> ref;
  std::mt19937 rng(7);
  auto mask = [](uint8_t l) { return l == 0 ? 0u : ~0u << (32 - l); };
  auto expect = [&](uint32_t a) {
    int best = -1;
    uint32_t v = Fib::kNoRoute;
    for (const R& r : ref) {
      if ((a & mask(r.len)) == r.prefix && r.len > best) best = r.len, v = r.nh;
    }
    return v;
  };
  const uint32_t base = Ip(198, 18, 0, 0);
  for (int step = 0; step < 3000; ++step) {
    uint8_t len = static_cast<uint8_t>(14 + rng() % 19);  // /14 .. /32
    uint32_t prefix = (base + (rng() % 4) * 256 + rng() % 256) & mask(len);
    auto it = std::find_if(ref.begin(), ref.end(),
                           [&](const R& r) { return r.prefix == prefix && r.len == len; });
    if (it != ref.end() && rng() % 2) {
      ASSERT_TRUE(fib->Delete(prefix, len).ok());
      ref.erase(it);
    } else {
      uint32_t nh = 1 + rng() % 1000;
      ASSERT_TRUE(fib->Add(prefix, len, nh).ok());
      if (it != ref.end()) {
        it->nh = nh;
      } else {
        ref.push_back({prefix, len, nh});
      }
    }
    for (int probe = 0; probe < 16; ++probe) {
      uint32_t a = (base + (rng() % 5) * 256 + rng() % 256) ^ (rng() % 2 ? 0 : 1u << (rng() % 18));
      uint32_t got = 0;
      if (!fib->Lookup(a, &got)) got = Fib::kNoRoute;
      ASSERT_EQ(got, expect(a)) << "step " << step << " address " << std::hex << a;
    }
  }
}

// The polled ports change only as whole snapshots: a reader holding the old table keeps it
// until the grace period the publisher waits for, and sees every change at once after it.
TEST(FibTest, PolledPortsArePublishedWhole) {
  auto fib = NewFib();
  fib->edit_ports().Poll(1);
  fib->edit_ports().Poll(2);
  const PortTable* before = &fib->ports();
  auto next = fib->CopyPorts();
  next->Unpoll(1);
  next->Poll(3);
  int waits = 0;
  fib->PublishPorts(std::move(next), [&] {
    ++waits;
    // During the grace period the old table is still there for readers that loaded it.
    ASSERT_EQ(before->polled_count, 2);
    EXPECT_EQ(before->polled[0], 1);
  });
  EXPECT_EQ(waits, 1);
  ASSERT_EQ(fib->ports().polled_count, 2);
  EXPECT_EQ(fib->ports().polled[0], 2) << "untouched ports carry over, in order";
  EXPECT_EQ(fib->ports().polled[1], 3);
}

TEST(FibTest, RejectsOversizedNexthopTable) {
  auto fib = Fib::Create((1u << 24) + 1, nullptr, SOCKET_ID_ANY);
  EXPECT_EQ(fib.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vr::dataplane
