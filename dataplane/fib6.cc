// IPv6 prefix table maintenance: entries remember the length of the prefix that owns them, so an
// add overwrites only what it is more specific than and a delete hands its entries to its cover.
#include "dataplane/fib6.h"

#include <arpa/inet.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/str_format.h"

namespace vr::dataplane {
namespace {

// The level whose entries a prefix of `len` (1..128) fills: 0 is the first level (bytes 0-2),
// level k >= 1 a group indexed by byte k + 2. Its entries end at bit 24 + 8k.
int Level(uint8_t len) { return len <= 24 ? 0 : (len - 17) / 8; }

std::string Text(const uint8_t b[16], uint8_t len) {
  char s[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, b, s, sizeof(s));
  return absl::StrFormat("%s/%u", s, len);
}

double MiB(size_t bytes) { return double(bytes) / (1 << 20); }

// What a failed allocation wanted and what the socket had, so the operator knows which limit to
// lower or how many hugepages to add.
absl::Status MemoryShort(const std::string& what, size_t bytes, int socket_id) {
  size_t free_bytes = 0, largest = 0;
  for (unsigned i = 0; i < rte_socket_count(); ++i) {
    int s = rte_socket_id_by_idx(i);
    if (socket_id >= 0 && s != socket_id) continue;
    rte_malloc_socket_stats st;
    if (rte_malloc_get_socket_stats(s, &st) != 0) continue;
    free_bytes += st.heap_freesz_bytes;
    largest = std::max(largest, st.greatest_free_size);
  }
  return absl::ResourceExhaustedError(absl::StrFormat(
      "cannot allocate the IPv6 FIB's %s: %.1f MiB of hugepage memory wanted on %s, %.1f MiB "
      "free (largest block %.1f MiB)",
      what, MiB(bytes), socket_id < 0 ? "any socket" : absl::StrFormat("socket %d", socket_id),
      MiB(free_bytes), MiB(largest)));
}

}  // namespace

uint32_t Fib6::DefaultTbl8Groups(uint32_t max_routes) {
  return std::clamp(max_routes, 1024u, 1u << 20);
}

absl::StatusOr<std::unique_ptr<Fib6>> Fib6::Create(uint32_t max_routes, rte_rcu_qsbr* rcu,
                                                   int socket_id, uint32_t tbl8_groups) {
  if (max_routes == 0) return absl::InvalidArgumentError("an IPv6 FIB needs max_routes >= 1");
  if (tbl8_groups == 0) tbl8_groups = DefaultTbl8Groups(max_routes);
  if (tbl8_groups > kMaxTbl8Groups) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%u IPv6 tbl8 groups asked for, at most %u", tbl8_groups, kMaxTbl8Groups));
  }
  auto t = std::unique_ptr<Fib6>(new Fib6());
  size_t tbl24_bytes = sizeof(uint32_t) << 24;
  size_t tbl8_bytes = sizeof(uint32_t) * 256 * size_t{tbl8_groups};
  t->tbl24_ = static_cast<uint32_t*>(
      rte_zmalloc_socket("vr_fib6_tbl24", tbl24_bytes, RTE_CACHE_LINE_SIZE, socket_id));
  if (t->tbl24_ == nullptr) {
    return MemoryShort("first level (2^24 entries)", tbl24_bytes, socket_id);
  }
  t->tbl8_ = static_cast<uint32_t*>(
      rte_zmalloc_socket("vr_fib6_tbl8", tbl8_bytes, RTE_CACHE_LINE_SIZE, socket_id));
  if (t->tbl8_ == nullptr) {
    return MemoryShort(
        absl::StrFormat("%u tbl8 groups (for max_routes %u)", tbl8_groups, max_routes), tbl8_bytes,
        socket_id);
  }
  t->owner24_ = LazyArray<uint8_t>(size_t{1} << 24);
  t->owner8_ = LazyArray<uint8_t>(size_t{256} * tbl8_groups);
  t->group_routes_ = LazyArray<uint32_t>(tbl8_groups);
  if (!t->owner24_.ok() || !t->owner8_.ok() || !t->group_routes_.ok()) {
    return absl::ResourceExhaustedError("cannot map the IPv6 FIB's control-side tables");
  }
  t->tbl8_groups_ = tbl8_groups;
  t->max_routes_ = max_routes;
  t->rcu_ = rcu;
  return t;
}

