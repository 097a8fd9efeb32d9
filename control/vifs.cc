// Vif and group bookkeeping on the control lcore: id and group-slot allocation, stamped settings,
// impairment profiles, and the per-member arithmetic that keeps template members record-free.
#include "control/vifs.h"

#include <rte_cycles.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace vr::control {

using dataplane::Stamped;
using dataplane::VifKind;

absl::StatusOr<uint32_t> Vifs::AcquireGroup(uint32_t group) {
  auto it = groups_.find(group);
  if (it == groups_.end()) {
    uint32_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else if (next_slot_ < dataplane::kMaxGroupSlots) {
      slot = next_slot_++;
    } else {
      return absl::ResourceExhaustedError(
          absl::StrFormat("more than %u groups in use", dataplane::kMaxGroupSlots - 1));
    }
    dataplane::GroupView& g = table_->group(slot);
    g.mtu.store(0);
    g.up.store(0);
    g.impair.store(0);
    it = groups_.emplace(group, GroupUse{slot, 0, false}).first;
  }
  it->second.members++;
  return it->second.slot;
}

void Vifs::ReleaseGroup(uint32_t group) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return;
  if (--it->second.members == 0 && !it->second.settings) {
    // No vif names the slot any more; it is reused only by a group set up from scratch.
    if (slot_released_) slot_released_(it->first, it->second.slot);
    free_slots_.push_back(it->second.slot);
    groups_.erase(it);
  }
}

uint32_t Vifs::GroupSlot(uint32_t group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? ~0u : it->second.slot;
}

absl::StatusOr<uint32_t> Vifs::AcquireProfile(const config::ImpairmentConfig& c) {
  if (c.mode == config::ImpairMode::kPass) return 0;
  for (auto& [index, use] : profiles_) {
    if (use.config == c) {
      use.refs++;
      return index;
    }
  }
  uint32_t index;
  if (free_profiles_.empty() && next_profile_ >= dataplane::kMaxImpairProfiles &&
      !pending_profiles_.empty()) {
    synchronize_();
    free_profiles_.insert(free_profiles_.end(), pending_profiles_.begin(),
                          pending_profiles_.end());
    pending_profiles_.clear();
  }
  if (!free_profiles_.empty()) {
    index = free_profiles_.back();
    free_profiles_.pop_back();
  } else if (next_profile_ < dataplane::kMaxImpairProfiles) {
    index = next_profile_++;
  } else {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "more than %u different impairment settings in use", dataplane::kMaxImpairProfiles - 1));
  }
  dataplane::ImpairProfile& p = table_->profile(index);
  p.kind = c.mode == config::ImpairMode::kDrop ? dataplane::ImpairKind::kDrop
                                               : dataplane::ImpairKind::kFlap;
  p.threshold = (uint64_t{c.drop_percent} << 32) / 100;
  p.seed = c.seed;
  uint64_t hz = rte_get_tsc_hz();
  p.on_cycles = hz / 1000 * c.on_ms;
  p.period_cycles = std::max<uint64_t>(1, hz / 1000 * (uint64_t{c.on_ms} + c.off_ms));
  p.epoch = rte_rdtsc();
  p.generation = ++generation_;
  std::atomic_thread_fence(std::memory_order_release);
  profiles_[index] = ProfileUse{c, 1};
  return index;
}

void Vifs::ReleaseProfile(uint32_t index) {
  if (index == 0) return;
  auto it = profiles_.find(index);
  if (it == profiles_.end() || --it->second.refs != 0) return;
  profiles_.erase(it);
  pending_profiles_.push_back(index);
}

const config::ImpairmentConfig* Vifs::Profile(uint32_t index) const {
  auto it = profiles_.find(index);
  return it == profiles_.end() ? nullptr : &it->second.config;
}

absl::StatusOr<uint32_t> Vifs::AllocIds(uint32_t count) {
  for (auto it = free_ids_.begin(); it != free_ids_.end(); ++it) {
    if (it->second < count) continue;
    uint32_t first = it->first, left = it->second - count;
    free_ids_.erase(it);
    if (left != 0) free_ids_[first + count] = left;
    return first;
  }
  if (uint64_t{next_id_} + count > dataplane::kKnetVif) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("no room for %u more vifs (at most %u)", count, dataplane::kKnetVif));
  }
  uint32_t first = next_id_;
  next_id_ += count;
  return first;
}

