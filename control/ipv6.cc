// IPv6 on the control lcore: each port's and listed vif's link-local and global addresses, their
// connected and local routes in the IPv6 FIB, static IPv6 routes, and the NDP table's plumbing.
#include <rte_cycles.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_format.h"
#include "control/router.h"
#include "drivers/log.h"

namespace vr::control {

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
  return MemberForAddress6(ip);  // template members: by arithmetic (subinterfaces.cc)
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
  env.vif_addresses = [this](uint32_t v) { return Addresses6Of(v); };
  env.vif_link_local = [this](uint32_t v) { return LinkLocalOf(v); };
  env.vif_name = [this](uint32_t v) { return vifs_->Name(v); };
  env.vif_mac = [this](uint32_t v) { return vift_->vif(v).mac(); };
  env.transmit = [this](rte_mbuf* m) { ToWorker(dataplane::XqAction::kTransmit, m); };
  env.output = [this](rte_mbuf* m) { ToWorker(dataplane::XqAction::kOutput, m); };
  env.take_used = [this](uint32_t nh) { return TakeUsed(nh); };
  env.synchronize = [this] { Synchronize(); };
  env.nd = cfg.arp;
  env.router_solicit = [this](rte_mbuf* m) { ra_->OnSolicit(m, NowMs()); };
  ndp_ = std::make_unique<Ndp6Table>(std::move(env));
  RouterAdvertEnv ra;
  ra.pool = pool_.get();
  ra.counters = &control_counters_;
  ra.interface = [this](uint32_t v) { return RaInterfaceOf(v); };
  ra.transmit = [this](rte_mbuf* m) { ToWorker(dataplane::XqAction::kTransmit, m); };
  ra.learn = [this](uint32_t v, const config::Ip6Addr& src, const rte_ether_addr& mac) {
    ndp_->LearnRouterSolicitor(src, v, mac);
  };
  ra.seed = rte_rdtsc();
  ra_ = std::make_unique<RouterAdverts>(std::move(ra));

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
  ApplyRouterAdverts(cfg);
  return absl::OkStatus();
}

}  // namespace vr::control

