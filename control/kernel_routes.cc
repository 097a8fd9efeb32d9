// Routes mirrored from the kernel (knet's route mirror is the source): each resolved to a dataplane
// next hop and installed unless a route from the config or an address holds the same prefix.
#include "absl/strings/str_format.h"
#include "control/router.h"
#include "drivers/log.h"

namespace vr::control {

namespace {
uint64_t Key(const config::Ip4Prefix& p) { return (uint64_t{p.addr} << 8) | p.len; }
}  // namespace

absl::Status Router::OpenRouteMirror() {
  RouteMirrorOptions mo;
  mo.table = config_.knet.table;
  mo.protocols = config_.knet.protocols;
  mo.own_protocol = config::kVrouterRouteProtocol;
  RouteMirrorSink sink;
  sink.set = [this](const KernelRoute& r) { OnKernelRoute(r); };
  sink.remove = [this](const config::Ip4Prefix& p) { OnKernelRouteGone(p); };
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

void Router::UninstallKernelRoute(KernelRouteState& s) {
  if (s.installed) {
    (void)fib_->Delete(s.route.prefix.addr, s.route.prefix.len);
    s.installed = false;
  }
  if (s.gateway_ref) {
    neighbours_->ReleaseGateway(s.route.gateway);
    s.gateway_ref = false;
  }
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
  if (absl::Status st = fib_->Add(r.prefix.addr, r.prefix.len, nh); !st.ok()) {
    s.why = "the FIB refused it";
    kernel_unresolved_++;
    VR_LOG_WARNING("kernel route %s/%u: %s", config::FormatIp4(r.prefix.addr), r.prefix.len,
                   st.message());
    return;
  }
  s.nh = nh;
  s.installed = true;
}

void Router::OnKernelRoute(const KernelRoute& r) {
  bool held = ConfigHolds(r.prefix);
  KernelRouteState& s = kernel_routes_[Key(r.prefix)];
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
  if (old.installed && !s.installed) (void)fib_->Delete(r.prefix.addr, r.prefix.len);
  if (old.gateway_ref) neighbours_->ReleaseGateway(old.route.gateway);
}

void Router::OnKernelRouteGone(const config::Ip4Prefix& p) {
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
  for (auto& [key, s] : kernel_routes_) {
    if (s.installed || ConfigHolds(s.route.prefix)) continue;
    if (s.gateway_ref) {
      neighbours_->ReleaseGateway(s.route.gateway);
      s.gateway_ref = false;
    }
    s.why = "";
    InstallKernelRoute(s);
  }
}

}  // namespace vr::control
