// NDP on the control lcore with real frames in real mbufs: advertisements for our addresses,
// RFC 4861 §7.1 validation, learning, resolution with hold queues, the reachable / stale /
// delay / probe / failed cycle, static entries, and echo replies from a link-local address.
// Checksums are checked by a sum written here, not by the code under test.
#include "control/ndp.h"

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "dataplane/icmp6.h"
#include "gtest/gtest.h"

namespace vr::control {
namespace {

using config::Ip6Addr;
using dataplane::DropReason;
using dataplane::Meta;

Ip6Addr A(std::string_view text) {
  auto a = config::ParseIp6(text);
  if (!a.ok()) std::abort();
  return *a;
}

const rte_ether_addr kRouterMac = {{0x02, 0, 0, 0, 0, 0x01}};
const rte_ether_addr kHostMac = {{0x02, 0, 0, 0, 0, 0xaa}};
const rte_ether_addr kOtherMac = {{0x02, 0, 0, 0, 0, 0xbb}};
const Ip6Addr kRouterIp = A("2001:db8:1::1");
const Ip6Addr kRouterLl = A("fe80::1");
const Ip6Addr kHostIp = A("2001:db8:1::2");
const Ip6Addr kHostLl = A("fe80::2");
const Ip6Addr kUnspecified = A("::");
const Ip6Addr kAllNodes = A("ff02::1");

constexpr uint8_t kNs = dataplane::kNdNeighbourSolicit;
constexpr uint8_t kNa = dataplane::kNdNeighbourAdvert;
constexpr uint8_t kR = 0x80, kS = 0x40, kO = 0x20;

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

Ip6Addr SolicitedNode(const Ip6Addr& ip) {
  Ip6Addr g = A("ff02::1:ff00:0");
  memcpy(&g.bytes[13], &ip.bytes[13], 3);
  return g;
}

std::vector<uint8_t> LlOption(uint8_t type, const rte_ether_addr& mac) {
  std::vector<uint8_t> o(8);
  o[0] = type;
  o[1] = 1;  // in units of 8 bytes
  memcpy(&o[2], mac.addr_bytes, 6);
  return o;
}
std::vector<uint8_t> Sll(const rte_ether_addr& mac) { return LlOption(1, mac); }
std::vector<uint8_t> Tll(const rte_ether_addr& mac) { return LlOption(2, mac); }

// An NS or NA message: type, code, checksum (filled later), flags, target, options.
std::vector<uint8_t> NdMessage(uint8_t type, uint8_t flags, const Ip6Addr& target,
                               const std::vector<uint8_t>& options = {}) {
  std::vector<uint8_t> icmp(24, 0);
  icmp[0] = type;
  icmp[4] = flags;
  memcpy(&icmp[8], target.bytes.data(), 16);
  for (uint8_t b : options) icmp.push_back(b);
  return icmp;
}

class NdpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fib = dataplane::Fib::Create(256, nullptr, SOCKET_ID_ANY);
    ASSERT_TRUE(fib.ok());
    fib_ = std::move(*fib);
    auto fib6 = dataplane::Fib6::Create(64, nullptr, SOCKET_ID_ANY);
    ASSERT_TRUE(fib6.ok()) << fib6.status();
    fib6_ = std::move(*fib6);
    auto pool = dataplane::NbufPool::Create(1023, SOCKET_ID_ANY);
    ASSERT_TRUE(pool.ok());
    pool_ = std::move(*pool);
    nexthops_ = std::make_unique<NexthopTable>(fib_.get());
    addresses_ = {{kRouterIp, 64}};
    config::ArpConfig nd;
    nd.hold_packets = 3;
    nd.retries = 3;
    nd.retry_ms = 1000;
    nd.reachable_seconds = 30;
    nd.gc_seconds = 120;
    Ndp6Env env{
        .fib = fib_.get(),
        .fib6 = fib6_.get(),
        .pool = pool_.get(),
        .nexthops = nexthops_.get(),
        .counters = &counters_,
        .vif_addresses = [this](uint32_t) { return addresses_; },
        .vif_link_local = [](uint32_t) { return kRouterLl; },
        .vif_name = [](uint32_t) { return std::string("a"); },
        .vif_mac = [](uint32_t) { return kRouterMac; },
        .transmit = [this](rte_mbuf* m) { sent_.push_back(m); },
        .output = [this](rte_mbuf* m) { released_.push_back(m); },
        .take_used = [this](uint32_t) { return used_; },
        .synchronize = [this] { syncs_++; },
        .nd = nd,
    };
    table_ = std::make_unique<Ndp6Table>(std::move(env));
  }
  void TearDown() override {
    for (rte_mbuf* m : sent_) rte_pktmbuf_free(m);
    for (rte_mbuf* m : released_) rte_pktmbuf_free(m);
    table_.reset();
    EXPECT_EQ(pool_->InUse(), 0u) << "nbufs leaked";
  }

