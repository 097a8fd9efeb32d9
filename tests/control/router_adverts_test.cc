// Router advertisements with real frames in real mbufs and an injected clock: every field of the
// advertisement built, router solicitation validation (RFC 4861 §6.1.1), the unsolicited
// schedule (§6.2.4), answers to solicitations and their rate limit (§6.2.6), and the final
// advertisements of an interface that stops (§6.2.5). Checksums are checked by a sum written
// here, not by the code under test.
#include "control/router_adverts.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "dataplane/icmp6.h"
#include "gtest/gtest.h"

namespace vr::control {
namespace {

using config::Ip6Addr;
using config::RouterAdvertConfig;
using dataplane::DropReason;
using dataplane::Event;

Ip6Addr A(std::string_view text) {
  auto a = config::ParseIp6(text);
  if (!a.ok()) std::abort();
  return *a;
}
config::Ip6Prefix P(std::string_view text) {
  auto p = config::ParseIp6Prefix(text);
  if (!p.ok()) std::abort();
  return *p;
}

const rte_ether_addr kRouterMac = {{0x02, 0, 0, 0, 0, 0x01}};
const rte_ether_addr kHostMac = {{0x02, 0, 0, 0, 0, 0xaa}};
const Ip6Addr kRouterLl = A("fe80::1");
const Ip6Addr kHostLl = A("fe80::2");
const Ip6Addr kAllRouters = A("ff02::2");
constexpr uint32_t kVif = 3;

// The ICMPv6 checksum (RFC 8200 §8.1) summed byte by byte in big-endian words: on a message
// with its checksum in place, 0 when it is right.
uint16_t Checksum(const uint8_t* src, const uint8_t* dst, const uint8_t* icmp, uint32_t len) {
  uint64_t sum = 0;
  auto add = [&](const uint8_t* p, uint32_t n) {
    for (uint32_t i = 0; i < n; i += 2) sum += uint32_t{p[i]} << 8 | (i + 1 < n ? p[i + 1] : 0);
  };
  add(src, 16);
  add(dst, 16);
  sum += (len >> 16) + (len & 0xffff) + 58;
  add(icmp, len);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

uint32_t Get32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// An RS: type 133, code, checksum (filled later), reserved, options.
std::vector<uint8_t> Rs(const std::vector<uint8_t>& options = {}, uint8_t code = 0) {
  std::vector<uint8_t> icmp = {133, code, 0, 0, 0, 0, 0, 0};
  icmp.insert(icmp.end(), options.begin(), options.end());
  return icmp;
}

std::vector<uint8_t> Sll(const rte_ether_addr& mac, uint8_t len = 1) {
  std::vector<uint8_t> o(8 * len, 0);
  o[0] = 1;
  o[1] = len;
  memcpy(&o[2], mac.addr_bytes, 6);
  return o;
}

class RouterAdvertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pool = dataplane::NbufPool::Create(1023, SOCKET_ID_ANY);
    ASSERT_TRUE(pool.ok());
    pool_ = std::move(*pool);
    ifc_.exists = true;
    ifc_.up = true;
    ifc_.mac = kRouterMac;
    ifc_.link_local = kRouterLl;
    ifc_.mtu = 1500;
    ifc_.addresses = {P("2001:db8:1::1/64"), P("2001:db8:5::1/56")};
    Make(1);
  }
  void Make(uint64_t seed) {
    ra_.reset();
    RouterAdvertEnv env{
        .pool = pool_.get(),
        .counters = &counters_,
        .interface =
            [this](uint32_t vif) {
              RaInterface r = ifc_;
              r.exists = ifc_.exists && vif == kVif;
              return r;
            },
        .transmit =
            [this](rte_mbuf* m) {
              sent_.push_back({now_, m});
            },
        .learn =
            [this](uint32_t vif, const Ip6Addr& ip, const rte_ether_addr& mac) {
              learned_.push_back({vif, ip, mac});
            },
        .seed = seed,
    };
    ra_ = std::make_unique<RouterAdverts>(std::move(env));
  }
  void TearDown() override {
    Clear();
    ra_.reset();
    EXPECT_EQ(pool_->InUse(), 0u) << "nbufs leaked";
  }
  void Clear() {
    for (auto& [t, m] : sent_) rte_pktmbuf_free(m);
    sent_.clear();
  }

