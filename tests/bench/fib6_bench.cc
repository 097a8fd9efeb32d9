// Microbenchmark (Google Benchmark) of the IPv6 FIB: bulk lookups of 32 over 10,000 random /48-/64
// routes beside DPDK's rte_fib6 and rte_lpm6, after a table of the memory each takes per route.
#include <arpa/inet.h>
#include <malloc.h>
#include <rte_eal.h>
#include <rte_fib6.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "dataplane/fib6.h"

namespace {

using vr::dataplane::Fib6;

constexpr uint32_t kRoutes = 10000;
constexpr uint32_t kBurst = 32;
constexpr uint32_t kAddrs = 1u << 16;  // looked up in turn, so the caches hold no answer

struct Route {
  uint8_t addr[16];
  uint8_t len;
};

void Mask(uint8_t a[16], uint8_t len) {
  for (int i = 0; i < 16; ++i) {
    int bits = std::clamp(int{len} - 8 * i, 0, 8);
    a[i] &= bits == 0 ? 0 : uint8_t(0xff << (8 - bits));
  }
}

// Random /48../64 prefixes in 2000::/3, and addresses each inside one of them.
struct Workload {
  std::vector<Route> routes;
  std::vector<std::array<uint8_t, 16>> addrs;
  Workload() {
    std::mt19937_64 rng(42);
    for (uint32_t i = 0; i < kRoutes; ++i) {
      Route r;
      for (auto& b : r.addr) b = uint8_t(rng());
      r.addr[0] = 0x20 | (r.addr[0] & 0x1f);
      r.len = uint8_t(48 + rng() % 17);
      Mask(r.addr, r.len);
      routes.push_back(r);
    }
    for (uint32_t i = 0; i < kAddrs; ++i) {
      const Route& r = routes[rng() % kRoutes];
      std::array<uint8_t, 16> a;
      for (auto& b : a) b = uint8_t(rng());
      for (int j = 0; j < 16; ++j) {
        int bits = std::clamp(int{r.len} - 8 * j, 0, 8);
        uint8_t m = bits == 0 ? 0 : uint8_t(0xff << (8 - bits));
        a[j] = (r.addr[j] & m) | (a[j] & ~m);
      }
      addrs.push_back(a);
    }
  }
};

const Workload& Work() {
  static const Workload* w = new Workload();
  return *w;
}

void Rate(benchmark::State& state) {
  state.SetItemsProcessed(int64_t(state.iterations()) * kBurst);
  state.counters["ns/lookup"] =
      benchmark::Counter(double(state.iterations()) * kBurst,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Fib6LookupBulk(benchmark::State& state) {
  const Workload& w = Work();
  auto fib = Fib6::Create(kRoutes, nullptr, SOCKET_ID_ANY, 1u << 16);
  if (!fib.ok()) return state.SkipWithError(std::string(fib.status().message()).c_str());
  for (uint32_t i = 0; i < kRoutes; ++i) (void)(*fib)->Add(w.routes[i].addr, w.routes[i].len, i);
  uint32_t nh[kBurst];
  uint32_t next = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    auto* a = reinterpret_cast<const uint8_t(*)[16]>(w.addrs[next].data());
    (*fib)->LookupBulk(a, nh, kBurst);
    sum += nh[0] + nh[kBurst - 1];
    next = (next + kBurst) % kAddrs;
  }
  benchmark::DoNotOptimize(sum);
  state.counters["groups"] = (*fib)->tbl8_groups_in_use();
  Rate(state);
}
BENCHMARK(BM_Fib6LookupBulk);

void BM_Fib6LookupOneByOne(benchmark::State& state) {
  const Workload& w = Work();
  auto fib = Fib6::Create(kRoutes, nullptr, SOCKET_ID_ANY, 1u << 16);
  if (!fib.ok()) return state.SkipWithError(std::string(fib.status().message()).c_str());
  for (uint32_t i = 0; i < kRoutes; ++i) (void)(*fib)->Add(w.routes[i].addr, w.routes[i].len, i);
  uint32_t next = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    for (uint32_t j = 0; j < kBurst; ++j) {
      uint32_t nh;
      (*fib)->Lookup(w.addrs[next + j].data(), &nh);
      sum += nh;
    }
    next = (next + kBurst) % kAddrs;
  }
  benchmark::DoNotOptimize(sum);
  Rate(state);
}
BENCHMARK(BM_Fib6LookupOneByOne);

rte_fib6* NewRteFib6(const char* name, uint32_t max_routes, uint32_t tbl8) {
  rte_fib6_conf c{};
  c.type = RTE_FIB6_TRIE;
  c.default_nh = (1u << 31) - 1;
  c.max_routes = int(max_routes);
  c.trie.nh_sz = RTE_FIB6_TRIE_4B;
  c.trie.num_tbl8 = tbl8;
  return rte_fib6_create(name, SOCKET_ID_ANY, &c);
}

void BM_RteFib6LookupBulk(benchmark::State& state) {
  const Workload& w = Work();
  rte_fib6* fib = NewRteFib6("bench_fib6", kRoutes, 1u << 16);
  if (fib == nullptr) return state.SkipWithError("rte_fib6_create failed");
  for (uint32_t i = 0; i < kRoutes; ++i) rte_fib6_add(fib, w.routes[i].addr, w.routes[i].len, i);
  auto kind = state.range(0) ? RTE_FIB6_LOOKUP_TRIE_VECTOR_AVX512 : RTE_FIB6_LOOKUP_TRIE_SCALAR;
  if (rte_fib6_select_lookup(fib, kind) != 0) {
    rte_fib6_free(fib);
    return state.SkipWithError("no AVX512 lookup in this DPDK build or CPU");
  }
  uint64_t nh[kBurst];
  uint32_t next = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    auto* a = reinterpret_cast<uint8_t(*)[16]>(const_cast<uint8_t*>(w.addrs[next].data()));
    rte_fib6_lookup_bulk(fib, a, nh, kBurst);
    sum += nh[0] + nh[kBurst - 1];
    next = (next + kBurst) % kAddrs;
  }
  benchmark::DoNotOptimize(sum);
  rte_fib6_free(fib);
  Rate(state);
}
BENCHMARK(BM_RteFib6LookupBulk)->ArgName("avx512")->Arg(0)->Arg(1);