Fib6::~Fib6() {
  rte_free(tbl24_);
  rte_free(tbl8_);
}

Fib6::Prefix Fib6::Masked(const uint8_t addr[16], uint8_t len) {
  Prefix p;
  for (int i = 0; i < 16; ++i) {
    int bits = std::clamp(int{len} - 8 * i, 0, 8);
    p.b[i] = bits == 0 ? 0 : addr[i] & uint8_t(0xff << (8 - bits));
  }
  return p;
}

Fib6::Key Fib6::KeyOf(const Prefix& p, uint8_t len) {
  Key k;
  memcpy(&k.hi, p.b, 8);
  memcpy(&k.lo, p.b + 8, 8);
  k.len = len;
  return k;
}

bool Fib6::Has(const uint8_t addr[16], uint8_t len) const {
  if (len > 128) return false;
  if (len == 0) return default_has_route_;
  return routes_.contains(KeyOf(Masked(addr, len), len));
}

std::pair<uint32_t, uint8_t> Fib6::Cover(const Prefix& p, uint8_t len) const {
  for (int l = len - 1; l >= 1; --l) {
    if (routes_of_len_[l] == 0) continue;
    auto it = routes_.find(KeyOf(Masked(p.b, uint8_t(l)), uint8_t(l)));
    if (it != routes_.end()) return {kValid | it->second, uint8_t(l)};
  }
  return {0, 0};
}

template <typename Take>
void Fib6::WriteEntry(uint32_t* e, uint8_t* owner, uint32_t entry, uint8_t depth, Take take) {
  // Entries below an entry are owned by prefixes at least as long as its own owner, so where
  // this one is not taken, nothing below it is.
  if (!take(*owner)) return;
  uint32_t v = *e;
  if (v & kExt) {
    // The longer prefixes below keep their entries; the owner recorded here is what the entry
    // holds again when its group folds.
    uint32_t base = (v & kValueMask) << 8;
    for (uint32_t j = 0; j < 256; ++j) {
      WriteEntry(&tbl8_[base + j], &owner8_[base + j], entry, depth, take);
    }
  } else {
    Store(e, entry);
  }
  *owner = depth;
}

template <typename Take>
void Fib6::Write(const Prefix& p, uint8_t len, uint32_t entry, uint8_t depth, Take take) {
  int level = Level(len);
  uint32_t* tbl = tbl24_;
  uint8_t* owner = owner24_.data();
  uint32_t first = Index24(p.b);
  for (int k = 1; k <= level; ++k) {
    uint32_t base = (tbl[first] & kValueMask) << 8;
    tbl = tbl8_ + base;
    owner = owner8_.data() + base;
    first = p.b[k + 2];
  }
  uint32_t end = first + (1u << (24 + 8 * level - len));
  for (uint32_t i = first; i < end; ++i) WriteEntry(&tbl[i], &owner[i], entry, depth, take);
}

absl::Status Fib6::AddConnected(const uint8_t addr[16], uint8_t len, uint32_t nexthop) {
  if (own_nexthops_ == nullptr) {
    return absl::FailedPreconditionError("the IPv6 FIB has no next-hop table for own addresses");
  }
  if (len == 0) return absl::InvalidArgumentError("a connected subnet has a length of 1 to 128");
  return AddValue(addr, len, nexthop, kOwn);
}

absl::Status Fib6::Add(const uint8_t addr[16], uint8_t len, uint32_t nexthop) {
  return AddValue(addr, len, nexthop, 0);
}