  // Runs the control loop's timer from now_ to `until` in 1 ms steps.
  void RunUntil(uint64_t until) {
    for (; now_ <= until; ++now_) ra_->OnTimer(now_);
    now_ = until;
  }
  std::vector<uint64_t> SendTimes() const {
    std::vector<uint64_t> t;
    for (auto& [when, m] : sent_) t.push_back(when);
    return t;
  }

  // Ethernet + IPv6 + `icmp` from `src` to ff02::2, checksum computed unless told to keep it.
  rte_mbuf* Frame(const Ip6Addr& src, std::vector<uint8_t> icmp, uint8_t hop_limit = 255,
                  bool keep_checksum = false, const Ip6Addr& dst = kAllRouters) {
    if (!keep_checksum) {
      icmp[2] = icmp[3] = 0;
      uint16_t c = Checksum(src.bytes.data(), dst.bytes.data(), icmp.data(), icmp.size());
      icmp[2] = uint8_t(c >> 8);
      icmp[3] = uint8_t(c);
    }
    rte_mbuf* m = rte_pktmbuf_alloc(pool_->mempool());
    uint32_t len = sizeof(rte_ether_hdr) + sizeof(rte_ipv6_hdr) + icmp.size();
    auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_append(m, len));
    memset(eth, 0, len);
    eth->src_addr = kHostMac;
    eth->dst_addr = {{0x33, 0x33, 0, 0, 0, 2}};
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(eth + 1);
    ip->vtc_flow = RTE_BE32(6u << 28);
    ip->payload_len = rte_cpu_to_be_16(uint16_t(icmp.size()));
    ip->proto = 58;
    ip->hop_limits = hop_limit;
    memcpy(&ip->src_addr, src.bytes.data(), 16);
    memcpy(&ip->dst_addr, dst.bytes.data(), 16);
    memcpy(ip + 1, icmp.data(), icmp.size());
    dataplane::SetPacketVif(m, kVif);
    return m;
  }
  bool Valid(rte_mbuf* m) {
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
    const rte_ether_addr* sll = nullptr;
    bool ok = ValidRouterSolicit(ip, reinterpret_cast<const uint8_t*>(ip + 1),
                                 rte_be_to_cpu_16(ip->payload_len), &sll);
    last_sll_ = sll != nullptr ? std::optional(*sll) : std::nullopt;
    rte_pktmbuf_free(m);
    return ok;
  }
  void Solicit(uint64_t at) {
    now_ = at;
    ra_->OnSolicit(Frame(kHostLl, Rs(Sll(kHostMac))), at);
  }

  static rte_ipv6_hdr* IpOf(rte_mbuf* m) {
    return rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
  }
  static uint8_t* IcmpOf(rte_mbuf* m) { return reinterpret_cast<uint8_t*>(IpOf(m) + 1); }
  static uint32_t IcmpLen(rte_mbuf* m) { return rte_be_to_cpu_16(IpOf(m)->payload_len); }
  static bool ChecksumOk(rte_mbuf* m) {
    return Checksum(reinterpret_cast<const uint8_t*>(&IpOf(m)->src_addr),
                    reinterpret_cast<const uint8_t*>(&IpOf(m)->dst_addr), IcmpOf(m),
                    IcmpLen(m)) == 0;
  }
  static uint16_t Lifetime(rte_mbuf* m) { return uint16_t(IcmpOf(m)[6] << 8 | IcmpOf(m)[7]); }
  rte_mbuf* Build(const RouterAdvertConfig& cfg, bool final = false) {
    rte_mbuf* m = BuildRouterAdvert(pool_->mempool(), cfg, ifc_, final);
    if (m != nullptr) sent_.push_back({0, m});
    return m;
  }

  uint64_t Events(Event e) const { return counters_.events[size_t(e)]; }
  uint64_t Drops(DropReason r) const { return counters_.drops[size_t(r)]; }

