// IPv6 on the control lcore: each port's and listed vif's link-local and global addresses, their
// connected and local routes in the IPv6 FIB, static IPv6 routes, and the NDP table's plumbing.
#include "absl/strings/str_format.h"
#include "control/router.h"
#include "drivers/log.h"

namespace vr::control {
namespace {

// RFC 4291 §2.5.6 and appendix A: fe80::/64 with the modified EUI-64 of the MAC.
config::Ip6Addr LinkLocalFromMac(const rte_ether_addr& mac) {
  config::Ip6Addr a;
  const uint8_t* m = mac.addr_bytes;
  a.bytes = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, uint8_t(m[0] ^ 0x02), m[1], m[2], 0xff, 0xfe,
             m[3], m[4], m[5]};
  return a;
}

}  // namespace

absl::Status Router::SetupVif6(uint32_t vif, const std::vector<config::Ip6Prefix>& addresses,
                               const std::optional<config::Ip6Addr>& link_local) {
  Vif6& v = vif6_[vif];
  v.link_local = link_local ? *link_local : LinkLocalFromMac(vift_->vif(vif).mac());
  for (const auto& a : addresses) {
    if (absl::Status s = AddConnected6(vif, a); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Router::AddConnected6(uint32_t vif, const config::Ip6Prefix& a) {
  config::Ip6Prefix net = config::NetworkOf6(a);
  auto nh = nexthops_->Alloc6(dataplane::NhKind::kConnected, nullptr, vif);
  if (!nh.ok()) return nh.status();
  if (absl::Status s = fib6_->Add(net.addr.bytes.data(), net.len, *nh); !s.ok()) {
    nexthops_->Free(*nh);
    return s;
  }
  if (absl::Status s = fib6_->Add(a.addr.bytes.data(), 128, nh_local_); !s.ok()) return s;
  Vif6& v = vif6_[vif];
  v.addresses.push_back(a);
  // The first global address speaks for the vif in ICMPv6 errors.
  vift_->vif6(vif).Set(v.addresses.front().addr.bytes.data());
  int iv = int(vif);
  routes6_.push_back({net, "connected", {}, iv, *nh});
  routes6_.push_back({{a.addr, 128}, "local", {}, iv, nh_local_});
  return absl::OkStatus();
}

int Router::VifForAddress6(const config::Ip6Addr& ip) const {
  for (const auto& [vif, v] : vif6_) {
    for (const auto& a : v.addresses) {
      if (config::Contains6(a, ip)) return int(vif);
    }
  }
  return -1;
}

absl::Status Router::AddRoute6(const config::Route6Config& r) {
  Route6Entry e{r.prefix, "forward", r.via, -1, 0};
  switch (r.type) {
    case config::RouteType::kBlackhole:
      e.type = "blackhole";
      e.nh = nh_blackhole_;
      break;
    case config::RouteType::kUnreachable:
      e.type = "unreachable";
      e.nh = nh_unreachable_;
      break;
    case config::RouteType::kForward: {
      if (config::IsLinkLocal6(r.via)) {
        auto vif = vifs_->ByName(r.port);
        e.vif = vif ? int(*vif) : -1;
      } else {
        e.vif = VifForAddress6(r.via);
      }
      if (e.vif < 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s:%d:%d: route via %s is not inside any interface's IPv6 subnet", r.loc.file,
            r.loc.line, r.loc.column, config::FormatIp6(r.via)));
      }
      auto nh = ndp_->GatewayNexthop(r.via, uint32_t(e.vif));
      if (!nh.ok()) return nh.status();
      e.nh = *nh;
      break;
    }
  }
  if (absl::Status s = fib6_->Add(r.prefix.addr.bytes.data(), r.prefix.len, e.nh); !s.ok()) {
    return s;
  }
  routes6_.push_back(e);
  return absl::OkStatus();
}

absl::Status Router::BuildIpv6(const config::Config& cfg) {
  Ndp6Env env;
  env.fib = fib_.get();
  env.fib6 = fib6_.get();
  env.pool = pool_.get();
  env.nexthops = nexthops_.get();
  env.counters = &control_counters_;
  env.vif_addresses = [this](uint32_t v) {
    auto it = vif6_.find(v);
    return it == vif6_.end() ? std::vector<config::Ip6Prefix>{} : it->second.addresses;
  };
  env.vif_link_local = [this](uint32_t v) {
    auto it = vif6_.find(v);
    return it == vif6_.end() ? config::Ip6Addr{} : it->second.link_local;
  };
  env.vif_name = [this](uint32_t v) { return vifs_->Name(v); };
  env.vif_mac = [this](uint32_t v) { return vift_->vif(v).mac(); };
  env.transmit = [this](rte_mbuf* m) { ToWorker(dataplane::XqAction::kTransmit, m); };
  env.output = [this](rte_mbuf* m) { ToWorker(dataplane::XqAction::kOutput, m); };
  env.take_used = [this](uint32_t nh) { return TakeUsed(nh); };
  env.synchronize = [this] { Synchronize(); };
  env.nd = cfg.arp;
  ndp_ = std::make_unique<Ndp6Table>(std::move(env));

  for (const auto& pc : cfg.ports) {
    auto vif = vifs_->ByName(pc.name);
    if (!vif) continue;
    if (absl::Status s = SetupVif6(*vif, pc.addresses6, pc.link_local); !s.ok()) return s;
  }
  for (const auto& vc : cfg.vifs) {
    auto vif = vifs_->ByName(vc.name);
    if (!vif) continue;
    if (absl::Status s = SetupVif6(*vif, vc.addresses6, vc.link_local); !s.ok()) return s;
  }
  for (const auto& nc : cfg.neighbours6) {
    auto vif = vifs_->ByName(nc.port);
    if (!vif) return absl::InvalidArgumentError("neighbour on unknown interface " + nc.port);
    if (absl::Status s = ndp_->AddStatic(nc.ip, *vif, ToEther(nc.mac)); !s.ok()) return s;
  }
  for (const auto& rc : cfg.routes6) {
    if (absl::Status s = AddRoute6(rc); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace vr::control
