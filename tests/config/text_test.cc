// Tests of config/text.cc: the text forms of IPv4 addresses, prefixes and MACs.
// Parsers must refuse anything ambiguous, since a wrong address in a router config is silent.
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace vr::config {
namespace {

TEST(ParseIp4, AcceptsDottedQuadInHostOrder) {
  EXPECT_EQ(*ParseIp4("198.18.1.1"), 0xc6120101u);
  EXPECT_EQ(*ParseIp4("0.0.0.0"), 0u);
  EXPECT_EQ(*ParseIp4("255.255.255.255"), 0xffffffffu);
}

TEST(ParseIp4, RefusesAnythingElse) {
  for (const char* bad : {"", "198.18.1", "198.18.1.1.1", "198.18.1.256", "198.18.01.1",
                          "198.18.1.1 ", " 198.18.1.1", "198.18..1", "198.18.1.", "a.b.c.d",
                          "198.18.1.-1", "198.18.1.+1", "198.18.1.1/24", "1234.1.1.1"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseIp4(bad).ok());
  }
}

TEST(ParseIp4, SaysWhatWasExpected) {
  absl::StatusOr<uint32_t> r = ParseIp4("300.1.1.1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "expected an IPv4 address like 198.18.1.1, got '300.1.1.1'");
}

TEST(ParseIp4Prefix, KeepsTheHostPart) {
  EXPECT_EQ(*ParseIp4Prefix("198.18.1.1/24"), (Ip4Prefix{0xc6120101u, 24}));
  EXPECT_EQ(*ParseIp4Prefix("0.0.0.0/0"), (Ip4Prefix{0, 0}));
  EXPECT_EQ(*ParseIp4Prefix("198.18.2.2/32"), (Ip4Prefix{0xc6120202u, 32}));
}

TEST(ParseIp4Prefix, RefusesMissingOrBadLength) {
  for (const char* bad : {"198.18.1.1", "198.18.1.1/", "198.18.1.1/33", "198.18.1.1/-1",
                          "198.18.1.1/024", "198.18.1/24", "/24", "198.18.1.1/24/1"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseIp4Prefix(bad).ok());
  }
}

TEST(ParseIp4Prefix, SaysWhatWasExpected) {
  EXPECT_EQ(ParseIp4Prefix("198.18.1.1").status().message(),
            "expected an IPv4 prefix like 198.18.1.1/24, got '198.18.1.1'");
  EXPECT_EQ(ParseIp4Prefix("198.18.1.1/40").status().message(),
            "expected a prefix length between 0 and 32 after '/', got '198.18.1.1/40'");
}

TEST(ParseMac, AcceptsLowerAndUpperCase) {
  EXPECT_EQ(*ParseMac("02:00:00:00:00:01"), (Mac{2, 0, 0, 0, 0, 1}));
  EXPECT_EQ(*ParseMac("02:AB:cd:Ef:00:FF"), (Mac{2, 0xab, 0xcd, 0xef, 0, 0xff}));
}

TEST(ParseMac, RefusesAnythingElse) {
  for (const char* bad :
       {"", "02:00:00:00:00", "02:00:00:00:00:01:02", "02-00-00-00-00-01", "2:0:0:0:0:1",
        "02:00:00:00:00:0g", "0200.0000.0001", "02:00:00:00:00:01 "}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseMac(bad).ok());
  }
  EXPECT_EQ(ParseMac("02-00-00-00-00-01").status().message(),
            "expected a MAC address like 02:00:00:00:00:01, got '02-00-00-00-00-01'");
}

TEST(Format, RoundTrips) {
  EXPECT_EQ(FormatIp4(0xc6120101u), "198.18.1.1");
  EXPECT_EQ(FormatIp4(0), "0.0.0.0");
  EXPECT_EQ(FormatIp4(0xffffffffu), "255.255.255.255");
  EXPECT_EQ(FormatMac({0x02, 0xab, 0, 0, 0x0f, 0xff}), "02:ab:00:00:0f:ff");
  EXPECT_EQ(FormatMac(*ParseMac("02:AB:CD:EF:00:01")), "02:ab:cd:ef:00:01");
  EXPECT_EQ(FormatIp4(*ParseIp4("10.20.30.40")), "10.20.30.40");
}

}  // namespace
}  // namespace vr::config