  std::unique_ptr<dataplane::NbufPool> pool_;
  dataplane::CoreCounters counters_;
  RaInterface ifc_;
  std::unique_ptr<RouterAdverts> ra_;
  uint64_t now_ = 0;
  std::vector<std::pair<uint64_t, rte_mbuf*>> sent_;
  struct Learned {
    uint32_t vif;
    Ip6Addr ip;
    rte_ether_addr mac;
  };
  std::vector<Learned> learned_;
  std::optional<rte_ether_addr> last_sll_;
};

// --- The advertisement ----------------------------------------------------------------------

TEST_F(RouterAdvertsTest, EveryFieldOfTheAdvertisement) {
  RouterAdvertConfig cfg;
  cfg.interval = 200;
  cfg.managed = true;
  cfg.hop_limit = 64;
  cfg.reachable_time = 30000;
  cfg.retrans_timer = 1000;
  config::RaPrefixConfig listed;
  listed.prefix = P("2001:db8:5::/56");
  listed.on_link = true;
  listed.autonomous = false;
  listed.valid_lifetime = config::kInfiniteLifetime;
  listed.preferred_lifetime = 3600;
  cfg.prefixes = {listed};
  rte_mbuf* m = Build(cfg);
  ASSERT_NE(m, nullptr);

  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  const rte_ether_addr all_nodes_mac = {{0x33, 0x33, 0, 0, 0, 1}};
  EXPECT_TRUE(rte_is_same_ether_addr(&eth->dst_addr, &all_nodes_mac));
  EXPECT_TRUE(rte_is_same_ether_addr(&eth->src_addr, &kRouterMac));
  EXPECT_EQ(eth->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV6));
  rte_ipv6_hdr* ip = IpOf(m);
  EXPECT_EQ(rte_be_to_cpu_32(ip->vtc_flow), 6u << 28) << "version 6, class 0, flow 0";
  EXPECT_EQ(ip->proto, 58);
  EXPECT_EQ(ip->hop_limits, 255);
  EXPECT_EQ(memcmp(&ip->src_addr, kRouterLl.bytes.data(), 16), 0) << "from the link-local";
  EXPECT_EQ(memcmp(&ip->dst_addr, A("ff02::1").bytes.data(), 16), 0);
  // RA header 16, SLLA 8, MTU 8, two prefixes (the listed /56 and auto's /64) 32 each.
  ASSERT_EQ(IcmpLen(m), 16u + 8 + 8 + 64);
  EXPECT_EQ(rte_pktmbuf_data_len(m), sizeof(rte_ether_hdr) + sizeof(rte_ipv6_hdr) + IcmpLen(m));
  EXPECT_TRUE(ChecksumOk(m));
  const uint8_t* p = IcmpOf(m);
  EXPECT_EQ(p[0], 134);
  EXPECT_EQ(p[1], 0);
  EXPECT_EQ(p[4], 64) << "cur hop limit";
  EXPECT_EQ(p[5], 0x80) << "M set, O clear, no other flag";
  EXPECT_EQ(Lifetime(m), 600) << "3 x interval";
  EXPECT_EQ(Get32(p + 8), 30000u);
  EXPECT_EQ(Get32(p + 12), 1000u);
  p += 16;
  EXPECT_EQ(p[0], 1) << "source link-layer address";
  EXPECT_EQ(p[1], 1);
  EXPECT_EQ(memcmp(p + 2, kRouterMac.addr_bytes, 6), 0);
  p += 8;
  EXPECT_EQ(p[0], 5) << "MTU";
  EXPECT_EQ(p[1], 1);
  EXPECT_EQ(p[2] | p[3], 0) << "reserved";
  EXPECT_EQ(Get32(p + 4), 1500u) << "the interface's";
  p += 8;
  EXPECT_EQ(p[0], 3) << "prefix information";
  EXPECT_EQ(p[1], 4);
  EXPECT_EQ(p[2], 56);
  EXPECT_EQ(p[3], 0x80) << "L, not A";
  EXPECT_EQ(Get32(p + 4), 0xffffffffu);
  EXPECT_EQ(Get32(p + 8), 3600u);
  EXPECT_EQ(Get32(p + 12), 0u) << "reserved";
  EXPECT_EQ(memcmp(p + 16, A("2001:db8:5::").bytes.data(), 16), 0);
  p += 32;
  EXPECT_EQ(p[0], 3);
  EXPECT_EQ(p[1], 4);
  EXPECT_EQ(p[2], 64);
  EXPECT_EQ(p[3], 0xc0) << "L and A";
  EXPECT_EQ(Get32(p + 4), 2592000u);
  EXPECT_EQ(Get32(p + 8), 604800u);
  EXPECT_EQ(memcmp(p + 16, A("2001:db8:1::").bytes.data(), 16), 0) << "host bits cleared";
}

