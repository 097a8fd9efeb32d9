// The virtual-interface table workers read: per vif its L2 rewrite, tags, parent port and
// stamped attributes; per group the attributes one request sets for all members; per port the
// (outer tag, inner tag) -> vif classifier; impairment profiles. Control writes, workers read.
#pragma once

#include <rte_ether.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

#include "dataplane/lazy_array.h"

namespace vr::dataplane {

constexpr uint32_t kMaxVifs = 1u << 24;       // vif ids are 24-bit InQ/OutQ parameters
constexpr uint32_t kNoVif = 0;                // classifier slot: no vif for these tags
// The id frames from the kernel (knet) carry, for their counters; never given to a vif.
constexpr uint32_t kKnetVif = kMaxVifs - 1;
constexpr uint32_t kMaxGroupSlots = 1u << 16;  // distinct groups in use at once
constexpr uint32_t kMaxImpairProfiles = 1024;  // distinct impairment settings in use at once

enum class VifKind : uint8_t { kUnused = 0, kPort, kVlan, kQinq };

// A stamped attribute: the stamp in the high 32 bits, the value in the low 32. Control takes a
// new, larger stamp for every change, so of a vif's word and its group's word the larger one is
// the newer setting, and comparing whole words picks it. A group-wide change is then a single
// store to the group's word, seen by every worker at once, whatever the number of members; a
// vif's own later change outranks it in turn. Stamp 0 is "not set": any set group value wins.
inline constexpr uint64_t Stamped(uint32_t stamp, uint32_t value) {
  return (uint64_t{stamp} << 32) | value;
}
inline uint32_t Effective(const std::atomic<uint64_t>& own, const std::atomic<uint64_t>& group) {
  uint64_t a = own.load(std::memory_order_relaxed);
  uint64_t b = group.load(std::memory_order_relaxed);
  return uint32_t(a >= b ? a : b);
}

struct alignas(32) GroupView {
  std::atomic<uint64_t> mtu{0};
  std::atomic<uint64_t> up{0};
  std::atomic<uint64_t> impair{0};  // value: an impairment profile, 0 = pass
};

// One vif, one cache line. The stamped words, addr and group change while workers read them,
// each as one store; everything else is written before the vif is published in a classifier
// (or, for ports, before workers start) and stays until the vif is removed.
struct alignas(64) VifView {
  std::atomic<uint64_t> mtu{0};     // stamped: IPv4 MTU
  std::atomic<uint64_t> up{0};      // stamped: admin state, 1 up
  std::atomic<uint64_t> impair{0};  // stamped: impairment profile, 0 = pass
  uint64_t mac_word = 0;            // the vif's MAC as the first six bytes of a 64-bit load
  uint64_t src_word = 0;            // source MAC and EtherType IPv4: bytes 6..13 of a header
  uint8_t tags[8] = {};             // TPID and TCI of each tag, in wire order
  std::atomic<uint32_t> addr{0};    // primary IPv4 address, network order: ICMP errors' source
  std::atomic<uint32_t> group{0};   // group slot
  uint16_t port = 0;                // the DPDK port frames enter and leave by
  uint8_t tag_bytes = 0;            // 0, 4 (vlan) or 8 (qinq)
  VifKind kind = VifKind::kUnused;

