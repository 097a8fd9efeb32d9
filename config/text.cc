// Text forms of IPv4 and IPv6 addresses, prefixes and MACs, shared by the loader, the CLI and the
// tests. Parsing is strict (no spaces, no leading zeros in IPv4 or in lengths, no IPv6 zones) so
// that a typo fails instead of meaning another.
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "config/config.h"

namespace vr::config {
namespace {

// Decimal without sign or leading zero: inet_aton would read "010" as octal 8, so it is refused.
bool ParseDecimal(std::string_view s, size_t max_digits, uint32_t max, uint32_t* out) {
  if (s.empty() || s.size() > max_digits || (s.size() > 1 && s[0] == '0')) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && *out <= max;
}

bool Ip4(std::string_view s, uint32_t* out) {
  *out = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = i < 3 ? s.find('.') : s.size();
    uint32_t octet;
    if (dot == std::string_view::npos || !ParseDecimal(s.substr(0, dot), 3, 255, &octet)) {
      return false;
    }
    *out = *out << 8 | octet;
    s.remove_prefix(std::min(dot + 1, s.size()));
  }
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<uint32_t> ParseIp4(std::string_view s) {
  uint32_t addr;
  if (!Ip4(s, &addr)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("expected an IPv4 address like 198.18.1.1, got '%s'", s));
  }
  return addr;
}

absl::StatusOr<Ip4Prefix> ParseIp4Prefix(std::string_view s) {
  size_t slash = s.find('/');
  uint32_t addr, len;
  if (slash == std::string_view::npos || !Ip4(s.substr(0, slash), &addr)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("expected an IPv4 prefix like 198.18.1.1/24, got '%s'", s));
  }
  if (!ParseDecimal(s.substr(slash + 1), 2, 32, &len)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("expected a prefix length between 0 and 32 after '/', got '%s'", s));
  }
  return Ip4Prefix{addr, static_cast<uint8_t>(len)};
}

absl::StatusOr<Mac> ParseMac(std::string_view s) {
  Mac mac;
  bool ok = s.size() == 17;
  for (size_t i = 0; ok && i < mac.size(); ++i) {
    int hi = HexDigit(s[3 * i]), lo = HexDigit(s[3 * i + 1]);
    ok = hi >= 0 && lo >= 0 && (i == 5 || s[3 * i + 2] == ':');
    if (ok) mac[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrFormat("expected a MAC address like 02:00:00:00:00:01, got '%s'", s));
  }
  return mac;
}

absl::StatusOr<uint32_t> ParseGroupId(std::string_view s) {
  uint32_t id = 0;
  bool ok;
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x') {
    // Hex as iproute2's group file allows; leading zeros cannot mislead here.
    std::string_view digits = s.substr(2);
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 16);
    ok = ec == std::errc() && end == digits.data() + digits.size() && v <= kMaxGroupId;
    id = static_cast<uint32_t>(v);
  } else {
    ok = ParseDecimal(s, 10, kMaxGroupId, &id);
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "expected a group id between 0 and %u (decimal, or hex after 0x), got '%s'", kMaxGroupId,
        s));
  }
  return id;
}

bool IsGroupName(std::string_view s) {
  return !s.empty() && s.size() <= 32 && !absl::ascii_isdigit(s[0]) &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
         });
}

// inet_pton is the grammar of RFC 4291 §2.2 (with a dotted IPv4 tail, leading zeros refused
// there); what it reads is what it is given up to a NUL, so a string holding one is refused first.
// It takes no zone ("fe80::1%eth0"), prefix or blanks.
absl::StatusOr<Ip6Addr> ParseIp6(std::string_view s) {
  Ip6Addr a;
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN || s.find('\0') != std::string_view::npos ||
      inet_pton(AF_INET6, std::string(s).c_str(), a.bytes.data()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("expected an IPv6 address like 2001:db8::1, got '%s'", s));
  }
  return a;
}

absl::StatusOr<Ip6Prefix> ParseIp6Prefix(std::string_view s) {
  size_t slash = s.find('/');
  absl::StatusOr<Ip6Addr> addr = ParseIp6(s.substr(0, slash));
  if (slash == std::string_view::npos || !addr.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("expected an IPv6 prefix like 2001:db8::1/64, got '%s'", s));
  }
  uint32_t len;
  if (!ParseDecimal(s.substr(slash + 1), 3, 128, &len)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("expected a prefix length between 0 and 128 after '/', got '%s'", s));
  }
  return Ip6Prefix{*addr, static_cast<uint8_t>(len)};
}

// glibc's inet_ntop writes RFC 5952's form: lower case, no leading zeros, the longest run of two
// or more zero groups (the first of equal runs) as "::", and ::ffff:a.b.c.d for IPv4-mapped.
std::string FormatIp6(const Ip6Addr& a) {
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, a.bytes.data(), text, sizeof(text)) == nullptr) return "?";
  return text;
}

std::string FormatIp4(uint32_t addr) {
  return absl::StrFormat("%u.%u.%u.%u", addr >> 24, addr >> 16 & 0xff, addr >> 8 & 0xff,
                         addr & 0xff);
}

std::string FormatMac(const Mac& mac) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                         mac[5]);
}


namespace {
// iproute2's /etc/iproute2/rt_protos, plus vrouter's own: the names operators and daemons use.
constexpr std::pair<std::string_view, uint8_t> kRouteProtocols[] = {
    {"redirect", 1},   {"kernel", 2},  {"boot", 3},    {"static", 4},     {"gated", 8},
    {"ra", 9},         {"mrt", 10},    {"zebra", 11},  {"bird", 12},      {"dnrouted", 13},
    {"xorp", 14},      {"ntk", 15},    {"dhcp", 16},   {"keepalived", 18}, {"babel", 42},
    {"openr", 99},     {"bgp", 186},   {"isis", 187},  {"ospf", 188},     {"rip", 189},
    {"eigrp", 192},    {"vrouter", kVrouterRouteProtocol},
};
}  // namespace

std::optional<uint8_t> RouteProtocolByName(std::string_view name) {
  for (const auto& [n, p] : kRouteProtocols) {
    if (n == name) return p;
  }
  return std::nullopt;
}

std::string RouteProtocolName(uint8_t protocol) {
  for (const auto& [n, p] : kRouteProtocols) {
    if (p == protocol) return std::string(n);
  }
  return std::to_string(protocol);
}

}  // namespace vr::config