void BM_RteLpm6LookupBulk(benchmark::State& state) {
  const Workload& w = Work();
  rte_lpm6_config c{};
  c.max_rules = kRoutes;
  c.number_tbl8s = 1u << 16;
  rte_lpm6* lpm = rte_lpm6_create("bench_lpm6", SOCKET_ID_ANY, &c);
  if (lpm == nullptr) return state.SkipWithError("rte_lpm6_create failed");
  for (uint32_t i = 0; i < kRoutes; ++i) rte_lpm6_add(lpm, w.routes[i].addr, w.routes[i].len, i);
  int32_t nh[kBurst];
  uint32_t next = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    auto* a = reinterpret_cast<uint8_t(*)[16]>(const_cast<uint8_t*>(w.addrs[next].data()));
    rte_lpm6_lookup_bulk_func(lpm, a, nh, kBurst);
    sum += uint32_t(nh[0]) + uint32_t(nh[kBurst - 1]);
    next = (next + kBurst) % kAddrs;
  }
  benchmark::DoNotOptimize(sum);
  rte_lpm6_free(lpm);
  Rate(state);
}
BENCHMARK(BM_RteLpm6LookupBulk);

// Memory, measured rather than computed: hugepage bytes from the malloc heap's statistics around
// each create, and the control side's C++ heap around loading the routes.
size_t HeapAllocated() {
  size_t total = 0;
  for (unsigned i = 0; i < rte_socket_count(); ++i) {
    rte_malloc_socket_stats s;
    if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &s) == 0) {
      total += s.heap_allocsz_bytes;
    }
  }
  return total;
}

double MB(size_t b) { return double(b) / 1e6; }

// Subscriber /64s handed out in sequence from 2001:db8::/32, and /127s from 2001:db8:ffff:1::/64.
void Subscriber(uint32_t i, bool p2p, uint8_t a[16], uint8_t* len) {
  memset(a, 0, 16);
  a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
  if (p2p) {
    a[4] = a[5] = 0xff, a[7] = 1;
    uint64_t host = uint64_t{i} << 1;
    for (int b = 0; b < 8; ++b) a[15 - b] = uint8_t(host >> (8 * b));
    *len = 127;
  } else {
    for (int b = 0; b < 4; ++b) a[7 - b] = uint8_t(i >> (8 * b));
    *len = 64;
  }
}