  void SetMac(const rte_ether_addr& m) {
    memcpy(&mac_word, m.addr_bytes, RTE_ETHER_ADDR_LEN);
    uint16_t type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    uint8_t bytes[8];
    memcpy(bytes, m.addr_bytes, RTE_ETHER_ADDR_LEN);
    memcpy(bytes + RTE_ETHER_ADDR_LEN, &type, sizeof(type));
    memcpy(&src_word, bytes, sizeof(bytes));
  }
  rte_ether_addr mac() const {
    rte_ether_addr m;
    memcpy(m.addr_bytes, &mac_word, RTE_ETHER_ADDR_LEN);
    return m;
  }
  void SetTags(uint16_t outer, uint16_t inner) {
    auto put = [this](int at, uint16_t tpid, uint16_t id) {
      uint16_t t = rte_cpu_to_be_16(tpid), c = rte_cpu_to_be_16(id);
      memcpy(tags + at, &t, 2);
      memcpy(tags + at + 2, &c, 2);
    };
    if (inner != 0) {
      put(0, RTE_ETHER_TYPE_QINQ, outer);
      put(4, RTE_ETHER_TYPE_VLAN, inner);
      tag_bytes = 8;
    } else if (outer != 0) {
      put(0, RTE_ETHER_TYPE_VLAN, outer);
      tag_bytes = 4;
    } else {
      tag_bytes = 0;
    }
  }
};
static_assert(sizeof(VifView) == 64);

// Per port: the first tag (802.1Q VLAN id, or 802.1ad S-tag id) selects a vif, or for 802.1ad a
// table of inner 802.1Q ids, allocated when the first member under that outer id is added. Two
// loads at most, whatever the number of vifs.
struct PortClassifier {
  std::atomic<uint32_t> vlan[4096];
  std::atomic<std::atomic<uint32_t>*> qinq[4096];
  // The vif frames with these tags belong to, or kNoVif. Two loads at most.
  uint32_t Lookup(bool is_qinq, uint16_t outer, uint16_t inner) const {
    if (!is_qinq) return vlan[outer].load(std::memory_order_acquire);
    const std::atomic<uint32_t>* t = qinq[outer].load(std::memory_order_acquire);
    return t == nullptr ? kNoVif : t[inner].load(std::memory_order_acquire);
  }
  PortClassifier() {
    for (auto& v : vlan) v.store(kNoVif, std::memory_order_relaxed);
    for (auto& q : qinq) q.store(nullptr, std::memory_order_relaxed);
  }
  ~PortClassifier() {
    for (auto& q : qinq) delete[] q.load(std::memory_order_relaxed);
  }
};

// What IPv6 needs of a vif beside its VifView (which is one full cache line): the address ICMPv6
// errors it sends come from. Two 8-byte halves, each one store: an error sent while control
// changes the address may carry a mix for that instant, which costs nothing but that error.
struct alignas(16) Vif6View {
  std::atomic<uint64_t> addr_hi{0};  // primary global address, network order; 0/0: none
  std::atomic<uint64_t> addr_lo{0};
  void Set(const uint8_t* a) {
    uint64_t hi, lo;
    memcpy(&hi, a, 8);
    memcpy(&lo, a + 8, 8);
    addr_hi.store(hi, std::memory_order_relaxed);
    addr_lo.store(lo, std::memory_order_relaxed);
  }
  bool Get(uint8_t* a) const {
    uint64_t hi = addr_hi.load(std::memory_order_relaxed);
    uint64_t lo = addr_lo.load(std::memory_order_relaxed);
    memcpy(a, &hi, 8);
    memcpy(a + 8, &lo, 8);
    return (hi | lo) != 0;
  }
};

enum class ImpairKind : uint8_t { kPass = 0, kDrop, kFlap };

// Never changed while a vif or group word names it: control frees a profile only after a grace
// period with no reference, and bumps `generation` when it fills the slot again.
struct alignas(64) ImpairProfile {
  ImpairKind kind = ImpairKind::kPass;
  uint64_t threshold = 0;   // kDrop: a packet is dropped when 32 random bits are below this
  uint64_t seed = 0;
  uint64_t on_cycles = 0;   // kFlap: TSC cycles passing, then
  uint64_t period_cycles = 0;  // ... dropping until the period ends
  uint64_t epoch = 0;       // TSC when the profile was set: periods count from here
  uint32_t generation = 0;
};

class VifTable {
 public:
  VifTable()
      : vifs_(kMaxVifs), vif6s_(kMaxVifs), groups_(kMaxGroupSlots),
        profiles_(new ImpairProfile[kMaxImpairProfiles]) {}
  bool ok() const { return vifs_.ok() && vif6s_.ok() && groups_.ok(); }

  VifView& vif(uint32_t id) { return vifs_[id]; }
  const VifView& vif(uint32_t id) const { return vifs_[id]; }
  Vif6View& vif6(uint32_t id) { return vif6s_[id]; }
  const Vif6View& vif6(uint32_t id) const { return vif6s_[id]; }
  GroupView& group(uint32_t slot) { return groups_[slot]; }
  const GroupView& group(uint32_t slot) const { return groups_[slot]; }
  ImpairProfile& profile(uint32_t i) { return profiles_[i]; }
  const ImpairProfile& profile(uint32_t i) const { return profiles_[i]; }

  // Control: the port's classifier, created on first use (before its port is polled).
  PortClassifier& classifier(uint16_t port) {
    if (!classifiers_[port]) classifiers_[port] = std::make_unique<PortClassifier>();
    return *classifiers_[port];
  }
  // Workers: nullptr when the port has no sub-interface.
  const PortClassifier* find_classifier(uint16_t port) const { return classifiers_[port].get(); }

  // Control: the vif frames with these tags belong to, or kNoVif (workers hold the port's
  // classifier for a burst and ask it directly).
  uint32_t Classify(uint16_t port, bool qinq, uint16_t outer, uint16_t inner) const {
    const PortClassifier* c = classifiers_[port].get();
    return c == nullptr ? kNoVif : c->Lookup(qinq, outer, inner);
  }

  // Effective attributes: the vif's own setting or its group's, whichever is newer.
  uint32_t Mtu(const VifView& v) const {
    return Effective(v.mtu, group(v.group.load(std::memory_order_relaxed)).mtu);
  }
  bool Up(const VifView& v) const {
    return Effective(v.up, group(v.group.load(std::memory_order_relaxed)).up) != 0;
  }
  uint32_t Impairment(const VifView& v) const {
    return Effective(v.impair, group(v.group.load(std::memory_order_relaxed)).impair);
  }

 private:
  LazyArray<VifView> vifs_;
  LazyArray<Vif6View> vif6s_;
  LazyArray<GroupView> groups_;
  std::unique_ptr<ImpairProfile[]> profiles_;
  std::unique_ptr<PortClassifier> classifiers_[RTE_MAX_ETHPORTS];
};

}  // namespace vr::dataplane
