// The nbuf pool: an rte_mempool of 2 KB packet buffers in hugepages, and the 24-bit nbuf index
// that InQ/OutQ entries carry instead of pointers.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"

namespace vr::dataplane {

// Per-packet metadata in each nbuf's private area. Written by whoever holds the nbuf; it travels
// with the buffer through InQ/OutQ, so entries need only the index.
struct NbufMeta {
  uint32_t index;    // fixed at pool creation
  uint32_t nexthop;  // for kResolve / kOutput: the next hop the packet waits on
  uint32_t dst_ip;   // network order: the address to resolve (the packet's destination or gateway)
  uint32_t tx_vif;   // for kTransmit
};

// The vif a packet belongs to (received on, or for control's frames, sent by) travels in the
// mbuf's own hash field: it sits in the first cache line, which RX touches anyway, where the
// private area would cost one more line per packet. RSS has used the hash by then.
inline uint32_t PacketVif(const rte_mbuf* m) { return m->hash.usr; }
inline void SetPacketVif(rte_mbuf* m, uint32_t vif) { m->hash.usr = vif; }

inline NbufMeta* Meta(rte_mbuf* m) { return static_cast<NbufMeta*>(rte_mbuf_to_priv(m)); }

constexpr uint16_t kNbufDataRoom = 2048 + RTE_PKTMBUF_HEADROOM;

class NbufPool {
 public:
  // `count` buffers; 24-bit indexes cap it at 16 M. Per-lcore caches keep get/put off the
  // shared ring on the fast path.
  static absl::StatusOr<std::unique_ptr<NbufPool>> Create(uint32_t count, int socket_id);
  ~NbufPool();
  NbufPool(const NbufPool&) = delete;
  NbufPool& operator=(const NbufPool&) = delete;

  rte_mempool* mempool() const { return pool_; }
  uint32_t size() const { return size_; }
  uint32_t InUse() const { return rte_mempool_in_use_count(pool_); }
  rte_mbuf* FromIndex(uint32_t index) const { return by_index_[index]; }

 private:
  NbufPool(rte_mempool* pool, uint32_t size) : pool_(pool), size_(size) {}
  rte_mempool* pool_;
  uint32_t size_;
  std::vector<rte_mbuf*> by_index_;  // control: wo at creation, everyone: ro
};

}  // namespace vr::dataplane
