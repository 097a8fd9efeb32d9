// The virtual-interface and group table, the control plane's authority over what workers see in
// dataplane::VifTable: vif ids, names, tags, groups, stamped settings and impairment profiles.
#pragma once

#include <rte_ether.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "config/config.h"
#include "dataplane/vif.h"

namespace vr::control {

inline rte_ether_addr ToEther(const config::Mac& m) {
  rte_ether_addr e;
  memcpy(e.addr_bytes, m.data(), RTE_ETHER_ADDR_LEN);
  return e;
}

// RFC 4291 §2.5.6 and appendix A: fe80::/64 with the modified EUI-64 of the MAC, the link-local
// address of an interface that is given none.
inline config::Ip6Addr LinkLocalFromMac(const rte_ether_addr& mac) {
  config::Ip6Addr a;
  const uint8_t* m = mac.addr_bytes;
  a.bytes = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, uint8_t(m[0] ^ 0x02), m[1], m[2], 0xff, 0xfe,
             m[3], m[4], m[5]};
  return a;
}

// Settings a vif may carry itself; unset ones come from its group (see dataplane::Stamped).
struct VifSettings {
  std::optional<uint32_t> mtu;
  std::optional<bool> up;
  std::optional<config::ImpairmentConfig> impairment;
};

// A port or a sub-interface listed on its own in the config. Template members have no record:
// everything about member i is computed from its template (Block).
struct VifRecord {
  uint32_t id = 0;
  std::string name;
  dataplane::VifKind kind = dataplane::VifKind::kUnused;
  uint16_t port = 0;
  uint16_t outer = 0, inner = 0;
  uint32_t group = 0;
  uint32_t default_mtu = 1500;  // what an unset MTU means: the parent port's
  std::vector<config::Ip4Prefix> addresses;
  std::optional<config::ImpairmentConfig> impairment;  // its own, for show
};

// The members of one template: vif ids first..first+count-1, member i = id first+i.
struct Block {
  uint32_t first = 0;
  uint32_t count = 0;
  uint32_t group = 0;
  uint16_t port = 0;
  uint32_t default_mtu = 1500;  // what an unset MTU means: the parent port's
  config::TemplateConfig tmpl;
  std::vector<uint32_t> nexthops;  // member i's connected next hop, when members have addresses
  // Member i's IPv6 connected next hop, when members have an address6: a kConnected next hop
  // whose ip6 is the member's own address (dataplane::Fib6::AddConnected).
  std::vector<uint32_t> nexthops6;
};

// What `link show` prints of one vif, however it was made.
struct VifInfo {
  uint32_t id = 0;
  std::string name;
  dataplane::VifKind kind = dataplane::VifKind::kUnused;
  uint16_t port = 0;
  uint16_t outer = 0, inner = 0;
  uint32_t group = 0;
  uint32_t mtu = 0;   // effective
  bool up = false;    // effective admin state
  uint32_t impairment = 0;  // effective profile, 0 = pass
  rte_ether_addr mac{};
  std::vector<config::Ip4Prefix> addresses;
};

class Vifs {
 public:
  // `synchronize` waits for an RCU grace period: a freed impairment profile is refilled only
  // after one, so no worker reads a profile while it changes.
  Vifs(dataplane::VifTable* table, std::function<void()> synchronize)
      : table_(table), synchronize_(std::move(synchronize)) {}
  // Called with (group, slot) when a group gives its slot back (no member and no settings
  // left): the workers' counters of the slot hold the group's traffic so far, which the group
  // keeps and the slot's next group must not show.
  void set_slot_released(std::function<void(uint32_t, uint32_t)> fn) {
    slot_released_ = std::move(fn);
  }

  dataplane::VifTable& table() { return *table_; }
  const dataplane::VifTable& table() const { return *table_; }

  // A port's vif has the port's id. Called before the port is polled.
  absl::Status AddPort(uint16_t port, const std::string& name, const rte_ether_addr& mac,
                       uint32_t mtu, bool up, uint32_t group,
                       const std::vector<config::Ip4Prefix>& addresses);
  // A sub-interface; published to workers (classifier) last. Returns its id.
  absl::StatusOr<uint32_t> AddSub(const std::string& name, uint16_t port, uint16_t outer,
                                  uint16_t inner, const rte_ether_addr& mac, uint32_t group,
                                  uint32_t default_mtu, const VifSettings& own,
                                  const std::vector<config::Ip4Prefix>& addresses);
  // A template's members, as one block of ids. Connected routes are the caller's.
  absl::StatusOr<Block*> AddBlock(uint16_t port, const rte_ether_addr& parent_mac,
                                  uint32_t default_mtu, uint32_t group,
                                  const config::TemplateConfig& t);
  // Takes a vif or a block out of the classifiers; `release` runs after `synchronize`.
  void Unpublish(uint32_t id);
  void UnpublishBlock(const Block& b);
  void ReleaseVif(uint32_t id);
  void ReleaseBlock(const Block* b);