absl::Status Fib6::AddValue(const uint8_t addr[16], uint8_t len, uint32_t nexthop,
                            uint32_t own) {
  if (len > 128) {
    return absl::InvalidArgumentError(absl::StrFormat("prefix length %u above 128", len));
  }
  if (nexthop > kMaxNexthop) {
    return absl::InvalidArgumentError(
        absl::StrFormat("next hop %u above the IPv6 FIB's maximum %u", nexthop, kMaxNexthop));
  }
  if (len == 0) {
    if (!default_has_route_ && size() - own_routes_ >= max_routes_) return Full(Prefix{}, 0);
    default_.store(nexthop, std::memory_order_release);
    default_has_route_ = true;
    return absl::OkStatus();
  }
  Prefix p = Masked(addr, len);
  Key key = KeyOf(p, len);
  const uint32_t value = own | nexthop;
  if (auto it = routes_.find(key); it != routes_.end()) {
    if (it->second & kPeer) {
      // A kept neighbour's next hop changes in its holder, in one store.
      if (Nexthop* h = PeerHolder(p, it->second & kValueMask)) {
        h->peer.store(nexthop, std::memory_order_release);
      }
      it->second = kPeer | nexthop;
      return absl::OkStatus();
    }
    if (it->second != value) {
      if ((it->second ^ value) & kOwn) own_routes_ += own ? 1 : -1;
      it->second = value;
      Write(p, len, kValid | value, len, [len](uint8_t d) { return d == len; });
    }
    return absl::OkStatus();
  }
  if (own == 0 && len == 128 && own_nexthops_ != nullptr) {
    // The first /128 under a subnet with an own address is kept in the subnet's next hop.
    uint32_t cover = Cover(p, 128).first;
    if (cover & kOwn) {
      Nexthop& h = own_nexthops_[cover & kValueMask];
      if (h.peer.load(std::memory_order_relaxed) == 0) {
        uint64_t hi, lo;
        memcpy(&hi, p.b, 8);
        memcpy(&lo, p.b + 8, 8);
        h.peer_hi.store(hi, std::memory_order_release);
        h.peer_lo.store(lo, std::memory_order_release);
        h.peer.store(nexthop, std::memory_order_release);
        routes_.emplace(key, kPeer | nexthop);
        ++routes_of_len_[len];
        ++own_routes_;
        return absl::OkStatus();
      }
    }
  }
  if (own == 0 && len < 128) {
    if (absl::Status s = DemotePeer(p, len); !s.ok()) return s;
  }
  if (own == 0 && size() - own_routes_ >= max_routes_) return Full(p, len);
  // The groups to create: every level from the first entry on the path that does not point to a
  // group yet. All are reserved before anything changes, so a refusal leaves the table as it was.
  int level = Level(len);
  uint32_t need = 0;
  const uint32_t* probe = &tbl24_[Index24(p.b)];
  for (int k = 1; k <= level; ++k) {
    if (!(*probe & kExt)) {
      need = uint32_t(level - k + 1);
      break;
    }
    probe = &tbl8_[(*probe & kValueMask) << 8 | p.b[k + 2]];
  }
  if (absl::Status s = ReserveGroups(need); !s.ok()) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot add route %s: %s", Text(p.b, len), s.message()));
  }
  uint32_t* e = &tbl24_[Index24(p.b)];
  uint8_t* owner = &owner24_[Index24(p.b)];
  for (int k = 1; k <= level; ++k) {
    if (!(*e & kExt)) {
      // A copy of the entry it replaces, complete before the entry points workers at it.
      uint32_t g = TakeGroup();
      for (uint32_t j = 0; j < 256; ++j) {
        Store(&tbl8_[g << 8 | j], *e);
        owner8_[g << 8 | j] = *owner;
      }
      group_routes_[g] = 0;
      Store(e, kExt | g);
    }
    uint32_t g = *e & kValueMask;
    ++group_routes_[g];
    uint32_t i = g << 8 | p.b[k + 2];
    e = &tbl8_[i];
    owner = &owner8_[i];
  }
  routes_.emplace(key, value);
  ++routes_of_len_[len];
  if (own != 0) ++own_routes_;
  Write(p, len, kValid | value, len, [len](uint8_t d) { return d <= len; });
  return absl::OkStatus();
}

