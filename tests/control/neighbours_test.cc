// ARP on the control lcore with real frames in real mbufs: replies, learning, resolution with
// hold queues, retries, aging through stale/probe/failed, and static entries that never move.
#include "control/neighbours.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/support/packets.h"

namespace vr::control {
namespace {

using dataplane::DropReason;
using dataplane::Event;
using dataplane::Meta;
using vr::testing::Ip;

const rte_ether_addr kRouterMac = {{0x02, 0, 0, 0, 0, 0x01}};
const rte_ether_addr kHostMac = {{0x02, 0, 0, 0, 0, 0xaa}};
const uint32_t kRouterIp = Ip(198, 18, 1, 1);
const uint32_t kHostIp = Ip(198, 18, 1, 2);

class NeighbourTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fib = dataplane::Fib::Create(256, nullptr, SOCKET_ID_ANY);
    ASSERT_TRUE(fib.ok());
    fib_ = std::move(*fib);
    auto pool = dataplane::NbufPool::Create(1023, SOCKET_ID_ANY);
    ASSERT_TRUE(pool.ok());
    pool_ = std::move(*pool);
    nexthops_ = std::make_unique<NexthopTable>(fib_.get());
    addresses_ = {{kRouterIp, 24}};
    config::ArpConfig arp;
    arp.hold_packets = 3;
    arp.retries = 3;
    arp.retry_ms = 1000;
    arp.reachable_seconds = 30;
    arp.gc_seconds = 120;
    NeighbourEnv env{
        .fib = fib_.get(),
        .pool = pool_.get(),
        .nexthops = nexthops_.get(),
        .counters = &counters_,
        .vif_addresses = [this](uint32_t) { return addresses_; },
        .vif_name = [](uint32_t) { return std::string("a"); },
        .vif_mac = [](uint32_t) { return kRouterMac; },
        .transmit = [this](rte_mbuf* m) { sent_.push_back(m); },
        .output = [this](rte_mbuf* m) { released_.push_back(m); },
        .take_used = [this](uint32_t) { return used_; },
        .synchronize = [] {},
        .arp = arp,
    };
    table_ = std::make_unique<NeighbourTable>(std::move(env));
  }
  void TearDown() override {
    for (rte_mbuf* m : sent_) rte_pktmbuf_free(m);
    for (rte_mbuf* m : released_) rte_pktmbuf_free(m);
    table_.reset();
    EXPECT_EQ(pool_->InUse(), 0u) << "nbufs leaked";
  }

  rte_mbuf* Arp(uint16_t op, rte_ether_addr sha, uint32_t sip, uint32_t tip) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_->mempool());
    auto* eth = reinterpret_cast<rte_ether_hdr*>(
        rte_pktmbuf_append(m, sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)));
    memset(&eth->dst_addr, 0xff, 6);
    eth->src_addr = sha;
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
    auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
    arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
    arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    arp->arp_hlen = 6;
    arp->arp_plen = 4;
    arp->arp_opcode = rte_cpu_to_be_16(op);
    arp->arp_data.arp_sha = sha;
    arp->arp_data.arp_sip = rte_cpu_to_be_32(sip);
    memset(&arp->arp_data.arp_tha, 0, 6);
    arp->arp_data.arp_tip = rte_cpu_to_be_32(tip);
    m->port = 0;
    dataplane::SetPacketVif(m, 0);
    return m;
  }
  // A routed packet the worker could not send: its next hop (a connected-subnet one) has no MAC.
  rte_mbuf* Unresolved(uint32_t dst) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_->mempool());
    rte_pktmbuf_append(m, 64);
    Meta(m)->nexthop = connected_nh_;
    Meta(m)->dst_ip = rte_cpu_to_be_32(dst);
    return m;
  }
  rte_arp_hdr* ArpOf(rte_mbuf* m) {
    return rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, sizeof(rte_ether_hdr));
  }
  const Neighbour* Get(uint32_t ip) {
    for (const Neighbour* n : table_->List()) {
      if (n->ip == ip) return n;
    }
    return nullptr;
  }
  uint64_t Drops(DropReason r) { return counters_.drops[size_t(r)]; }
  uint64_t Events(Event e) { return counters_.events[size_t(e)]; }
  void AddConnected() {
    auto nh = nexthops_->Alloc(dataplane::NhKind::kConnected, 0, 0);
    ASSERT_TRUE(nh.ok());
    connected_nh_ = *nh;
  }

  std::unique_ptr<dataplane::Fib> fib_;
  std::unique_ptr<dataplane::NbufPool> pool_;
  std::unique_ptr<NexthopTable> nexthops_;
  std::unique_ptr<NeighbourTable> table_;
  std::vector<config::Ip4Prefix> addresses_;
  dataplane::CoreCounters counters_;
  std::vector<rte_mbuf*> sent_;
  std::vector<rte_mbuf*> released_;
  bool used_ = false;
  uint32_t connected_nh_ = 0;
};

