// DIR-24-8 table maintenance: entries remember the length of the prefix that owns them, so an
// add overwrites only what it is more specific than and a delete hands its entries to its cover.
#include "dataplane/lpm4.h"

#include <rte_malloc.h>

#include <string>

#include "absl/strings/str_format.h"

namespace vr::dataplane {
namespace {

uint32_t Mask(uint8_t len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }

std::string Prefix(uint32_t p, uint8_t len) {
  return absl::StrFormat("%u.%u.%u.%u/%u", p >> 24, (p >> 16) & 255, (p >> 8) & 255, p & 255, len);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Lpm4>> Lpm4::Create(uint32_t tbl8_groups, rte_rcu_qsbr* rcu,
                                                   int socket_id) {
  if (tbl8_groups == 0 || tbl8_groups > kMaxValue / 256) {
    return absl::InvalidArgumentError("tbl8 group count out of range");
  }
  auto t = std::unique_ptr<Lpm4>(new Lpm4());
  t->tbl24_ = static_cast<uint32_t*>(
      rte_zmalloc_socket("vr_lpm4_tbl24", sizeof(uint32_t) << 24, RTE_CACHE_LINE_SIZE, socket_id));
  t->tbl8_ = static_cast<uint32_t*>(rte_zmalloc_socket(
      "vr_lpm4_tbl8", sizeof(uint32_t) * 256 * size_t{tbl8_groups}, RTE_CACHE_LINE_SIZE, socket_id));
  if (t->tbl24_ == nullptr || t->tbl8_ == nullptr) {
    return absl::ResourceExhaustedError("cannot allocate the IPv4 FIB tables (128 MB)");
  }
  t->depth24_ = LazyArray<uint8_t>(size_t{1} << 24);
  t->depth8_ = LazyArray<uint8_t>(size_t{256} * tbl8_groups);
  if (!t->depth24_.ok() || !t->depth8_.ok()) {
    return absl::ResourceExhaustedError("cannot map the IPv4 FIB's depth tables");
  }
  t->group_routes_.assign(tbl8_groups, 0);
  t->tbl8_groups_ = tbl8_groups;
  t->rcu_ = rcu;
  return t;
}

Lpm4::~Lpm4() {
  rte_free(tbl24_);
  rte_free(tbl8_);
}

std::pair<uint32_t, uint8_t> Lpm4::Cover(uint32_t prefix, uint8_t len) const {
  for (uint8_t l = len - 1; l >= 1; --l) {
    auto it = routes_.find(Key(prefix & Mask(l), l));
    if (it != routes_.end()) return {kValid | it->second, l};
  }
  return {0, 0};
}

template <typename Take>
void Lpm4::Write(uint32_t prefix, uint8_t len, uint32_t entry, uint8_t depth, Take take) {
  if (len <= 24) {
    uint32_t first = prefix >> 8, end = first + (1u << (24 - len));
    for (uint32_t i = first; i < end; ++i) {
      uint32_t e = tbl24_[i];
      if (e & kExt) {
        // The group's entries owned by a prefix of this length or shorter change; the longer
        // ones inside stay. depth24_ keeps what the /24 falls back to when the group folds.
        uint32_t base = (e & kValueMask) << 8;
        for (uint32_t j = 0; j < 256; ++j) {
          if (take(depth8_[base + j])) {
            Store(&tbl8_[base + j], entry);
            depth8_[base + j] = depth;
          }
        }
        if (take(depth24_[i])) depth24_[i] = depth;
      } else if (take(depth24_[i])) {
        Store(&tbl24_[i], entry);
        depth24_[i] = depth;
      }
    }
    return;
  }
  uint32_t base = (tbl24_[prefix >> 8] & kValueMask) << 8;
  uint32_t first = prefix & 255, end = first + (1u << (32 - len));
  for (uint32_t j = first; j < end; ++j) {
    if (take(depth8_[base + j])) {
      Store(&tbl8_[base + j], entry);
      depth8_[base + j] = depth;
    }
  }
}

absl::Status Lpm4::Add(uint32_t prefix, uint8_t len, uint32_t value) {
  if (len > 32 || value > kMaxValue) {
    return absl::InvalidArgumentError(absl::StrFormat("bad route /%u -> %u", len, value));
  }
  if (len == 0) {
    default_.store(value, std::memory_order_release);
    return absl::OkStatus();
  }
  prefix &= Mask(len);
  auto [it, inserted] = routes_.try_emplace(Key(prefix, len), value);
  if (!inserted) {
    if (it->second != value) {
      it->second = value;
      Write(prefix, len, kValid | value, len, [len](uint8_t d) { return d == len; });
    }
    return absl::OkStatus();
  }
  if (len > 24) {
    uint32_t i = prefix >> 8;
    uint32_t e = tbl24_[i];
    if (!(e & kExt)) {
      absl::StatusOr<uint32_t> g = AllocGroup();
      if (!g.ok()) {
        routes_.erase(Key(prefix, len));
        return absl::ResourceExhaustedError(
            absl::StrFormat("cannot add route %s: %s", Prefix(prefix, len), g.status().message()));
      }
      // The group starts as a copy of what the /24 resolved to, and is complete before the
      // tbl24 entry points workers at it.
      uint32_t base = *g << 8;
      for (uint32_t j = 0; j < 256; ++j) {
        Store(&tbl8_[base + j], e);
        depth8_[base + j] = depth24_[i];
      }
      Store(&tbl24_[i], kExt | *g);
      e = kExt | *g;
    }
    ++group_routes_[e & kValueMask];
  }
  Write(prefix, len, kValid | value, len, [len](uint8_t d) { return d <= len; });
  return absl::OkStatus();
}

absl::Status Lpm4::Delete(uint32_t prefix, uint8_t len) {
  if (len > 32) return absl::InvalidArgumentError("prefix length above 32");
  if (len == 0) {
    if (default_.exchange(kMiss, std::memory_order_acq_rel) == kMiss) {
      return absl::NotFoundError("no default route");
    }
    return absl::OkStatus();
  }
  prefix &= Mask(len);
  if (routes_.erase(Key(prefix, len)) == 0) {
    return absl::NotFoundError(absl::StrFormat("route %s not in FIB", Prefix(prefix, len)));
  }
  auto [entry, depth] = Cover(prefix, len);
  Write(prefix, len, entry, depth, [len](uint8_t d) { return d == len; });
  if (len > 24) {
    uint32_t i = prefix >> 8;
    uint32_t g = tbl24_[i] & kValueMask;
    if (--group_routes_[g] == 0) {
      // Nothing longer than /24 is left in it: every entry now holds the /24's cover, which is
      // this route's cover, so the tbl24 entry can hold it alone.
      Store(&tbl24_[i], entry);
      depth24_[i] = depth;
      FreeGroup(g);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> Lpm4::AllocGroup() {
  auto reclaim = [this](bool wait) {
    if (wait && !retired_.empty()) rte_rcu_qsbr_synchronize(rcu_, RTE_QSBR_THRID_INVALID);
    while (!retired_.empty() &&
           (wait || rte_rcu_qsbr_check(rcu_, retired_.front().second, false) == 1)) {
      free_groups_.push_back(retired_.front().first);
      retired_.pop_front();
    }
  };
  reclaim(false);
  if (free_groups_.empty() && next_group_ == tbl8_groups_) reclaim(true);
  uint32_t g;
  if (!free_groups_.empty()) {
    g = free_groups_.back();
    free_groups_.pop_back();
  } else if (next_group_ < tbl8_groups_) {
    g = next_group_++;
  } else {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "FIB full: all %u /24s that may hold longer prefixes are in use", tbl8_groups_));
  }
  return g;
}

void Lpm4::FreeGroup(uint32_t g) {
  if (rcu_ == nullptr) {
    free_groups_.push_back(g);
  } else {
    retired_.emplace_back(g, rte_rcu_qsbr_start(rcu_));
  }
}

}  // namespace vr::dataplane
