// Routes mirrored from the kernel (knet's route mirror is the source): each resolved to a dataplane
// next hop and installed unless a route from the config or an address holds the same prefix.
#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"
#include "control/router.h"
#include "drivers/log.h"

namespace vr::control {

namespace {
KernelRouteKey Key(const config::Ip4Prefix& p) { return KernelRouteKey::Of(p); }
KernelRouteKey Key(const config::Ip6Prefix& p) { return KernelRouteKey::Of(p); }
std::string Describe(const KernelRoute& r) {
  return r.v6 ? absl::StrFormat("%s/%u", config::FormatIp6(r.prefix6.addr), r.prefix6.len)
              : absl::StrFormat("%s/%u", config::FormatIp4(r.prefix.addr), r.prefix.len);
}
}  // namespace

absl::Status Router::OpenRouteMirror() {
  RouteMirrorOptions mo;
  mo.table = config_.knet.table;
  mo.protocols = config_.knet.protocols;
  mo.own_protocol = config::kVrouterRouteProtocol;
  RouteMirrorSink sink;
  sink.set = [this](const KernelRoute& r) { OnKernelRoute(r); };
  sink.remove = [this](const config::Ip4Prefix& p) { OnKernelRouteGone(p); };
  sink.remove6 = [this](const config::Ip6Prefix& p) { OnKernelRouteGone6(p); };
  auto m = RouteMirror::Open(std::move(mo), std::move(sink));
  if (!m.ok()) return m.status();
  mirror_ = std::move(*m);
  return absl::OkStatus();
}

bool Router::ConfigHolds(const config::Ip4Prefix& p) const {
  // Whatever is in the FIB for this prefix and is not the kernel route itself came from the
  // config, an address (template members' included) or ARP's host routes.
  if (!fib_->Has(p.addr, p.len)) return false;
  auto it = kernel_routes_.find(Key(p));
  return it == kernel_routes_.end() || !it->second.installed;
}

bool Router::ConfigHolds6(const config::Ip6Prefix& p) const {
  // A template member's own address has no /128 for a kernel route to meet: it is the member's.
  if (TemplateHolds6(p)) return true;
  if (!fib6_->Has(p.addr.bytes.data(), p.len)) return false;
  auto it = kernel_routes_.find(Key(p));
  return it == kernel_routes_.end() || !it->second.installed;
}

// IPv6 has no ConfigTakes/ConfigReleases hooks in ipv6.cc: a config route (or address) that
// comes for a prefix an installed kernel route holds overwrites it in the FIB, and
// RetryKernelRoutes, after every reconfigure, settles the books. Until then this tells whether
// the FIB entry is the config's, so that the kernel route going does not take it along.
bool Router::ConfigRoute6(const config::Ip6Prefix& p) const {
  if (TemplateHolds6(p)) return true;
  config::Ip6Prefix net = config::NetworkOf6(p);
  return std::any_of(routes6_.begin(), routes6_.end(), [&](const Route6Entry& e) {
    return config::NetworkOf6(e.prefix) == net;
  });
}

void Router::ReleaseKernelGateway(KernelRouteState& s) {
  if (!s.gateway_ref) return;
  if (s.route.v6) {
    ndp_->ReleaseGateway(s.route.gateway6, uint32_t(s.gateway_vif));
  } else {
    neighbours_->ReleaseGateway(s.route.gateway);
  }
  s.gateway_ref = false;
  s.gateway_vif = -1;
}

void Router::UninstallKernelRoute(KernelRouteState& s) {
  if (s.installed) {
    const KernelRoute& r = s.route;
    if (!r.v6) {
      (void)fib_->Delete(r.prefix.addr, r.prefix.len);
    } else if (!ConfigRoute6(r.prefix6)) {
      (void)fib6_->Delete(r.prefix6.addr.bytes.data(), r.prefix6.len);
    }
    s.installed = false;
  }
  ReleaseKernelGateway(s);
  s.why = "";
}

void Router::InstallKernelRoute(KernelRouteState& s) {
  const KernelRoute& r = s.route;
  uint32_t nh = 0;
  switch (r.type) {
    case KernelRoute::Type::kBlackhole:
      nh = nh_blackhole_;
      break;
    case KernelRoute::Type::kUnreachable:
      nh = nh_unreachable_;
      break;
    case KernelRoute::Type::kForward: {
      // A route out of another kernel interface (a management port, lo) is the kernel's own
      // business: the dataplane cannot reach that next hop.
      if (knet_ != nullptr && r.oif != 0 && r.oif != knet_->ifindex()) {
        s.why = "the kernel sends it out of an interface other than knet";
        kernel_unresolved_++;
        return;
      }
      if (r.v6) {
        // A link-local gateway is only meaningful with its link, and the only link the kernel
        // names is the oif: knet's, since the kernel reaches everything through knet. Which
        // dataplane interface the neighbour is on cannot be told from that (fe80::/64 is on
        // every one of them), so the route is listed and not installed.
        if (config::IsLinkLocal6(r.gateway6)) {
          s.why = "link-local gateway: the dataplane cannot tell which interface";
          kernel_unresolved_++;
          VR_LOG_WARNING("kernel route %s: not installed: %s", Describe(r), s.why);
          return;
        }
        int vif = r.gateway6 != config::Ip6Addr{} ? VifForAddress6(r.gateway6) : -1;
        if (vif < 0) {
          s.why = r.gateway6 == config::Ip6Addr{} ? "no gateway"
                                                   : "gateway outside every interface's subnet";
          kernel_unresolved_++;
          VR_LOG_WARNING("kernel route %s: not installed: %s", Describe(r), s.why);
          return;
        }
        auto gw = ndp_->GatewayNexthop(r.gateway6, uint32_t(vif));
        if (!gw.ok()) {
          s.why = "no next hop free";
          kernel_unresolved_++;
          return;
        }
        s.gateway_ref = true;
        s.gateway_vif = vif;
        nh = *gw;
        break;
      }
      // The kernel's next hop is on knet; the dataplane needs the real one: the gateway, in a
      // subnet of one of its own interfaces.
      int vif = r.gateway != 0 ? VifForAddress(r.gateway) : -1;
      if (vif < 0) {
        s.why = r.gateway == 0 ? "no gateway" : "gateway outside every interface's subnet";
        kernel_unresolved_++;
        VR_LOG_WARNING("kernel route %s/%u: not installed: %s", config::FormatIp4(r.prefix.addr),
                       r.prefix.len, s.why);
        return;
      }
      auto gw = neighbours_->GatewayNexthop(r.gateway, uint32_t(vif));
      if (!gw.ok()) {
        s.why = "no next hop free";
        kernel_unresolved_++;
        return;
      }
      s.gateway_ref = true;
      nh = *gw;
      break;
    }
  }
  absl::Status st = r.v6 ? fib6_->Add(r.prefix6.addr.bytes.data(), r.prefix6.len, nh)
                         : fib_->Add(r.prefix.addr, r.prefix.len, nh);
  if (!st.ok()) {
    s.why = "the FIB refused it";
    kernel_unresolved_++;
    VR_LOG_WARNING("kernel route %s: %s", Describe(r), st.message());
    ReleaseKernelGateway(s);
    return;
  }
  s.nh = nh;
  s.installed = true;
}

void Router::OnKernelRoute(const KernelRoute& r) {
  bool held = r.v6 ? ConfigHolds6(r.prefix6) : ConfigHolds(r.prefix);
  KernelRouteState& s = kernel_routes_[KernelRouteKey::Of(r)];
  // A replace: the new next hop is taken, and written over the old FIB entry in one store,
  // before the old gateway is let go, so a route that keeps its gateway never loses its
  // resolved neighbour and no packet sees the prefix missing.
  KernelRouteState old = s;
  s = KernelRouteState{};
  s.route = r;
  if (held) {
    s.why = "the config holds this prefix";
  } else {
    InstallKernelRoute(s);
  }
  if (old.installed && !s.installed) {
    if (!r.v6) {
      (void)fib_->Delete(r.prefix.addr, r.prefix.len);
    } else if (!ConfigRoute6(r.prefix6)) {
      (void)fib6_->Delete(r.prefix6.addr.bytes.data(), r.prefix6.len);
    }
  }
  ReleaseKernelGateway(old);
}

void Router::OnKernelRouteGone(const config::Ip4Prefix& p) {
  auto it = kernel_routes_.find(Key(p));
  if (it == kernel_routes_.end()) return;
  UninstallKernelRoute(it->second);
  kernel_routes_.erase(it);
}

void Router::OnKernelRouteGone6(const config::Ip6Prefix& p) {
  auto it = kernel_routes_.find(Key(p));
  if (it == kernel_routes_.end()) return;
  UninstallKernelRoute(it->second);
  kernel_routes_.erase(it);
}

void Router::ConfigTakes(const config::Ip4Prefix& p) {
  auto it = kernel_routes_.find(Key(p));
  if (it == kernel_routes_.end() || !it->second.installed) return;
  // The config's route has just replaced it in the FIB; only the books change.
  it->second.installed = false;
  if (it->second.gateway_ref) {
    neighbours_->ReleaseGateway(it->second.route.gateway);
    it->second.gateway_ref = false;
  }
  it->second.why = "the config holds this prefix";
}

void Router::ConfigReleases(const config::Ip4Prefix& p) {
  auto it = kernel_routes_.find(Key(p));
  if (it == kernel_routes_.end() || it->second.installed) return;
  it->second.why = "";
  InstallKernelRoute(it->second);
}

void Router::RetryKernelRoutes() {
  // After addresses changed, gateways may have come inside (or gone outside) a subnet.
  // IPv6 routes also catch up with the config here (see ConfigRoute6).
  for (auto& [key, s] : kernel_routes_) {
    if (s.route.v6 && s.installed && ConfigRoute6(s.route.prefix6)) {
      // The config's route overwrote it in the FIB: only the books change. A longer route
      // that holds a new template member's own address is no config route's: it goes.
      const config::Ip6Prefix& p = s.route.prefix6;
      if (TemplateHolds6(p)) {
        const Block* b = vifs_->BlockOf(uint32_t(MemberForAddress6(p.addr)));
        if (p.len > b->tmpl.address6->len) (void)fib6_->Delete(p.addr.bytes.data(), p.len);
      }
      s.installed = false;
      ReleaseKernelGateway(s);
      s.why = "the config holds this prefix";
      continue;
    }
    if (s.installed) continue;
    if (s.route.v6 ? ConfigHolds6(s.route.prefix6) : ConfigHolds(s.route.prefix)) {
      if (s.route.v6) s.why = "the config holds this prefix";
      continue;
    }
    ReleaseKernelGateway(s);
    s.why = "";
    InstallKernelRoute(s);
  }
}

}  // namespace vr::control