TEST_F(NeighbourTest, RequestForUsIsAnsweredInPlaceAndSenderLearnedStale) {
  table_->OnArpFrame(Arp(RTE_ARP_OP_REQUEST, kHostMac, kHostIp, kRouterIp));
  ASSERT_EQ(sent_.size(), 1u);
  rte_arp_hdr* reply = ArpOf(sent_[0]);
  EXPECT_EQ(rte_be_to_cpu_16(reply->arp_opcode), RTE_ARP_OP_REPLY);
  EXPECT_TRUE(rte_is_same_ether_addr(&reply->arp_data.arp_sha, &kRouterMac));
  EXPECT_EQ(rte_be_to_cpu_32(reply->arp_data.arp_sip), kRouterIp);
  EXPECT_TRUE(rte_is_same_ether_addr(&reply->arp_data.arp_tha, &kHostMac));
  EXPECT_EQ(rte_be_to_cpu_32(reply->arp_data.arp_tip), kHostIp);
  auto* eth = rte_pktmbuf_mtod(sent_[0], rte_ether_hdr*);
  EXPECT_TRUE(rte_is_same_ether_addr(&eth->dst_addr, &kHostMac));
  EXPECT_EQ(Meta(sent_[0])->tx_vif, 0u);
  EXPECT_EQ(Events(Event::kArpRepliesSent), 1u);

  const Neighbour* n = Get(kHostIp);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kStale) << "learned from a request, not confirmed";
  EXPECT_EQ(fib_->nexthop(n->nh).l2.load(), dataplane::kL2Resolved | dataplane::PackMac(kHostMac));
  uint32_t nh = 0;
  ASSERT_TRUE(fib_->Lookup(kHostIp, &nh));
  EXPECT_EQ(nh, n->nh) << "a /32 host route points at the neighbour";
}

TEST_F(NeighbourTest, RequestForSomeoneElseIsDroppedAndNotLearned) {
  table_->OnArpFrame(Arp(RTE_ARP_OP_REQUEST, kHostMac, kHostIp, Ip(198, 18, 1, 77)));
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(Drops(DropReason::kArpNotForUs), 1u);
  EXPECT_EQ(table_->size(), 0u);
}

TEST_F(NeighbourTest, MalformedArpIsCounted) {
  rte_mbuf* m = Arp(RTE_ARP_OP_REQUEST, kHostMac, kHostIp, kRouterIp);
  ArpOf(m)->arp_hlen = 8;
  table_->OnArpFrame(m);
  rte_mbuf* short_frame = Arp(RTE_ARP_OP_REQUEST, kHostMac, kHostIp, kRouterIp);
  rte_pktmbuf_trim(short_frame, 10);
  table_->OnArpFrame(short_frame);
  EXPECT_EQ(Drops(DropReason::kArpInvalid), 2u);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(table_->size(), 0u);
}

TEST_F(NeighbourTest, ResolutionHoldsThenReleasesOnReply) {
  AddConnected();
  table_->OnResolve(Unresolved(kHostIp));
  table_->OnResolve(Unresolved(kHostIp));
  ASSERT_EQ(sent_.size(), 1u) << "one broadcast request, not one per packet";
  rte_arp_hdr* req = ArpOf(sent_[0]);
  EXPECT_EQ(rte_be_to_cpu_16(req->arp_opcode), RTE_ARP_OP_REQUEST);
  EXPECT_EQ(rte_be_to_cpu_32(req->arp_data.arp_tip), kHostIp);
  EXPECT_EQ(rte_be_to_cpu_32(req->arp_data.arp_sip), kRouterIp);
  auto* eth = rte_pktmbuf_mtod(sent_[0], rte_ether_hdr*);
  EXPECT_TRUE(rte_is_broadcast_ether_addr(&eth->dst_addr));
  const Neighbour* n = Get(kHostIp);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kIncomplete);
  EXPECT_EQ(n->held.size(), 2u);
  EXPECT_TRUE(released_.empty());

  table_->OnArpFrame(Arp(RTE_ARP_OP_REPLY, kHostMac, kHostIp, kRouterIp));
  EXPECT_EQ(n->state, NeighState::kReachable);
  ASSERT_EQ(released_.size(), 2u);
  for (rte_mbuf* m : released_) EXPECT_EQ(Meta(m)->nexthop, n->nh);
  EXPECT_EQ(Events(Event::kArpHeld), 2u);
  EXPECT_EQ(Events(Event::kArpReleased), 2u);
  EXPECT_EQ(Events(Event::kArpRepliesReceived), 1u);
}