void Vifs::FreeIds(uint32_t first, uint32_t count) {
  auto [it, inserted] = free_ids_.emplace(first, count);
  // Merge with the neighbours on both sides, so a block removed and added again fits.
  if (auto next = std::next(it); next != free_ids_.end() && first + count == next->first) {
    it->second += next->second;
    free_ids_.erase(next);
  }
  if (it != free_ids_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second == it->first) {
      prev->second += it->second;
      free_ids_.erase(it);
    }
  }
}

void Vifs::FillView(uint32_t id, uint16_t port, uint16_t outer, uint16_t inner,
                    const rte_ether_addr& mac, uint32_t slot, uint32_t default_mtu,
                    const std::vector<config::Ip4Prefix>& addresses) {
  dataplane::VifView& v = table_->vif(id);
  v.SetMac(mac);
  v.SetTags(outer, inner);
  v.port = port;
  v.kind = inner != 0 ? VifKind::kQinq : outer != 0 ? VifKind::kVlan : VifKind::kPort;
  v.group.store(slot, std::memory_order_relaxed);
  v.mtu.store(Stamped(0, default_mtu), std::memory_order_relaxed);
  v.up.store(Stamped(0, 1), std::memory_order_relaxed);
  v.impair.store(0, std::memory_order_relaxed);
  v.addr.store(addresses.empty() ? 0 : rte_cpu_to_be_32(addresses[0].addr),
               std::memory_order_relaxed);
}