  // Ethernet + IPv6 + `icmp`, whose checksum is computed here (unless told to keep it).
  rte_mbuf* Frame(const Ip6Addr& src, const Ip6Addr& dst, std::vector<uint8_t> icmp,
                  uint8_t hop_limit = 255, bool keep_checksum = false) {
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
    eth->dst_addr = kRouterMac;
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(eth + 1);
    ip->vtc_flow = RTE_BE32(6u << 28);
    ip->payload_len = rte_cpu_to_be_16(uint16_t(icmp.size()));
    ip->proto = 58;
    ip->hop_limits = hop_limit;
    memcpy(&ip->src_addr, src.bytes.data(), 16);
    memcpy(&ip->dst_addr, dst.bytes.data(), 16);
    memcpy(ip + 1, icmp.data(), icmp.size());
    dataplane::SetPacketVif(m, 0);
    return m;
  }
  // A neighbour solicitation for `target` as a host resolving it sends it: to the solicited-node
  // group, with its link-layer address.
  rte_mbuf* Ns(const Ip6Addr& src, const Ip6Addr& target, const rte_ether_addr& mac = kHostMac) {
    return Frame(src, SolicitedNode(target), NdMessage(kNs, 0, target, Sll(mac)));
  }
  rte_mbuf* Na(const Ip6Addr& target, uint8_t flags, const rte_ether_addr& mac = kHostMac,
               const Ip6Addr& dst = kRouterIp) {
    return Frame(target, dst, NdMessage(kNa, flags, target, Tll(mac)));
  }
  rte_mbuf* Echo(const Ip6Addr& src, const Ip6Addr& dst) {
    std::vector<uint8_t> icmp = {128, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g', 0, 1, 2, 3};
    return Frame(src, dst, icmp, 64);
  }
  // A routed packet the worker could not send: its next hop (a connected-subnet one) has no MAC.
  rte_mbuf* Unresolved(const Ip6Addr& dst) {
    rte_mbuf* m = Frame(A("2001:db8:2::9"), dst, std::vector<uint8_t>(16, 0x5a), 63, true);
    Meta(m)->nexthop = connected_nh_;
    return m;
  }
  void AddConnected() {
    auto nh = nexthops_->Alloc6(dataplane::NhKind::kConnected, nullptr, 0);
    ASSERT_TRUE(nh.ok());
    connected_nh_ = *nh;
    ASSERT_TRUE(fib6_->Add(A("2001:db8:1::").bytes.data(), 64, connected_nh_).ok());
  }

  static rte_ether_hdr* EthOf(rte_mbuf* m) { return rte_pktmbuf_mtod(m, rte_ether_hdr*); }
  static rte_ipv6_hdr* IpOf(rte_mbuf* m) {
    return rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
  }
  static uint8_t* IcmpOf(rte_mbuf* m) { return reinterpret_cast<uint8_t*>(IpOf(m) + 1); }
  static Ip6Addr Src(rte_mbuf* m) { return Addr(&IpOf(m)->src_addr); }
  static Ip6Addr Dst(rte_mbuf* m) { return Addr(&IpOf(m)->dst_addr); }
  static Ip6Addr Target(rte_mbuf* m) { return Addr(IcmpOf(m) + 8); }
  static Ip6Addr Addr(const void* p) {
    Ip6Addr a;
    memcpy(a.bytes.data(), p, 16);
    return a;
  }
  // The frame is whole (payload length matches) and its ICMPv6 checksum right.
  static bool ChecksumOk(rte_mbuf* m) {
    uint32_t len = rte_be_to_cpu_16(IpOf(m)->payload_len);
    if (sizeof(rte_ether_hdr) + sizeof(rte_ipv6_hdr) + len != rte_pktmbuf_data_len(m)) {
      return false;
    }
    return Checksum(reinterpret_cast<const uint8_t*>(&IpOf(m)->src_addr),
                    reinterpret_cast<const uint8_t*>(&IpOf(m)->dst_addr), IcmpOf(m), len) == 0;
  }
  static bool SameMac(const rte_ether_addr& a, const rte_ether_addr& b) {
    return rte_is_same_ether_addr(&a, &b);
  }

  // A multicast NS from the router for `target`, from `src`, correctly built.
  void ExpectMulticastNs(rte_mbuf* m, const Ip6Addr& src, const Ip6Addr& target) {
    Ip6Addr group = SolicitedNode(target);
    rte_ether_addr mac = {{0x33, 0x33, 0xff, target.bytes[13], target.bytes[14], target.bytes[15]}};
    EXPECT_TRUE(SameMac(EthOf(m)->dst_addr, mac));
    ExpectNs(m, src, group, target);
  }
  void ExpectNs(rte_mbuf* m, const Ip6Addr& src, const Ip6Addr& dst, const Ip6Addr& target) {
    EXPECT_TRUE(SameMac(EthOf(m)->src_addr, kRouterMac));
    EXPECT_EQ(EthOf(m)->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV6));
    EXPECT_EQ(rte_be_to_cpu_32(IpOf(m)->vtc_flow) >> 28, 6u);
    EXPECT_EQ(IpOf(m)->hop_limits, 255);
    EXPECT_EQ(IpOf(m)->proto, 58);
    EXPECT_EQ(Src(m), src);
    EXPECT_EQ(Dst(m), dst);
    uint8_t* icmp = IcmpOf(m);
    EXPECT_EQ(icmp[0], kNs);
    EXPECT_EQ(icmp[1], 0);
    EXPECT_EQ(Target(m), target);
    ASSERT_EQ(rte_be_to_cpu_16(IpOf(m)->payload_len), 32);
    EXPECT_EQ(icmp[24], 1) << "source link-layer address option";
    EXPECT_EQ(icmp[25], 1);
    EXPECT_EQ(memcmp(icmp + 26, kRouterMac.addr_bytes, 6), 0);
    EXPECT_TRUE(ChecksumOk(m));
    EXPECT_EQ(Meta(m)->tx_vif, 0u);
  }
  void ExpectNa(rte_mbuf* m, const rte_ether_addr& eth_dst, const Ip6Addr& src, const Ip6Addr& dst,
                uint8_t flags) {
    EXPECT_TRUE(SameMac(EthOf(m)->dst_addr, eth_dst));
    EXPECT_TRUE(SameMac(EthOf(m)->src_addr, kRouterMac));
    EXPECT_EQ(EthOf(m)->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV6));
    EXPECT_EQ(rte_be_to_cpu_32(IpOf(m)->vtc_flow) >> 28, 6u);
    EXPECT_EQ(IpOf(m)->hop_limits, 255);
    EXPECT_EQ(IpOf(m)->proto, 58);
    EXPECT_EQ(Src(m), src);
    EXPECT_EQ(Dst(m), dst);
    uint8_t* icmp = IcmpOf(m);
    EXPECT_EQ(icmp[0], kNa);
    EXPECT_EQ(icmp[1], 0);
    EXPECT_EQ(icmp[4], flags);
    EXPECT_EQ(Target(m), src) << "we advertise the address we answer from";
    ASSERT_EQ(rte_be_to_cpu_16(IpOf(m)->payload_len), 32);
    EXPECT_EQ(icmp[24], 2) << "target link-layer address option";
    EXPECT_EQ(icmp[25], 1);
    EXPECT_EQ(memcmp(icmp + 26, kRouterMac.addr_bytes, 6), 0);
    EXPECT_TRUE(ChecksumOk(m));
    EXPECT_EQ(Meta(m)->tx_vif, 0u);
    EXPECT_EQ(dataplane::PacketVif(m), 0u);
  }

  uint64_t Drops(DropReason r) { return counters_.drops[size_t(r)]; }
  uint64_t AllDrops() {
    uint64_t n = 0;
    for (uint64_t d : counters_.drops) n += d;
    return n;
  }
  uint64_t L2(const Neighbour6* n) { return fib_->nexthop(n->nh).l2.load(); }
  bool Resolved(const Neighbour6* n) { return L2(n) & dataplane::kL2Resolved; }
  std::optional<uint32_t> Route(const Ip6Addr& ip) {
    uint32_t nh;
    if (!fib6_->Lookup(ip.bytes.data(), &nh)) return std::nullopt;
    return nh;
  }
  // Resolves kHostIp through a packet and a solicited advertisement: REACHABLE.
  const Neighbour6* Reachable() {
    AddConnected();
    table_->OnResolve(Unresolved(kHostIp));
    table_->OnNdFrame(Na(kHostIp, kS | kO));
    const Neighbour6* n = table_->Get(kHostIp, 0);
    EXPECT_NE(n, nullptr);
    return n;
  }

  std::unique_ptr<dataplane::Fib> fib_;
  std::unique_ptr<dataplane::Fib6> fib6_;
  std::unique_ptr<dataplane::NbufPool> pool_;
  std::unique_ptr<NexthopTable> nexthops_;
  std::unique_ptr<Ndp6Table> table_;
  std::vector<config::Ip6Prefix> addresses_;
  dataplane::CoreCounters counters_;
  std::vector<rte_mbuf*> sent_;
  std::vector<rte_mbuf*> released_;
  bool used_ = false;
  int syncs_ = 0;
  uint32_t connected_nh_ = 0;
};

