// The IPv6 FIB as workers see it: longest-prefix match from /0 to /128, what a delete uncovers,
// its limits, and lookups racing the control lcore's changes.
#include "dataplane/fib6.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <rte_malloc.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vr::dataplane {
namespace {

using Addr = std::array<uint8_t, 16>;

Addr A(const char* text) {
  Addr a{};
  EXPECT_EQ(inet_pton(AF_INET6, text, a.data()), 1) << text;
  return a;
}

std::string Str(const Addr& a) {
  char s[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, a.data(), s, sizeof(s));
  return s;
}

bool Covers(const Addr& prefix, uint8_t len, const Addr& a) {
  for (int i = 0; i < 16; ++i) {
    int bits = std::clamp(int{len} - 8 * i, 0, 8);
    uint8_t m = bits == 0 ? 0 : uint8_t(0xff << (8 - bits));
    if ((prefix[i] ^ a[i]) & m) return false;
  }
  return true;
}

Addr MaskOf(Addr a, uint8_t len) {
  for (int i = 0; i < 16; ++i) {
    int bits = std::clamp(int{len} - 8 * i, 0, 8);
    a[i] &= bits == 0 ? 0 : uint8_t(0xff << (8 - bits));
  }
  return a;
}

uint32_t Get(const Fib6& fib, const char* text) {
  uint32_t nh = 0;
  Addr a = A(text);
  if (!fib.Lookup(a.data(), &nh)) {
    EXPECT_EQ(nh, Fib6::kNoRoute);
  }
  return nh;
}

std::unique_ptr<Fib6> NewFib(uint32_t max_routes = 4096, uint32_t groups = 0,
                             rte_rcu_qsbr* rcu = nullptr) {
  auto fib = Fib6::Create(max_routes, rcu, SOCKET_ID_ANY, groups);
  EXPECT_TRUE(fib.ok()) << fib.status();
  return fib.ok() ? std::move(*fib) : nullptr;
}

// The workers' QSBR variable for one reader thread, freed with the test.
struct Rcu {
  Rcu() {
    v = static_cast<rte_rcu_qsbr*>(
        rte_zmalloc("fib6_test_rcu", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE));
    EXPECT_NE(v, nullptr);
    EXPECT_EQ(rte_rcu_qsbr_init(v, 1), 0);
  }
  ~Rcu() { rte_free(v); }
  rte_rcu_qsbr* v = nullptr;
};

// The EAL pins the main thread to CPU 0 and threads inherit it: a worker must run beside control,
// as on a router, or it only ever sees finished changes.
void OffTheControlCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (unsigned c = 1; c < std::thread::hardware_concurrency() && c < CPU_SETSIZE; ++c) {
    CPU_SET(c, &set);
  }
  if (CPU_COUNT(&set) > 0) pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

TEST(Fib6Test, LongestPrefixWinsFromSlashZeroToSlash128) {
  auto fib = NewFib();
  struct {
    const char* prefix;
    uint8_t len;
    uint32_t nh;
  } routes[] = {{"::", 0, 1},
                {"2001:db8::", 32, 2},
                {"2001:db8:1::", 48, 3},
                {"2001:db8:1:2::", 64, 4},
                {"2001:db8:1:2::", 127, 5},
                {"2001:db8:1:2::1", 128, 6}};
  for (const auto& r : routes) ASSERT_TRUE(fib->Add(A(r.prefix).data(), r.len, r.nh).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::1"), 6u);
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::"), 5u) << "the /127's other address";
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::2"), 4u);
  EXPECT_EQ(Get(*fib, "2001:db8:1:2:ffff:ffff:ffff:ffff"), 4u);
  EXPECT_EQ(Get(*fib, "2001:db8:1:3::"), 3u);
  EXPECT_EQ(Get(*fib, "2001:db8:1:ffff::1"), 3u);
  EXPECT_EQ(Get(*fib, "2001:db8:2::1"), 2u);
  EXPECT_EQ(Get(*fib, "2001:db8:ffff:ffff::"), 2u);
  EXPECT_EQ(Get(*fib, "2001:db9::"), 1u);
  EXPECT_EQ(Get(*fib, "fe80::1"), 1u);
  EXPECT_EQ(fib->size(), 6u);
}

TEST(Fib6Test, PrefixesNotOnByteBoundaries) {
  auto fib = NewFib();
  ASSERT_TRUE(fib->Add(A("2001:db8::").data(), 29, 1).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8:8000::").data(), 33, 2).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8:8000::1f").data(), 124, 3).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8:8000::").data(), 125, 4).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:7fff::"), 1u);
  EXPECT_EQ(Get(*fib, "2001:dbf:ffff::"), 1u) << "a /29 spans 2001:db8:: to 2001:dbf:ffff:...";
  EXPECT_EQ(Get(*fib, "2001:dc0::"), Fib6::kNoRoute);
  EXPECT_EQ(Get(*fib, "2001:db8:ffff::"), 2u);
  EXPECT_EQ(Get(*fib, "2001:db8:8000::1f"), 3u);
  EXPECT_EQ(Get(*fib, "2001:db8:8000::20"), 2u);
  EXPECT_EQ(Get(*fib, "2001:db8:8000::7"), 4u);
  EXPECT_EQ(Get(*fib, "2001:db8:8000::8"), 2u);
  // Bits past the length are ignored, on add and on delete.
  EXPECT_TRUE(fib->Has(A("2001:db8:8000::10").data(), 124));
  ASSERT_TRUE(fib->Delete(A("2001:db8:8000::1a").data(), 124).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:8000::1f"), 2u);
}

