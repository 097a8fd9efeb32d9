// ICMP built in place: errors carry the right type, code, MTU, addresses and quote, within the
// 576-byte limit, with valid checksums; no error about an error; echo requests become replies.
#include "dataplane/icmp4.h"

#include "dataplane/nbuf_pool.h"
#include "gtest/gtest.h"
#include "tests/support/packets.h"

namespace vr::dataplane {
namespace {

using vr::testing::Ip;
using vr::testing::Ip4Of;
using vr::testing::Ip4Spec;
using vr::testing::MakeIp4;

class Icmp4Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto p = NbufPool::Create(1023, SOCKET_ID_ANY);
    ASSERT_TRUE(p.ok()) << p.status();
    pool_ = p->release();
  }
  static void TearDownTestSuite() { delete pool_; }
  void TearDown() override { EXPECT_EQ(pool_->InUse(), 0u) << "a test leaked nbufs"; }

  static NbufPool* pool_;
};
NbufPool* Icmp4Test::pool_ = nullptr;

const uint32_t kRouter = Ip(198, 18, 1, 1);

TEST_F(Icmp4Test, TimeExceededQuotesTheWholeSmallPacket) {
  Ip4Spec spec;
  spec.ttl = 1;
  rte_mbuf* m = MakeIp4(pool_->mempool(), spec);
  ASSERT_NE(m, nullptr);
  uint8_t original[20 + 18];
  memcpy(original, Ip4Of(m), sizeof(original));

  ASSERT_TRUE(Icmp4BuildError(m, rte_cpu_to_be_32(kRouter), kIcmpTimeExceeded, 0, 0));
  rte_ipv4_hdr* ip = Ip4Of(m);
  EXPECT_EQ(rte_be_to_cpu_16(ip->total_length), 20 + 8 + sizeof(original));
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), 14 + 20 + 8 + sizeof(original));
  EXPECT_EQ(ip->next_proto_id, IPPROTO_ICMP);
  EXPECT_EQ(rte_be_to_cpu_32(ip->src_addr), kRouter);
  EXPECT_EQ(rte_be_to_cpu_32(ip->dst_addr), spec.src);
  EXPECT_EQ(ip->time_to_live, 64);
  EXPECT_EQ(rte_ipv4_cksum(ip), 0) << "checksum over a sealed header folds to zero";
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  EXPECT_EQ(icmp->icmp_type, kIcmpTimeExceeded);
  EXPECT_EQ(icmp->icmp_code, 0);
  EXPECT_EQ(rte_raw_cksum(icmp, 8 + sizeof(original)), 0xffff);
  EXPECT_EQ(memcmp(icmp + 1, original, sizeof(original)), 0);
  rte_pktmbuf_free(m);
}

TEST_F(Icmp4Test, FragNeededCarriesTheNextHopMtu) {
  Ip4Spec spec;
  spec.df = true;
  spec.payload = 1472;
  rte_mbuf* m = MakeIp4(pool_->mempool(), spec);
  ASSERT_TRUE(Icmp4BuildError(m, rte_cpu_to_be_32(kRouter), kIcmpDestUnreachable, 4, 1400));
  rte_ipv4_hdr* ip = Ip4Of(m);
  // RFC 1812 §4.3.2.3: the whole error fits in 576 bytes.
  EXPECT_EQ(rte_be_to_cpu_16(ip->total_length), 576);
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), 14u + 576u);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  EXPECT_EQ(icmp->icmp_type, kIcmpDestUnreachable);
  EXPECT_EQ(icmp->icmp_code, 4);
  EXPECT_EQ(icmp->icmp_ident, 0) << "RFC 1191: the unused half stays zero";
  EXPECT_EQ(rte_be_to_cpu_16(icmp->icmp_seq_nb), 1400) << "next-hop MTU";
  EXPECT_EQ(rte_raw_cksum(icmp, 576 - 20), 0xffff);
  auto* quoted = reinterpret_cast<rte_ipv4_hdr*>(icmp + 1);
  EXPECT_EQ(rte_be_to_cpu_16(quoted->total_length), 1492) << "the quote keeps its own length";
  rte_pktmbuf_free(m);
}

TEST_F(Icmp4Test, NoErrorAboutAnError) {
  Ip4Spec spec;
  spec.proto = IPPROTO_ICMP;
  spec.payload = 36;
  rte_mbuf* m = MakeIp4(pool_->mempool(), spec);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(Ip4Of(m) + 1);
  EXPECT_TRUE(Icmp4ErrorAllowed(Ip4Of(m))) << "an echo request may get an error";
  icmp->icmp_type = kIcmpTimeExceeded;
  EXPECT_FALSE(Icmp4ErrorAllowed(Ip4Of(m)));
  icmp->icmp_type = kIcmpDestUnreachable;
  EXPECT_FALSE(Icmp4ErrorAllowed(Ip4Of(m)));
  rte_pktmbuf_free(m);
}

TEST_F(Icmp4Test, NoErrorAboutLaterFragmentsOrMartianSources) {
  Ip4Spec spec;
  rte_mbuf* m = MakeIp4(pool_->mempool(), spec);
  Ip4Of(m)->fragment_offset = rte_cpu_to_be_16(100);
  EXPECT_FALSE(Icmp4ErrorAllowed(Ip4Of(m)));
  Ip4Of(m)->fragment_offset = RTE_BE16(RTE_IPV4_HDR_MF_FLAG);
  EXPECT_TRUE(Icmp4ErrorAllowed(Ip4Of(m))) << "the first fragment may get one";
  Ip4Of(m)->src_addr = rte_cpu_to_be_32(Ip(224, 0, 0, 1));
  EXPECT_FALSE(Icmp4ErrorAllowed(Ip4Of(m)));
  rte_pktmbuf_free(m);
}

TEST_F(Icmp4Test, EchoRequestBecomesReply) {
  Ip4Spec spec;
  spec.proto = IPPROTO_ICMP;
  spec.payload = 64;
  spec.dst = kRouter;
  rte_mbuf* m = MakeIp4(pool_->mempool(), spec);
  ASSERT_TRUE(Icmp4EchoReply(m));
  rte_ipv4_hdr* ip = Ip4Of(m);
  EXPECT_EQ(rte_be_to_cpu_32(ip->src_addr), kRouter);
  EXPECT_EQ(rte_be_to_cpu_32(ip->dst_addr), spec.src);
  EXPECT_EQ(rte_ipv4_cksum(ip), 0);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  EXPECT_EQ(icmp->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
  EXPECT_EQ(rte_be_to_cpu_16(icmp->icmp_ident), 77);
  EXPECT_EQ(rte_raw_cksum(icmp, 64), 0xffff);
  rte_pktmbuf_free(m);
}

TEST_F(Icmp4Test, EchoWithBadChecksumIsRefused) {
  Ip4Spec spec;
  spec.proto = IPPROTO_ICMP;
  spec.payload = 64;
  rte_mbuf* m = MakeIp4(pool_->mempool(), spec);
  reinterpret_cast<rte_icmp_hdr*>(Ip4Of(m) + 1)->icmp_cksum ^= 1;
  EXPECT_FALSE(Icmp4EchoReply(m));
  rte_pktmbuf_free(m);
}

}  // namespace
}  // namespace vr::dataplane