TEST_F(NdpTest, SolicitationForOurGlobalAddressIsAnsweredAndSolicitorLearnedStale) {
  table_->OnNdFrame(Ns(kHostIp, kRouterIp));
  ASSERT_EQ(sent_.size(), 1u);
  ExpectNa(sent_[0], kHostMac, kRouterIp, kHostIp, kR | kS | kO);
  EXPECT_EQ(AllDrops(), 0u);

  const Neighbour6* n = table_->Get(kHostIp, 0);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kStale) << "§7.2.3: learned from a solicitation, unconfirmed";
  EXPECT_TRUE(SameMac(n->mac, kHostMac));
  EXPECT_EQ(L2(n), dataplane::kL2Resolved | dataplane::PackMac(kHostMac));
  const dataplane::Nexthop& nh = fib_->nexthop(n->nh);
  EXPECT_TRUE(nh.v6);
  EXPECT_EQ(nh.kind, dataplane::NhKind::kNeighbour);
  EXPECT_EQ(memcmp(nh.ip6, kHostIp.bytes.data(), 16), 0);
  EXPECT_EQ(Route(kHostIp), n->nh) << "a /128 host route points at the neighbour";
}

TEST_F(NdpTest, SolicitationForOurLinkLocalIsAnsweredFromIt) {
  table_->OnNdFrame(Ns(kHostLl, kRouterLl));
  ASSERT_EQ(sent_.size(), 1u);
  ExpectNa(sent_[0], kHostMac, kRouterLl, kHostLl, kR | kS | kO);
  const Neighbour6* n = table_->Get(kHostLl, 0);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kStale);
  EXPECT_FALSE(n->host_route) << "a link-local neighbour gets no route";
  EXPECT_EQ(fib6_->size(), 0u);
}

