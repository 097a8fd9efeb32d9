// Load generator and one-way latency meter for tests/bench/latency.sh: sends 64-byte IPv4/UDP
// frames stamped with the TSC on one DPDK port at a paced rate and times them back on another.
//
// Usage: latency_probe <EAL args> -- --tx PORT --rx PORT [--rate PPS] [--warmup S] [--seconds S]
//        [--dst-mac MAC] [--routes N] [--timeout S]
// PORT is a device name (net_memif0). --rate 0 sends as fast as the TX ring takes frames. Prints
// one line of key=value results, then keeps its ports open until SIGTERM; exits non-zero if
// nothing came back in the window.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <csignal>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;

uint64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr uint16_t kBurst = 32;
constexpr size_t kFrameLen = 60;  // 64 on the wire with the FCS
constexpr size_t kPayloadOff = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr);
constexpr uint16_t kMagic = 0x7a7e;  // marks the probe's frames among anything else the peer sends
constexpr int kTemplates = 1024;     // as run.sh's pcap: 1,024 frames, each to a different route

// The 18 bytes of UDP payload a 60-byte frame leaves: the send time and a sequence number.
struct __attribute__((packed)) Stamp {
  uint64_t tsc;
  uint64_t seq;
  uint16_t magic;
};
static_assert(kPayloadOff + sizeof(Stamp) == kFrameLen);

// Latencies in ns: 1 ns buckets up to 100 us, then 1 us buckets up to 100 ms, then one overflow
// bucket. Percentiles of tens of millions of samples without storing them.
class Histogram {
 public:
  Histogram() : fine_(kFine, 0), coarse_(kCoarse + 1, 0) {}
  void Add(uint64_t ns) {
    ++count_;
    max_ = std::max(max_, ns);
    sum_ += ns;
    if (ns < kFine) {
      ++fine_[ns];
    } else {
      ++coarse_[std::min<uint64_t>(ns / 1000, kCoarse)];
    }
  }
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? double(sum_) / count_ : 0; }
  // The smallest latency that at least fraction q of the samples do not exceed: exact below
  // 100 us, the middle of its 1 us bucket above.
  uint64_t Quantile(double q) const {
    if (count_ == 0) return 0;
    uint64_t want = std::max<uint64_t>(1, uint64_t(std::ceil(q * count_))), seen = 0;
    for (uint64_t i = 0; i < kFine; ++i) {
      if ((seen += fine_[i]) >= want) return i;
    }
    for (uint64_t i = kFine / 1000; i <= kCoarse; ++i) {
      if ((seen += coarse_[i]) >= want) return i == kCoarse ? max_ : i * 1000 + 500;
    }
    return max_;
  }

 private:
  static constexpr uint64_t kFine = 100'000;
  static constexpr uint64_t kCoarse = 100'000;
  std::vector<uint64_t> fine_, coarse_;
  uint64_t count_ = 0, max_ = 0, sum_ = 0;
};

struct Options {
  std::string tx, rx;
  double rate = 0;  // frames per second; 0: as fast as the TX ring accepts
  double warmup = 2, seconds = 5, timeout = 60;
  rte_ether_addr dst_mac{{0x02, 0, 0, 0, 0, 0x01}};
  int routes = 10000;
};

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "latency_probe: %s\n", what);
  std::exit(1);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 0; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) Fail(("no value for " + k).c_str());
    const char* v = argv[++i];
    if (k == "--tx") o.tx = v;
    else if (k == "--rx") o.rx = v;
    else if (k == "--rate") o.rate = std::atof(v);
    else if (k == "--warmup") o.warmup = std::atof(v);
    else if (k == "--seconds") o.seconds = std::atof(v);
    else if (k == "--timeout") o.timeout = std::atof(v);
    else if (k == "--routes") o.routes = std::atoi(v);
    else if (k == "--dst-mac") {
      if (rte_ether_unformat_addr(v, &o.dst_mac) != 0) Fail("bad --dst-mac");
    } else {
      Fail(("unknown option " + k).c_str());
    }
  }
  if (o.tx.empty() || o.rx.empty()) Fail("--tx and --rx are required");
  if (o.routes < kTemplates) Fail("--routes must be at least 1024");
  return o;
}

uint16_t StartPort(const std::string& name, rte_mempool* pool) {
  uint16_t id;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) Fail(("no port " + name).c_str());
  rte_eth_conf conf{};
  if (rte_eth_dev_configure(id, 1, 1, &conf) != 0) Fail("configure");
  uint16_t rxd = 1024, txd = 1024;
  rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd);
  if (rte_eth_rx_queue_setup(id, 0, rxd, rte_socket_id(), nullptr, pool) != 0) Fail("rx queue");
  if (rte_eth_tx_queue_setup(id, 0, txd, rte_socket_id(), nullptr) != 0) Fail("tx queue");
  if (rte_eth_dev_start(id) != 0) Fail("start");
  return id;
}