TEST_F(RouterAdvertsTest, OptionsFollowTheSettings) {
  RouterAdvertConfig cfg;
  cfg.other = true;
  cfg.advertise_mtu = false;
  cfg.auto_prefixes = false;
  rte_mbuf* m = Build(cfg, /*final=*/true);
  EXPECT_EQ(IcmpLen(m), 16u + 8) << "no MTU, no prefix";
  EXPECT_EQ(IcmpOf(m)[5], 0x40) << "O alone";
  EXPECT_EQ(Lifetime(m), 0) << "a final advertisement";
  EXPECT_TRUE(ChecksumOk(m));

  cfg = RouterAdvertConfig{};
  cfg.mtu = 1400;
  cfg.lifetime = 0;
  m = Build(cfg);
  EXPECT_EQ(Lifetime(m), 0) << "not a default router";
  EXPECT_EQ(Get32(IcmpOf(m) + 16 + 8 + 4), 1400u);
  ifc_.mtu = 1300;  // the interface's MTU went below the configured one
  m = Build(cfg);
  EXPECT_EQ(Get32(IcmpOf(m) + 16 + 8 + 4), 1300u);
  ifc_.mtu = 1279;  // no MTU option below IPv6's minimum
  m = Build(cfg);
  EXPECT_EQ(IcmpLen(m), 16u + 8 + 64);
  EXPECT_EQ(IcmpOf(m)[16 + 8], 3) << "a prefix where the MTU was";
}

// --- Router solicitations (§6.1.1) ----------------------------------------------------------

TEST_F(RouterAdvertsTest, SolicitationValidation) {
  EXPECT_TRUE(Valid(Frame(kHostLl, Rs(Sll(kHostMac)))));
  ASSERT_TRUE(last_sll_.has_value());
  EXPECT_TRUE(rte_is_same_ether_addr(&*last_sll_, &kHostMac));
  EXPECT_TRUE(Valid(Frame(kHostLl, Rs())));
  EXPECT_TRUE(Valid(Frame(A("::"), Rs()))) << "from :: without a link-layer address";
  EXPECT_TRUE(Valid(Frame(kHostLl, Rs({9, 1, 0, 0, 0, 0, 0, 0})))) << "unknown options skipped";
  EXPECT_TRUE(Valid(Frame(A("2001:db8:1::2"), Rs(Sll(kHostMac)), 255, false, kRouterLl)))
      << "unicast to the router, from a global address";
  EXPECT_TRUE(Valid(Frame(kHostLl, Rs(Sll(kHostMac, 2)))));
  EXPECT_FALSE(last_sll_.has_value()) << "not Ethernet's length: ignored";

  EXPECT_FALSE(Valid(Frame(kHostLl, Rs(Sll(kHostMac)), 64))) << "hop limit below 255";
  std::vector<uint8_t> bad = Rs(Sll(kHostMac));
  bad[2] = 0x12;
  bad[3] = 0x34;
  EXPECT_FALSE(Valid(Frame(kHostLl, bad, 255, /*keep_checksum=*/true))) << "checksum";
  EXPECT_FALSE(Valid(Frame(kHostLl, Rs({}, 1)))) << "code 1";
  EXPECT_FALSE(Valid(Frame(kHostLl, {133, 0, 0, 0, 0, 0}))) << "shorter than 8 bytes";
  EXPECT_FALSE(Valid(Frame(kHostLl, Rs({1, 0, 0, 0, 0, 0, 0, 0})))) << "option of length 0";
  EXPECT_FALSE(Valid(Frame(kHostLl, Rs({1, 2, 0, 0, 0, 0, 0, 0})))) << "option past the end";
  EXPECT_FALSE(Valid(Frame(kHostLl, Rs({1})))) << "half an option header";
  EXPECT_FALSE(Valid(Frame(A("::"), Rs(Sll(kHostMac))))) << "from :: with a link-layer address";
}

