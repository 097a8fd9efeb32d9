// Microbenchmark (Google Benchmark), run by `make bench`: the InQ/OutQ toggle-bit ring against
// DPDK's rte_ring in single-producer/single-consumer mode, 32-bit entries, across two cores.
#include <pthread.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <thread>

#include "benchmark/benchmark.h"
#include "dataplane/xq_ring.h"

namespace {

using vr::dataplane::XqAction;
using vr::dataplane::XqRing;

constexpr uint32_t kRingSize = 4096;      // entries, both rings
constexpr uint32_t kEntries = 1u << 22;   // moved per benchmark iteration
constexpr uint32_t kBurst = 32;           // the workers' RX burst, and the drain batch

// The producer runs on the second CPU and the consumer (the benchmark's thread) on the first, as
// a worker and the control lcore would, so every entry crosses between cores.
void Pin(int cpu) {
  if (std::thread::hardware_concurrency() < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// Runs `produce` on CPU 1 while `consume` drains on this thread; both move kEntries entries and
// check them, so neither can be optimised away or skip work.
template <typename Produce, typename Consume>
void CrossCore(benchmark::State& state, Produce produce, Consume consume) {
  Pin(0);
  for (auto _ : state) {
    std::atomic<bool> go{false};
    std::thread producer([&] {
      Pin(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      produce();
    });
    go.store(true, std::memory_order_release);
    uint64_t sum = consume();
    producer.join();
    static_assert(kEntries <= vr::dataplane::kXqParamMask + 1, "entry i carries i whole");
    if (sum != uint64_t{kEntries} * (kEntries - 1) / 2) {
      state.SkipWithError("entries lost or reordered");
    }
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kEntries);
}

// The consumer sums the parameters; entry i carries i (24 bits).
void XqSingle(benchmark::State& state) {
  XqRing ring(kRingSize);
  CrossCore(
      state,
      [&] {
        for (uint32_t i = 0; i < kEntries; ++i) {
          while (!ring.Push(XqAction::kTransmit, i & vr::dataplane::kXqParamMask)) {
          }
          ring.Publish();  // a worker that punts one packet a loop publishes it at the loop's end
        }
      },
      [&] {
        uint64_t sum = 0;
        XqAction a;
        uint32_t p;
        for (uint32_t n = 0; n < kEntries;) {
          if (ring.Pop(&a, &p)) {
            sum += p;
            ++n;
          }
          ring.Flush();  // single: publish after every entry
        }
        return sum;
      });
}

// Burst: the producer pushes 32 entries back to back as a worker punting a burst would (one Push
// each: entries are pushed as packets are processed) and publishes them once, as the worker does
// at the end of its loop; the consumer drains up to 32 with one PopBurst and publishes its
// position once per batch, as the worker drains its InQ. rte_ring's producer copies the same 32
// entries into an array first and enqueues them in one call.
void XqBurst(benchmark::State& state) {
  XqRing ring(kRingSize);
  CrossCore(
      state,
      [&] {
        for (uint32_t i = 0; i < kEntries; i += kBurst) {
          for (uint32_t j = 0; j < kBurst; ++j) {
            while (!ring.Push(XqAction::kTransmit, (i + j) & vr::dataplane::kXqParamMask)) {
            }
          }
          ring.Publish();
        }
      },
      [&] {
        uint64_t sum = 0;
        uint32_t e[kBurst];
        for (uint32_t n = 0; n < kEntries;) {
          uint32_t got = ring.PopBurst(e, kBurst);
          for (uint32_t j = 0; j < got; ++j) sum += vr::dataplane::XqParam(e[j]);
          if (got != 0) ring.Flush();
          n += got;
        }
        return sum;
      });
}

struct RteRing {
  rte_ring* r;
  RteRing() {
    ssize_t size = rte_ring_get_memsize_elem(sizeof(uint32_t), kRingSize);
    r = static_cast<rte_ring*>(aligned_alloc(64, (size_t(size) + 63) & ~size_t{63}));
    // rte_ring_init on plain memory: no EAL needed. Its usable size is kRingSize - 1.
    rte_ring_init(r, "bench", kRingSize, RING_F_SP_ENQ | RING_F_SC_DEQ);
  }
  ~RteRing() { free(r); }
};

void RteSingle(benchmark::State& state) {
  RteRing ring;
  CrossCore(
      state,
      [&] {
        for (uint32_t i = 0; i < kEntries; ++i) {
          uint32_t e = i & vr::dataplane::kXqParamMask;
          while (rte_ring_sp_enqueue_elem(ring.r, &e, sizeof(e)) != 0) {
          }
        }
      },
      [&] {
        uint64_t sum = 0;
        uint32_t e;
        for (uint32_t n = 0; n < kEntries;) {
          if (rte_ring_sc_dequeue_elem(ring.r, &e, sizeof(e)) == 0) {
            sum += e;
            ++n;
          }
        }
        return sum;
      });
}

void RteBurst(benchmark::State& state) {
  RteRing ring;
  CrossCore(
      state,
      [&] {
        uint32_t e[kBurst];
        for (uint32_t i = 0; i < kEntries; i += kBurst) {
          for (uint32_t j = 0; j < kBurst; ++j) e[j] = (i + j) & vr::dataplane::kXqParamMask;
          uint32_t done = 0;
          while (done < kBurst) {
            done += rte_ring_sp_enqueue_burst_elem(ring.r, e + done, sizeof(uint32_t),
                                                   kBurst - done, nullptr);
          }
        }
      },
      [&] {
        uint64_t sum = 0;
        uint32_t e[kBurst];
        for (uint32_t n = 0; n < kEntries;) {
          uint32_t got =
              rte_ring_sc_dequeue_burst_elem(ring.r, e, sizeof(uint32_t), kBurst, nullptr);
          for (uint32_t j = 0; j < got; ++j) sum += e[j];
          n += got;
        }
        return sum;
      });
}

BENCHMARK(XqSingle)->Name("xq_ring/single")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(RteSingle)->Name("rte_ring_spsc/single")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(XqBurst)->Name("xq_ring/burst32")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(RteBurst)->Name("rte_ring_spsc/burst32")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
