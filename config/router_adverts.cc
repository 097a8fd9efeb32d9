// Router advertisement settings (RFC 4861 §6.2.1): the values left to their defaults, and the
// prefixes an interface advertises. The loader checks the ranges; control sends what this says.
#include <algorithm>

#include "config/config.h"

namespace vr::config {

uint32_t RouterAdvertConfig::MinIntervalMs() const {
  if (min_interval.has_value()) return *min_interval * 1000;
  // §6.2.1: 0.33 * MaxRtrAdvInterval if that is at least 9 seconds, else MaxRtrAdvInterval.
  return interval >= 9 ? interval * 330 : interval * 1000;
}

uint32_t RouterAdvertConfig::Lifetime() const {
  // §6.2.1: AdvDefaultLifetime defaults to 3 * MaxRtrAdvInterval; it may not pass 9000 s.
  return lifetime.value_or(std::min<uint32_t>(3 * interval, 9000));
}

std::vector<RaPrefixConfig> AdvertisedPrefixes(const RouterAdvertConfig& ra,
                                               const std::vector<Ip6Prefix>& addresses) {
  std::vector<RaPrefixConfig> out = ra.prefixes;
  if (!ra.auto_prefixes) return out;
  for (const Ip6Prefix& a : addresses) {
    Ip6Prefix net = NetworkOf6(a);
    bool listed = std::any_of(out.begin(), out.end(),
                              [&](const RaPrefixConfig& p) { return p.prefix == net; });
    if (listed) continue;
    RaPrefixConfig p;
    p.prefix = net;
    // RFC 4862 §5.5.3 (d): a host forms an address only when the prefix and its interface
    // identifier (64 bits on Ethernet, RFC 2464 §4) make 128 bits.
    p.autonomous = net.len == 64;
    out.push_back(p);
  }
  return out;
}

}  // namespace vr::config
