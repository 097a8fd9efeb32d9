// IPv6 prefix arithmetic (config/config.h) and the address rules of config/ip6.h. Addresses are
// 16 bytes in network order, so a prefix length cuts at a byte and a bit within it.
#include "config/ip6.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vr::config {
namespace {

// The mask byte i of a /len prefix.
uint8_t MaskByte(uint8_t len, size_t i) {
  if (len >= 8 * (i + 1)) return 0xff;
  if (len <= 8 * i) return 0;
  return static_cast<uint8_t>(0xff << (8 * (i + 1) - len));
}

}  // namespace

Ip6Prefix NetworkOf6(const Ip6Prefix& p) {
  Ip6Prefix n = p;
  for (size_t i = 0; i < n.addr.bytes.size(); ++i) n.addr.bytes[i] &= MaskByte(p.len, i);
  return n;
}

bool Contains6(const Ip6Prefix& p, const Ip6Addr& a) {
  for (size_t i = 0; i < a.bytes.size(); ++i) {
    if (((a.bytes[i] ^ p.addr.bytes[i]) & MaskByte(p.len, i)) != 0) return false;
  }
  return true;
}

bool IsLinkLocal6(const Ip6Addr& a) { return a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80; }

namespace internal {

std::string FormatPrefix6(const Ip6Prefix& p) {
  return absl::StrCat(FormatIp6(p.addr), "/", p.len);
}

std::string FormatSubnet6(const Ip6Prefix& p) { return FormatPrefix6(NetworkOf6(p)); }

Ip6Addr LastOf6(const Ip6Prefix& p) {
  Ip6Addr a = p.addr;
  for (size_t i = 0; i < a.bytes.size(); ++i) {
    a.bytes[i] |= static_cast<uint8_t>(~MaskByte(p.len, i));
  }
  return a;
}

std::optional<std::string_view> SpecialUse6(const Ip6Addr& a) {
  static constexpr Ip6Prefix kMapped{{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}}, 96};
  Ip6Addr loopback;
  loopback.bytes[15] = 1;
  if (a == Ip6Addr{}) return "the unspecified address";
  if (a == loopback) return "the loopback address";
  if (a.bytes[0] == 0xff) return "a multicast address (ff00::/8)";
  if (Contains6(kMapped, a)) return "an IPv4-mapped address (::ffff:0:0/96)";
  if (IsLinkLocal6(a)) return "a link-local address (fe80::/10)";
  return std::nullopt;
}

bool IsSubnetRouterAnycast6(const Ip6Prefix& subnet, const Ip6Addr& a) {
  return subnet.len < 127 && Contains6(subnet, a) && a == NetworkOf6(subnet).addr;
}

absl::Status CheckHostAddress6(const Ip6Prefix& a, std::string_view who) {
  std::string text = FormatPrefix6(a);
  if (IsLinkLocal6(a.addr)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "address %s is a link-local address (fe80::/10); give it as link_local: %s, without a "
        "length",
        text, FormatIp6(a.addr)));
  }
  if (std::optional<std::string_view> use = SpecialUse6(a.addr)) {
    if (use->starts_with("an IPv4-mapped")) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "address %s is %s; write an IPv4 address as such, like 198.18.1.1/24", text, *use));
    }
    return absl::InvalidArgumentError(
        absl::StrFormat("address %s is %s; expected a unicast address", text, *use));
  }
  if (a.len == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("address %s: expected a prefix length of 1 to 128", text));
  }
  if (IsSubnetRouterAnycast6(a, a.addr)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "address %s is the Subnet-Router anycast address of %s; give %s a host address", text,
        FormatSubnet6(a), who));
  }
  return absl::OkStatus();
}

absl::Status CheckLinkLocal6(const Ip6Addr& a) {
  if (!IsLinkLocal6(a)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "link_local: %s is not a link-local address; expected one in fe80::/10, like fe80::1",
        FormatIp6(a)));
  }
  if (std::all_of(a.bytes.begin() + 8, a.bytes.end(), [](uint8_t b) { return b == 0; })) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "link_local: %s has an interface id of all zeros (the Subnet-Router anycast address); "
        "expected a host address like fe80::1",
        FormatIp6(a)));
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace vr::config