TEST_F(NdpTest, DuplicateAddressDetectionIsAnsweredToAllNodesUnsolicited) {
  // A node testing our address as its tentative one: from ::, no link-layer option.
  table_->OnNdFrame(Frame(kUnspecified, SolicitedNode(kRouterIp), NdMessage(kNs, 0, kRouterIp)));
  ASSERT_EQ(sent_.size(), 1u);
  const rte_ether_addr all_nodes_mac = {{0x33, 0x33, 0, 0, 0, 1}};
  ExpectNa(sent_[0], all_nodes_mac, kRouterIp, kAllNodes, kR | kO);
  EXPECT_EQ(table_->size(), 0u);
  EXPECT_EQ(AllDrops(), 0u);
}

TEST_F(NdpTest, UnicastSolicitationWithoutLinkLayerOptionIsAnsweredToTheFramesSource) {
  // A host's reachability probe: unicast, no option (§7.2.2 allows it).
  rte_mbuf* m = Frame(kHostIp, kRouterIp, NdMessage(kNs, 0, kRouterIp));
  EthOf(m)->src_addr = kOtherMac;
  table_->OnNdFrame(m);
  ASSERT_EQ(sent_.size(), 1u);
  ExpectNa(sent_[0], kOtherMac, kRouterIp, kHostIp, kR | kS | kO);
  EXPECT_EQ(table_->size(), 0u) << "nothing to learn without the option";
}

TEST_F(NdpTest, SolicitationNotForUsIsDroppedAndTeachesNothing) {
  table_->OnNdFrame(Ns(kHostIp, A("2001:db8:1::77")));
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(table_->size(), 0u) << "§7.2.3: silently discarded";

  // A known neighbour's solicitation for someone else does not refresh it either.
  table_->OnNdFrame(Ns(kHostIp, kRouterIp, kHostMac));
  table_->OnNdFrame(Ns(kHostIp, A("2001:db8:1::77"), kOtherMac));
  const Neighbour6* n = table_->Get(kHostIp, 0);
  ASSERT_NE(n, nullptr);
  EXPECT_TRUE(SameMac(n->mac, kHostMac));
  EXPECT_EQ(sent_.size(), 1u);
  EXPECT_EQ(AllDrops(), 0u);
}

TEST_F(NdpTest, SolicitorOutsideOurSubnetsIsAnsweredButNotLearned) {
  const Ip6Addr stranger = A("2001:db8:9::5");
  table_->OnNdFrame(Ns(stranger, kRouterIp));
  ASSERT_EQ(sent_.size(), 1u);
  ExpectNa(sent_[0], kHostMac, kRouterIp, stranger, kR | kS | kO);
  EXPECT_EQ(table_->size(), 0u);
}

TEST_F(NdpTest, SolicitationWithNewAddressMakesAKnownEntryStale) {
  const Neighbour6* n = Reachable();
  ASSERT_EQ(n->state, NeighState::kReachable);
  table_->OnNdFrame(Ns(kHostIp, kRouterIp, kHostMac));
  EXPECT_EQ(n->state, NeighState::kReachable) << "same address: state unchanged";
  table_->OnNdFrame(Ns(kHostIp, kRouterIp, kOtherMac));
  EXPECT_EQ(n->state, NeighState::kStale);
  EXPECT_EQ(L2(n), dataplane::kL2Resolved | dataplane::PackMac(kOtherMac));
}

TEST_F(NdpTest, SolicitationFromAnIncompleteEntryReleasesItsPackets) {
  AddConnected();
  table_->OnResolve(Unresolved(kHostIp));
  table_->OnNdFrame(Ns(kHostIp, kRouterIp));
  const Neighbour6* n = table_->Get(kHostIp, 0);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kStale);
  ASSERT_EQ(released_.size(), 1u);
  EXPECT_EQ(Meta(released_[0])->nexthop, n->nh);
}