absl::Status Vifs::Publish(uint16_t port, uint16_t outer, uint16_t inner, uint32_t id) {
  dataplane::PortClassifier& c = table_->classifier(port);
  if (inner == 0) {
    c.vlan[outer].store(id, std::memory_order_release);
    return absl::OkStatus();
  }
  std::atomic<uint32_t>* t = c.qinq[outer].load(std::memory_order_relaxed);
  if (t == nullptr) {
    t = new std::atomic<uint32_t>[4096]();
    c.qinq[outer].store(t, std::memory_order_release);
  }
  t[inner].store(id, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Vifs::AddPort(uint16_t port, const std::string& name, const rte_ether_addr& mac,
                           uint32_t mtu, bool up, uint32_t group,
                           const std::vector<config::Ip4Prefix>& addresses) {
  ++changes_;
  auto slot = AcquireGroup(group);
  if (!slot.ok()) return slot.status();
  FillView(port, port, 0, 0, mac, *slot, mtu, addresses);
  VifRecord r;
  r.id = port;
  r.name = name;
  r.kind = VifKind::kPort;
  r.port = port;
  r.group = group;
  r.default_mtu = mtu;
  r.addresses = addresses;
  records_[port] = std::move(r);
  names_[name] = port;
  // A port always carries its own settings: they outrank any group setting made before.
  VifSettings own;
  own.mtu = mtu;
  own.up = up;
  return SetOwn(port, own);
}

absl::StatusOr<uint32_t> Vifs::AddSub(const std::string& name, uint16_t port, uint16_t outer,
                                      uint16_t inner, const rte_ether_addr& mac, uint32_t group,
                                      uint32_t default_mtu, const VifSettings& own,
                                      const std::vector<config::Ip4Prefix>& addresses) {
  ++changes_;
  if (names_.contains(name)) return absl::AlreadyExistsError("a vif named " + name + " exists");
  if (table_->Classify(port, inner != 0, outer, inner) != dataplane::kNoVif) {
    return absl::AlreadyExistsError(
        absl::StrFormat("%s: tags %u%s are in use on that port", name, outer,
                        inner != 0 ? absl::StrFormat(".%u", inner) : ""));
  }
  auto id = AllocIds(1);
  if (!id.ok()) return id.status();
  auto slot = AcquireGroup(group);
  if (!slot.ok()) {
    FreeIds(*id, 1);
    return slot.status();
  }
  FillView(*id, port, outer, inner, mac, *slot, default_mtu, addresses);
  VifRecord r;
  r.id = *id;
  r.name = name;
  r.kind = inner != 0 ? VifKind::kQinq : VifKind::kVlan;
  r.port = port;
  r.outer = outer;
  r.inner = inner;
  r.group = group;
  r.default_mtu = default_mtu;
  r.addresses = addresses;
  records_[*id] = std::move(r);
  names_[name] = *id;
  if (absl::Status s = SetOwn(*id, own); !s.ok()) return s;
  if (absl::Status s = Publish(port, outer, inner, *id); !s.ok()) return s;
  return *id;
}

absl::StatusOr<Block*> Vifs::AddBlock(uint16_t port, const rte_ether_addr& parent_mac,
                                      uint32_t default_mtu, uint32_t group,
                                      const config::TemplateConfig& t) {
  ++changes_;
  uint32_t n = t.size();
  for (uint32_t i = 0; i < n; ++i) {
    config::TemplateMemberInfo m = config::TemplateMember(t, i);
    if (table_->Classify(port, m.inner != 0, m.outer, m.inner) != dataplane::kNoVif) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "template on %s: tags %u%s are in use on that port", t.parent, m.outer,
          m.inner != 0 ? absl::StrFormat(".%u", m.inner) : ""));
    }
  }
  auto first = AllocIds(n);
  if (!first.ok()) return first.status();
  auto slot = AcquireGroup(group);
  if (!slot.ok()) {
    FreeIds(*first, n);
    return slot.status();
  }
  groups_[group].members += n - 1;
  std::vector<config::Ip4Prefix> one(1);
  for (uint32_t i = 0; i < n; ++i) {
    config::TemplateMemberInfo m = config::TemplateMember(t, i);
    std::vector<config::Ip4Prefix> addrs;
    if (m.address) {
      one[0] = *m.address;
    }
    FillView(*first + i, port, m.outer, m.inner, m.mac ? ToEther(*m.mac) : parent_mac, *slot,
             default_mtu, m.address ? one : addrs);
    // ICMPv6 errors a member sends come from its own address. Without one the view stays
    // all-zero (ReleaseBlock and every other owner of an id leave it so): no source, no error.
    if (m.address6) table_->vif6(*first + i).Set(m.address6->addr.bytes.data());
  }
  // Members with settings of their own have them before they can see a frame.
  auto member_id = [&](const config::MemberConfig& m) {
    return *first + *config::TemplateMemberIndex(t, m.outer, m.inner);
  };
  for (size_t k = 0; k < t.members.size(); ++k) {
    const config::MemberConfig& m = t.members[k];
    absl::Status st = WriteOwn(table_->vif(member_id(m)), default_mtu, {m.mtu, m.up, m.impairment});
    if (!st.ok()) {
      // The profile table is full. Nothing is published yet: undo, and leave no trace.
      for (size_t j = 0; j < k; ++j) {
        ReleaseProfile(uint32_t(table_->vif(member_id(t.members[j])).impair.load()));
      }
      static const uint8_t kNone[16] = {};
      for (uint32_t i = 0; i < n; ++i) {
        table_->vif(*first + i).kind = VifKind::kUnused;
        if (t.address6) table_->vif6(*first + i).Set(kNone);
      }
      groups_[group].members -= n - 1;
      ReleaseGroup(group);
      FreeIds(*first, n);
      return st;
    }
  }
  // Views are complete before any classifier names them.
  std::atomic_thread_fence(std::memory_order_release);
  for (uint32_t i = 0; i < n; ++i) {
    config::TemplateMemberInfo m = config::TemplateMember(t, i);
    (void)Publish(port, m.outer, m.inner, *first + i);
  }
  Block b;
  b.first = *first;
  b.count = n;
  b.group = group;
  b.port = port;
  b.default_mtu = default_mtu;
  b.tmpl = t;
  return &(blocks_[*first] = std::move(b));
}

