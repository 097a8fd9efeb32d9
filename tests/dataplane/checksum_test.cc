// Incremental checksum update (RFC 1624) against a full recomputation, and the RFC 1812 header
// checks, each failure mapped to its own drop reason.
#include "dataplane/checksum.h"

#include <random>

#include "dataplane/ip4_check.h"
#include "gtest/gtest.h"
#include "tests/support/packets.h"

namespace vr::dataplane {
namespace {

using vr::testing::Ip;

rte_ipv4_hdr RandomHeader(std::mt19937& rng) {
  rte_ipv4_hdr h{};
  h.version_ihl = RTE_IPV4_VHL_DEF;
  h.type_of_service = rng();
  h.total_length = rte_cpu_to_be_16(20 + rng() % 1480);
  h.packet_id = rng();
  h.fragment_offset = rng() & RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
  h.time_to_live = 2 + rng() % 254;
  h.next_proto_id = rng();
  h.src_addr = rng();
  h.dst_addr = rng();
  h.hdr_checksum = rte_ipv4_cksum(&h);
  return h;
}

TEST(ChecksumTest, TtlDecrementMatchesFullRecomputation) {
  std::mt19937 rng(1);
  for (int i = 0; i < 100000; ++i) {
    rte_ipv4_hdr h = RandomHeader(rng);
    uint8_t ttl = h.time_to_live;
    Ip4DecrementTtl(&h);
    EXPECT_EQ(h.time_to_live, ttl - 1);
    uint16_t incremental = h.hdr_checksum;
    h.hdr_checksum = 0;
    ASSERT_EQ(incremental, rte_ipv4_cksum(&h)) << "header " << i;
  }
}

TEST(ChecksumTest, TtlDecrementOverEveryChecksumValue) {
  // The packet id walks all 65,536 values, so the checksum before the decrement takes every
  // value a header can have, the wrap-around ones included.
  std::mt19937 rng(3);
  for (uint8_t ttl : {uint8_t{2}, uint8_t{64}, uint8_t{255}}) {
    rte_ipv4_hdr base = RandomHeader(rng);
    base.time_to_live = ttl;
    for (uint32_t id = 0; id <= 0xffff; ++id) {
      rte_ipv4_hdr h = base;
      h.packet_id = uint16_t(id);
      h.hdr_checksum = 0;
      h.hdr_checksum = rte_ipv4_cksum(&h);
      Ip4DecrementTtl(&h);
      ASSERT_EQ(h.time_to_live, ttl - 1);
      uint16_t incremental = h.hdr_checksum;
      h.hdr_checksum = 0;
      ASSERT_EQ(incremental, rte_ipv4_cksum(&h)) << "ttl " << int(ttl) << " id " << id;
    }
  }
}

TEST(ChecksumTest, HeaderCheckAgreesWithAFullSum) {
  // The 20-byte fast sum against DPDK's general one, on good headers and on headers with one
  // byte changed (which every Internet checksum catches).
  std::mt19937 rng(4);
  for (int i = 0; i < 200000; ++i) {
    rte_ipv4_hdr h = RandomHeader(rng);
    if (i % 2 == 1) {
      auto* b = reinterpret_cast<uint8_t*>(&h);
      b[rng() % sizeof(h)] ^= uint8_t(1 + rng() % 255);
    }
    ASSERT_EQ(Ip4ChecksumOk(&h, sizeof(h)), rte_raw_cksum(&h, sizeof(h)) == 0xffff)
        << "header " << i;
  }
  // Sums whose carries wrap more than once.
  alignas(8) uint8_t ones[20];
  memset(ones, 0xff, sizeof(ones));
  EXPECT_TRUE(Ip4ChecksumOk(reinterpret_cast<rte_ipv4_hdr*>(ones), 20));
  ones[3] = 0xfe;
  EXPECT_FALSE(Ip4ChecksumOk(reinterpret_cast<rte_ipv4_hdr*>(ones), 20));
}

TEST(ChecksumTest, Update16HandlesEveryWordChange) {
  // RFC 1624 §3: eqn. 3 keeps the sum valid for every old/new pair, including the ones where
  // the older eqn. 2 of RFC 1141 produced a wrong -0.
  std::mt19937 rng(2);
  for (int i = 0; i < 100000; ++i) {
    uint16_t words[10];
    for (auto& w : words) w = rng();
    words[5] = 0;
    words[5] = ~rte_raw_cksum(words, sizeof(words));
    int k = rng() % 10;
    if (k == 5) continue;
    uint16_t old_val = words[k];
    words[k] = rng();
    words[5] = ChecksumUpdate16(words[5], old_val, words[k]);
    ASSERT_EQ(rte_raw_cksum(words, sizeof(words)), 0xffff) << "iteration " << i;
  }
}

class Ip4CheckTest : public ::testing::Test {
 protected:
  Ip4CheckTest() {
    memset(buf_, 0, sizeof(buf_));
    ip_ = reinterpret_cast<rte_ipv4_hdr*>(buf_);
    ip_->version_ihl = RTE_IPV4_VHL_DEF;
    ip_->total_length = rte_cpu_to_be_16(60);
    ip_->time_to_live = 64;
    ip_->next_proto_id = IPPROTO_UDP;
    ip_->src_addr = rte_cpu_to_be_32(Ip(198, 18, 1, 2));
    ip_->dst_addr = rte_cpu_to_be_32(Ip(198, 18, 2, 2));
    Reseal();
  }
  void Reseal() {
    ip_->hdr_checksum = 0;
    ip_->hdr_checksum = ~rte_raw_cksum(ip_, (ip_->version_ihl & 0xf) * 4u);
  }
  alignas(8) uint8_t buf_[128];
  rte_ipv4_hdr* ip_;
};

TEST_F(Ip4CheckTest, AcceptsAValidHeader) { EXPECT_EQ(Ip4Check(ip_, 60), kIp4Ok); }

TEST_F(Ip4CheckTest, AcceptsOptions) {
  ip_->version_ihl = 0x46;
  Reseal();
  EXPECT_EQ(Ip4Check(ip_, 60), kIp4Ok);
}

TEST_F(Ip4CheckTest, TruncatedHeader) { EXPECT_EQ(Ip4Check(ip_, 19), DropReason::kIp4Truncated); }

TEST_F(Ip4CheckTest, BadVersion) {
  ip_->version_ihl = 0x65;
  Reseal();
  EXPECT_EQ(Ip4Check(ip_, 60), DropReason::kIp4BadVersion);
}

TEST_F(Ip4CheckTest, IhlBelowFive) {
  ip_->version_ihl = 0x44;
  Reseal();
  EXPECT_EQ(Ip4Check(ip_, 60), DropReason::kIp4BadIhl);
}

TEST_F(Ip4CheckTest, IhlBeyondFrame) {
  ip_->version_ihl = 0x4f;  // 60-byte header in a 40-byte frame
  ip_->total_length = rte_cpu_to_be_16(40);
  EXPECT_EQ(Ip4Check(ip_, 40), DropReason::kIp4BadIhl);
}

TEST_F(Ip4CheckTest, TotalLengthBeyondFrame) {
  ip_->total_length = rte_cpu_to_be_16(61);
  Reseal();
  EXPECT_EQ(Ip4Check(ip_, 60), DropReason::kIp4BadTotalLength);
}

TEST_F(Ip4CheckTest, TotalLengthBelowHeader) {
  ip_->total_length = rte_cpu_to_be_16(19);
  Reseal();
  EXPECT_EQ(Ip4Check(ip_, 60), DropReason::kIp4BadTotalLength);
}

TEST_F(Ip4CheckTest, BadChecksum) {
  ip_->hdr_checksum ^= 0x0100;
  EXPECT_EQ(Ip4Check(ip_, 60), DropReason::kIp4BadChecksum);
}

TEST(Ip4MartianTest, SourcesAndDestinations) {
  EXPECT_TRUE(Ip4MartianSource(Ip(0, 1, 2, 3)));
  EXPECT_TRUE(Ip4MartianSource(Ip(127, 0, 0, 1)));
  EXPECT_TRUE(Ip4MartianSource(Ip(224, 0, 0, 5)));
  EXPECT_TRUE(Ip4MartianSource(Ip(255, 255, 255, 255)));
  // The benchmarking range is forwardable (RFC 2544): never a martian.
  EXPECT_FALSE(Ip4MartianSource(Ip(198, 18, 0, 1)));
  EXPECT_FALSE(Ip4MartianSource(Ip(198, 19, 255, 254)));
  EXPECT_TRUE(Ip4MartianDestination(Ip(0, 0, 0, 0)));
  EXPECT_TRUE(Ip4MartianDestination(Ip(127, 1, 1, 1)));
  EXPECT_TRUE(Ip4MartianDestination(Ip(240, 0, 0, 1)));
  EXPECT_FALSE(Ip4MartianDestination(Ip(198, 18, 2, 2)));
  EXPECT_TRUE(Ip4Multicast(Ip(239, 1, 1, 1)));
  EXPECT_FALSE(Ip4Multicast(Ip(198, 18, 2, 2)));
}

}  // namespace
}  // namespace vr::dataplane
