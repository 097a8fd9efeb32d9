// Group templates: what member i of a template is, by arithmetic alone. The loader checks ranges,
// overlaps and names of templates the same way, so that a template of a million members costs what
// one member costs, at load time as at run time.
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "config/config.h"

namespace vr::config {

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
