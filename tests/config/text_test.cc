// Tests of config/text.cc and config/ip6.cc: the text forms of IPv4 and IPv6 addresses, prefixes
// and MACs, and IPv6 prefix arithmetic. Parsers must refuse anything ambiguous, since a wrong
// address in a router config is silent.
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "config/ip6.h"

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

Ip6Addr Ip6(std::string_view s) { return *ParseIp6(s); }

Ip6Addr Bytes(std::initializer_list<uint8_t> b) {
  Ip6Addr a;
  std::copy(b.begin(), b.end(), a.bytes.begin());
  return a;
}

TEST(ParseIp6, ReadsRfc4291TextInNetworkOrder) {
  EXPECT_EQ(Ip6("2001:db8::1"),
            Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(Ip6("2001:0DB8:0000:0000:0000:0000:0000:0001"), Ip6("2001:db8::1"));
  EXPECT_EQ(Ip6("::"), Ip6Addr{});
  EXPECT_EQ(Ip6("::1"), Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(Ip6("fe80::"), Bytes({0xfe, 0x80}));
  EXPECT_EQ(Ip6("1:2:3:4:5:6:7:8"),
            Bytes({0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}));
  EXPECT_EQ(Ip6("1:2:3:4:5:6:7::"), Bytes({0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0}));
  // A dotted IPv4 tail is RFC 4291 syntax; whether the address is acceptable is the loader's call.
  EXPECT_EQ(Ip6("::ffff:198.18.1.1"),
            Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 1, 1}));
}

TEST(ParseIp6, RefusesAnythingElse) {
  for (const char* bad :
       {"", ":", ":::", "1::2::3", "12345::", "2001:db8::g", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
        " ::1", "::1 ", "::1\n", "fe80::1%eth0", "fe80::1%1", "[::1]", "2001:db8::1/64",
        "198.18.1.1", "::ffff:198.18.01.1", "::ffff:198.18.1", "2001:db8::1 # x", "0x20::1"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseIp6(bad).ok());
  }
  // inet_pton would stop at the NUL and read the address before it.
  EXPECT_FALSE(ParseIp6(std::string_view("::1\0junk", 8)).ok());
  EXPECT_FALSE(ParseIp6(std::string(100, '1')).ok());
}

TEST(ParseIp6, SaysWhatWasExpected) {
  absl::StatusOr<Ip6Addr> r = ParseIp6("fe80::1%eth0");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "expected an IPv6 address like 2001:db8::1, got 'fe80::1%eth0'");
}

TEST(ParseIp6Prefix, KeepsTheHostPart) {
  EXPECT_EQ(*ParseIp6Prefix("2001:db8:1::1/64"), (Ip6Prefix{Ip6("2001:db8:1::1"), 64}));
  EXPECT_EQ(*ParseIp6Prefix("::/0"), (Ip6Prefix{Ip6Addr{}, 0}));
  EXPECT_EQ(*ParseIp6Prefix("2001:db8::2/128"), (Ip6Prefix{Ip6("2001:db8::2"), 128}));
}

TEST(ParseIp6Prefix, RefusesMissingOrBadLength) {
  for (const char* bad : {"2001:db8::1", "2001:db8::1/", "2001:db8::1/129", "2001:db8::1/-1",
                          "2001:db8::1/064", "2001:db8::1/64/1", "/64", "2001:db8::1 /64",
                          "2001:db8::1/ 64", "fe80::1%eth0/64", "198.18.1.1/24",
                          "2001:db8::1/1000"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseIp6Prefix(bad).ok());
  }
}

TEST(ParseIp6Prefix, SaysWhatWasExpected) {
  EXPECT_EQ(ParseIp6Prefix("2001:db8::1").status().message(),
            "expected an IPv6 prefix like 2001:db8::1/64, got '2001:db8::1'");
  EXPECT_EQ(ParseIp6Prefix("2001:db8::1/129").status().message(),
            "expected a prefix length between 0 and 128 after '/', got '2001:db8::1/129'");
}

// RFC 5952 §4: leading zeros dropped, the longest run of two or more zero groups compressed (the
// first of equal runs), a single zero group not, lower case.
TEST(FormatIp6, WritesRfc5952CanonicalText) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const Case& c : {
           Case{"2001:db8::1", "2001:db8::1"},
           Case{"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
           Case{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
           Case{"2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"},
           Case{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
           Case{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
           Case{"2001:DB8:AAAA::00Ff", "2001:db8:aaaa::ff"},
           Case{"0:0:0:0:0:0:0:0", "::"},
           Case{"0:0:0:0:0:0:0:1", "::1"},
           Case{"fe80:0::0:1", "fe80::1"},
           Case{"::ffff:c612:101", "::ffff:198.18.1.1"},
       }) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(FormatIp6(Ip6(c.in)), c.out);
  }
}

TEST(Ip6Prefixes, NetworkContainsAndLinkLocal) {
  EXPECT_EQ(NetworkOf6({Ip6("2001:db8:1:2:3::1"), 64}), (Ip6Prefix{Ip6("2001:db8:1:2::"), 64}));
  EXPECT_EQ(NetworkOf6({Ip6("2001:db8:ffff::1"), 37}), (Ip6Prefix{Ip6("2001:db8:f800::"), 37}));
  EXPECT_EQ(NetworkOf6({Ip6("2001:db8::1"), 0}), (Ip6Prefix{Ip6Addr{}, 0}));
  EXPECT_EQ(NetworkOf6({Ip6("2001:db8::1"), 128}), (Ip6Prefix{Ip6("2001:db8::1"), 128}));
  EXPECT_TRUE(Contains6({Ip6("2001:db8:1::1"), 64}, Ip6("2001:db8:1::ffff")));
  EXPECT_FALSE(Contains6({Ip6("2001:db8:1::1"), 64}, Ip6("2001:db8:1:1::1")));
  EXPECT_TRUE(Contains6({Ip6("2001:db8::"), 33}, Ip6("2001:db8:7fff::1")));
  EXPECT_FALSE(Contains6({Ip6("2001:db8::"), 33}, Ip6("2001:db8:8000::1")));
  EXPECT_TRUE(Contains6({Ip6Addr{}, 0}, Ip6("ff02::1")));
  EXPECT_FALSE(Contains6({Ip6("2001:db8::1"), 128}, Ip6("2001:db8::2")));
  EXPECT_TRUE(IsLinkLocal6(Ip6("fe80::1")));
  EXPECT_TRUE(IsLinkLocal6(Ip6("febf:ffff::1")));
  EXPECT_FALSE(IsLinkLocal6(Ip6("fec0::1")));
  EXPECT_FALSE(IsLinkLocal6(Ip6("fe7f::1")));
  EXPECT_FALSE(IsLinkLocal6(Ip6("2001:db8::1")));
  EXPECT_EQ(internal::LastOf6({Ip6("2001:db8:1::1"), 64}), Ip6("2001:db8:1:0:ffff:ffff:ffff:ffff"));
  EXPECT_EQ(internal::LastOf6({Ip6("2001:db8::"), 31}),
            Ip6("2001:db9:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_LT(Ip6("2001:db8::1"), Ip6("2001:db8::2"));
  EXPECT_LT(Ip6("2001:db8::ffff"), Ip6("2001:db8:0:1::"));
}

}  // namespace
}  // namespace vr::config