TEST(Fib6Test, ReAddReplacesOnlyWhatThePrefixOwns) {
  auto fib = NewFib();
  ASSERT_TRUE(fib->Add(A("2001:db8::").data(), 32, 1).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8:5::").data(), 48, 2).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8::").data(), 32, 3).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:5::1"), 2u);
  EXPECT_EQ(Get(*fib, "2001:db8:6::1"), 3u);
  EXPECT_EQ(Get(*fib, "2001:db8:4:ffff::1"), 3u);
  ASSERT_TRUE(fib->Add(A("2001:db8:5::").data(), 48, 7).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:5::1"), 7u);
  EXPECT_EQ(fib->size(), 2u) << "a replace is not a second route";
}

TEST(Fib6Test, DeleteUncoversTheLessSpecific) {
  auto fib = NewFib();
  ASSERT_TRUE(fib->Add(A("2001:db8::").data(), 32, 1).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8:1::").data(), 48, 2).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8:1:2::").data(), 64, 3).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8:1:2::1").data(), 128, 4).ok());
  ASSERT_TRUE(fib->Delete(A("2001:db8:1:2::").data(), 64).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::1"), 4u) << "the longer route stays";
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::2"), 2u) << "the /64's addresses go to the /48";
  ASSERT_TRUE(fib->Delete(A("2001:db8:1::").data(), 48).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::2"), 1u);
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::1"), 4u);
  ASSERT_TRUE(fib->Delete(A("2001:db8:1:2::1").data(), 128).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::1"), 1u);
  ASSERT_TRUE(fib->Delete(A("2001:db8::").data(), 32).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::1"), Fib6::kNoRoute);
  absl::Status gone = fib->Delete(A("2001:db8::").data(), 32);
  EXPECT_EQ(gone.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(gone.message(), ::testing::HasSubstr("2001:db8::/32"));
  EXPECT_EQ(fib->size(), 0u);
  EXPECT_EQ(fib->tbl8_groups_in_use(), 0u) << "every group folded back";
}

TEST(Fib6Test, DefaultRouteCatchesEverything) {
  auto fib = NewFib();
  EXPECT_EQ(Get(*fib, "2001:db8::1"), Fib6::kNoRoute);
  EXPECT_FALSE(fib->Has(A("::").data(), 0));
  ASSERT_TRUE(fib->Add(A("::").data(), 0, 9).ok());
  EXPECT_TRUE(fib->Has(A("::").data(), 0));
  EXPECT_EQ(Get(*fib, "2001:db8::1"), 9u);
  EXPECT_EQ(Get(*fib, "::"), 9u);
  EXPECT_EQ(Get(*fib, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 9u);
  ASSERT_TRUE(fib->Add(A("2001:db8:1:2::").data(), 64, 3).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::1"), 3u) << "a longer prefix beats the default";
  EXPECT_EQ(Get(*fib, "2001:db8:1:3::1"), 9u) << "the groups under a /64 fall back to the default";
  ASSERT_TRUE(fib->Add(A("::").data(), 0, 10).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:1:3::1"), 10u);
  EXPECT_EQ(fib->size(), 2u);
  ASSERT_TRUE(fib->Delete(A("::").data(), 0).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:1:3::1"), Fib6::kNoRoute);
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::1"), 3u);
  EXPECT_EQ(fib->Delete(A("::").data(), 0).code(), absl::StatusCode::kNotFound);
}

TEST(Fib6Test, HasAndSize) {
  auto fib = NewFib();
  ASSERT_TRUE(fib->Add(A("2001:db8:1::").data(), 48, 1).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8:1::").data(), 64, 2).ok());
  EXPECT_TRUE(fib->Has(A("2001:db8:1::").data(), 48));
  EXPECT_TRUE(fib->Has(A("2001:db8:1::").data(), 64));
  EXPECT_TRUE(fib->Has(A("2001:db8:1::ffff").data(), 64)) << "host bits ignored";
  EXPECT_FALSE(fib->Has(A("2001:db8:1::").data(), 56)) << "exact length only";
  EXPECT_FALSE(fib->Has(A("2001:db8:1::").data(), 200));
  EXPECT_EQ(fib->size(), 2u);
  ASSERT_TRUE(fib->Delete(A("2001:db8:1::").data(), 48).ok());
  EXPECT_FALSE(fib->Has(A("2001:db8:1::").data(), 48));
  EXPECT_EQ(fib->size(), 1u);
}

TEST(Fib6Test, RejectsBadArguments) {
  auto fib = NewFib();
  EXPECT_EQ(fib->Add(A("::").data(), 129, 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fib->Add(A("2001:db8::").data(), 32, Fib6::kMaxNexthop + 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fib->Delete(A("::").data(), 129).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(fib->Add(A("2001:db8::").data(), 32, Fib6::kMaxNexthop).ok());
  EXPECT_EQ(Get(*fib, "2001:db8::1"), Fib6::kMaxNexthop);
  EXPECT_EQ(Fib6::Create(0, nullptr, SOCKET_ID_ANY).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Fib6::Create(16, nullptr, SOCKET_ID_ANY, Fib6::kMaxTbl8Groups + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The worker's path: a burst must agree with one-by-one lookups, misses and the default route
// included, for every burst length.
TEST(Fib6Test, BulkLookupAgreesWithSingleLookups) {
  auto fib = NewFib();
  std::mt19937 rng(11);
  const uint8_t lens[] = {20, 32, 40, 48, 56, 60, 64, 96, 127, 128};
  Addr base = A("2001:db8::");
  std::vector<Addr> probes;
  for (int i = 0; i < 200; ++i) {
    Addr a = base;
    for (int b = 4; b < 16; ++b) a[b] = uint8_t(rng() % 4);  // few values: prefixes nest
    uint8_t len = lens[rng() % std::size(lens)];
    ASSERT_TRUE(fib->Add(a.data(), len, 100 + i).ok());
    probes.push_back(a);
    a[rng() % 16] ^= uint8_t(1u << (rng() % 8));
    probes.push_back(a);
  }
  for (bool with_default : {false, true}) {
    if (with_default) {
      ASSERT_TRUE(fib->Add(A("::").data(), 0, 999).ok());
    }
    for (uint32_t n = 0; n <= 32; ++n) {
      uint8_t dst[32][16];
      uint32_t got[32];
      for (uint32_t j = 0; j < n; ++j) {
        memcpy(dst[j], probes[(n * 7 + j) % probes.size()].data(), 16);
      }
      fib->LookupBulk(dst, got, n);
      for (uint32_t j = 0; j < n; ++j) {
        uint32_t want = 0;
        if (!fib->Lookup(dst[j], &want)) want = Fib6::kNoRoute;
        EXPECT_EQ(got[j], want) << "n=" << n << " j=" << j << " default=" << with_default;
      }
    }
  }
}

// Random adds, replaces and deletes of nested prefixes of every length, checked after each step
// against a plain list searched for the longest match.
TEST(Fib6Test, AgreesWithALinearSearchThroughRandomChurn) {
  auto fib = NewFib(4096, 8192);
  struct R {
    Addr prefix;
    uint8_t len;
    uint32_t nh;
  };
  std::vector<R> ref;
  std::mt19937 rng(7);
  auto expect = [&](const Addr& a) {
    int best = -1;
    uint32_t v = Fib6::kNoRoute;
    for (const R& r : ref) {
      if (r.len > best && Covers(r.prefix, r.len, a)) best = r.len, v = r.nh;
    }
    return v;
  };
  // A few hot spots, and bytes drawn from few values, so that most prefixes overlap others.
  const Addr bases[] = {A("2001:db8::"), A("2001:db8:0:1::"), A("2001:db9::"), A("fd00::")};
  auto random_addr = [&] {
    Addr a = bases[rng() % std::size(bases)];
    for (int b = 4; b < 16; ++b) a[b] ^= uint8_t(rng() % 3 == 0 ? rng() : 0);
    return a;
  };
  for (int step = 0; step < 4000; ++step) {
    uint8_t len =
        rng() % 8 == 0 ? uint8_t(rng() % 129) : uint8_t(24 + 8 * (rng() % 13) + rng() % 3);
    len = std::min<uint8_t>(len, 128);
    Addr prefix = MaskOf(random_addr(), len);
    auto it = std::find_if(ref.begin(), ref.end(),
                           [&](const R& r) { return r.prefix == prefix && r.len == len; });
    if (it != ref.end() && rng() % 2) {
      ASSERT_TRUE(fib->Delete(prefix.data(), len).ok());
      ref.erase(it);
    } else if (ref.size() > 300 && it == ref.end()) {
      // Keep the table small enough to stay inside its groups: delete a random one instead.
      R& r = ref[rng() % ref.size()];
      ASSERT_TRUE(fib->Delete(r.prefix.data(), r.len).ok());
      r = ref.back();
      ref.pop_back();
    } else {
      uint32_t nh = 1 + rng() % 100000;
      absl::Status s = fib->Add(prefix.data(), len, nh);
      ASSERT_TRUE(s.ok()) << s << " at step " << step;
      if (it != ref.end()) {
        it->nh = nh;
      } else {
        ref.push_back({prefix, len, nh});
      }
    }
    ASSERT_EQ(fib->size(), ref.size());
    for (int probe = 0; probe < 24; ++probe) {
      Addr a = probe < 8 && !ref.empty() ? ref[rng() % ref.size()].prefix : random_addr();
      if (probe < 8) a[15 - rng() % 16] ^= uint8_t(rng());  // near a prefix's edge
      uint32_t got = 0;
      if (!fib->Lookup(a.data(), &got)) got = Fib6::kNoRoute;
      ASSERT_EQ(got, expect(a)) << "step " << step << " address " << Str(a);
    }
  }
  for (const R& r : ref) EXPECT_TRUE(fib->Has(r.prefix.data(), r.len));
  for (const R& r : ref) ASSERT_TRUE(fib->Delete(r.prefix.data(), r.len).ok());
  EXPECT_EQ(fib->size(), 0u);
  EXPECT_EQ(fib->tbl8_groups_in_use(), 0u) << "groups leaked through the churn";
}

// Beyond max_routes an add is refused with words that say so, the table keeps what it had, and a
// replace of a held prefix still works; a delete makes room again.
TEST(Fib6Test, MaxRoutesIsRefusedAndTheTableStaysIntact) {
  auto fib = NewFib(/*max_routes=*/4);
  ASSERT_TRUE(fib->Add(A("::").data(), 0, 1).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8::").data(), 32, 2).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8:1::").data(), 48, 3).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8:1:2::").data(), 64, 4).ok());
  absl::Status s = fib->Add(A("2001:db8:1:2::1").data(), 128, 5);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("cannot add route 2001:db8:1:2::1/128"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("max_routes (4)"));
  EXPECT_EQ(fib->size(), 4u);
  EXPECT_FALSE(fib->Has(A("2001:db8:1:2::1").data(), 128));
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::1"), 4u);
  EXPECT_EQ(Get(*fib, "2001:db8:1:3::1"), 3u);
  EXPECT_EQ(Get(*fib, "2001:db8:2::1"), 2u);
  EXPECT_EQ(Get(*fib, "fe80::1"), 1u);
  EXPECT_TRUE(fib->Add(A("2001:db8:1::").data(), 48, 30).ok()) << "a replace needs no room";
  EXPECT_EQ(Get(*fib, "2001:db8:1:3::1"), 30u);
  ASSERT_TRUE(fib->Delete(A("::").data(), 0).ok());
  EXPECT_TRUE(fib->Add(A("2001:db8:1:2::1").data(), 128, 5).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:1:2::1"), 5u);
  EXPECT_EQ(fib->Add(A("::").data(), 0, 1).code(), absl::StatusCode::kResourceExhausted)
      << "the default route counts too";
}

// A lone /64 takes five groups. With eight, a second lone /64 (another /24) is refused before
// anything changes; one sharing the first's groups fits; a delete frees its groups for the next.
TEST(Fib6Test, Tbl8ExhaustionIsRefusedAndRecovers) {
  auto fib = NewFib(64, 8);
  ASSERT_TRUE(fib->Add(A("2001:db8:1:2::").data(), 64, 1).ok());
  EXPECT_EQ(fib->tbl8_groups_in_use(), 5u);
  absl::Status s = fib->Add(A("2002:db8:1:2::").data(), 64, 2);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("cannot add route 2002:db8:1:2::/64"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("5 tbl8 groups needed, 3 of 8 free"));
  EXPECT_EQ(fib->tbl8_groups_in_use(), 5u) << "a refused add takes no group";
  EXPECT_EQ(Get(*fib, "2002:db8:1:2::1"), Fib6::kNoRoute);
  EXPECT_FALSE(fib->Has(A("2002:db8:1:2::").data(), 64));
  ASSERT_TRUE(fib->Add(A("2001:db8:1:3::").data(), 64, 3).ok()) << "shares all five groups";
  EXPECT_EQ(fib->tbl8_groups_in_use(), 5u);
  ASSERT_TRUE(fib->Delete(A("2001:db8:1:2::").data(), 64).ok());
  ASSERT_TRUE(fib->Delete(A("2001:db8:1:3::").data(), 64).ok());
  EXPECT_EQ(fib->tbl8_groups_in_use(), 0u);
  for (int round = 0; round < 100; ++round) {  // rte_fib6 22.11 leaked its reservation here
    ASSERT_TRUE(fib->Add(A("2002:db8:1:2::").data(), 64, 2).ok()) << round;
    ASSERT_TRUE(fib->Delete(A("2002:db8:1:2::").data(), 64).ok()) << round;
  }
}

// Next hops as the router keeps them, for AddConnected: the connected next hop's ip6 is the
// router's own address on the subnet.
struct Nexthops {
  explicit Nexthops(size_t n) : table(n) {}
  void Own(uint32_t nh, const char* addr) {
    Addr a = A(addr);
    memcpy(table[nh].ip6, a.data(), 16);
  }
  std::vector<Nexthop> table;
};

// A template member's address needs no /128: the lookup that ends on its subnet's entries finds
// it, in single and bulk lookups, also below longer routes and after they go.
TEST(Fib6Test, OwnAddressesOfConnectedSubnetsAreLocalWithoutAHostRoute) {
  constexpr uint32_t kLocal = 9;
  Nexthops nhs(64);
  auto fib = NewFib();
  EXPECT_EQ(fib->AddConnected(A("2001:db8:100::").data(), 64, 1).code(),
            absl::StatusCode::kFailedPrecondition)
      << "no next-hop table yet";
  fib->SetOwnAddresses(nhs.table.data(), kLocal);
  nhs.Own(1, "2001:db8:100::1");
  nhs.Own(2, "2001:db8:200::");  // a /127 whose first address is the router's
  ASSERT_TRUE(fib->AddConnected(A("2001:db8:100::").data(), 64, 1).ok());
  ASSERT_TRUE(fib->AddConnected(A("2001:db8:200::").data(), 127, 2).ok());
  ASSERT_TRUE(fib->Add(A("2001:db8::").data(), 32, 3).ok());
  EXPECT_EQ(fib->tbl8_groups_in_use(), 16u) << "a /64 (5) and a /127 (11 more), no /128s";
  EXPECT_EQ(Get(*fib, "2001:db8:100::1"), kLocal);
  EXPECT_EQ(Get(*fib, "2001:db8:100::2"), 1u);
  EXPECT_EQ(Get(*fib, "2001:db8:100:0:8000::1"), 1u);
  EXPECT_EQ(Get(*fib, "2001:db8:200::"), kLocal);
  EXPECT_EQ(Get(*fib, "2001:db8:200::1"), 2u);
  EXPECT_EQ(Get(*fib, "2001:db8:101::1"), 3u);
  // A neighbour's /128 beside the router's address changes nothing for it.
  ASSERT_TRUE(fib->Add(A("2001:db8:100::2").data(), 128, 4).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:100::2"), 4u);
  EXPECT_EQ(Get(*fib, "2001:db8:100::1"), kLocal);
  // A longer prefix elsewhere in the subnet splits its entries; the router's stays its own.
  ASSERT_TRUE(fib->Add(A("2001:db8:100:0:8000::").data(), 65, 5).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:100::1"), kLocal);
  ASSERT_TRUE(fib->Delete(A("2001:db8:100:0:8000::").data(), 65).ok());
  ASSERT_TRUE(fib->Delete(A("2001:db8:100::2").data(), 128).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:100::1"), kLocal) << "given back by the covers";
  EXPECT_EQ(Get(*fib, "2001:db8:100::2"), 1u);
  std::vector<Addr> probes = {A("2001:db8:100::1"), A("2001:db8:100::3"), A("2001:db8:200::"),
                              A("2001:db8:200::1"), A("2001:db8:ffff::1"), A("2002::1")};
  std::vector<uint32_t> got(probes.size());
  fib->LookupBulk(reinterpret_cast<const uint8_t(*)[16]>(probes.data()), got.data(),
                  uint32_t(probes.size()));
  EXPECT_THAT(got, ::testing::ElementsAre(kLocal, 1u, kLocal, 2u, 3u, Fib6::kNoRoute));
  // A replace by a plain route drops the own address; deleting the subnet uncovers the /32.
  ASSERT_TRUE(fib->Add(A("2001:db8:200::").data(), 127, 6).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:200::"), 6u);
  ASSERT_TRUE(fib->Delete(A("2001:db8:100::").data(), 64).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:100::1"), 3u);
}

// The first neighbour /128 under a subnet with an own address lives in the subnet's next hop:
// no tbl8 group, found by single and bulk lookups; others go to the table as before. A route
// inside the subnet that would hide it moves it to the table first.
TEST(Fib6Test, OneNeighbourPerOwnSubnetIsKeptInItsNextHop) {
  constexpr uint32_t kLocal = 9;
  Nexthops nhs(64);
  auto fib = NewFib();
  fib->SetOwnAddresses(nhs.table.data(), kLocal);
  nhs.Own(1, "2001:db8:100::1");
  ASSERT_TRUE(fib->AddConnected(A("2001:db8:100::").data(), 64, 1).ok());
  EXPECT_EQ(fib->tbl8_groups_in_use(), 5u);
  ASSERT_TRUE(fib->Add(A("2001:db8:100::1:2").data(), 128, 4).ok());
  EXPECT_EQ(fib->tbl8_groups_in_use(), 5u) << "kept in the next hop";
  EXPECT_TRUE(fib->Has(A("2001:db8:100::1:2").data(), 128));
  EXPECT_EQ(Get(*fib, "2001:db8:100::1:2"), 4u);
  EXPECT_EQ(Get(*fib, "2001:db8:100::1:3"), 1u);
  EXPECT_EQ(Get(*fib, "2001:db8:100::1"), kLocal);
  ASSERT_TRUE(fib->Add(A("2001:db8:100::3").data(), 128, 5).ok());
  EXPECT_EQ(fib->tbl8_groups_in_use(), 13u) << "a second one takes its eight groups";
  EXPECT_EQ(Get(*fib, "2001:db8:100::3"), 5u);
  ASSERT_TRUE(fib->Add(A("2001:db8:100::1:2").data(), 128, 6).ok()) << "a replace";
  EXPECT_EQ(Get(*fib, "2001:db8:100::1:2"), 6u);
  // A /112 holding the kept neighbour: the neighbour moves to the table, and stays the longest.
  ASSERT_TRUE(fib->Add(A("2001:db8:100::1:0").data(), 112, 7).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:100::1:2"), 6u);
  EXPECT_EQ(Get(*fib, "2001:db8:100::1:3"), 7u);
  EXPECT_EQ(Get(*fib, "2001:db8:100::1"), kLocal);
  EXPECT_EQ(nhs.table[1].peer.load(), 0u) << "the holder is free again";
  std::vector<Addr> probes = {A("2001:db8:100::1:2"), A("2001:db8:100::3"), A("2001:db8:100::1"),
                              A("2001:db8:100::4")};
  std::vector<uint32_t> got(probes.size());
  fib->LookupBulk(reinterpret_cast<const uint8_t(*)[16]>(probes.data()), got.data(),
                  uint32_t(probes.size()));
  EXPECT_THAT(got, ::testing::ElementsAre(6u, 5u, kLocal, 1u));
  ASSERT_TRUE(fib->Delete(A("2001:db8:100::1:0").data(), 112).ok());
  ASSERT_TRUE(fib->Delete(A("2001:db8:100::1:2").data(), 128).ok());
  ASSERT_TRUE(fib->Delete(A("2001:db8:100::3").data(), 128).ok());
  EXPECT_EQ(fib->tbl8_groups_in_use(), 5u);
  // Deleted, a kept neighbour leaves its holder to the next one.
  ASSERT_TRUE(fib->Add(A("2001:db8:100::8").data(), 128, 8).ok());
  EXPECT_EQ(fib->tbl8_groups_in_use(), 5u);
  EXPECT_EQ(Get(*fib, "2001:db8:100::8"), 8u);
  ASSERT_TRUE(fib->Delete(A("2001:db8:100::8").data(), 128).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:100::8"), 1u);
  EXPECT_FALSE(fib->Has(A("2001:db8:100::8").data(), 128));
  // The subnet gone, a /128 still kept there is known but not used, and deletes cleanly.
  ASSERT_TRUE(fib->Add(A("2001:db8:100::9").data(), 128, 10).ok());
  ASSERT_TRUE(fib->Delete(A("2001:db8:100::").data(), 64).ok());
  EXPECT_EQ(Get(*fib, "2001:db8:100::9"), Fib6::kNoRoute);
  EXPECT_TRUE(fib->Delete(A("2001:db8:100::9").data(), 128).ok());
  EXPECT_EQ(fib->size(), 0u);
}

// A worker reading a kept neighbour while control swaps the subnet's neighbour between two
// hosts never gets one host's next hop for the other's address.
TEST(Fib6Test, KeptNeighboursSwappingNeverMixAddressAndNextHop) {
  Nexthops nhs(64);
  auto fib = NewFib();
  fib->SetOwnAddresses(nhs.table.data(), 9);
  nhs.Own(1, "2001:db8:100::1");
  ASSERT_TRUE(fib->AddConnected(A("2001:db8:100::").data(), 64, 1).ok());
  const Addr x = A("2001:db8:100::a"), y = A("2001:db8:100:0:ffff::b");
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> wrong{0}, lookups{0};
  std::thread reader([&] {
    uint32_t nh;
    while (!stop.load(std::memory_order_relaxed)) {
      fib->Lookup(x.data(), &nh);
      if (nh != 10 && nh != 1) wrong++;
      fib->Lookup(y.data(), &nh);
      if (nh != 11 && nh != 1) wrong++;
      lookups += 2;
    }
  });
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(fib->Add(x.data(), 128, 10).ok());
    ASSERT_TRUE(fib->Delete(x.data(), 128).ok());
    ASSERT_TRUE(fib->Add(y.data(), 128, 11).ok());
    ASSERT_TRUE(fib->Delete(y.data(), 128).ok());
  }
  stop = true;
  reader.join();
  EXPECT_GT(lookups.load(), 1000u);
  EXPECT_EQ(wrong.load(), 0u);
}

// Connected subnets with own addresses stand outside max_routes: a template's members are
// bounded by the vifs, not by the routes the table keeps for everything else.
TEST(Fib6Test, ConnectedSubnetsWithOwnAddressesAreOutsideMaxRoutes) {
  Nexthops nhs(300);
  auto fib = NewFib(/*max_routes=*/2);
  fib->SetOwnAddresses(nhs.table.data(), 299);
  for (uint32_t i = 0; i < 256; ++i) {
    Addr a = A("2001:db8:100::1");
    a[6] = uint8_t(i);
    memcpy(nhs.table[i + 1].ip6, a.data(), 16);
    ASSERT_TRUE(fib->AddConnected(a.data(), 64, i + 1).ok()) << i;
  }
  ASSERT_TRUE(fib->Add(A("2001:db8::").data(), 32, 290).ok());
  ASSERT_TRUE(fib->Add(A("::").data(), 0, 291).ok());
  EXPECT_EQ(fib->Add(A("2002::").data(), 16, 292).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(fib->size(), 258u);
  ASSERT_TRUE(fib->Delete(A("2001:db8:100:7f00::").data(), 64).ok());
  EXPECT_EQ(fib->Add(A("2002::").data(), 16, 292).code(), absl::StatusCode::kResourceExhausted)
      << "an own subnet's going frees no room for others";
  EXPECT_EQ(Get(*fib, "2001:db8:100:7f00::1"), 290u);
  EXPECT_EQ(Get(*fib, "2001:db8:100:7e00::1"), 299u);
}

// The sizing helper agrees with what the table takes for templates' subnets in sequence, and
// counts one group per level and member when members are far apart.
TEST(Fib6Test, GroupsForMatchesWhatTemplatesTake) {
  struct Case {
    const char* first;
    uint8_t len;
    const char* step;
    uint32_t n;
  };
  for (const Case& c : {Case{"2001:db8:100::1", 64, "0:0:0:1::", 1000},
                        Case{"2001:db8:200::", 127, "::2", 3000},
                        Case{"2001:db8:3::1", 48, "0:0:1::", 300},
                        Case{"2001:db8:4:ff00::1", 56, "0:0:0:100::", 600}}) {
    Nexthops nhs(c.n + 2);
    auto fib = NewFib(16, 20000);
    fib->SetOwnAddresses(nhs.table.data(), c.n + 1);
    Addr a = A(c.first), step = A(c.step);
    uint64_t want = Fib6::GroupsFor(a.data(), c.len, step.data(), c.n);
    for (uint32_t i = 0; i < c.n; ++i) {
      ASSERT_TRUE(fib->AddConnected(a.data(), c.len, i + 1).ok()) << c.first << " " << i;
      int carry = 0;
      for (int b = 15; b >= 0; --b) {
        int v = a[b] + step[b] + carry;
        a[b] = uint8_t(v);
        carry = v >> 8;
      }
    }
    EXPECT_EQ(fib->tbl8_groups_in_use(), want) << c.first;
  }
  Addr first = A("2001:db8::1"), far = A("1::");  // every member under its own /16
  EXPECT_EQ(Fib6::GroupsFor(first.data(), 64, far.data(), 1000), 1000u * 5);
}

TEST(Fib6Test, CreateSaysWhatMemoryItWanted) {
  // The test EAL has 256 MB: a million groups need 1 GiB.
  auto fib = Fib6::Create(1u << 20, nullptr, SOCKET_ID_ANY);
  ASSERT_EQ(fib.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(fib.status().message(),
              ::testing::HasSubstr("1048576 tbl8 groups (for max_routes 1048576): 1024.0 MiB"));
  EXPECT_THAT(fib.status().message(), ::testing::HasSubstr("MiB free"));
  EXPECT_EQ(Fib6::DefaultTbl8Groups(1u << 24), 1u << 20) << "the default stops at 1 GiB";
  EXPECT_EQ(Fib6::DefaultTbl8Groups(10), 1024u);
}

// With an RCU variable, a group a delete empties is not reused while a worker may still be
// inside it: an add that has fresh groups does not wait, and one that needs the retired group
// waits until the worker has reported a quiescent state.
TEST(Fib6Test, EmptiedGroupsWaitForTheGracePeriod) {
  Rcu rcu;
  auto fib = NewFib(64, 7, rcu.v);
  std::atomic<int> stage{0};  // 1: the worker is online; 2: it may report
  std::atomic<bool> reported{false};
  std::thread worker([&] {
    rte_rcu_qsbr_thread_register(rcu.v, 0);
    rte_rcu_qsbr_thread_online(rcu.v, 0);
    stage = 1;
    // Reports anyway after five seconds, so that an add waiting too early fails the test
    // instead of hanging it.
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (stage.load() < 2 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    reported = true;
    rte_rcu_qsbr_quiescent(rcu.v, 0);
    rte_rcu_qsbr_thread_offline(rcu.v, 0);
    rte_rcu_qsbr_thread_unregister(rcu.v, 0);
  });
  while (stage.load() == 0) std::this_thread::yield();  // the worker is online
  ASSERT_TRUE(fib->Add(A("2001:db8:1:2::").data(), 64, 1).ok());
  ASSERT_TRUE(fib->Delete(A("2001:db8:1:2::").data(), 64).ok());
  EXPECT_EQ(fib->tbl8_groups_in_use(), 0u);
  // Two fresh groups are left: a /40 (two groups) goes in at once.
  ASSERT_TRUE(fib->Add(A("2001:db9::").data(), 40, 2).ok());
  EXPECT_FALSE(reported.load()) << "an add with fresh groups waited for the worker";
  stage = 2;
  // A /64 elsewhere needs five: only the retired ones, after the worker's quiescent state.
  ASSERT_TRUE(fib->Add(A("2001:dba:1:2::").data(), 64, 3).ok());
  EXPECT_TRUE(reported.load()) << "a retired group was reused before the grace period";
  worker.join();
  EXPECT_EQ(Get(*fib, "2001:dba:1:2::1"), 3u);
  EXPECT_EQ(Get(*fib, "2001:db9::1"), 2u);
}

// A worker thread looping on bulk lookups while control adds, replaces and deletes nested
// prefixes for a second. Each next hop names its prefix (index << 2 | a version), and a /16 that
// never goes covers every probe, so a lookup must always return a prefix that contains the
// address: never a miss, never another prefix's next hop (a reused group would give one).
TEST(Fib6Test, LookupsRacingChangesOnlySeeValidNextHops) {
  Rcu rcu;
  auto fib = NewFib(4096, 512, rcu.v);
  struct P {
    Addr prefix;
    uint8_t len;
  };
  std::mt19937 rng(3);
  std::vector<P> prefixes = {{A("2001::"), 16}};
  const uint8_t lens[] = {24, 28, 32, 40, 44, 48, 52, 56, 60, 64, 72, 96, 120, 127, 128};
  while (prefixes.size() < 400) {
    Addr a = A("2001:db8::");
    for (int b = 4; b < 16; ++b) a[b] = uint8_t(rng() % 2 ? rng() % 3 : 0);
    uint8_t len = lens[rng() % std::size(lens)];
    P p{MaskOf(a, len), len};
    if (std::none_of(prefixes.begin(), prefixes.end(),
                     [&](const P& q) { return q.prefix == p.prefix && q.len == p.len; })) {
      prefixes.push_back(p);
    }
  }
  std::vector<Addr> probes;  // eight addresses inside each prefix
  for (const P& p : prefixes) {
    Addr mask = MaskOf(Addr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff},
                       p.len);
    for (int i = 0; i < 8; ++i) {
      Addr a;
      for (int b = 0; b < 16; ++b) a[b] = (p.prefix[b] & mask[b]) | (uint8_t(rng() % 3) & ~mask[b]);
      probes.push_back(a);
    }
  }
  ASSERT_TRUE(fib->Add(prefixes[0].prefix.data(), 16, 0).ok());

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0}, misses{0}, wrong{0};
  std::thread worker([&] {
    OffTheControlCpu();
    rte_rcu_qsbr_thread_register(rcu.v, 0);
    rte_rcu_qsbr_thread_online(rcu.v, 0);
    uint8_t dst[32][16];
    uint32_t nh[32];
    uint64_t n = 0, miss = 0, bad = 0;
    for (size_t next = 0; !stop.load(std::memory_order_relaxed);) {
      for (int j = 0; j < 32; ++j, next = (next + 7919) % probes.size()) {
        memcpy(dst[j], probes[next].data(), 16);
      }
      fib->LookupBulk(dst, nh, 32);
      for (int j = 0; j < 32; ++j) {
        Addr a;
        memcpy(a.data(), dst[j], 16);
        if (nh[j] == Fib6::kNoRoute) {
          ++miss;
        } else if ((nh[j] >> 2) >= prefixes.size() ||
                   !Covers(prefixes[nh[j] >> 2].prefix, prefixes[nh[j] >> 2].len, a)) {
          ++bad;
        }
      }
      n += 32;
      rte_rcu_qsbr_quiescent(rcu.v, 0);
    }
    lookups = n;
    misses = miss;
    wrong = bad;
    rte_rcu_qsbr_thread_offline(rcu.v, 0);
    rte_rcu_qsbr_thread_unregister(rcu.v, 0);
  });

  std::vector<bool> present(prefixes.size(), false);
  present[0] = true;
  uint64_t changes = 0, refused = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < end) {
    uint32_t i = 1 + rng() % (prefixes.size() - 1);
    const P& p = prefixes[i];
    absl::Status s;
    if (present[i] && rng() % 3 != 0) {
      s = fib->Delete(p.prefix.data(), p.len);
      present[i] = !s.ok();
    } else {
      s = fib->Add(p.prefix.data(), p.len, i << 2 | (changes & 3));
      present[i] = present[i] || s.ok();
      if (s.code() == absl::StatusCode::kResourceExhausted) {
        ++refused;
        s = absl::OkStatus();
      }
    }
    ++changes;
    if (!s.ok()) {
      ADD_FAILURE() << s;
      break;  // the worker still has to be stopped and joined
    }
  }
  stop = true;
  worker.join();
  EXPECT_EQ(wrong.load(), 0u) << "lookups that returned another prefix's next hop";
  EXPECT_EQ(misses.load(), 0u) << "lookups that missed although the /16 covers them";
  EXPECT_GT(lookups.load(), 10000u);  // typically 10 million against 100,000 changes
  EXPECT_GT(changes, 100u);
  printf("%lu lookups against %lu changes (%lu refused for want of groups)\n",
         static_cast<unsigned long>(lookups.load()), static_cast<unsigned long>(changes),
         static_cast<unsigned long>(refused));
}

}  // namespace
}  // namespace vr::dataplane