TEST_F(NdpTest, InvalidFramesAreCountedOnceEach) {
  struct Case {
    const char* what;
    std::function<rte_mbuf*()> make;
  };
  auto ns = [this](std::vector<uint8_t> icmp, const Ip6Addr& src = kHostIp, uint8_t hop = 255) {
    return Frame(src, SolicitedNode(kRouterIp), std::move(icmp), hop);
  };
  std::vector<Case> cases = {
      {"hop limit 254",
       [&] { return ns(NdMessage(kNs, 0, kRouterIp, Sll(kHostMac)), kHostIp, 254); }},
      {"bad checksum",
       [&] {
         rte_mbuf* m = Ns(kHostIp, kRouterIp);
         IcmpOf(m)[3] ^= 0x01;
         return m;
       }},
      {"shorter than 24 bytes",
       [&] {
         std::vector<uint8_t> icmp = NdMessage(kNs, 0, kRouterIp);
         icmp.resize(20);
         return ns(icmp);
       }},
      {"option of length 0",
       [&] {
         std::vector<uint8_t> opt = {1, 0, 2, 0, 0, 0, 0, 0xaa};
         return ns(NdMessage(kNs, 0, kRouterIp, opt));
       }},
      {"option past the end",
       [&] {
         std::vector<uint8_t> opt = {1, 2, 2, 0, 0, 0, 0, 0xaa};
         return ns(NdMessage(kNs, 0, kRouterIp, opt));
       }},
      {"from :: with a source link-layer option",
       [&] { return ns(NdMessage(kNs, 0, kRouterIp, Sll(kHostMac)), kUnspecified); }},
      {"from :: to a unicast address",
       [&] { return Frame(kUnspecified, kRouterIp, NdMessage(kNs, 0, kRouterIp)); }},
      {"code 1",
       [&] {
         std::vector<uint8_t> icmp = NdMessage(kNs, 0, kRouterIp, Sll(kHostMac));
         icmp[1] = 1;
         return ns(icmp);
       }},
      {"multicast target", [&] { return ns(NdMessage(kNs, 0, A("ff02::1"), Sll(kHostMac))); }},
      {"advertisement to a group with S",
       [&] { return Na(kHostIp, kS | kO, kHostMac, kAllNodes); }},
      {"advertisement with hop limit 64",
       [&] { return Frame(kHostIp, kRouterIp, NdMessage(kNa, kS, kHostIp, Tll(kHostMac)), 64); }},
      {"extension header",
       [&] {
         rte_mbuf* m = Ns(kHostIp, kRouterIp);
         IpOf(m)->proto = 0;
         return m;
       }},
  };
  for (const Case& c : cases) {
    uint64_t before = Drops(DropReason::kNdInvalid);
    table_->OnNdFrame(c.make());
    EXPECT_EQ(Drops(DropReason::kNdInvalid), before + 1) << c.what;
  }
  EXPECT_EQ(AllDrops(), cases.size()) << "nothing else counted";
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(table_->size(), 0u);
}

TEST_F(NdpTest, RouterDiscoveryAndRedirectsAreIgnored) {
  for (uint8_t type :
       {dataplane::kNdRouterSolicit, dataplane::kNdRouterAdvert, dataplane::kNdRedirect}) {
    std::vector<uint8_t> icmp(16, 0);
    icmp[0] = type;
    table_->OnNdFrame(Frame(kHostLl, A("ff02::2"), icmp));
  }
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(AllDrops(), 0u);
  EXPECT_EQ(table_->size(), 0u);
}

// RFC 4861 §6.2.6: what a valid router solicitation (checked in router_adverts.cc) teaches.
TEST_F(NdpTest, RouterSolicitorIsLearnedStaleWhenOnTheLink) {
  table_->LearnRouterSolicitor(kHostLl, 0, kHostMac);
  const Neighbour6* n = table_->Get(kHostLl, 0);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kStale);
  EXPECT_TRUE(SameMac(n->mac, kHostMac));
  table_->LearnRouterSolicitor(kHostIp, 0, kHostMac);
  EXPECT_NE(table_->Get(kHostIp, 0), nullptr) << "on a subnet of the interface";
  table_->LearnRouterSolicitor(A("2001:db8:9::2"), 0, kHostMac);
  EXPECT_EQ(table_->Get(A("2001:db8:9::2"), 0), nullptr) << "off every subnet";
  table_->LearnRouterSolicitor(kRouterLl, 0, kHostMac);
  EXPECT_EQ(table_->Get(kRouterLl, 0), nullptr) << "our own address";
  EXPECT_EQ(table_->size(), 2u);
}

TEST_F(NdpTest, ResolutionSendsOneMulticastSolicitationAndHolds) {
  AddConnected();
  table_->OnResolve(Unresolved(kHostIp));
  table_->OnResolve(Unresolved(kHostIp));
  ASSERT_EQ(sent_.size(), 1u) << "one solicitation, not one per packet";
  ExpectMulticastNs(sent_[0], kRouterIp, kHostIp);
  const Neighbour6* n = table_->Get(kHostIp, 0);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kIncomplete);
  EXPECT_EQ(n->held.size(), 2u);
  EXPECT_TRUE(released_.empty());
  EXPECT_FALSE(Resolved(n));
}

TEST_F(NdpTest, SolicitedAdvertisementMakesItReachableAndReleasesHeld) {
  AddConnected();
  table_->OnResolve(Unresolved(kHostIp));
  table_->OnResolve(Unresolved(kHostIp));
  table_->OnNdFrame(Na(kHostIp, kS | kO | kR));
  const Neighbour6* n = table_->Get(kHostIp, 0);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kReachable);
  EXPECT_TRUE(n->router);
  EXPECT_EQ(L2(n), dataplane::kL2Resolved | dataplane::PackMac(kHostMac));
  ASSERT_EQ(released_.size(), 2u);
  for (rte_mbuf* m : released_) EXPECT_EQ(Meta(m)->nexthop, n->nh);
  EXPECT_EQ(Route(kHostIp), n->nh) << "the /128 is more specific than the connected /64";
  EXPECT_EQ(Route(A("2001:db8:1::3")), connected_nh_);
  EXPECT_EQ(sent_.size(), 1u) << "an advertisement is not answered";
}

