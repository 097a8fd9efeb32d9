// Group templates: what member i of a template is, by arithmetic alone. The loader checks ranges,
// overlaps and names of templates the same way, so that a template of a million members costs what
// one member costs, at load time as at run time.
#include <string>
#include <string_view>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "config/config.h"

namespace vr::config {

absl::uint128 Ip6Value(const Ip6Addr& a) {
  uint64_t hi = 0, lo = 0;
  for (int b = 0; b < 8; ++b) hi = hi << 8 | a.bytes[b];
  for (int b = 8; b < 16; ++b) lo = lo << 8 | a.bytes[b];
  return absl::MakeUint128(hi, lo);
}

Ip6Addr Ip6FromValue(absl::uint128 v) {
  Ip6Addr a;
  uint64_t hi = absl::Uint128High64(v), lo = absl::Uint128Low64(v);
  for (int b = 7; b >= 0; --b, hi >>= 8) a.bytes[b] = static_cast<uint8_t>(hi & 0xff);
  for (int b = 15; b >= 8; --b, lo >>= 8) a.bytes[b] = static_cast<uint8_t>(lo & 0xff);
  return a;
}

Ip6Prefix TemplateMemberAddress6(const TemplateConfig& t, uint32_t i) {
  return {Ip6FromValue(Ip6Value(t.address6->addr) + t.address6_step * i), t.address6->len};
}

std::optional<uint32_t> TemplateMemberFor6(const TemplateConfig& t, const Ip6Addr& ip) {
  if (!t.address6 || t.address6_step == 0) return std::nullopt;
  absl::uint128 base = Ip6Value(NetworkOf6(*t.address6).addr), v = Ip6Value(ip);
  if (v < base) return std::nullopt;
  absl::uint128 offset = v - base, i = offset / t.address6_step;
  // The subnet's size less one: all host bits set (a /0 never reaches here: refused as a length).
  absl::uint128 host = t.address6->len == 0 ? ~absl::uint128(0)
                                            : (absl::uint128(1) << (128 - t.address6->len)) - 1;
  if (i >= t.size() || offset % t.address6_step > host) return std::nullopt;
  return static_cast<uint32_t>(i);
}

absl::StatusOr<absl::uint128> ParseIp6Step(std::string_view s) {
  absl::string_view text(s.data(), s.size());
  if (!s.empty() && absl::c_all_of(s, [](char c) { return absl::ascii_isdigit(c); })) {
    absl::uint128 v;
    if (s.size() > 1 && s[0] == '0') {
      return absl::InvalidArgumentError(
          absl::StrCat("expected a number without leading zeros, got '", text, "'"));
    }
    if (!absl::SimpleAtoi(text, &v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected a number below 2^128, got '", text, "'"));
    }
    return v;
  }
  absl::StatusOr<Ip6Addr> a = ParseIp6(s);
  if (!a.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a number like 2, or an IPv6 address like 0:0:0:1:: read as a 128-bit number, "
        "got '",
        text, "'"));
  }
  return Ip6Value(*a);
}

std::string FormatIp6Step(absl::uint128 step) {
  if (step < (absl::uint128(1) << 32)) return absl::StrCat(absl::Uint128Low64(step));
  return FormatIp6(Ip6FromValue(step));
}

std::optional<uint32_t> TemplateMemberIndex(const TemplateConfig& t, uint16_t outer,
                                            uint16_t inner) {
  if (outer < t.outer.first || outer > t.outer.last) return std::nullopt;
  if (!t.inner.has_value()) {
    if (inner != 0) return std::nullopt;
    return outer - t.outer.first;
  }
  if (inner < t.inner->first || inner > t.inner->last) return std::nullopt;
  return (outer - t.outer.first) * t.inner->size() + (inner - t.inner->first);
}

TemplateMemberInfo TemplateMember(const TemplateConfig& t, uint32_t i) {
  TemplateMemberInfo m;
  if (t.inner.has_value()) {
    // Outer-major: every inner id of the first outer id, then of the next.
    uint32_t per_outer = t.inner->size();
    m.outer = static_cast<uint16_t>(t.outer.first + i / per_outer);
    m.inner = static_cast<uint16_t>(t.inner->first + i % per_outer);
  } else {
    m.outer = static_cast<uint16_t>(t.outer.first + i);
    m.inner = 0;
  }
  if (t.address.has_value()) {
    m.address = Ip4Prefix{t.address->addr + i * t.address_step, t.address->len};
  }
  if (t.address6.has_value()) m.address6 = TemplateMemberAddress6(t, i);
  if (t.mac.has_value()) {
    // The six bytes as one 48-bit big-endian number.
    uint64_t v = 0;
    for (uint8_t b : *t.mac) v = v << 8 | b;
    v += uint64_t{i} * t.mac_step;
    Mac mac;
    for (int b = 5; b >= 0; --b, v >>= 8) mac[b] = static_cast<uint8_t>(v & 0xff);
    m.mac = mac;
  }
  return m;
}

std::string SubinterfaceName(std::string_view parent, uint16_t outer, uint16_t inner) {
  std::string name(parent);
  absl::StrAppend(&name, ".", outer);
  if (inner != 0) absl::StrAppend(&name, ".", inner);
  return name;
}

}  // namespace vr::config