TEST_F(RouterAdvertsTest, SolicitationsAreCountedAndTeachTheNeighbourCache) {
  ra_->OnSolicit(Frame(kHostLl, Rs(Sll(kHostMac))), 0);
  ra_->OnSolicit(Frame(A("::"), Rs()), 0);
  ra_->OnSolicit(Frame(kHostLl, Rs(Sll(kHostMac)), 64), 0);
  ra_->OnSolicit(Frame(kHostLl, Rs({}, 3)), 0);
  EXPECT_EQ(Events(Event::kNdRouterSolicitsReceived), 2u);
  EXPECT_EQ(Drops(DropReason::kNdRouterSolicitInvalid), 2u);
  ASSERT_EQ(learned_.size(), 1u) << "only from an address, with a link-layer address";
  EXPECT_EQ(learned_[0].vif, kVif);
  EXPECT_EQ(learned_[0].ip, kHostLl);
  EXPECT_TRUE(rte_is_same_ether_addr(&learned_[0].mac, &kHostMac));
  RunUntil(10000);
  EXPECT_TRUE(sent_.empty()) << "an interface that does not advertise does not answer";
}

// --- When advertisements go (§6.2.4, §6.2.6) ------------------------------------------------

TEST_F(RouterAdvertsTest, FirstAtOnceThenInitialOnesAtMost16sApart) {
  for (uint64_t seed : {1, 2, 3, 42, 1000}) {
    Make(seed);
    Clear();
    now_ = 0;
    RouterAdvertConfig cfg;
    cfg.interval = 60;  // MinRtrAdvInterval 19.8 s: above MAX_INITIAL_RTR_ADVERT_INTERVAL
    ra_->Configure(kVif, cfg, 0);
    RunUntil(200000);
    std::vector<uint64_t> t = SendTimes();
    ASSERT_GE(t.size(), 5u);
    EXPECT_EQ(t[0], 0u);
    for (size_t i = 1; i < t.size(); ++i) {
      uint64_t gap = t[i] - t[i - 1];
      if (i <= kMaxInitialRtrAdvertisements) {
        EXPECT_EQ(gap, 16000u) << "seed " << seed << " advertisement " << i;
      } else {
        EXPECT_GE(gap, 19800u) << "seed " << seed << " advertisement " << i;
        EXPECT_LE(gap, 60000u) << "seed " << seed << " advertisement " << i;
      }
    }
    EXPECT_EQ(Events(Event::kNdRouterAdvertsSent), t.size());
    counters_ = {};
  }
}

TEST_F(RouterAdvertsTest, IntervalsAreRandomBetweenMinAndMax) {
  RouterAdvertConfig cfg;
  cfg.interval = 10;  // MinRtrAdvInterval 3.3 s
  ra_->Configure(kVif, cfg, 0);
  RunUntil(600000);
  std::vector<uint64_t> t = SendTimes();
  ASSERT_GE(t.size(), 60u);
  std::vector<uint64_t> gaps;
  for (size_t i = 1; i < t.size(); ++i) gaps.push_back(t[i] - t[i - 1]);
  EXPECT_GE(*std::min_element(gaps.begin(), gaps.end()), 3300u);
  EXPECT_LE(*std::max_element(gaps.begin(), gaps.end()), 10000u);
  // Uniform, so neither end is where they all fall.
  EXPECT_LT(*std::min_element(gaps.begin(), gaps.end()), 5000u);
  EXPECT_GT(*std::max_element(gaps.begin(), gaps.end()), 8000u);
  EXPECT_EQ(Events(Event::kNdRouterAdvertsSent), t.size());
  for (auto& [when, m] : sent_) EXPECT_EQ(dataplane::Meta(m)->tx_vif, kVif);
}