Nexthop* Fib6::PeerHolder(const Prefix& p, uint32_t nh) const {
  if (own_nexthops_ == nullptr) return nullptr;
  uint32_t cover = Cover(p, 128).first;
  if (!(cover & kOwn)) return nullptr;
  Nexthop& h = own_nexthops_[cover & kValueMask];
  uint64_t hi, lo;
  memcpy(&hi, p.b, 8);
  memcpy(&lo, p.b + 8, 8);
  if (h.peer.load(std::memory_order_relaxed) != nh ||
      h.peer_hi.load(std::memory_order_relaxed) != hi ||
      h.peer_lo.load(std::memory_order_relaxed) != lo) {
    return nullptr;
  }
  return &h;
}

absl::Status Fib6::DemotePeer(const Prefix& p, uint8_t len) {
  if (own_nexthops_ == nullptr) return absl::OkStatus();
  uint32_t cover = Cover(p, len).first;
  if (!(cover & kOwn)) return absl::OkStatus();
  Nexthop& h = own_nexthops_[cover & kValueMask];
  uint32_t peer = h.peer.load(std::memory_order_relaxed);
  if (peer == 0) return absl::OkStatus();
  Prefix q;
  uint64_t hi = h.peer_hi.load(std::memory_order_relaxed);
  uint64_t lo = h.peer_lo.load(std::memory_order_relaxed);
  memcpy(q.b, &hi, 8);
  memcpy(q.b + 8, &lo, 8);
  if (memcmp(Masked(q.b, len).b, p.b, sizeof(p.b)) != 0) return absl::OkStatus();
  // Into the table while the holder still has it (a lookup finds it either way), then out of
  // the holder: the new route never hides it.
  Key qk = KeyOf(q, 128);
  routes_.erase(qk);
  --routes_of_len_[128];
  --own_routes_;
  if (absl::Status s = AddValue(q.b, 128, peer, 0); !s.ok()) {
    routes_.emplace(qk, kPeer | peer);
    ++routes_of_len_[128];
    ++own_routes_;
    return s;
  }
  h.peer.store(0, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Fib6::Full(const Prefix& p, uint8_t len) const {
  return absl::ResourceExhaustedError(absl::StrFormat(
      "cannot add route %s: the IPv6 FIB holds its max_routes (%u)", Text(p.b, len), max_routes_));
}

absl::Status Fib6::Delete(const uint8_t addr[16], uint8_t len) {
  if (len > 128) {
    return absl::InvalidArgumentError(absl::StrFormat("prefix length %u above 128", len));
  }
  if (len == 0) {
    if (!default_has_route_) return absl::NotFoundError("no IPv6 default route");
    default_.store(kNoRoute, std::memory_order_release);
    default_has_route_ = false;
    return absl::OkStatus();
  }
  Prefix p = Masked(addr, len);
  auto it = routes_.find(KeyOf(p, len));
  if (it == routes_.end()) {
    return absl::NotFoundError(absl::StrFormat("route %s not in the IPv6 FIB", Text(p.b, len)));
  }
  if (it->second & kPeer) {
    // No entry of the table is its: the holder forgets it (nothing, once the subnet has gone).
    if (Nexthop* h = PeerHolder(p, it->second & kValueMask)) {
      h->peer.store(0, std::memory_order_release);
    }
    routes_.erase(it);
    --routes_of_len_[len];
    --own_routes_;
    return absl::OkStatus();
  }
  if (it->second & kOwn) --own_routes_;
  routes_.erase(it);
  --routes_of_len_[len];
  auto [entry, depth] = Cover(p, len);
  Write(p, len, entry, depth, [len](uint8_t d) { return d == len; });
  // Every group on the path counted this route. Those left with no route of their own are the
  // deepest ones; each now holds the cover alone, and so may the entry above the shallowest of
  // them. That entry is switched first; the groups are left as they are for workers already
  // inside them and retired together.
  uint32_t* parent = &tbl24_[Index24(p.b)];
  uint8_t* parent_owner = &owner24_[Index24(p.b)];
  bool folded = false;
  for (int k = 1; k <= Level(len); ++k) {
    uint32_t g = *parent & kValueMask;
    if (folded) {
      Retire(g);
    } else if (--group_routes_[g] == 0) {
      Store(parent, entry);
      *parent_owner = depth;
      Retire(g);
      folded = true;
    }
    uint32_t i = g << 8 | p.b[k + 2];
    parent = &tbl8_[i];
    parent_owner = &owner8_[i];
  }
  return absl::OkStatus();
}

uint64_t Fib6::GroupsFor(const uint8_t first[16], uint8_t len, const uint8_t step[16],
                         uint32_t n) {
  // The k-th group level is indexed by byte k + 2: one group per distinct value of the bytes
  // before it among the prefixes. For numbers a + i * s (i < n) cut to their top `bits` bits,
  // that is n when the step reaches 2^(128 - bits), else every value from the first to the last.
  auto value = [](const uint8_t* b) {
    unsigned __int128 v = 0;
    for (int i = 0; i < 16; ++i) v = v << 8 | b[i];
    return v;
  };
  const unsigned __int128 a = value(first), s = value(step);
  if (n == 0) return 0;
  uint64_t groups = 0;
  for (int k = 1; k <= Level(len); ++k) {
    int shift = 128 - 8 * (k + 2);  // the bits below the bytes that choose the group
    unsigned __int128 unit = static_cast<unsigned __int128>(1) << shift;
    if (s >= unit) {
      groups += n;
    } else {
      unsigned __int128 last = a + s * (n - 1);
      groups += static_cast<uint64_t>((last >> shift) - (a >> shift) + 1);
    }
  }
  return groups;
}

absl::Status Fib6::ReserveGroups(uint32_t n) {
  if (n == 0) return absl::OkStatus();
  auto ready = [&] { return free_groups_.size() + (tbl8_groups_ - next_group_) >= n; };
  Reclaim(false);
  if (!ready()) Reclaim(true);
  if (!ready()) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "IPv6 FIB out of memory for longer prefixes: %u tbl8 groups needed, %u of %u free (a "
        "lone /64 takes 5, a lone /128 13)",
        n, uint32_t(free_groups_.size()) + (tbl8_groups_ - next_group_), tbl8_groups_));
  }
  return absl::OkStatus();
}

// Retired groups come back oldest first once every worker has reported a quiescent state since
// their retirement; with `wait`, after waiting for that.
void Fib6::Reclaim(bool wait) {
  if (retired_.empty()) return;
  if (wait) rte_rcu_qsbr_synchronize(rcu_, RTE_QSBR_THRID_INVALID);
  while (!retired_.empty() &&
         (wait || rte_rcu_qsbr_check(rcu_, retired_.front().second, false) == 1)) {
    free_groups_.push_back(retired_.front().first);
    retired_.pop_front();
  }
}

uint32_t Fib6::TakeGroup() {
  if (free_groups_.empty()) return next_group_++;
  uint32_t g = free_groups_.back();
  free_groups_.pop_back();
  return g;
}

void Fib6::Retire(uint32_t g) {
  if (rcu_ == nullptr) {
    free_groups_.push_back(g);
  } else {
    retired_.emplace_back(g, rte_rcu_qsbr_start(rcu_));
  }
}

}  // namespace vr::dataplane
