// Tests of dataplane/ip6_check.h: the IPv6 header checks, address classes, the hop-by-hop
// options walk (RFC 8200 §4.2) and the extension header chain walk, on bytes written here.
#include "dataplane/ip6_check.h"

#include <gtest/gtest.h>

#include <vector>

namespace vr::dataplane {
namespace {

std::vector<uint8_t> Header(uint16_t payload_len, uint8_t version = 6, uint8_t next = 17) {
  std::vector<uint8_t> h(40, 0);
  h[0] = uint8_t(version << 4);
  h[4] = uint8_t(payload_len >> 8);
  h[5] = uint8_t(payload_len);
  h[6] = next;
  h[7] = 64;
  return h;
}

const rte_ipv6_hdr* AsIp6(const std::vector<uint8_t>& b) {
  return reinterpret_cast<const rte_ipv6_hdr*>(b.data());
}

TEST(Ip6Check, AcceptsAWellFormedHeader) {
  auto h = Header(8);
  h.resize(48);
  EXPECT_EQ(Ip6Check(AsIp6(h), 48), kIp6Ok);
  EXPECT_EQ(Ip6Check(AsIp6(h), 60), kIp6Ok) << "Ethernet padding after the payload is fine";
}

TEST(Ip6Check, NamesEachFault) {
  auto h = Header(8);
  h.resize(48);
  EXPECT_EQ(Ip6Check(AsIp6(h), 39), DropReason::kIp6Truncated);
  EXPECT_EQ(Ip6Check(AsIp6(h), 47), DropReason::kIp6BadPayloadLength);
  auto v4 = Header(8, 4);
  v4.resize(48);
  EXPECT_EQ(Ip6Check(AsIp6(v4), 48), DropReason::kIp6BadVersion);
}

TEST(Ip6Addresses, Classes) {
  uint8_t a[16] = {};
  EXPECT_TRUE(Ip6Unspecified(a));
  a[15] = 1;
  EXPECT_TRUE(Ip6Loopback(a));
  EXPECT_FALSE(Ip6Unspecified(a));
  uint8_t ll[16] = {0xfe, 0x80};
  EXPECT_TRUE(Ip6LinkLocal(ll));
  ll[1] = 0xbf;
  EXPECT_TRUE(Ip6LinkLocal(ll)) << "fe80::/10 reaches febf::";
  ll[1] = 0xc0;
  EXPECT_FALSE(Ip6LinkLocal(ll)) << "fec0:: is the old site-local, not link-local";
  uint8_t mc[16] = {0xff, 0x02};
  EXPECT_TRUE(Ip6Multicast(mc));
  EXPECT_EQ(Ip6MulticastScope(mc), 2);
}

TEST(Ip6HopByHop, PaddingAndSkippableOptionsForward) {
  // Next header, length 0 (8 bytes): Pad1, PadN of 2, an unknown option of action 00 (type 0x1e).
  std::vector<uint8_t> h = {17, 0, 0, 1, 0, 0x1e, 0, 0};
  uint32_t pointer = 99;
  EXPECT_EQ(Ip6HopByHop(h.data(), h.size(), &pointer), HbhVerdict::kForward);
}

TEST(Ip6HopByHop, UnknownOptionActions) {
  uint32_t pointer = 0;
  std::vector<uint8_t> discard = {17, 0, 1, 0, 0x5e, 0, 0, 0};  // 01xxxxxx at offset 4
  EXPECT_EQ(Ip6HopByHop(discard.data(), discard.size(), &pointer), HbhVerdict::kDiscard);
  std::vector<uint8_t> problem = {17, 0, 1, 0, 0x9e, 0, 0, 0};  // 10xxxxxx at offset 4
  EXPECT_EQ(Ip6HopByHop(problem.data(), problem.size(), &pointer), HbhVerdict::kParamProblem);
  EXPECT_EQ(pointer, 4u);
  std::vector<uint8_t> problem_mc = {17, 0, 0xde, 2, 0, 0, 1, 0};  // 11xxxxxx at offset 2
  EXPECT_EQ(Ip6HopByHop(problem_mc.data(), problem_mc.size(), &pointer),
            HbhVerdict::kParamProblem);
  EXPECT_EQ(pointer, 2u);
}

TEST(Ip6HopByHop, RouterAlertAndMalformed) {
  uint32_t pointer = 0;
  std::vector<uint8_t> alert = {58, 0, 5, 2, 0, 0, 1, 0};
  EXPECT_EQ(Ip6HopByHop(alert.data(), alert.size(), &pointer), HbhVerdict::kRouterAlert);
  std::vector<uint8_t> runs_over = {17, 0, 1, 9, 0, 0, 0, 0};  // PadN longer than the header
  EXPECT_EQ(Ip6HopByHop(runs_over.data(), runs_over.size(), &pointer), HbhVerdict::kMalformed);
  std::vector<uint8_t> longer_than_packet = {17, 1, 1, 4, 0, 0, 0, 0};  // says 16, has 8
  EXPECT_EQ(Ip6HopByHop(longer_than_packet.data(), longer_than_packet.size(), &pointer),
            HbhVerdict::kMalformed);
  EXPECT_EQ(Ip6HopByHop(alert.data(), 7, &pointer), HbhVerdict::kMalformed);
}

TEST(Ip6UpperLayer, WalksTheChain) {
  // Hop-by-hop (8) -> destination options (16) -> fragment (8, offset 0) -> ICMPv6.
  std::vector<uint8_t> p = {60, 0, 1, 4, 0, 0, 0, 0,
                            44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                            58, 0, 0, 0, 0, 0, 0, 1,
                            128, 0, 0, 0};
  uint8_t proto = 0;
  uint32_t off = 0;
  bool fragment = true;
  ASSERT_TRUE(Ip6UpperLayer(p.data(), p.size(), 0, &proto, &off, &fragment));
  EXPECT_EQ(proto, 58);
  EXPECT_EQ(off, 32u);
  EXPECT_FALSE(fragment);
  // A later fragment: the upper layer is not in this packet.
  p[26] = 0x00;
  p[27] = 0x08;
  ASSERT_TRUE(Ip6UpperLayer(p.data(), p.size(), 0, &proto, &off, &fragment));
  EXPECT_TRUE(fragment);
}

TEST(Ip6UpperLayer, TruncatedChainFails) {
  std::vector<uint8_t> p = {60, 2, 1, 4, 0, 0, 0, 0};  // says 24 bytes, has 8
  uint8_t proto;
  uint32_t off;
  bool fragment;
  EXPECT_FALSE(Ip6UpperLayer(p.data(), p.size(), 0, &proto, &off, &fragment));
  EXPECT_FALSE(Ip6UpperLayer(p.data(), 4, 0, &proto, &off, &fragment));
  uint8_t none_after = 0;
  EXPECT_TRUE(Ip6UpperLayer(&none_after, 0, 17, &proto, &off, &fragment));
  EXPECT_EQ(proto, 17);
}

}  // namespace
}  // namespace vr::dataplane