void Vifs::Unpublish(uint32_t id) {
  ++changes_;
  const VifRecord* r = record(id);
  if (r == nullptr || r->kind == VifKind::kPort) return;
  dataplane::PortClassifier& c = table_->classifier(r->port);
  if (r->inner == 0) {
    c.vlan[r->outer].store(dataplane::kNoVif, std::memory_order_release);
  } else if (auto* t = c.qinq[r->outer].load(std::memory_order_relaxed)) {
    t[r->inner].store(dataplane::kNoVif, std::memory_order_release);
  }
}

void Vifs::UnpublishBlock(const Block& b) {
  ++changes_;
  dataplane::PortClassifier& c = table_->classifier(b.port);
  for (uint32_t i = 0; i < b.count; ++i) {
    config::TemplateMemberInfo m = config::TemplateMember(b.tmpl, i);
    if (m.inner == 0) {
      c.vlan[m.outer].store(dataplane::kNoVif, std::memory_order_release);
    } else if (auto* t = c.qinq[m.outer].load(std::memory_order_relaxed)) {
      t[m.inner].store(dataplane::kNoVif, std::memory_order_release);
    }
  }
}

void Vifs::ReleaseVif(uint32_t id) {
  ++changes_;
  auto it = records_.find(id);
  if (it == records_.end()) return;
  dataplane::VifView& v = table_->vif(id);
  ReleaseProfile(uint32_t(v.impair.load()));
  v.kind = VifKind::kUnused;
  ReleaseGroup(it->second.group);
  names_.erase(it->second.name);
  if (it->second.kind != VifKind::kPort) FreeIds(id, 1);
  records_.erase(it);
}

void Vifs::ReleaseBlock(const Block* b) {
  ++changes_;
  for (const auto& m : b->tmpl.members) {
    uint32_t id = b->first + *config::TemplateMemberIndex(b->tmpl, m.outer, m.inner);
    ReleaseProfile(uint32_t(table_->vif(id).impair.load(std::memory_order_relaxed)));
  }
  static const uint8_t kNone[16] = {};
  for (uint32_t i = 0; i < b->count; ++i) {
    table_->vif(b->first + i).kind = VifKind::kUnused;
    if (b->tmpl.address6) table_->vif6(b->first + i).Set(kNone);
  }
  auto g = groups_.find(b->group);
  if (g != groups_.end()) g->second.members -= b->count - 1;
  ReleaseGroup(b->group);
  FreeIds(b->first, b->count);
  blocks_.erase(b->first);
}

absl::Status Vifs::WriteOwn(dataplane::VifView& v, uint32_t default_mtu,
                            const VifSettings& own) {
  uint32_t imp = 0;
  if (own.impairment) {
    auto p = AcquireProfile(*own.impairment);
    if (!p.ok()) return p.status();
    imp = *p;
  }
  uint64_t old_imp = v.impair.load(std::memory_order_relaxed);
  uint32_t stamp = NextStamp();
  v.mtu.store(own.mtu ? Stamped(stamp, *own.mtu) : Stamped(0, default_mtu),
              std::memory_order_release);
  v.up.store(own.up ? Stamped(stamp, *own.up) : Stamped(0, 1), std::memory_order_release);
  v.impair.store(own.impairment ? Stamped(stamp, imp) : 0, std::memory_order_release);
  ReleaseProfile(uint32_t(old_imp));
  return absl::OkStatus();
}

absl::Status Vifs::SetOwn(uint32_t id, const VifSettings& own) {
  // Template members' own settings go through SetMembers, which keeps their list.
  VifRecord* r = record(id);
  if (r == nullptr) return absl::NotFoundError(absl::StrFormat("no vif %u", id));
  if (absl::Status s = WriteOwn(table_->vif(id), r->default_mtu, own); !s.ok()) return s;
  r->impairment = own.impairment;
  return absl::OkStatus();
}