void ReportMemory() {
  printf("IPv6 FIB memory (bytes/route = bytes / max_routes)\n");
  for (uint32_t n : {65536u, 1048576u}) {
    uint32_t groups = Fib6::DefaultTbl8Groups(n);
    size_t h0 = HeapAllocated();
    auto fib = Fib6::Create(n, nullptr, SOCKET_ID_ANY);
    size_t h1 = HeapAllocated();
    if (!fib.ok()) {
      printf("  Fib6 max_routes=%u: %s\n", n, std::string(fib.status().message()).c_str());
      continue;
    }
    printf("  Fib6     max_routes=%-8u tbl8=%-8u hugepages %8.1f MB = %6.0f B/route\n", n, groups,
           MB(h1 - h0), double(h1 - h0) / n);
    size_t m0 = mallinfo2().uordblks + mallinfo2().hblkhd;
    auto t0 = std::chrono::steady_clock::now();
    uint8_t a[16], len;
    for (uint32_t i = 0; i < n; ++i) {
      Subscriber(i, false, a, &len);
      if (!(*fib)->Add(a, len, i).ok()) break;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    size_t m1 = mallinfo2().uordblks + mallinfo2().hblkhd;
    printf(
        "           %u sequential /64s: %.2f s (%.0f ns/add), tbl8 groups %u (%.4f/route), "
        "C++ heap +%.1f MB (%.0f B/route)\n",
        uint32_t((*fib)->size()), secs, secs * 1e9 / n, (*fib)->tbl8_groups_in_use(),
        double((*fib)->tbl8_groups_in_use()) / n, MB(m1 - m0), double(m1 - m0) / n);
    fib->reset();

    for (uint32_t tbl8 : {1u, groups}) {
      h0 = HeapAllocated();
      rte_fib6* r =
          NewRteFib6(("mem" + std::to_string(n) + "_" + std::to_string(tbl8)).c_str(), n, tbl8);
      h1 = HeapAllocated();
      if (r == nullptr) {
        printf("  rte_fib6 max_routes=%u num_tbl8=%u: create failed\n", n, tbl8);
        continue;
      }
      printf("  rte_fib6 max_routes=%-8u tbl8=%-8u hugepages %8.1f MB = %6.0f B/route%s\n", n, tbl8,
             MB(h1 - h0), double(h1 - h0) / n, tbl8 == 1 ? " (first level and RIB only)" : "");
      rte_fib6_free(r);
    }
  }
  // How many groups each kind of route takes, at 65,536 routes and groups to spare.
  const uint32_t n = 65536;
  std::mt19937_64 rng(1);
  struct Kind {
    const char* name;
    std::function<void(uint32_t, uint8_t*, uint8_t*)> make;
  } kinds[] = {
      {"sequential /64s", [](uint32_t i, uint8_t* a, uint8_t* l) { Subscriber(i, false, a, l); }},
      {"sequential /127s", [](uint32_t i, uint8_t* a, uint8_t* l) { Subscriber(i, true, a, l); }},
      {"random /48-/64 in a /32",
       [&](uint32_t, uint8_t* a, uint8_t* l) {
         for (int b = 0; b < 16; ++b) a[b] = uint8_t(rng());
         a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
         *l = uint8_t(48 + rng() % 17);
       }},
      {"random /48-/64 in 2000::/3",
       [&](uint32_t, uint8_t* a, uint8_t* l) {
         for (int b = 0; b < 16; ++b) a[b] = uint8_t(rng());
         a[0] = 0x20 | (a[0] & 0x1f);
         *l = uint8_t(48 + rng() % 17);
       }},
      {"random /128s in a /64",
       [&](uint32_t, uint8_t* a, uint8_t* l) {
         for (int b = 0; b < 16; ++b) a[b] = uint8_t(rng());
         a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8, a[4] = a[5] = a[6] = a[7] = 0;
         *l = 128;
       }},
  };
  for (const Kind& k : kinds) {
    auto fib = Fib6::Create(n, nullptr, SOCKET_ID_ANY, 16 * n);
    if (!fib.ok()) continue;
    uint8_t a[16], len;
    for (uint32_t i = 0; i < n; ++i) {
      k.make(i, a, &len);
      (void)(*fib)->Add(a, len, i);
    }
    printf("  %-28s %u routes: %7u tbl8 groups, %.3f per route\n", k.name, uint32_t((*fib)->size()),
           (*fib)->tbl8_groups_in_use(),
           double((*fib)->tbl8_groups_in_use()) / double((*fib)->size()));
  }
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string prefix = "--file-prefix=fib6_bench_" + std::to_string(getpid());
  const char* eal[] = {"fib6_bench",
                       "-l",
                       "0",
                       "--no-huge",
                       "-m",
                       "2600",
                       "--no-pci",
                       "--no-telemetry",
                       "--log-level=*:error",
                       "--force-max-simd-bitwidth=512",
                       prefix.c_str()};
  if (rte_eal_init(int(std::size(eal)), const_cast<char**>(eal)) < 0) {
    fprintf(stderr, "rte_eal_init failed\n");
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (getenv("FIB6_BENCH_NO_MEMORY") == nullptr) ReportMemory();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::string dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