TEST_F(NdpTest, UnsolicitedAdvertisementCompletesAsStale) {
  AddConnected();
  table_->OnResolve(Unresolved(kHostIp));
  table_->OnNdFrame(Na(kHostIp, kO, kHostMac, kAllNodes));
  const Neighbour6* n = table_->Get(kHostIp, 0);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kStale);
  EXPECT_EQ(released_.size(), 1u);
}

TEST_F(NdpTest, AdvertisementWithoutLinkLayerAddressLeavesIncompleteAlone) {
  AddConnected();
  table_->OnResolve(Unresolved(kHostIp));
  table_->OnNdFrame(Frame(kHostIp, kRouterIp, NdMessage(kNa, kS | kO, kHostIp)));
  EXPECT_EQ(table_->Get(kHostIp, 0)->state, NeighState::kIncomplete);
  EXPECT_TRUE(released_.empty());
}

TEST_F(NdpTest, AdvertisementForAnUnknownAddressIsIgnored) {
  table_->OnNdFrame(Na(kHostIp, kO, kHostMac, kAllNodes));
  table_->OnNdFrame(Na(kHostIp, kS | kO));
  EXPECT_EQ(table_->size(), 0u);
  EXPECT_EQ(AllDrops(), 0u);
}

TEST_F(NdpTest, AdvertisementFlagsFollowSection725) {
  const Neighbour6* n = Reachable();
  ASSERT_EQ(n->state, NeighState::kReachable);
  // (I) No override, another address: a reachable entry becomes stale, the address stays.
  table_->OnNdFrame(Na(kHostIp, kS, kOtherMac));
  EXPECT_EQ(n->state, NeighState::kStale);
  EXPECT_TRUE(SameMac(n->mac, kHostMac));
  EXPECT_EQ(L2(n), dataplane::kL2Resolved | dataplane::PackMac(kHostMac));
  // ... and a stale one ignores it.
  table_->OnNdFrame(Na(kHostIp, kS, kOtherMac));
  EXPECT_EQ(n->state, NeighState::kStale);
  // (II) Solicited with the same address: reachable.
  table_->OnNdFrame(Na(kHostIp, kS, kHostMac));
  EXPECT_EQ(n->state, NeighState::kReachable);
  // (II) Override, unsolicited, another address: the new address, stale.
  table_->OnNdFrame(Na(kHostIp, kO, kOtherMac, kAllNodes));
  EXPECT_EQ(n->state, NeighState::kStale);
  EXPECT_EQ(L2(n), dataplane::kL2Resolved | dataplane::PackMac(kOtherMac));
  // (II) Unsolicited, same address: nothing changes.
  table_->OnNdFrame(Na(kHostIp, kO, kOtherMac, kAllNodes));
  EXPECT_EQ(n->state, NeighState::kStale);
}

TEST_F(NdpTest, UnansweredResolutionFailsAfterRetriesAndDropsHeld) {
  AddConnected();
  table_->OnResolve(Unresolved(kHostIp));
  table_->OnResolve(Unresolved(kHostIp));
  uint64_t t = NowMs();
  table_->OnTimer(t + 500);
  EXPECT_EQ(sent_.size(), 1u) << "not before retry_ms";
  for (int i = 1; i <= 3; ++i) table_->OnTimer(t + i * 1000 + 1);
  ASSERT_EQ(sent_.size(), 3u) << "retries solicitations in all";
  for (rte_mbuf* m : sent_) ExpectMulticastNs(m, kRouterIp, kHostIp);
  EXPECT_EQ(Drops(DropReason::kNdResolutionFailed), 2u);
  EXPECT_EQ(table_->Get(kHostIp, 0), nullptr) << "an unreferenced failed entry is removed";
  EXPECT_EQ(Route(kHostIp), connected_nh_) << "its host route went with it";
  EXPECT_EQ(nexthops_->in_use(), 1u) << "only the connected next hop remains";
  EXPECT_GE(syncs_, 1) << "the next hop was freed after a grace period";
}

TEST_F(NdpTest, HoldQueueOverflowDropsTheOldest) {
  AddConnected();
  std::vector<rte_mbuf*> in;
  for (int i = 0; i < 5; ++i) {
    in.push_back(Unresolved(kHostIp));
    table_->OnResolve(in.back());
  }
  EXPECT_EQ(Drops(DropReason::kNdHoldOverflow), 2u);
  table_->OnNdFrame(Na(kHostIp, kS | kO));
  ASSERT_EQ(released_.size(), 3u);
  EXPECT_EQ(released_[0], in[2]);
  EXPECT_EQ(released_[2], in[4]);
}

TEST_F(NdpTest, ResolvedNeighbourNextHopIsSentStraightOn) {
  const Neighbour6* n = Reachable();
  size_t released = released_.size();
  rte_mbuf* m = Unresolved(kHostIp);
  Meta(m)->nexthop = n->nh;  // a packet punted just before the advertisement came
  table_->OnResolve(m);
  ASSERT_EQ(released_.size(), released + 1);
  EXPECT_EQ(released_.back(), m);
  EXPECT_EQ(sent_.size(), 1u) << "no solicitation for a resolved neighbour";
}

