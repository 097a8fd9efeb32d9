// Fuzzes the kernel route mirror: each input is one rtnetlink datagram, parsed by libnl and
// control/route_mirror.cc as a notification from the kernel is; the sink must end up told exactly
// what the mirror reports.
#include <netlink/attr.h>
#include <rte_log.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "control/route_mirror.h"

// libnl is not instrumented, so its nla_get_u32 reading past an attribute shorter than four
// bytes would pass unseen. The link sends the mirror's calls here (meson: --wrap), where the same
// read is checked by AddressSanitizer.
extern "C" uint32_t __wrap_nla_get_u32(const nlattr* nla) {
  uint32_t v;
  memcpy(&v, static_cast<const uint8_t*>(nla_data(nla)), sizeof(v));
  return v;
}

namespace vr::fuzz {
namespace {

using control::KernelRoute;
using control::KernelRouteKey;

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "netlink_fuzz: %s\n", what.c_str());
  abort();
}

// What the sink was told, kept the way the router keeps it: one route per prefix.
class Sink {
 public:
  control::RouteMirrorSink Make() {
    control::RouteMirrorSink s;
    s.set = [this](const KernelRoute& r) {
      if (r.v6 ? !(config::NetworkOf6(r.prefix6) == r.prefix6)
               : !(config::NetworkOf(r.prefix) == r.prefix)) {
        Fail("set() with host bits in the prefix");
      }
      told_[KernelRouteKey::Of(r)] = r;
    };
    s.remove = [this](const config::Ip4Prefix& p) { Remove(KernelRouteKey::Of(p)); };
    s.remove6 = [this](const config::Ip6Prefix& p) { Remove(KernelRouteKey::Of(p)); };
    return s;
  }

  void Check(const control::RouteMirror& m) const {
    if (told_.size() != m.size()) {
      Fail(absl::StrFormat("the sink holds %u routes, the mirror %u", told_.size(), m.size()));
    }
    for (const auto& [key, r] : told_) {
      const KernelRoute* found = r.v6 ? m.Find6(r.prefix6) : m.Find(r.prefix);
      if (found == nullptr || !(*found == r)) Fail("the sink holds a route the mirror does not");
    }
  }

 private:
  void Remove(const KernelRouteKey& key) {
    if (told_.erase(key) == 0) Fail("remove() of a prefix the sink was never told");
  }

  absl::flat_hash_map<KernelRouteKey, KernelRoute> told_;
};

}  // namespace
}  // namespace vr::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The mirror's warnings about malformed messages would cost more than the messages.
  rte_log_set_global_level(RTE_LOG_CRIT);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A fresh mirror per input: what one datagram taught it cannot change how the next one runs.
  vr::fuzz::Sink sink;
  auto mirror = vr::control::RouteMirror::Detached({}, sink.Make());
  if (!mirror.ok()) vr::fuzz::Fail(mirror.status().ToString());
  (void)(*mirror)->Receive(std::span<const uint8_t>(data, size));
  sink.Check(**mirror);
  return 0;
}