TEST_F(RouterAdvertsTest, SolicitationAnsweredWithin500ms) {
  RouterAdvertConfig cfg;
  cfg.interval = 1800;
  ra_->Configure(kVif, cfg, 0);
  RunUntil(1);
  ASSERT_EQ(sent_.size(), 1u);
  for (uint64_t at : {5000, 10000, 15000}) {
    Solicit(at);
    RunUntil(at + 499);
    Solicit(at + 499);  // a second one before the answer: one answer for both
    RunUntil(at + 2999);
    ASSERT_EQ(sent_.size(), at / 5000 + 1) << at;
    EXPECT_GE(sent_.back().first, at);
    EXPECT_LE(sent_.back().first, at + kMaxRaDelayTimeMs);
  }
  EXPECT_EQ(Events(Event::kNdRouterSolicitsReceived), 6u);
  EXPECT_EQ(Events(Event::kNdRouterAdvertsSent), 4u);
  // Delays are random: not all the same.
  std::vector<uint64_t> delays;
  for (uint64_t i = 0; i < 20; ++i) {
    uint64_t at = 20000 + i * 4000;
    Solicit(at);
    RunUntil(at + 3999);
    delays.push_back(sent_.back().first - at);
  }
  EXPECT_NE(*std::min_element(delays.begin(), delays.end()),
            *std::max_element(delays.begin(), delays.end()));
  EXPECT_LE(*std::max_element(delays.begin(), delays.end()), kMaxRaDelayTimeMs);
}

TEST_F(RouterAdvertsTest, AnswersAreRateLimitedTo1Per3s) {
  RouterAdvertConfig cfg;
  cfg.interval = 1800;
  ra_->Configure(kVif, cfg, 0);
  RunUntil(1);
  Clear();
  // A flood of solicitations over 30 s gets at most one advertisement per 3 s.
  for (uint64_t at = 1000; at < 31000; at += 10) {
    Solicit(at);
    RunUntil(at + 9);
  }
  RunUntil(40000);
  std::vector<uint64_t> t = SendTimes();
  ASSERT_GE(t.size(), 8u);
  EXPECT_LE(t.size(), 11u);
  EXPECT_GE(t[0], 3000u) << "3 s after the one at 0";
  EXPECT_LE(t[0], 3000u + kMaxRaDelayTimeMs);
  for (size_t i = 1; i < t.size(); ++i) {
    EXPECT_GE(t[i] - t[i - 1], kMinDelayBetweenRasMs);
    EXPECT_LE(t[i] - t[i - 1], kMinDelayBetweenRasMs + kMaxRaDelayTimeMs);
  }
}

TEST_F(RouterAdvertsTest, UnsolicitedOneSoonerIsTheAnswer) {
  RouterAdvertConfig cfg;
  cfg.interval = 4;  // every 4 s exactly (below 9 s the minimum is the maximum)
  ra_->Configure(kVif, cfg, 0);
  RunUntil(1);
  // Answered after 0-500 ms, unless the unsolicited one at 4000 comes first: either way one
  // advertisement, by 4000, and the next 4 s after it.
  Solicit(3990);
  RunUntil(7989);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_GE(sent_[1].first, 3990u);
  EXPECT_LE(sent_[1].first, 4000u);
  RunUntil(sent_[1].first + 4000);
  EXPECT_EQ(sent_.size(), 3u);
}

// --- Configuration changes, stopping, interface state ---------------------------------------