TEST_F(NdpTest, ReachableStaleDelayProbeFailedTimings) {
  const Neighbour6* n = Reachable();
  size_t sent = sent_.size();
  uint64_t t = NowMs();
  table_->OnTimer(t + 29000);
  EXPECT_EQ(n->state, NeighState::kReachable);
  table_->OnTimer(t + 30001);
  EXPECT_EQ(n->state, NeighState::kStale);
  table_->OnTimer(t + 30050);
  EXPECT_EQ(n->state, NeighState::kStale) << "unused: stays stale";
  used_ = true;  // a worker forwarded through it
  table_->OnTimer(t + 30100);
  used_ = false;
  EXPECT_EQ(n->state, NeighState::kDelay);
  EXPECT_EQ(sent_.size(), sent) << "§7.3.3: no probe before DELAY_FIRST_PROBE_TIME";
  table_->OnTimer(t + 35000);
  EXPECT_EQ(n->state, NeighState::kDelay);
  table_->OnTimer(t + 35100);
  EXPECT_EQ(n->state, NeighState::kProbe);
  ASSERT_EQ(sent_.size(), sent + 1);
  EXPECT_TRUE(SameMac(EthOf(sent_.back())->dst_addr, kHostMac)) << "probes are unicast";
  ExpectNs(sent_.back(), kRouterIp, kHostIp, kHostIp);
  EXPECT_TRUE(Resolved(n)) << "the old MAC keeps forwarding while probing";
  table_->OnTimer(t + 36000);
  EXPECT_EQ(sent_.size(), sent + 1) << "not before retry_ms";
  table_->OnTimer(t + 36100);
  table_->OnTimer(t + 37100);
  EXPECT_EQ(sent_.size(), sent + 3);
  EXPECT_NE(table_->Get(kHostIp, 0), nullptr);
  table_->OnTimer(t + 38100);
  EXPECT_EQ(sent_.size(), sent + 3);
  EXPECT_EQ(table_->Get(kHostIp, 0), nullptr) << "three unanswered probes: failed and removed";
  EXPECT_EQ(Route(kHostIp), connected_nh_);
}

TEST_F(NdpTest, ConfirmationDuringProbeMakesItReachable) {
  const Neighbour6* n = Reachable();
  uint64_t t = NowMs();
  table_->OnTimer(t + 30001);
  used_ = true;
  table_->OnTimer(t + 30100);
  used_ = false;
  table_->OnTimer(t + 35100);
  ASSERT_EQ(n->state, NeighState::kProbe);
  table_->OnNdFrame(Na(kHostIp, kS));
  EXPECT_EQ(n->state, NeighState::kReachable);
  size_t sent = sent_.size();
  table_->OnTimer(t + 40000);
  EXPECT_EQ(sent_.size(), sent) << "no more probes";
}

TEST_F(NdpTest, FailedGatewayIsKeptAndResolvedAgainByTraffic) {
  auto nh = table_->GatewayNexthop(kHostLl, 0);
  ASSERT_TRUE(nh.ok());
  EXPECT_EQ(fib_->nexthop(*nh).kind, dataplane::NhKind::kNeighbour);
  rte_mbuf* m = Unresolved(A("2001:db8:5::1"));  // routed via fe80::2
  Meta(m)->nexthop = *nh;
  table_->OnResolve(m);
  ASSERT_EQ(sent_.size(), 1u);
  ExpectMulticastNs(sent_[0], kRouterLl, kHostLl);
  uint64_t t = NowMs();
  for (int i = 1; i <= 3; ++i) table_->OnTimer(t + i * 1000 + 1);
  const Neighbour6* n = table_->Get(kHostLl, 0);
  ASSERT_NE(n, nullptr) << "a static route uses it";
  EXPECT_EQ(n->state, NeighState::kFailed);
  EXPECT_EQ(n->nh, *nh);
  rte_mbuf* again = Unresolved(A("2001:db8:5::1"));
  Meta(again)->nexthop = *nh;
  table_->OnResolve(again);
  EXPECT_EQ(n->state, NeighState::kIncomplete);
  EXPECT_EQ(sent_.size(), 4u);
}

TEST_F(NdpTest, StaticEntryIsPermanentAndNeverProbed) {
  ASSERT_TRUE(table_->AddStatic(kHostIp, 0, kOtherMac).ok());
  table_->OnNdFrame(Na(kHostIp, kS | kO, kHostMac));
  table_->OnNdFrame(Ns(kHostIp, kRouterIp, kHostMac));
  const Neighbour6* n = table_->Get(kHostIp, 0);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kPermanent);
  EXPECT_TRUE(SameMac(n->mac, kOtherMac));
  EXPECT_EQ(L2(n), dataplane::kL2Resolved | dataplane::PackMac(kOtherMac));
  size_t sent = sent_.size();
  used_ = true;
  uint64_t t = NowMs();
  for (uint64_t s = 0; s < 1000; s += 10) table_->OnTimer(t + s * 1000);
  EXPECT_EQ(sent_.size(), sent) << "never probed";
  EXPECT_EQ(n->state, NeighState::kPermanent);
  EXPECT_EQ(Route(kHostIp), n->nh);

  table_->RemoveStatic(kHostIp, 0);
  EXPECT_EQ(table_->Get(kHostIp, 0), nullptr);
  EXPECT_FALSE(Route(kHostIp).has_value());
}