  // Settings. Each is one store that workers see at once.
  absl::Status SetOwn(uint32_t id, const VifSettings& own);
  // A template's members with settings of their own become `members`: those whose settings
  // changed are set, those no longer listed lose theirs. No walk over the other members.
  absl::Status SetMembers(uint32_t first, const std::vector<config::MemberConfig>& members);
  absl::Status SetGroup(uint32_t group, const VifSettings& settings);
  absl::Status MoveToGroup(uint32_t id, uint32_t group);
  void SetAddress(uint32_t id, const std::vector<config::Ip4Prefix>& addresses);

  // Lookups.
  std::optional<uint32_t> ByName(std::string_view name) const;
  VifRecord* record(uint32_t id);
  const VifRecord* record(uint32_t id) const;
  const Block* BlockOf(uint32_t id) const;
  std::optional<VifInfo> Info(uint32_t id) const;
  std::string Name(uint32_t id) const;
  std::vector<config::Ip4Prefix> Addresses(uint32_t id) const;
  const std::map<uint32_t, VifRecord>& records() const { return records_; }
  const std::map<uint32_t, Block>& blocks() const { return blocks_; }
  // Every vif id in use, in order; `fn` returns false to stop.
  void ForEach(const std::function<bool(uint32_t)>& fn) const;
  uint64_t size() const;
  uint32_t GroupSlot(uint32_t group) const;
  const config::ImpairmentConfig* Profile(uint32_t index) const;
  uint32_t high_water() const { return next_id_; }
  // Bumped whenever a vif comes, goes or changes group: what a listing by name and group, such
  // as /metrics/interfaces, must be rebuilt after.
  uint64_t changes() const { return changes_; }

 private:
  uint32_t NextStamp() { return ++stamp_; }
  // Writes a vif's own words; an impairment profile it held is released, one it gets acquired.
  absl::Status WriteOwn(dataplane::VifView& v, uint32_t default_mtu, const VifSettings& own);
  absl::StatusOr<uint32_t> AcquireGroup(uint32_t group);
  void ReleaseGroup(uint32_t group);
  absl::StatusOr<uint32_t> AcquireProfile(const config::ImpairmentConfig& c);
  void ReleaseProfile(uint32_t index);
  absl::StatusOr<uint32_t> AllocIds(uint32_t count);
  void FreeIds(uint32_t first, uint32_t count);
  void FillView(uint32_t id, uint16_t port, uint16_t outer, uint16_t inner,
                const rte_ether_addr& mac, uint32_t slot, uint32_t default_mtu,
                const std::vector<config::Ip4Prefix>& addresses);
  absl::Status Publish(uint16_t port, uint16_t outer, uint16_t inner, uint32_t id);

  dataplane::VifTable* table_;
  std::function<void()> synchronize_;
  uint32_t stamp_ = 0;
  uint64_t changes_ = 0;
  std::map<uint32_t, VifRecord> records_;
  std::map<uint32_t, Block> blocks_;  // by first id
  absl::flat_hash_map<std::string, uint32_t> names_;  // records' names only
  struct GroupUse {
    uint32_t slot = 0;
    uint64_t members = 0;
    bool settings = false;  // holds settings: kept even with no member
  };
  absl::flat_hash_map<uint32_t, GroupUse> groups_;
  std::vector<uint32_t> free_slots_;
  // Slot 0 is no group's: the slot of every vif id not in use (all-zero views), so the drops a
  // worker counts against such an id (the knet vif's, say) reach no group's counters.
  uint32_t next_slot_ = 1;
  std::function<void(uint32_t, uint32_t)> slot_released_;
  struct ProfileUse {
    config::ImpairmentConfig config;
    uint64_t refs = 0;
  };
  std::map<uint32_t, ProfileUse> profiles_;  // index 0 is "pass" and never allocated
  std::vector<uint32_t> free_profiles_, pending_profiles_;  // pending: awaiting a grace period
  uint32_t next_profile_ = 1;
  uint32_t generation_ = 0;
  std::map<uint32_t, uint32_t> free_ids_;  // first -> count, sub-interface ids
  uint32_t next_id_ = RTE_MAX_ETHPORTS;
};

}  // namespace vr::control