absl::Status Vifs::SetMembers(uint32_t first, const std::vector<config::MemberConfig>& members) {
  auto it = blocks_.find(first);
  if (it == blocks_.end()) return absl::NotFoundError("no such template block");
  Block& b = it->second;
  auto index = [&b](const config::MemberConfig& m) {
    return *config::TemplateMemberIndex(b.tmpl, m.outer, m.inner);
  };
  std::map<uint32_t, const config::MemberConfig*> now;
  for (const auto& m : members) now[index(m)] = &m;
  for (const auto& m : b.tmpl.members) {
    if (!now.count(index(m))) {
      if (absl::Status s = WriteOwn(table_->vif(first + index(m)), b.default_mtu, {}); !s.ok()) {
        return s;
      }
    }
  }
  std::map<uint32_t, const config::MemberConfig*> before;
  for (const auto& m : b.tmpl.members) before[index(m)] = &m;
  for (const auto& [i, m] : now) {
    auto was = before.find(i);
    if (was != before.end() && *was->second == *m) continue;
    if (absl::Status s = WriteOwn(table_->vif(first + i), b.default_mtu,
                                  {m->mtu, m->up, m->impairment});
        !s.ok()) {
      return s;
    }
  }
  b.tmpl.members = members;
  return absl::OkStatus();
}

absl::Status Vifs::SetGroup(uint32_t group, const VifSettings& settings) {
  bool any = settings.mtu || settings.up || settings.impairment;
  auto it = groups_.find(group);
  if (it == groups_.end()) {
    if (!any) return absl::OkStatus();
    auto slot = AcquireGroup(group);
    if (!slot.ok()) return slot.status();
    it = groups_.find(group);
    it->second.members--;
  }
  uint32_t imp = 0;
  if (settings.impairment) {
    auto p = AcquireProfile(*settings.impairment);
    if (!p.ok()) return p.status();
    imp = *p;
  }
  // Vifs of the group with settings of their own keep them: they are stamped again, newer than
  // the group's new stamp, before the group's words change. Ports, vifs listed one by one and
  // the members a template lists have settings of their own, so this loop never runs over a
  // template's other members.
  uint32_t stamp = NextStamp();
  auto restamp = [this](uint32_t id) {
    dataplane::VifView& v = table_->vif(id);
    uint32_t again = NextStamp();
    for (std::atomic<uint64_t>* w : {&v.mtu, &v.up, &v.impair}) {
      uint64_t old = w->load(std::memory_order_relaxed);
      if ((old >> 32) != 0) w->store(Stamped(again, uint32_t(old)), std::memory_order_release);
    }
  };
  for (auto& [id, r] : records_) {
    if (r.group == group) restamp(id);
  }
  for (auto& [first, b] : blocks_) {
    if (b.group != group) continue;
    for (const auto& m : b.tmpl.members) {
      restamp(first + *config::TemplateMemberIndex(b.tmpl, m.outer, m.inner));
    }
  }
  dataplane::GroupView& g = table_->group(it->second.slot);
  uint64_t old_imp = g.impair.load(std::memory_order_relaxed);
  g.mtu.store(settings.mtu ? Stamped(stamp, *settings.mtu) : 0, std::memory_order_release);
  g.up.store(settings.up ? Stamped(stamp, *settings.up) : 0, std::memory_order_release);
  g.impair.store(settings.impairment ? Stamped(stamp, imp) : 0, std::memory_order_release);
  ReleaseProfile(uint32_t(old_imp));
  it->second.settings = any;
  if (!any && it->second.members == 0) {
    if (slot_released_) slot_released_(it->first, it->second.slot);
    free_slots_.push_back(it->second.slot);
    groups_.erase(it);
  }
  return absl::OkStatus();
}

absl::Status Vifs::MoveToGroup(uint32_t id, uint32_t group) {
  ++changes_;
  VifRecord* r = record(id);
  if (r == nullptr) return absl::NotFoundError(absl::StrFormat("no vif %u", id));
  if (r->group == group) return absl::OkStatus();
  auto slot = AcquireGroup(group);
  if (!slot.ok()) return slot.status();
  table_->vif(id).group.store(*slot, std::memory_order_release);
  ReleaseGroup(r->group);
  r->group = group;
  return absl::OkStatus();
}

void Vifs::SetAddress(uint32_t id, const std::vector<config::Ip4Prefix>& addresses) {
  VifRecord* r = record(id);
  if (r == nullptr) return;
  r->addresses = addresses;
  table_->vif(id).addr.store(addresses.empty() ? 0 : rte_cpu_to_be_32(addresses[0].addr),
                             std::memory_order_release);
}