TEST_F(RouterAdvertsTest, StoppingSendsFinalAdvertisementsThenForgets) {
  RouterAdvertConfig cfg;
  cfg.interval = 30;
  ra_->Configure(kVif, cfg, 0);
  RunUntil(5000);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(Lifetime(sent_[0].second), 90);
  ra_->Configure(kVif, std::nullopt, 5000);
  RunUntil(5000);
  Solicit(5100);  // no longer advertising: not answered
  RunUntil(20000);
  ASSERT_EQ(sent_.size(), 1u + kMaxFinalRtrAdvertisements);
  for (size_t i = 1; i < sent_.size(); ++i) {
    EXPECT_EQ(Lifetime(sent_[i].second), 0) << i;
    EXPECT_TRUE(ChecksumOk(sent_[i].second));
    EXPECT_EQ(sent_[i].first, 5000u + (i - 1) * kMinDelayBetweenRasMs) << i;
  }
  EXPECT_EQ(ra_->size(), 0u);
  ra_->Configure(kVif, std::nullopt, 20000);  // already off: nothing
  RunUntil(30000);
  EXPECT_EQ(sent_.size(), 1u + kMaxFinalRtrAdvertisements);
}

TEST_F(RouterAdvertsTest, RemoveAndStopAllSendOneFinalNow) {
  RouterAdvertConfig cfg;
  ra_->Configure(kVif, cfg, 0);
  RunUntil(10);
  ra_->Remove(kVif);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(Lifetime(sent_[1].second), 0);
  EXPECT_EQ(ra_->size(), 0u);
  ra_->Configure(kVif, cfg, 20);
  ra_->StopAll();
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(Lifetime(sent_[2].second), 0);
  EXPECT_EQ(ra_->size(), 0u);
}

TEST_F(RouterAdvertsTest, ChangedSettingsOrAddressesAdvertiseAgainSoon) {
  RouterAdvertConfig cfg;
  cfg.interval = 1800;
  ra_->Configure(kVif, cfg, 0);
  RunUntil(1000);
  ASSERT_EQ(sent_.size(), 1u);
  ra_->Configure(kVif, cfg, 1000);  // the same: nothing
  ra_->Recheck(1000);               // nothing changed: nothing
  RunUntil(20000);
  ASSERT_EQ(sent_.size(), 2u) << "the second initial one at 16 s";
  cfg.managed = true;
  ra_->Configure(kVif, cfg, 20000);
  RunUntil(20000);
  ASSERT_EQ(sent_.size(), 3u) << "more than 3 s after the last: at once";
  EXPECT_EQ(IcmpOf(sent_.back().second)[5], 0x80);
  ifc_.addresses.push_back(P("2001:db8:9::1/64"));
  ra_->Recheck(21000);
  RunUntil(22999);
  EXPECT_EQ(sent_.size(), 3u) << "not within 3 s of the last";
  RunUntil(23000);
  ASSERT_EQ(sent_.size(), 4u);
  EXPECT_EQ(IcmpLen(sent_.back().second), 16u + 8 + 8 + 3 * 32);
  // And the initial ones again: the next within 16 s.
  RunUntil(23000 + kMaxInitialRtrAdvertIntervalMs);
  EXPECT_EQ(sent_.size(), 5u);
}

TEST_F(RouterAdvertsTest, NothingWhileDownThenAtOnce) {
  ifc_.up = false;
  RouterAdvertConfig cfg;
  cfg.interval = 1800;
  ra_->Configure(kVif, cfg, 0);
  Solicit(10);
  RunUntil(10000);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(Events(Event::kNdRouterAdvertsSent), 0u);
  ifc_.up = true;
  RunUntil(11000);
  ASSERT_EQ(sent_.size(), 1u) << "within a second of coming up";
  RunUntil(11000 + kMaxInitialRtrAdvertIntervalMs);
  EXPECT_EQ(sent_.size(), 2u) << "as an interface that just became advertising";
}

TEST_F(RouterAdvertsTest, NoNbufsIsCountedAndRetried) {
  std::vector<rte_mbuf*> all;
  while (rte_mbuf* m = rte_pktmbuf_alloc(pool_->mempool())) all.push_back(m);
  ra_->Configure(kVif, RouterAdvertConfig{}, 0);
  RunUntil(10);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(Drops(DropReason::kNbufExhausted), 1u);
  for (rte_mbuf* m : all) rte_pktmbuf_free(m);
  RunUntil(1010);
  EXPECT_EQ(sent_.size(), 1u);
}

}  // namespace
}  // namespace vr::control