TEST_F(NdpTest, GatewayReferencesKeepAnEntryFromCollection) {
  table_->OnNdFrame(Ns(kHostLl, kRouterLl));
  auto nh = table_->GatewayNexthop(kHostLl, 0);
  ASSERT_TRUE(nh.ok());
  EXPECT_EQ(*nh, table_->Get(kHostLl, 0)->nh) << "the learned entry's next hop";
  uint64_t t = NowMs();
  table_->OnTimer(t + 1000000);
  ASSERT_NE(table_->Get(kHostLl, 0), nullptr);
  EXPECT_EQ(table_->Get(kHostLl, 0)->state, NeighState::kStale);
  table_->ReleaseGateway(kHostLl, 0);
  t = NowMs();
  table_->OnTimer(t + 60000);
  EXPECT_NE(table_->Get(kHostLl, 0), nullptr);
  table_->OnTimer(t + 121000);
  EXPECT_EQ(table_->Get(kHostLl, 0), nullptr);
}

TEST_F(NdpTest, StaleUnusedEntryIsCollected) {
  table_->OnNdFrame(Ns(kHostIp, kRouterIp));
  uint64_t t = NowMs();
  table_->OnTimer(t + 60000);
  ASSERT_NE(table_->Get(kHostIp, 0), nullptr);
  table_->OnTimer(t + 121000);
  EXPECT_EQ(table_->Get(kHostIp, 0), nullptr);
  EXPECT_FALSE(Route(kHostIp).has_value());
  EXPECT_EQ(nexthops_->in_use(), 0u);
}

TEST_F(NdpTest, AddressChangeRemovesOffSubnetEntriesButNotLinkLocalOnes) {
  table_->OnNdFrame(Ns(kHostIp, kRouterIp));
  table_->OnNdFrame(Ns(kHostLl, kRouterLl));
  ASSERT_EQ(table_->size(), 2u);
  addresses_ = {{A("2001:db8:7::1"), 64}};
  EXPECT_EQ(table_->RemoveOffSubnet(), 1u);
  EXPECT_EQ(table_->Get(kHostIp, 0), nullptr);
  EXPECT_NE(table_->Get(kHostLl, 0), nullptr);
  EXPECT_FALSE(Route(kHostIp).has_value());
}

TEST_F(NdpTest, EchoRequestToOurLinkLocalIsAnsweredThroughTheNeighbour) {
  table_->OnNdFrame(Ns(kHostLl, kRouterLl));  // the host is known
  table_->OnNdFrame(Echo(kHostLl, kRouterLl));
  const Neighbour6* n = table_->Get(kHostLl, 0);
  ASSERT_NE(n, nullptr);
  ASSERT_EQ(released_.size(), 1u);
  rte_mbuf* reply = released_[0];
  EXPECT_EQ(Meta(reply)->nexthop, n->nh);
  EXPECT_EQ(EthOf(reply)->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV6));
  EXPECT_EQ(Src(reply), kRouterLl);
  EXPECT_EQ(Dst(reply), kHostLl);
  EXPECT_EQ(IcmpOf(reply)[0], dataplane::kIcmp6EchoReply);
  EXPECT_EQ(IcmpOf(reply)[4], 0x12) << "identifier kept";
  EXPECT_EQ(memcmp(IcmpOf(reply) + 8, "ping", 4), 0) << "data kept";
  EXPECT_TRUE(ChecksumOk(reply));
  EXPECT_EQ(AllDrops(), 0u);
}

TEST_F(NdpTest, EchoRequestFromAnUnknownNeighbourWaitsForItsResolution) {
  table_->OnNdFrame(Echo(kHostLl, kRouterLl));
  ASSERT_EQ(sent_.size(), 1u);
  ExpectMulticastNs(sent_[0], kRouterLl, kHostLl);
  const Neighbour6* n = table_->Get(kHostLl, 0);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kIncomplete);
  EXPECT_TRUE(released_.empty());
  table_->OnNdFrame(Na(kHostLl, kS | kO, kHostMac, kRouterLl));
  ASSERT_EQ(released_.size(), 1u);
  EXPECT_EQ(Dst(released_[0]), kHostLl);
  EXPECT_TRUE(ChecksumOk(released_[0]));
}

TEST_F(NdpTest, IcmpToALinkLocalAddressNotOursIsDropped) {
  table_->OnNdFrame(Echo(kHostLl, A("fe80::99")));
  EXPECT_EQ(Drops(DropReason::kIp6LinkLocal), 1u);
  EXPECT_TRUE(sent_.empty());
  EXPECT_TRUE(released_.empty());
  EXPECT_EQ(table_->size(), 0u);
}

}  // namespace
}  // namespace vr::control