namespace vr::control {

absl::Status Router::RemoveConnected6(uint32_t vif, const config::Ip6Prefix& a) {
  config::Ip6Prefix net = config::NetworkOf6(a);
  std::vector<uint32_t> freed;
  for (auto it = routes6_.begin(); it != routes6_.end();) {
    bool mine = it->vif == int(vif) &&
                ((it->type == "connected" && it->prefix == net) ||
                 (it->type == "local" && it->prefix == config::Ip6Prefix{a.addr, 128}));
    if (!mine) {
      ++it;
      continue;
    }
    (void)fib6_->Delete(it->prefix.addr.bytes.data(), it->prefix.len);
    if (it->type == "connected") freed.push_back(it->nh);
    it = routes6_.erase(it);
  }
  Vif6& v = vif6_[vif];
  v.addresses.erase(std::remove(v.addresses.begin(), v.addresses.end(), a), v.addresses.end());
  if (v.addresses.empty()) {
    uint8_t none[16] = {};
    vift_->vif6(vif).Set(none);
  } else {
    vift_->vif6(vif).Set(v.addresses.front().addr.bytes.data());
  }
  // The connected next hop may be in flight in a worker until a grace period has passed.
  Synchronize();
  for (uint32_t nh : freed) {
    for (auto& w : workers_) __atomic_store_n(&w->used_flags()[nh], 0, __ATOMIC_RELAXED);
    nexthops_->Free(nh);
  }
  return absl::OkStatus();
}

absl::Status Router::DeleteRoute6(const config::Ip6Prefix& prefix) {
  for (auto it = routes6_.begin(); it != routes6_.end(); ++it) {
    bool user = it->type == "forward" || it->type == "blackhole" || it->type == "unreachable";
    if (!(it->prefix == prefix) || !user) continue;
    if (absl::Status s = fib6_->Delete(prefix.addr.bytes.data(), prefix.len); !s.ok()) return s;
    if (it->type == "forward") ndp_->ReleaseGateway(it->via, uint32_t(it->vif));
    routes6_.erase(it);
    return absl::OkStatus();
  }
  return absl::NotFoundError("no route " + config::FormatIp6(prefix.addr) + "/" +
                             std::to_string(prefix.len));
}

absl::Status Router::ApplyIpv6(const config::Config& next, size_t* changes) {
  const config::Config& cur = config_;
  // 1. Routes and static neighbours that went or changed, before the addresses they rely on.
  //    Routes are matched by lookup and the gone ones removed in one pass over routes6_: a
  //    search per route made reloads of tens of thousands of routes quadratic.
  using Key6 = std::pair<config::Ip6Addr, uint8_t>;
  std::map<Key6, const config::Route6Config*> cur_routes;
  std::set<Key6> next_routes, gone;
  for (const auto& r : cur.routes6) cur_routes[{r.prefix.addr, r.prefix.len}] = &r;
  for (const auto& r : next.routes6) next_routes.insert({r.prefix.addr, r.prefix.len});
  for (const auto& [key, r] : cur_routes) {
    if (next_routes.count(key) == 0) gone.insert(key);  // not kept, not changed
  }
  if (!gone.empty()) {
    absl::Status failed;
    size_t before = routes6_.size();
    std::erase_if(routes6_, [&](const Route6Entry& e) {
      bool user = e.type == "forward" || e.type == "blackhole" || e.type == "unreachable";
      if (!failed.ok() || !user || gone.count({e.prefix.addr, e.prefix.len}) == 0) return false;
      failed = fib6_->Delete(e.prefix.addr.bytes.data(), e.prefix.len);
      if (!failed.ok()) return false;
      if (e.type == "forward") ndp_->ReleaseGateway(e.via, uint32_t(e.vif));
      return true;
    });
    *changes += before - routes6_.size();
    if (!failed.ok()) return failed;
  }
  for (const auto& n : cur.neighbours6) {
    // Kept, or only its MAC changed (AddStatic below overwrites it).
    bool kept = std::any_of(next.neighbours6.begin(), next.neighbours6.end(),
                            [&](const auto& m) { return m.ip == n.ip && m.port == n.port; });
    if (kept) continue;
    if (auto vif = vifs_->ByName(n.port)) ndp_->RemoveStatic(n.ip, *vif);
    ++*changes;
  }
  // 2. Addresses, per port and listed vif. Neighbours of template members that went with their
  //    block and were kept by a route of step 1 go now too.
  bool removed = blocks6_removed_;
  blocks6_removed_ = false;
  auto apply = [&](const std::string& name, const std::vector<config::Ip6Prefix>& want,
                   const std::optional<config::Ip6Addr>& link_local) -> absl::Status {
    auto id = vifs_->ByName(name);
    if (!id) return absl::OkStatus();
    if (!vif6_.contains(*id)) {
      if (absl::Status s = SetupVif6(*id, {}, link_local); !s.ok()) return s;
    }
    Vif6& v = vif6_[*id];
    config::Ip6Addr ll = link_local ? *link_local : v.link_local;
    if (link_local && !(v.link_local == ll)) {
      v.link_local = ll;
      ++*changes;
    }
    std::vector<config::Ip6Prefix> old = v.addresses;
    for (const auto& a : old) {
      if (std::find(want.begin(), want.end(), a) != want.end()) continue;
      if (absl::Status s = RemoveConnected6(*id, a); !s.ok()) return s;
      removed = true;
      ++*changes;
    }
    for (const auto& a : want) {
      if (std::find(old.begin(), old.end(), a) != old.end()) continue;
      if (absl::Status s = AddConnected6(*id, a); !s.ok()) return s;
      ++*changes;
    }
    return absl::OkStatus();
  };
  for (const auto& p : next.ports) {
    if (absl::Status s = apply(p.name, p.addresses6, p.link_local); !s.ok()) return s;
  }
  for (const auto& v : next.vifs) {
    if (absl::Status s = apply(v.name, v.addresses6, v.link_local); !s.ok()) return s;
  }
  if (removed) ndp_->RemoveOffSubnet();
  // 3. Static neighbours and routes that are new or changed.
  for (const auto& n : next.neighbours6) {
    bool same = std::any_of(cur.neighbours6.begin(), cur.neighbours6.end(),
                            [&](const auto& m) { return m == n; });
    if (same) continue;
    auto vif = vifs_->ByName(n.port);
    if (!vif) return absl::NotFoundError("neighbour on unknown interface " + n.port);
    if (absl::Status s = ndp_->AddStatic(n.ip, *vif, ToEther(n.mac)); !s.ok()) return s;
    ++*changes;
  }
  for (const auto& r : next.routes6) {
    auto it = cur_routes.find({r.prefix.addr, r.prefix.len});
    if (it != cur_routes.end() && *it->second == r) continue;
    // A changed route: the new next hop is written over the old in one store, then the old
    // gateway is let go, so the prefix never disappears.
    std::optional<Route6Entry> old;
    for (auto e = routes6_.begin(); it != cur_routes.end() && e != routes6_.end(); ++e) {
      if (e->prefix == r.prefix && e->type != "connected" && e->type != "local") {
        old = *e;
        routes6_.erase(e);
        break;
      }
    }
    if (absl::Status s = AddRoute6(r); !s.ok()) return s;
    if (old && old->type == "forward") ndp_->ReleaseGateway(old->via, uint32_t(old->vif));
    ++*changes;
  }
  return absl::OkStatus();
}

}  // namespace vr::control

namespace vr::control {

// --- Router advertisements (control/router_adverts.h) -------------------------------------------

RaInterface Router::RaInterfaceOf(uint32_t vif) const {
  RaInterface r;
  std::optional<VifInfo> info = vifs_->Info(vif);
  auto v6 = vif6_.find(vif);
  if (!info || v6 == vif6_.end()) return r;
  r.exists = true;
  // A sub-interface sends nothing while its port is down either.
  r.up = info->up && ports_[info->port].up;
  r.mac = info->mac;
  r.mtu = info->mtu;
  r.link_local = v6->second.link_local;
  r.addresses = v6->second.addresses;
  r.name = info->name;
  return r;
}

void Router::ApplyRouterAdverts(const config::Config& next) {
  uint64_t now = NowMs();
  auto configure = [&](const std::string& name,
                       const std::optional<config::RouterAdvertConfig>& ra) {
    if (auto vif = vifs_->ByName(name)) ra_->Configure(*vif, ra, now);
  };
  for (const auto& p : next.ports) configure(p.name, p.router_advertisements);
  for (const auto& v : next.vifs) configure(v.name, v.router_advertisements);
  ra_->Recheck(now);
}

void Router::RemoveRouterAdverts(const config::Config& next) {
  // An interface that goes sends its final advertisement while it still can (§6.2.5).
  std::set<std::string> kept;
  for (const auto& p : next.ports) kept.insert(p.name);
  for (const auto& v : next.vifs) kept.insert(v.name);
  auto remove = [&](const std::string& name) {
    if (kept.count(name) != 0) return;
    if (auto vif = vifs_->ByName(name)) ra_->Remove(*vif);
  };
  for (const auto& p : config_.ports) remove(p.name);
  for (const auto& v : config_.vifs) remove(v.name);
}

}  // namespace vr::control