VifRecord* Vifs::record(uint32_t id) {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

const VifRecord* Vifs::record(uint32_t id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

const Block* Vifs::BlockOf(uint32_t id) const {
  auto it = blocks_.upper_bound(id);
  if (it == blocks_.begin()) return nullptr;
  --it;
  return id < it->second.first + it->second.count ? &it->second : nullptr;
}

std::optional<uint32_t> Vifs::ByName(std::string_view name) const {
  if (auto it = names_.find(absl::string_view(name.data(), name.size())); it != names_.end()) {
    return it->second;
  }
  // PARENT.OUTER or PARENT.OUTER.INNER: a template member, found by its tags.
  std::vector<std::string> parts = absl::StrSplit(absl::string_view(name.data(), name.size()), '.');
  if (parts.size() < 2 || parts.size() > 3) return std::nullopt;
  auto parent = names_.find(parts[0]);
  if (parent == names_.end() || parent->second >= RTE_MAX_ETHPORTS) return std::nullopt;
  uint32_t outer = 0, inner = 0;
  if (!absl::SimpleAtoi(parts[1], &outer) || outer == 0 || outer > 4094) return std::nullopt;
  if (parts.size() == 3 && (!absl::SimpleAtoi(parts[2], &inner) || inner == 0 || inner > 4094)) {
    return std::nullopt;
  }
  uint32_t id = table_->Classify(uint16_t(parent->second), inner != 0, outer, inner);
  if (id == dataplane::kNoVif || BlockOf(id) == nullptr) return std::nullopt;
  if (config::SubinterfaceName(parts[0], outer, inner) != name) return std::nullopt;
  return id;
}

std::string Vifs::Name(uint32_t id) const {
  if (const VifRecord* r = record(id)) return r->name;
  if (const Block* b = BlockOf(id)) {
    config::TemplateMemberInfo m = config::TemplateMember(b->tmpl, id - b->first);
    return config::SubinterfaceName(b->tmpl.parent, m.outer, m.inner);
  }
  return absl::StrFormat("vif%u", id);
}

std::vector<config::Ip4Prefix> Vifs::Addresses(uint32_t id) const {
  if (const VifRecord* r = record(id)) return r->addresses;
  if (const Block* b = BlockOf(id)) {
    config::TemplateMemberInfo m = config::TemplateMember(b->tmpl, id - b->first);
    if (m.address) return {*m.address};
  }
  return {};
}

std::optional<VifInfo> Vifs::Info(uint32_t id) const {
  const dataplane::VifView& v = table_->vif(id);
  if (v.kind == VifKind::kUnused) return std::nullopt;
  VifInfo i;
  i.id = id;
  i.name = Name(id);
  i.kind = v.kind;
  i.port = v.port;
  if (const VifRecord* r = record(id)) {
    i.outer = r->outer;
    i.inner = r->inner;
    i.group = r->group;
  } else if (const Block* b = BlockOf(id)) {
    config::TemplateMemberInfo m = config::TemplateMember(b->tmpl, id - b->first);
    i.outer = m.outer;
    i.inner = m.inner;
    i.group = b->group;
  }
  i.mtu = table_->Mtu(v);
  i.up = table_->Up(v);
  i.impairment = table_->Impairment(v);
  i.mac = v.mac();
  i.addresses = Addresses(id);
  return i;
}

void Vifs::ForEach(const std::function<bool(uint32_t)>& fn) const {
  auto r = records_.begin();
  auto b = blocks_.begin();
  // Records and blocks interleave by id; walk both in order.
  while (r != records_.end() || b != blocks_.end()) {
    if (b == blocks_.end() || (r != records_.end() && r->first < b->first)) {
      if (!fn(r->first)) return;
      ++r;
    } else {
      for (uint32_t i = 0; i < b->second.count; ++i) {
        if (!fn(b->second.first + i)) return;
      }
      ++b;
    }
  }
}

uint64_t Vifs::size() const {
  uint64_t n = records_.size();
  for (const auto& [first, b] : blocks_) n += b.count;
  return n;
}

}  // namespace vr::control
