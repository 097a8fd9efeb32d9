// Sub-interfaces on the router: creating and removing vlan/qinq vifs and template blocks with
// their connected routes, finding the vif of an address, and applying their part of a reload.
#include <rte_ethdev.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/router.h"
#include "drivers/log.h"

namespace vr::control {

using dataplane::NhKind;

namespace {

VifSettings OwnSettings(const config::VifConfig& vc) { return {vc.mtu, vc.up, vc.impairment}; }

// Which member of a template holds `ip` in its subnet, if any.
std::optional<uint32_t> MemberFor(const config::TemplateConfig& t, uint32_t ip) {
  if (!t.address) return std::nullopt;
  uint32_t base = config::NetworkOf(*t.address).addr;
  if (ip < base) return std::nullopt;
  uint64_t off = ip - base;
  uint32_t i = uint32_t(off / t.address_step);
  if (i >= t.size() || off % t.address_step > ~config::PrefixMask(t.address->len)) {
    return std::nullopt;
  }
  return i;
}

}  // namespace

absl::Status Router::AddSubinterface(const config::VifConfig& vc) {
  int port = PortByName(vc.parent);
  if (port < 0) return absl::NotFoundError("no port " + vc.parent);
  rte_ether_addr mac = vc.mac ? ToEther(*vc.mac) : ports_[port].port->mac();
  auto id = vifs_->AddSub(vc.name, uint16_t(port), vc.outer, vc.inner, mac, vc.group,
                          ports_[port].mtu, OwnSettings(vc), vc.addresses);
  if (!id.ok()) return id.status();
  for (const auto& a : vc.addresses) {
    if (absl::Status s = AddConnected(*id, a); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Router::RemoveSubinterface(uint32_t id) {
  const VifRecord* r = vifs_->record(id);
  if (r == nullptr) return absl::NotFoundError(absl::StrFormat("no vif %u", id));
  // Untagged from the classifier first: no new packet enters it while its routes go.
  vifs_->Unpublish(id);
  for (const auto& a : std::vector<config::Ip4Prefix>(r->addresses)) {
    if (absl::Status s = RemoveConnected(id, a); !s.ok()) return s;
  }
  vifs_->SetAddress(id, {});
  neighbours_->RemoveOffSubnet();
  Synchronize();
  vifs_->ReleaseVif(id);
  return absl::OkStatus();
}

absl::Status Router::AddTemplate(uint32_t group, const config::TemplateConfig& t) {
  int port = PortByName(t.parent);
  if (port < 0) return absl::NotFoundError("no port " + t.parent);
  auto block = vifs_->AddBlock(uint16_t(port), ports_[port].port->mac(), ports_[port].mtu, group, t);
  if (!block.ok()) return block.status();
  Block* b = *block;
  if (t.address) {
    b->nexthops.reserve(b->count);
    for (uint32_t i = 0; i < b->count; ++i) {
      auto nh = AddConnectedFib(b->first + i, *config::TemplateMember(t, i).address);
      if (!nh.ok()) return nh.status();
      b->nexthops.push_back(*nh);
    }
  }
  if (t.address6) {
    // One connected route per member, whose next hop carries the member's own address: the FIB
    // answers that address as local without a /128 of its own (dataplane::Fib6::AddConnected).
    b->nexthops6.reserve(b->count);
    for (uint32_t i = 0; i < b->count; ++i) {
      config::Ip6Prefix a = config::TemplateMemberAddress6(t, i);
      config::Ip6Prefix net = config::NetworkOf6(a);
      absl::StatusOr<uint32_t> nh =
          nexthops_->Alloc6(NhKind::kConnected, a.addr.bytes.data(), b->first + i);
      absl::Status s = nh.status();
      if (s.ok()) {
        s = fib6_->AddConnected(net.addr.bytes.data(), net.len, *nh);
        if (!s.ok()) nexthops_->Free(*nh);
      }
      if (!s.ok()) {
        // The members added so far go again: a template is all there or not at all.
        std::string who = absl::StrFormat("the template of %u members on %s, at member %s",
                                          t.size(), t.parent, vifs_->Name(b->first + i));
        (void)RemoveTemplate(b->first);
        return absl::Status(
            s.code(),
            absl::StrCat(who, ": ", s.message(),
                         s.code() == absl::StatusCode::kResourceExhausted
                             ? "; the IPv6 FIB was sized when vrouterd started, for the "
                               "templates of its config and 16,384 groups more: restart it with "
                               "this template in the config"
                             : ""));
      }
      b->nexthops6.push_back(*nh);
    }
  }
  return absl::OkStatus();
}

absl::Status Router::RemoveTemplate(uint32_t first) {
  auto it = vifs_->blocks().find(first);
  if (it == vifs_->blocks().end()) return absl::NotFoundError("no such template block");
  const Block& b = it->second;
  vifs_->UnpublishBlock(b);
  for (uint32_t i = 0; i < b.nexthops.size(); ++i) {
    DeleteConnectedFib(*config::TemplateMember(b.tmpl, i).address);
  }
  for (uint32_t i = 0; i < b.nexthops6.size(); ++i) {
    config::Ip6Prefix net = config::NetworkOf6(config::TemplateMemberAddress6(b.tmpl, i));
    (void)fib6_->Delete(net.addr.bytes.data(), net.len);
  }
  neighbours_->RemoveOffSubnet();
  Synchronize();
  for (const std::vector<uint32_t>* list : {&b.nexthops, &b.nexthops6}) {
    for (uint32_t nh : *list) {
      for (auto& w : workers_) __atomic_store_n(&w->used_flags()[nh], 0, __ATOMIC_RELAXED);
      nexthops_->Free(nh);
    }
  }
  vifs_->ReleaseBlock(&b);
  // With the block gone its members have no IPv6 (not even link-local), so their NDP entries
  // go, but for those a static route still uses: ApplyIpv6 looks at them after the routes.
  if (ndp_ != nullptr) ndp_->RemoveOffSubnet();  // none yet while the router is built
  blocks6_removed_ = true;
  return absl::OkStatus();
}

int Router::VifForAddress(uint32_t ip) const {
  for (const auto& [id, r] : vifs_->records()) {
    for (const auto& a : r.addresses) {
      if (config::Contains(a, ip)) return int(id);
    }
  }
  for (const auto& [first, b] : vifs_->blocks()) {
    if (auto i = MemberFor(b.tmpl, ip)) return int(first + *i);
  }
  return -1;
}

int Router::MemberForAddress6(const config::Ip6Addr& ip) const {
  for (const auto& [first, b] : vifs_->blocks()) {
    if (auto i = config::TemplateMemberFor6(b.tmpl, ip)) return int(first + *i);
  }
  return -1;
}

bool Router::TemplateHolds6(const config::Ip6Prefix& p) const {
  int vif = MemberForAddress6(p.addr);
  if (vif < 0) return false;
  const Block* b = vifs_->BlockOf(uint32_t(vif));
  config::Ip6Prefix own = config::TemplateMemberAddress6(b->tmpl, uint32_t(vif) - b->first);
  return p.len == own.len || (p.len > own.len && config::Contains6(p, own.addr));
}

std::vector<config::Ip6Prefix> Router::Addresses6Of(uint32_t vif) const {
  if (auto it = vif6_.find(vif); it != vif6_.end()) return it->second.addresses;
  if (const Block* b = vifs_->BlockOf(vif); b != nullptr && b->tmpl.address6) {
    return {config::TemplateMemberAddress6(b->tmpl, vif - b->first)};
  }
  return {};
}

config::Ip6Addr Router::LinkLocalOf(uint32_t vif) const {
  if (auto it = vif6_.find(vif); it != vif6_.end()) return it->second.link_local;
  // A member's is the EUI-64 of its MAC, like that of a port or vif that names none.
  if (vifs_->BlockOf(vif) != nullptr) return LinkLocalFromMac(vift_->vif(vif).mac());
  return {};
}

void Router::ForEachTemplateRoute6(const std::function<void(const Route6Entry&)>& fn) const {
  for (const auto& [first, b] : vifs_->blocks()) {
    for (uint32_t i = 0; i < b.nexthops6.size(); ++i) {
      config::Ip6Prefix a = config::TemplateMemberAddress6(b.tmpl, i);
      int v = int(first + i);
      fn({config::NetworkOf6(a), "connected", {}, v, b.nexthops6[i]});
      fn({{a.addr, 128}, "local", {}, v, nh_local_});
    }
  }
}

void Router::ForEachTemplateRoute(const std::function<void(const RouteEntry&)>& fn) const {
  for (const auto& [first, b] : vifs_->blocks()) {
    for (uint32_t i = 0; i < b.nexthops.size(); ++i) {
      config::Ip4Prefix a = *config::TemplateMember(b.tmpl, i).address;
      config::Ip4Prefix net = config::NetworkOf(a);
      int v = int(first + i);
      fn({net, "connected", 0, v, b.nexthops[i]});
      fn({{a.addr, 32}, "local", 0, v, nh_local_});
      if (a.len < 31) {
        fn({{net.addr | ~config::PrefixMask(a.len), 32}, "broadcast", 0, v, nh_broadcast_});
      }
    }
  }
}

// The sub-interface part of Apply: group settings, vifs listed one by one, template blocks.
// Removals first (their tags and addresses may be reused by additions), then changes, then
// additions; group settings last, so a group's new value reaches new members at once.
absl::Status Router::ApplyVifs(const config::Config& next, size_t* changes) {
  // Vifs listed one by one, by name. A changed parent, tags or MAC is a new vif.
  auto find = [](const std::vector<config::VifConfig>& list, const std::string& name) {
    for (const auto& v : list) {
      if (v.name == name) return &v;
    }
    return static_cast<const config::VifConfig*>(nullptr);
  };
  auto same_identity = [](const config::VifConfig& a, const config::VifConfig& b) {
    return a.parent == b.parent && a.outer == b.outer && a.inner == b.inner && a.mac == b.mac;
  };
  for (const auto& ov : config_.vifs) {
    const config::VifConfig* nv = find(next.vifs, ov.name);
    if (nv != nullptr && same_identity(ov, *nv)) continue;
    auto id = vifs_->ByName(ov.name);
    if (id && vifs_->record(*id) != nullptr) {
      if (absl::Status s = RemoveSubinterface(*id); !s.ok()) return s;
      ++*changes;
    }
  }
  // Templates: per group, those no longer in the config go, by value; members' own settings
  // are not part of a block's identity, and change in place below.
  std::vector<uint32_t> doomed;
  std::vector<std::pair<uint32_t, const config::TemplateConfig*>> kept_blocks;
  for (const auto& [first, b] : vifs_->blocks()) {
    const config::TemplateConfig* kept = nullptr;
    for (const auto& g : next.groups) {
      if (g.id != b.group) continue;
      for (const auto& t : g.templates) {
        if (t.SameBlock(b.tmpl)) kept = &t;
      }
    }
    if (kept == nullptr) {
      doomed.push_back(first);
    } else if (kept->members != b.tmpl.members) {
      kept_blocks.emplace_back(first, kept);
    }
  }
  for (uint32_t first : doomed) {
    if (absl::Status s = RemoveTemplate(first); !s.ok()) return s;
    ++*changes;
  }
  for (const auto& [first, t] : kept_blocks) {
    if (absl::Status s = vifs_->SetMembers(first, t->members); !s.ok()) return s;
    ++*changes;
  }
  // Vifs that stay: addresses, settings, group.
  for (const auto& nv : next.vifs) {
    const config::VifConfig* ov = find(config_.vifs, nv.name);
    if (ov == nullptr || !same_identity(*ov, nv)) {
      if (absl::Status s = AddSubinterface(nv); !s.ok()) return s;
      ++*changes;
      continue;
    }
    uint32_t id = *vifs_->ByName(nv.name);
    if (ov->group != nv.group) {
      if (absl::Status s = vifs_->MoveToGroup(id, nv.group); !s.ok()) return s;
      ++*changes;
    }
    if (ov->mtu != nv.mtu || ov->up != nv.up || ov->impairment != nv.impairment) {
      if (absl::Status s = vifs_->SetOwn(id, OwnSettings(nv)); !s.ok()) return s;
      ++*changes;
    }
    if (ov->addresses != nv.addresses) {
      for (const auto& a : ov->addresses) {
        if (std::find(nv.addresses.begin(), nv.addresses.end(), a) != nv.addresses.end()) continue;
        if (absl::Status s = RemoveConnected(id, a); !s.ok()) return s;
      }
      vifs_->SetAddress(id, nv.addresses);
      neighbours_->RemoveOffSubnet();
      for (const auto& a : nv.addresses) {
        if (std::find(ov->addresses.begin(), ov->addresses.end(), a) != ov->addresses.end()) {
          continue;
        }
        if (absl::Status s = AddConnected(id, a); !s.ok()) return s;
      }
      ++*changes;
    }
  }
  // New templates.
  for (const auto& g : next.groups) {
    for (const auto& t : g.templates) {
      bool have = false;
      for (const auto& [first, b] : vifs_->blocks()) have |= b.group == g.id && b.tmpl.SameBlock(t);
      if (have) continue;
      if (absl::Status s = AddTemplate(g.id, t); !s.ok()) return s;
      ++*changes;
    }
  }
  // Group settings that changed, or groups that are gone with settings.
  auto settings_of = [](const config::Config& c, uint32_t id) {
    for (const auto& g : c.groups) {
      if (g.id == id) return VifSettings{g.mtu, g.up, g.impairment};
    }
    return VifSettings{};
  };
  std::vector<uint32_t> ids;
  for (const auto& g : config_.groups) ids.push_back(g.id);
  for (const auto& g : next.groups) ids.push_back(g.id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (uint32_t id : ids) {
    VifSettings o = settings_of(config_, id), n = settings_of(next, id);
    if (o.mtu == n.mtu && o.up == n.up && o.impairment == n.impairment) continue;
    if (absl::Status s = vifs_->SetGroup(id, n); !s.ok()) return s;
    VR_LOG_NOTICE("group %s: settings changed", config::GroupName(next, id));
    ++*changes;
  }
  return absl::OkStatus();
}

}  // namespace vr::control