bool LinkUp(uint16_t id) {
  rte_eth_link link{};
  return rte_eth_link_get_nowait(id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

// 1,024 frames to hosts of different routes among run.sh's: route i is 198.18.0.0 + 8*i, a /29
// for even i and a /30 for odd i. A fixed seed, so every run sends the same frames.
std::vector<std::array<uint8_t, kFrameLen>> Templates(const Options& o) {
  std::vector<int> idx(o.routes);
  std::iota(idx.begin(), idx.end(), 0);
  std::mt19937 rng(1);
  std::shuffle(idx.begin(), idx.end(), rng);
  std::vector<std::array<uint8_t, kFrameLen>> out(kTemplates);
  for (int j = 0; j < kTemplates; ++j) {
    int i = idx[j];
    uint32_t hosts = i % 2 == 0 ? 6 : 2;
    uint32_t dst = RTE_IPV4(198, 18, 0, 0) + 8 * i + 1 + rng() % hosts;
    auto& f = out[j];
    f.fill(0);
    auto* eth = reinterpret_cast<rte_ether_hdr*>(f.data());
    eth->dst_addr = o.dst_mac;
    eth->src_addr = rte_ether_addr{{0x02, 0, 0, 0, 0, 0x02}};
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16(kFrameLen - sizeof(rte_ether_hdr));
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(198, 19, 254, 2));
    ip->dst_addr = rte_cpu_to_be_32(dst);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    udp->src_port = rte_cpu_to_be_16(1024 + i);
    udp->dst_port = rte_cpu_to_be_16(9);
    udp->dgram_len = rte_cpu_to_be_16(kFrameLen - sizeof(rte_ether_hdr) - sizeof(rte_ipv4_hdr));
    // UDP checksum 0 (none), so the stamp can change without touching the headers.
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int n = rte_eal_init(argc, argv);
  if (n < 0) Fail("EAL init failed");
  Options o = ParseOptions(argc - n - 1, argv + n + 1);
  rte_mempool* pool = rte_pktmbuf_pool_create("probe", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              rte_socket_id());
  if (!pool) Fail("mbuf pool");
  uint16_t tx = StartPort(o.tx, pool), rx = StartPort(o.rx, pool);
  auto frames = Templates(o);
  std::printf("latency_probe: listening, tx %s rx %s\n", o.tx.c_str(), o.rx.c_str());
  std::fflush(stdout);

  const uint64_t hz = rte_get_tsc_hz();
  auto secs = [hz](double s) { return uint64_t(s * hz); };
  uint64_t deadline = rte_rdtsc() + secs(o.timeout);
  while (!(LinkUp(tx) && LinkUp(rx))) {
    if (rte_rdtsc() > deadline) Fail("ports did not come up (is the peer running?)");
    rte_delay_ms(1);
  }

  // Phases, by TSC: prime (send until the first frame comes back: the peer may connect before it
  // forwards), warm-up, window, drain (no sending; frames of the window still in flight count).
  enum Phase { kPrime, kWarmup, kWindow, kDrain } phase = kPrime;
  Histogram hist;
  uint64_t seq = 0, offered = 0, refused = 0, foreign = 0, reordered = 0, last_seq = 0;
  uint64_t win_first = 0, win_end_seq = 0, win_rx = 0, win_rx_all = 0, win_sent = 0, win_refused = 0;
  uint64_t t_start = rte_rdtsc(), t_phase_end = t_start + secs(o.timeout);
  uint64_t t_win0 = 0, t_win1 = 0, cpu_win0 = 0, cpu_win1 = 0;
  const double cycles_per_frame = o.rate > 0 ? double(hz) / o.rate : 0;
  const double ns_per_cycle = 1e9 / double(hz);
  rte_mbuf* pkts[kBurst];
  for (;;) {
    uint64_t now = rte_rdtsc();
    if (now >= t_phase_end) {
      if (phase == kPrime) Fail("nothing came back before --timeout");
      if (phase == kWarmup) {
        phase = kWindow;
        t_win0 = now;
        cpu_win0 = ThreadCpuNs();
        win_first = seq;
        t_phase_end = now + secs(o.seconds);
      } else if (phase == kWindow) {
        phase = kDrain;
        t_win1 = now;
        cpu_win1 = ThreadCpuNs();
        win_end_seq = seq;
        t_phase_end = now + secs(0.2);
      } else {
        break;
      }
    }
    if (phase != kDrain) {
      // Paced: as many frames as are due since the start, at most a burst at a time; a frame the
      // ring refuses is not retried (its slot in the schedule has passed) but counted.
      uint16_t want = kBurst;
      if (cycles_per_frame > 0) {
        uint64_t due = uint64_t(double(now - t_start) / cycles_per_frame);
        want = uint16_t(std::min<uint64_t>(due > offered ? due - offered : 0, kBurst));
      }
      if (want > 0 && rte_pktmbuf_alloc_bulk(pool, pkts, want) == 0) {
        uint64_t stamp = rte_rdtsc();
        for (uint16_t k = 0; k < want; ++k) {
          rte_mbuf* m = pkts[k];
          uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
          std::memcpy(d, frames[(seq + k) % kTemplates].data(), kFrameLen);
          Stamp s{stamp, seq + k, kMagic};
          std::memcpy(d + kPayloadOff, &s, sizeof(s));
          m->data_len = m->pkt_len = kFrameLen;
        }
        uint16_t sent = rte_eth_tx_burst(tx, 0, pkts, want);
        if (sent < want) {
          rte_pktmbuf_free_bulk(pkts + sent, want - sent);
          refused += want - sent;
          if (phase == kWindow) win_refused += want - sent;
        }
        // Refused frames keep their sequence numbers: a gap that the receiver counts as lost is
        // what a sender into a full ring sees.
        seq += want;
        offered += want;
        if (phase == kWindow) win_sent += want;
      }
    }
    uint16_t got = rte_eth_rx_burst(rx, 0, pkts, kBurst);
    if (got > 0) {
      uint64_t t = rte_rdtsc();
      for (uint16_t k = 0; k < got; ++k) {
        Stamp s;
        const uint8_t* d = rte_pktmbuf_mtod(pkts[k], const uint8_t*);
        if (pkts[k]->data_len < kFrameLen ||
            (std::memcpy(&s, d + kPayloadOff, sizeof(s)), s.magic != kMagic)) {
          ++foreign;
          continue;
        }
        if (s.seq < last_seq) ++reordered;
        last_seq = s.seq;
        if (phase == kPrime) {
          phase = kWarmup;
          t_phase_end = t + secs(o.warmup);
        }
        if (phase == kWindow) ++win_rx_all;
        if (phase >= kWindow && s.seq >= win_first && (phase == kWindow || s.seq < win_end_seq)) {
          ++win_rx;
          hist.Add(uint64_t(double(t - s.tsc) * ns_per_cycle));
        }
      }
      rte_pktmbuf_free_bulk(pkts, got);
    }
    // Whatever the peer sends back on the TX port (none expected) must not fill its ring.
    if (uint16_t back = rte_eth_rx_burst(tx, 0, pkts, kBurst); back > 0) {
      foreign += back;
      rte_pktmbuf_free_bulk(pkts, back);
    }
  }

  double window = double(t_win1 - t_win0) / hz;
  std::printf(
      "window_s=%.3f offered_mpps=%.4f rx_mpps=%.4f sent=%" PRIu64 " received=%" PRIu64
      " lost=%" PRIu64 " refused=%" PRIu64 " refused_total=%" PRIu64 " foreign=%" PRIu64 " reordered=%" PRIu64
      " p50_us=%.3f p99_us=%.3f p999_us=%.3f max_us=%.3f mean_us=%.3f cpu=%.2f\n",
      window, win_sent / window / 1e6, win_rx_all / window / 1e6, win_sent, win_rx,
      win_sent > win_rx ? win_sent - win_rx : 0, win_refused, refused, foreign, reordered,
      hist.Quantile(0.5) / 1e3, hist.Quantile(0.99) / 1e3, hist.Quantile(0.999) / 1e3,
      hist.max() / 1e3, hist.mean() / 1e3, (cpu_win1 - cpu_win0) / 1e9 / window);
  std::fflush(stdout);
  // The memif ports stay open until SIGTERM (or 60 s): the caller stops the forwarder first, since
  // a memif client whose server vanishes under its polling lcore can crash (testpmd does). Frames
  // still arriving are drained meanwhile so the peer never blocks.
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGINT, [](int) { g_stop = 1; });
  for (uint64_t end = rte_rdtsc() + secs(60); !g_stop && rte_rdtsc() < end;) {
    for (uint16_t port : {tx, rx}) {
      if (uint16_t got = rte_eth_rx_burst(port, 0, pkts, kBurst); got > 0) rte_pktmbuf_free_bulk(pkts, got);
    }
    rte_delay_us_sleep(100);
  }
  rte_eth_dev_stop(tx);
  rte_eth_dev_stop(rx);
  rte_eal_cleanup();
  return win_rx > 0 ? 0 : 1;
}