TEST_F(NeighbourTest, HoldQueueOverflowDropsTheOldest) {
  AddConnected();
  std::vector<rte_mbuf*> in;
  for (int i = 0; i < 5; ++i) {
    in.push_back(Unresolved(kHostIp));
    table_->OnResolve(in.back());
  }
  EXPECT_EQ(Drops(DropReason::kArpHoldOverflow), 2u);
  table_->OnArpFrame(Arp(RTE_ARP_OP_REPLY, kHostMac, kHostIp, kRouterIp));
  ASSERT_EQ(released_.size(), 3u);
  EXPECT_EQ(released_[0], in[2]);
  EXPECT_EQ(released_[2], in[4]);
}

TEST_F(NeighbourTest, UnansweredResolutionFailsAfterRetriesAndDropsHeld) {
  AddConnected();
  table_->OnResolve(Unresolved(kHostIp));
  uint64_t t = NowMs();
  for (int i = 1; i <= 3; ++i) table_->OnTimer(t + i * 1000 + 1);
  EXPECT_EQ(sent_.size(), 3u) << "retries requests in all";
  EXPECT_EQ(Events(Event::kArpRequestsSent), 3u);
  EXPECT_EQ(Drops(DropReason::kArpResolutionFailed), 1u);
  EXPECT_EQ(Get(kHostIp), nullptr) << "an unreferenced failed entry is removed";
  uint32_t nh;
  EXPECT_FALSE(fib_->Lookup(kHostIp, &nh)) << "its host route went with it";
  EXPECT_EQ(nexthops_->in_use(), 1u) << "only the connected next hop remains";
}

TEST_F(NeighbourTest, ReachableAgesToStaleThenProbesWhenUsedThenFails) {
  AddConnected();
  table_->OnResolve(Unresolved(kHostIp));
  table_->OnArpFrame(Arp(RTE_ARP_OP_REPLY, kHostMac, kHostIp, kRouterIp));
  const Neighbour* n = Get(kHostIp);
  ASSERT_EQ(n->state, NeighState::kReachable);
  uint64_t t = NowMs();
  table_->OnTimer(t + 29000);
  EXPECT_EQ(n->state, NeighState::kReachable);
  table_->OnTimer(t + 30001);
  EXPECT_EQ(n->state, NeighState::kStale);
  size_t before = sent_.size();
  used_ = true;  // a worker forwarded through it
  table_->OnTimer(t + 30100);
  EXPECT_EQ(n->state, NeighState::kProbe);
  ASSERT_EQ(sent_.size(), before + 1);
  auto* eth = rte_pktmbuf_mtod(sent_.back(), rte_ether_hdr*);
  EXPECT_TRUE(rte_is_same_ether_addr(&eth->dst_addr, &kHostMac)) << "probes are unicast";
  EXPECT_NE(fib_->nexthop(n->nh).l2.load() & dataplane::kL2Resolved, 0u)
      << "the old MAC keeps forwarding while probing";
  table_->OnTimer(t + 31200);
  table_->OnTimer(t + 32300);
  table_->OnTimer(t + 33400);
  EXPECT_EQ(Get(kHostIp), nullptr) << "three unanswered probes: failed and removed";
}

TEST_F(NeighbourTest, StaleUnusedEntryIsCollected) {
  table_->OnArpFrame(Arp(RTE_ARP_OP_REQUEST, kHostMac, kHostIp, kRouterIp));
  uint64_t t = NowMs();
  table_->OnTimer(t + 60000);
  ASSERT_NE(Get(kHostIp), nullptr);
  table_->OnTimer(t + 121000);
  EXPECT_EQ(Get(kHostIp), nullptr);
}

TEST_F(NeighbourTest, StaticEntryIsPermanentAndIgnoresArp) {
  const rte_ether_addr fixed = {{0x02, 0, 0, 0, 0, 0xbb}};
  ASSERT_TRUE(table_->AddStatic(kHostIp, 0, fixed).ok());
  table_->OnArpFrame(Arp(RTE_ARP_OP_REPLY, kHostMac, kHostIp, kRouterIp));
  const Neighbour* n = Get(kHostIp);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->state, NeighState::kPermanent);
  EXPECT_TRUE(rte_is_same_ether_addr(&n->mac, &fixed));
  table_->OnTimer(NowMs() + 1000000);
  EXPECT_NE(Get(kHostIp), nullptr);
}

TEST_F(NeighbourTest, GatewayOfAStaticRouteIsNeverCollected) {
  auto nh = table_->GatewayNexthop(kHostIp, 0);
  ASSERT_TRUE(nh.ok());
  uint64_t t = NowMs();
  table_->OnTimer(t + 1000000);
  EXPECT_NE(Get(kHostIp), nullptr);
}

}  // namespace
}  // namespace vr::control
